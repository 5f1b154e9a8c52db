# Copyright 2026 The emotion_perception Authors
# SPDX-License-Identifier: Apache-2.0
"""``train`` under ``torchrun``: 2 CPU processes (gloo) against 1 process on real face crops.

The data are jittered crops of the committed real faces in ``test/data`` (laughing → positive,
crying → negative, twice as many positive: an unbalanced set, so the class-weighted loss matters).

Tolerances. N processes split every global batch of the same shuffled epoch, the loss is normalised
by the global batch's weight and DDP averages the gradients, so the optimiser takes the same steps as
one process — except BatchNorm, which normalises each process's half batch with its own statistics
(a different, equally valid estimator, like a different batch size). The equivalence test therefore
runs both sides with BatchNorm normalising by its running statistics (a harness patch, both sides
alike); what remains is float summation order. In this test's 6 steps the losses agree to 6 digits and
the weights differ by 6e-6 of how far training moved them (measured; the gap grows with the steps, 1e-2
after 14), so it allows a relative 1e-4 on losses and 1e-3 on weights. Without DDP's gradient averaging,
or with the loss normalised per process, the training losses differ by more (both checked).
"""

from __future__ import annotations

import inspect
import json
import os
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
import torch.nn.functional as F  # noqa: N812
from helpers import PROCESS_TEST_TIMEOUT_S, ROOT, load
from torch import nn

from emotion_perception.vision.detection import YuNetDetector
from emotion_perception.vision.model import ModelCard, build_model, load_card
from training import train
from training.relabel import ValenceMap

pytestmark = [pytest.mark.slow, pytest.mark.timeout(2 * PROCESS_TEST_TIMEOUT_S)]

FACES = {"pexels_happy_330": ("positive", 30), "pexels_happy_360": ("positive", 30),
         "pexels_sad_030": ("negative", 15), "pexels_sad_045": ("negative", 15)}
COMMON_ARGS = ["--epochs", "2", "--batch-size", "12", "--warmup-epochs", "0", "--lr", "3e-3", "--dropout", "0",
               "--camera-aug", "0", "--workers", "0", "--threads", "1", "--device", "cpu", "--seed", "0",
               "--val-fraction", "0.25"]


def frozen_batchnorm(self: nn.BatchNorm2d, x: torch.Tensor) -> torch.Tensor:
    """BatchNorm2d.forward normalising by the running statistics only (and leaving them as they are)."""
    return F.batch_norm(x, self.running_mean, self.running_var, self.weight, self.bias, False, 0.0, self.eps)


FROZEN_BATCHNORM_TRAIN = f"""import sys
import torch
import torch.nn.functional as F
from torch import nn
{inspect.getsource(frozen_batchnorm)}
nn.BatchNorm2d.forward = frozen_batchnorm
from training import train
if __name__ == "__main__":
    train.main(train.get_args_parser().parse_args(sys.argv[1:]))
"""


@pytest.fixture(scope="module")
def face_folder(tmp_path_factory) -> Path:
    """An ImageFolder of 64x64 gray crops around YuNet's box: shifted, scaled, rotated, mirrored, relit."""
    out = tmp_path_factory.mktemp("faces")
    rng = np.random.default_rng(0)
    detector = YuNetDetector()
    for name, (label, count) in FACES.items():
        frame = load(f"{name}.jpg")
        x, y, w, h = detector.detect(frame)[0].box
        gray = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
        (out / label).mkdir(exist_ok=True)
        for i in range(count):
            side = max(w, h) * rng.uniform(1.1, 1.5)
            cx, cy = x + w / 2 + rng.normal(0, 0.06) * side, y + h / 2 + rng.normal(0, 0.06) * side
            matrix = cv2.getRotationMatrix2D((cx, cy), rng.uniform(-8, 8), 64 / side)
            matrix[:, 2] += (32 - cx, 32 - cy)
            crop = cv2.warpAffine(gray, matrix, (64, 64), borderMode=cv2.BORDER_REPLICATE)
            crop = crop[:, ::-1] if rng.random() < 0.5 else crop
            crop = np.clip(crop * rng.uniform(0.8, 1.2) + rng.uniform(-20, 20), 0, 255).astype(np.uint8)
            cv2.imwrite(str(out / label / f"{name}_{i:02d}.png"), crop)
    return out


