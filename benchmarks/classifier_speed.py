# Copyright 2026 The emotion_perception Authors
# SPDX-License-Identifier: Apache-2.0
"""Valence classifier speed per 48x48 face on CPU: eager vs TorchScript vs onnxruntime, 1 and 2 threads.

Prints a table and writes JSON (median of repeated single-face calls, after warm-up):

    python -m benchmarks.classifier_speed --json out/classifier_speed.json
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import onnxruntime as ort
import torch

from emotion_perception.vision.classifier import BACKENDS, ValenceClassifier
from emotion_perception.vision.model import DEFAULT_MODEL_PATH, load_model
from emotion_perception.vision.torch_inference import compile_for_cpu, onnx_bytes


def time_ms(fn: Callable[[], object], repeats: int, warmup: int) -> dict:
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000.0)
    return {"median_ms": statistics.median(samples), "p95_ms": float(np.percentile(samples, 95))}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL_PATH)
    parser.add_argument("--repeats", type=int, default=300)
    parser.add_argument("--warmup", type=int, default=30)
    parser.add_argument("--json", type=Path, default=Path("out/classifier_speed.json"))
    args = parser.parse_args(argv)

    model, card = load_model(args.model)
    spec = card.spec
    one = torch.randn(1, spec.channels, spec.size, spec.size)
    two = torch.cat([one, torch.flip(one, dims=[3])])
    face, faces2 = one.numpy(), two.numpy()
    onnx_path = Path(tempfile.mkdtemp()) / "valence_model.onnx"
    onnx_path.write_bytes(onnx_bytes(model, spec))
    rows = []
    for threads in (1, 2):
        torch.set_num_threads(threads)
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        session = ort.InferenceSession(str(onnx_path), options, providers=["CPUExecutionProvider"])
        scripted = compile_for_cpu(model, spec)
        classifiers = {b: ValenceClassifier(args.model, threads=threads, backend=b, precision="fp32") for b in BACKENDS}
        default = ValenceClassifier(args.model, threads=threads)  # the model's int8 export when it has one
        if default.precision == "int8":
            classifiers["onnxruntime int8"] = default
        with torch.inference_mode():
            cases = {
                "eager": lambda: model(one),
                "torchscript": lambda: scripted(one),  # noqa: B023  (timed inside this iteration)
                "onnxruntime": lambda: session.run(None, {"input": face}),  # noqa: B023
                "eager_mirror": lambda: model(two),
                "torchscript_mirror": lambda: scripted(two),  # noqa: B023
                "onnxruntime_mirror": lambda: session.run(None, {"input": faces2}),  # noqa: B023
            }
            for backend, classifier in classifiers.items():
                cases[f"ValenceClassifier[{backend}]"] = lambda c=classifier: c.predict_batch(face)
            for name, fn in cases.items():
                rows.append({"backend": name, "threads": threads, **time_ms(fn, args.repeats, args.warmup)})
    result = {
        "model": str(args.model),
        "input": f"{spec.channels}x{spec.size}x{spec.size}",
        "parameters": sum(p.numel() for p in model.parameters()),
        "card_mirror_averaging": card.tta_flip,
        "note": "per face, batch 1; *_mirror = the face and its mirror image in one batch of 2 "
                "(what ValenceClassifier runs when the card asks for mirror averaging); "
                "ValenceClassifier[...] = the whole predict_batch call (mirror + temperature as the card says)",
        "results": rows,
    }
    for row in rows:
        print(f"{row['backend']:32s} threads {row['threads']}: {row['median_ms']:.3f} ms (p95 {row['p95_ms']:.3f})")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=2) + "\n")
    return result


if __name__ == "__main__":
    main()
