# Copyright 2026 The emotion_perception Authors
# SPDX-License-Identifier: Apache-2.0
"""Training input throughput: augmented training batches per second with 0, 2 and 4 loader worker processes.

The loader is ``train``'s own (``make_loader``: jittered crop, photometrics, camera degradations,
normalisation, collation), fed from the training split of ``--data``. ``--train-step`` also times a
forward + backward + AdamW step per batch on ``--device``, i.e. how fast training runs when the model
waits on the loader. Prints a table and writes JSON::

    python -m benchmarks.training_loader_speed --data ../shared/data/fer2013_ferplus.csv.gz \\
        --json out/training_loader_speed.json
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import torch

from emotion_perception.vision.model import ModelCard, build_model
from training import train
from training.relabel import ValenceMap

ROOT = Path(__file__).resolve().parents[1]
DATA_DIR = Path(os.environ.get("EMOTION_PERCEPTION_DATA", ROOT.parent / "shared" / "data"))


def measure(loader, batches: int, step=None) -> dict:
    """Seconds to the first batch (worker start-up), then images/s over the next ``batches`` batches."""
    started = time.perf_counter()
    iterator = iter(loader)
    images, targets = next(iterator)
    first = time.perf_counter() - started
    count, started = 0, time.perf_counter()
    for _ in range(batches):
        images, targets = next(iterator)
        if step is not None:
            step(images, targets)
        count += len(images)
    seconds = time.perf_counter() - started
    return {"first_batch_s": first, "images": count, "seconds": seconds, "images_per_s": count / seconds}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA_DIR / "fer2013_ferplus.csv.gz")
    parser.add_argument("--workers", type=int, nargs="+", default=[0, 2, 4])
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--batches", type=int, default=20, help="timed batches per setting (after the first)")
    parser.add_argument("--train-step", action="store_true", help="also run a training step on each batch")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--json", type=Path, default=Path("out/training_loader_speed.json"))
    args = parser.parse_args(argv)

    images_needed = args.batch_size * (args.batches + 1)
    run_args = train.get_args_parser().parse_args([
        "--data", str(args.data), "--batch-size", str(args.batch_size), "--max-per-split", str(images_needed),
        "--val-fraction", "0.01"])
    data = train.load_data(run_args, ValenceMap.load(run_args.valence_map))
    faces = train.split_train_val(data, run_args.val_fraction, run_args.seed)[0]
    if len(faces) < images_needed:
        raise SystemExit(f"{args.data}: {len(faces)} training faces, need {images_needed} for this measurement")
    device = train.select_device(args.device)
    step = None
    if args.train_step:
        model = build_model(ModelCard()).to(device).to(memory_format=train.memory_format(device)).train()
        optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
        criterion = train.SoftTargetLoss(train.class_weights(faces, "loss")).to(device)

        def step(images: torch.Tensor, targets: torch.Tensor) -> None:
            images = images.to(device, non_blocking=True).contiguous(memory_format=train.memory_format(device))
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=device.type == "cuda"):
                logits = model(images)
            loss = criterion(logits, targets.to(device, non_blocking=True))
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            loss.item()

    rows = []
    for workers in args.workers:
        run_args.workers = workers
        result = measure(train.make_loader(faces, ModelCard().spec, run_args, True, seed=0), args.batches, step)
        rows.append({"workers": workers, **result})
        print(f"workers {workers}: {result['images_per_s']:8.0f} images/s (first batch after "
              f"{result['first_batch_s']:.2f} s)", flush=True)
    report = {
        "data": str(args.data), "batch_size": args.batch_size, "timed_batches": args.batches,
        "train_step": args.train_step, "device": str(device) if args.train_step else "loader only",
        "torch_threads": torch.get_num_threads(), "cpu_count": os.cpu_count(),
        "load_average_1min": os.getloadavg()[0], "results": rows,
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=2) + "\n")
    return report


if __name__ == "__main__":
    main()
