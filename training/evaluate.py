# Copyright 2026 The emotion_perception Authors
# SPDX-License-Identifier: Apache-2.0
"""Evaluate a valence model on any labelled set (FER CSV, FER+ votes, ImageFolder) → metrics JSON + plots.

Faces go through the serving path: ``preprocess_faces`` on each stored face, then
``ValenceClassifier`` (the card's mirror averaging, temperature and decision rule ``class_bias``). Example::

    python -m training.evaluate --data ../shared/data/fer2013_ferplus.csv.gz --split test \\
        --peer-json runs/fer_peer_accuracy.json --output-dir runs/eval_fer
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import torch

from emotion_perception.vision.classifier import PRECISIONS, ValenceClassifier
from emotion_perception.vision.model import DEFAULT_MODEL_PATH
from emotion_perception.vision.preprocessing import preprocess_faces

from .datasets import FaceSet, deduplicate, read_dataset
from .metrics import classification_report, reliability_bins, softmax
from .plots import plot_confusion, plot_reliability
from .relabel import DEFAULT_MAP_PATH, ValenceMap

#: Run outputs go under the working directory (the repository root for ``make train``).
RUNS = Path("runs")


def get_args_parser(add_help: bool = True) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description="Evaluate a valence model on a labelled set", add_help=add_help)
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL_PATH, help="model .pt with its .json card")
    parser.add_argument("--data", type=Path, required=True, help="FER-style CSV(.gz) or ImageFolder tree")
    parser.add_argument("--split", default="test", help="split to evaluate (train/val/test/<fold>), or 'all'")
    parser.add_argument("--labels", default="auto", choices=["auto", "ferplus", "fer2013"])
    parser.add_argument("--eval-labels", default="majority", choices=["soft", "majority", "argmax"],
                        help="FER+ label protocol (majority = FER+ protocol)")
    parser.add_argument("--ferplus-votes", type=Path, default=None, help="separate FER+ label CSV (fer2013new.csv)")
    parser.add_argument("--valence-map", type=Path, default=DEFAULT_MAP_PATH)
    parser.add_argument("--no-dedup", action="store_true", help="keep pixel-identical copies")
    parser.add_argument("--peer-json", type=Path, default=None,
                        help="output of `benchmarks/fer_peer.py accuracy` to compare against")
    parser.add_argument("--threads", default=2, type=int)
    parser.add_argument("--precision", default="auto", choices=PRECISIONS,
                        help="classifier precision: auto (the int8 export when the model has one), int8, fp32")
    parser.add_argument("--output-dir", type=Path, default=RUNS / "evaluate")
    return parser


def predict_logits(classifier: ValenceClassifier, faces: FaceSet, batch: int = 256) -> np.ndarray:
    spec = classifier.spec
    out = []
    for start in range(0, len(faces), batch):
        tensors = np.concatenate([
            preprocess_faces(image, [spec.full_frame_box(image.shape[1], image.shape[0])], spec)
            for image in faces.images[start:start + batch]
        ])
        out.append(classifier.logits_batch(tensors))
    return np.concatenate(out) if out else np.zeros((0, 3))


def main(args: argparse.Namespace | None = None) -> dict:
    """Run as asked; with no ``args`` (the console script) they are parsed from the command line."""
    if args is None:
        args = get_args_parser().parse_args()
    args.output_dir.mkdir(parents=True, exist_ok=True)
    vmap = ValenceMap.load(args.valence_map)
    data = read_dataset(args.data, vmap, args.labels, args.eval_labels, args.ferplus_votes)
    if not args.no_dedup:
        data = deduplicate(data)
    faces = data if args.split == "all" else data.split(args.split)
    if len(faces) == 0:
        raise SystemExit(f"{args.data}: no images in split {args.split!r} (splits: {sorted(set(data.splits))})")
    classifier = ValenceClassifier(args.model, threads=args.threads, precision=args.precision)
    with torch.inference_mode():
        logits = predict_logits(classifier, faces)
    labels = faces.targets.argmax(axis=1)
    raw = classification_report(softmax(logits), labels)
    served = classifier.served_logits(logits)  # what ValenceClassifier.predict_batch returns, before softmax
    calibrated = classification_report(softmax(served), labels)
    metrics = {
        "model": str(args.model),
        "data": str(args.data),
        "split": args.split,
        "label_protocol": f"labels '{args.labels}', FER+ mode '{args.eval_labels}', map {args.valence_map.name}",
        "dropped": dict(data.dropped),
        **{k: calibrated[k] for k in ("n", "accuracy", "macro_f1", "per_class", "confusion_matrix")},
        "ece_before_temperature": raw["ece"],
        "ece_after_temperature": calibrated["ece"],
        "temperature": classifier.temperature,
        "class_bias": classifier.class_bias.tolist(),
        "tta_flip": classifier.tta_flip,
        "precision": classifier.precision,
    }
    if args.peer_json:
        peer = json.loads(args.peer_json.read_text())
        metrics["comparison"] = {
            "ours": {k: metrics[k] for k in ("n", "accuracy", "macro_f1")}
            | {"per_class_f1": {k: v["f1"] for k, v in metrics["per_class"].items()}},
            "fer_peer": {k: peer.get(k) for k in ("model", "n", "accuracy", "macro_f1", "per_class_f1")},
        }
    (args.output_dir / "metrics.json").write_text(json.dumps(metrics, indent=2, sort_keys=True) + "\n")
    plot_confusion(calibrated["confusion_matrix"], args.output_dir / "confusion_matrix.png",
                   f"{args.data.name} [{args.split}]: acc {calibrated['accuracy']:.3f}, "
                   f"macro-F1 {calibrated['macro_f1']:.3f}")
    plot_reliability(reliability_bins(softmax(logits), labels),
                     reliability_bins(softmax(served), labels),
                     (raw["ece"], calibrated["ece"]), args.output_dir / "reliability.png")
    summary = {k: metrics[k] for k in ("n", "accuracy", "macro_f1", "ece_before_temperature", "ece_after_temperature",
                                       "precision")}
    summary["per_class_f1"] = {k: round(v["f1"], 4) for k, v in metrics["per_class"].items()}
    if "comparison" in metrics:
        summary["fer_peer"] = metrics["comparison"]["fer_peer"]
    print(json.dumps(summary, indent=2))
    return metrics


if __name__ == "__main__":
    sys.exit(0 if main() else 1)