def torchrun(target: list[str], *args: str) -> None:
    """``torchrun --standalone --nproc-per-node 2`` on loopback; fails with the processes' output."""
    env = {**os.environ, "GLOO_SOCKET_IFNAME": "lo", "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2",
               *target, *args]
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]


def weights(state: dict[str, torch.Tensor]) -> torch.Tensor:
    """The learned parameters of a state dict as one vector (BatchNorm's running statistics left out)."""
    return torch.cat([v.flatten() for k, v in state.items() if v.is_floating_point() and "running" not in k])


@pytest.fixture
def torch_threads():
    """In-process runs set torch's thread count (``--threads 1``); give the rest of the session its own back."""
    threads = torch.get_num_threads()
    yield
    torch.set_num_threads(threads)


def test_two_processes_take_the_steps_of_one(face_folder: Path, tmp_path: Path, monkeypatch, torch_threads) -> None:
    """Same seed, same global batch: per-epoch losses and the trained weights of one 2-fold CV fold match
    (the 2 processes load through a worker process each, the one process in itself: augmentation is
    drawn per sample, so that must not matter)."""
    args = ["--data", str(face_folder), "--folds", "2", "--only-fold", "0", *COMMON_ARGS]
    script = tmp_path / "frozen_batchnorm_train.py"
    script.write_text(FROZEN_BATCHNORM_TRAIN)
    torchrun([str(script)], *args, "--workers", "1", "--output-dir", str(tmp_path / "two"))

    monkeypatch.setattr(nn.BatchNorm2d, "forward", frozen_batchnorm)
    train.main(train.get_args_parser().parse_args([*args, "--output-dir", str(tmp_path / "one")]))

    two, one = (json.loads((tmp_path / run / "fold_0" / "metrics.json").read_text()) for run in ("two", "one"))
    assert [h["epoch"] for h in two["history"]] == [0, 1]
    for key in ("train_loss", "val_loss"):
        assert np.allclose([h[key] for h in two["history"]], [h[key] for h in one["history"]], rtol=1e-4), key
    assert two["held_out"]["confusion_matrix"] == one["held_out"]["confusion_matrix"]
    train.seed_everything(1)  # run_fold builds fold 0's model after seeding with seed + fold + 1
    start = weights(build_model(ModelCard(arch_kwargs={"widths": [32, 64, 128, 256], "dropout": 0.0})).state_dict())
    w_two, w_one = (weights(torch.load(tmp_path / run / "fold_0" / "checkpoint.pt", weights_only=True)["model"])
                    for run in ("two", "one"))
    assert (w_two - w_one).norm() < 1e-3 * (w_one - start).norm()


def test_a_two_process_run_exports_and_resumes_in_one_process(face_folder: Path, tmp_path: Path,
                                                               torch_threads) -> None:
    """Real BatchNorm: rank 0's checkpoint scores what the run reported; one process continues the run."""
    out = tmp_path / "run"
    torchrun(["-m", "training.train"], "--data", str(face_folder), "--folds", "0", *COMMON_ARGS,
             "--epochs", "1", "--output-dir", str(out))
    for name in ("valence_model.pt", "valence_model.json", "valence_model.onnx", "valence_model.torchscript.pt",
                 "metrics.json", "final/checkpoint.pt"):
        assert (out / name).is_file() and (out / name).stat().st_size > 0, name
    first = json.loads((out / "metrics.json").read_text())

    checkpoint = torch.load(out / "final" / "checkpoint.pt", map_location="cpu", weights_only=True)
    run_args = train.get_args_parser().parse_args(
        ["--data", str(face_folder), "--folds", "0", *COMMON_ARGS, "--output-dir", str(out)])
    data = train.load_data(run_args, ValenceMap.load(run_args.valence_map))
    _, val, _ = train.split_train_val(data, run_args.val_fraction, run_args.seed)
    card = load_card(out / "valence_model.json")
    model = build_model(card)
    model.load_state_dict(checkpoint["model"])
    loader = train.make_loader(val, card.spec, run_args, False, 0)
    logits, targets = train.evaluate(model, loader, torch.device("cpu"), card.tta_flip)
    assert train.soft_loss(logits, targets) == pytest.approx(first["history"][0]["val_loss"], rel=1e-5)

    resumed = train.main(train.get_args_parser().parse_args(
        ["--data", str(face_folder), "--folds", "0", *COMMON_ARGS, "--output-dir", str(out), "--resume"]))
    assert [h["epoch"] for h in resumed["history"]] == [0, 1]
    assert resumed["history"][0] == first["history"][0]
