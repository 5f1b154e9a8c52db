# Copyright 2026 The emotion_perception Authors
# SPDX-License-Identifier: Apache-2.0
"""Quantise a trained valence model to int8 (``<model>.int8.onnx``) and report what it costs in accuracy.

``train`` writes the int8 export with every run; this gives an existing model one (e.g. the shipped model,
or one trained before int8 exports existed). Activation ranges are calibrated on training faces, the
classes are checked against the float export on validation faces, and both precisions are scored on the
test split through the serving path (``ValenceClassifier``: mirror averaging, temperature, decision rule).
A card that aligns faces gets calibration and check faces levelled with YuNet's landmarks, as ``train --align-train``
levels them, so the export matches the one that run wrote (``--landmarks`` reuses the run's cache)::

    python -m training.quantize --model models/valence_model.pt --data ../shared/data/fer2013_ferplus.csv.gz
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from emotion_perception.vision.classifier import ValenceClassifier
from emotion_perception.vision.model import DEFAULT_MODEL_PATH, card_path, load_card
from emotion_perception.vision.model_card import int8_onnx_path, onnx_path

from .crop_geometry import stored_face_landmarks
from .datasets import deduplicate, read_dataset
from .evaluate import predict_logits
from .export import export_onnx_int8
from .metrics import classification_report, softmax
from .relabel import DEFAULT_MAP_PATH, ValenceMap
from .train import CALIBRATION_FACES, preprocessed, sample_index


def get_args_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL_PATH, help="model .pt with its card and .onnx")
    parser.add_argument("--data", type=Path, required=True, help="the model's training data (FER CSV or folders)")
    parser.add_argument("--calibration-faces", type=int, default=CALIBRATION_FACES)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--landmarks", type=Path, default=None,
                        help="an aligning card's landmark cache (a train --align-train run's landmarks.npz)")
    parser.add_argument("--valence-map", type=Path, default=DEFAULT_MAP_PATH)
    parser.add_argument("--threads", type=int, default=2)
    return parser


def main(argv: list[str] | None = None) -> dict:
    args = get_args_parser().parse_args(argv)
    if not onnx_path(args.model).is_file():
        raise SystemExit(f"{onnx_path(args.model)}: no float ONNX export beside the model to quantise")
    card = load_card(args.model)
    modes = {"train": "soft", "val": "majority", "test": "majority"}
    data = deduplicate(read_dataset(args.data, ValenceMap.load(args.valence_map), "auto", modes))
    train, val, test = data.split("train"), data.split("val"), data.split("test")
    check = val if len(val) else train
    if card.spec.align:  # the check set and the calibration faces (the training set's sample preprocessed draws)
        calibration = train.subset(sample_index(len(train), args.calibration_faces, args.seed))
        check.landmarks = train.landmarks = stored_face_landmarks(check, calibration, cache=args.landmarks)
    report = export_onnx_int8(onnx_path(args.model), preprocessed(train, card.spec, args.calibration_faces, args.seed),
                              preprocessed(check, card.spec), int8_onnx_path(args.model))
    for precision in ("fp32", "int8"):
        classifier = ValenceClassifier(args.model, threads=args.threads, precision=precision)
        logits = predict_logits(classifier, test)
        scores = classification_report(softmax(classifier.served_logits(logits)), test.targets.argmax(axis=1))
        report[f"test_{precision}"] = {"n": scores["n"], "accuracy": scores["accuracy"],
                                       "macro_f1": scores["macro_f1"], "ece": scores["ece"]}
    card.metrics = {**card.metrics, "int8": report}
    card.save(card_path(args.model))
    print(json.dumps(report, indent=2))
    return report


if __name__ == "__main__":
    sys.exit(0 if main() else 1)
