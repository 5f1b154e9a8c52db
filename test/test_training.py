"""Training pipeline on real FER data (a few hundred faces): readers, relabelling, folds, a short run, fine-tune."""

from __future__ import annotations

import csv
import gzip
import json
import os
import re
import warnings
from pathlib import Path

import cv2
import numpy as np
import onnxruntime as ort
import pytest
import torch

from emotion_perception.tools.crop_dataset import CropWriter
from emotion_perception.vision.detection import YuNetDetector
from emotion_perception.vision.model import load_model
from emotion_perception.vision.preprocessing import InputSpec
from training import evaluate, train
from training.datasets import (
    DatasetError,
    concat,
    deduplicate,
    read_dataset,
    read_fer_csv,
    read_image_folder,
    stratified_group_folds,
)
from training.relabel import FER2013_NAMES, ValenceMap

ROOT = Path(__file__).resolve().parents[1]
DATA_DIR = Path(os.environ.get("EMOTION_PERCEPTION_DATA", ROOT.parent / "shared" / "data"))
FER_CSV = DATA_DIR / "fer2013_ferplus.csv.gz"
PER_SPLIT = {"Training": 240, "PublicTest": 80, "PrivateTest": 80}


@pytest.fixture(scope="module")
def fer_subset(tmp_path_factory) -> Path:
    """The first rows of each official split of the real FER2013 + FER+ CSV (kept in a temp dir only)."""
    assert FER_CSV.is_file(), f"FER data not found at {FER_CSV} (set EMOTION_PERCEPTION_DATA)"
    out = tmp_path_factory.mktemp("fer") / "fer_subset.csv"
    counts = dict.fromkeys(PER_SPLIT, 0)
    with gzip.open(FER_CSV, "rt", newline="") as src, out.open("w", newline="") as dst:
        reader, writer = csv.reader(src), csv.writer(dst)
        header = next(reader)
        writer.writerow(header)
        usage = header.index("Usage")
        for row in reader:
            if counts[row[usage]] < PER_SPLIT[row[usage]]:
                counts[row[usage]] += 1
                writer.writerow(row)
                if counts == PER_SPLIT:
                    break
    return out


@pytest.fixture(scope="module")
def vmap() -> ValenceMap:
    return ValenceMap.load()


def test_relabelling_drops_and_counts_fer2013_labels(fer_subset: Path, vmap: ValenceMap) -> None:
    with fer_subset.open(newline="") as handle:
        emotions = [int(row["emotion"]) for row in csv.DictReader(handle)]
    data = read_fer_csv(fer_subset, vmap, labels="fer2013")
    expected_negative = sum(e in (0, 1, 2, 4) for e in emotions)
    assert data.dropped["surprise"] == emotions.count(5) > 0
    assert data.dropped["unrecovered"] == emotions.count(-1)
    assert len(data) + sum(data.dropped.values()) == len(emotions)
    assert int((data.labels == 0).sum()) == expected_negative
    assert int((data.labels == 1).sum()) == emotions.count(6)
    assert int((data.labels == 2).sum()) == emotions.count(3)


def test_ferplus_majority_and_soft_targets(fer_subset: Path, vmap: ValenceMap) -> None:
    majority = read_fer_csv(fer_subset, vmap, ferplus_mode="majority")
    soft = read_fer_csv(fer_subset, vmap, ferplus_mode="soft")
    assert majority.dropped["no_majority"] > 0 and majority.dropped["surprise"] > 0
    assert np.isin(majority.targets, [0.0, 1.0]).all()
    assert np.allclose(soft.targets.sum(axis=1), 1.0) and (soft.targets.max(axis=1) < 1).any()
    assert "no_majority" not in soft.dropped and len(soft) > len(majority)


def test_a_custom_map_changes_what_is_dropped(fer_subset: Path) -> None:
    surprise_positive = ValenceMap({**ValenceMap.load().mapping, "surprise": "positive"})
    data = read_fer_csv(fer_subset, surprise_positive, labels="fer2013")
    assert "surprise" not in data.dropped
    with pytest.raises(ValueError, match="values must be one of"):
        ValenceMap({"happy": "glad"})


def test_folds_are_stratified_disjoint_and_keep_duplicates_together() -> None:
    rng = np.random.default_rng(3)
    labels = rng.choice(3, 600, p=[0.2, 0.3, 0.5])
    groups = np.array([f"g{i}" for i in range(600)], dtype=object)
    for i in range(0, 120, 2):  # 60 pairs of identical images (same label)
        groups[i + 1] = groups[i]
        labels[i + 1] = labels[i]
    folds = stratified_group_folds(labels, groups, 3, seed=0)
    joined = np.concatenate(folds)
    assert len(joined) == len(set(joined.tolist())) == 600
    for fold in folds:
        share = np.bincount(labels[fold], minlength=3) / len(fold)
        assert np.allclose(share, np.bincount(labels, minlength=3) / 600, atol=0.03)
    fold_of = {i: k for k, fold in enumerate(folds) for i in fold}
    for i in range(0, 120, 2):
        assert fold_of[i] == fold_of[i + 1]


def test_dedup_keeps_the_held_out_copy(fer_subset: Path, vmap: ValenceMap) -> None:
    data = read_fer_csv(fer_subset, vmap, ferplus_mode="soft")
    copy = data.subset(np.array([0]))
    copy.splits[:] = "test"
    merged = deduplicate(concat([data, copy]))
    assert merged.dropped["duplicate"] >= 1
    owners = merged.splits[merged.hashes == data.hashes[0]]
    assert list(owners) == ["test"]


def test_bad_inputs_name_the_file(tmp_path: Path, vmap: ValenceMap) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(DatasetError, match=re.escape(str(empty))):
        read_image_folder(empty, vmap)
    corrupt = tmp_path / "users" / "positive" / "broken.png"
    corrupt.parent.mkdir(parents=True)
    corrupt.write_bytes(b"\x89PNG\r\n\x1a\n not really a png")
    with pytest.raises(DatasetError, match=r"broken\.png"):
        read_image_folder(tmp_path / "users", vmap)
    csv_path = tmp_path / "missing_label.csv"
    csv_path.write_text("emotion,pixels,Usage\n3," + " ".join(["0"] * 2304) + ",Training\n,"
                        + " ".join(["0"] * 2304) + ",Training\n")
    with pytest.raises(DatasetError, match=r"missing_label.csv:3: missing 'emotion' label"):
        read_fer_csv(csv_path, vmap, labels="fer2013")
    with pytest.raises(DatasetError, match="no such file"):
        read_dataset(tmp_path / "nope.csv", vmap)


def run_args(data: Path, out: Path, epochs: int, *extra: str):
    return train.get_args_parser().parse_args([
        "--data", str(data), "--output-dir", str(out), "--epochs", str(epochs), "--folds", "2",
        "--batch-size", "32", "--warmup-epochs", "0", "--lr", "3e-3", "--camera-aug", "0",
        "--workers", "0", "--seed", "0", "--device", "cpu", *extra,
    ])


@pytest.fixture(scope="module")
def trained_run(fer_subset: Path, tmp_path_factory) -> tuple[Path, dict, dict]:
    """One epoch (2-fold CV + final fit), then ``--resume`` to a second epoch of the final fit."""
    out = tmp_path_factory.mktemp("run")
    first = train.main(run_args(fer_subset, out, 1))
    resumed = train.main(run_args(fer_subset, out, 2, "--resume"))
    return out, first, resumed


def test_short_run_learns_and_writes_every_artifact(trained_run) -> None:
    out, first, metrics = trained_run
    assert [h["epoch"] for h in first["history"]] == [0]
    assert [h["epoch"] for h in metrics["history"]] == [0, 1]  # resumed, not restarted
    assert metrics["history"][1]["train_loss"] < metrics["history"][0]["train_loss"]
    assert metrics["cv"]["folds"] == 2 and metrics["cv"] == first["cv"]  # finished folds are kept
    for name in ("valence_model.pt", "valence_model.json", "valence_model.torchscript.pt", "valence_model.onnx",
                 "metrics.json", "confusion_matrix.png", "reliability.png", "training_curve.png",
                 "fold_0/metrics.json", "fold_1/metrics.json"):
        assert (out / name).is_file() and (out / name).stat().st_size > 0, name
    model, card = load_model(out / "valence_model.pt")
    assert card.metrics["macro_f1"] == metrics["test"]["macro_f1"]
    assert {"ece_before_temperature", "ece_after_temperature", "cv_macro_f1_mean"} <= set(card.metrics)
    assert card.tta_flip and card.temperature_single is not None
    assert set(metrics["test"]["per_class"]) == {"negative", "neutral", "positive"}
    probe = torch.randn(3, 1, 48, 48)
    with torch.inference_mode():
        eager = model(probe).numpy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # torch.jit is deprecated, still exported for C++ users
        scripted = torch.jit.load(str(out / "valence_model.torchscript.pt"))
    assert np.allclose(scripted(probe).detach().numpy(), eager, atol=1e-4)
    session = ort.InferenceSession(str(out / "valence_model.onnx"), providers=["CPUExecutionProvider"])
    assert np.allclose(session.run(None, {"input": probe.numpy()})[0], eager, atol=1e-4)
    checkpoint = torch.load(out / "final" / "checkpoint.pt", map_location="cpu", weights_only=True)
    assert {"model", "optimizer", "lr_scheduler", "epoch", "args", "class_names"} <= set(checkpoint)
    assert checkpoint["epoch"] == 1 and checkpoint["class_names"] == ["negative", "neutral", "positive"]
    assert json.loads((out / "metrics.json").read_text())["best_epoch"] in (0, 1)


def test_finetune_on_user_crops_reports_forgetting(trained_run, fer_subset: Path, tmp_path: Path) -> None:
    out = trained_run[0]
    users = tmp_path / "users"
    writer = CropWriter(users, InputSpec(), prefix="u")
    detector = YuNetDetector()
    for name, label in [("pexels_happy_330", "positive"), ("pexels_happy_360", "positive"),
                        ("pexels_sad_030", "negative"), ("pexels_sad_045", "negative")]:
        frame = cv2.imread(str(ROOT / "test" / "data" / f"{name}.jpg"), cv2.IMREAD_COLOR)
        box = detector.detect(frame)[0].box
        for i, shift in enumerate((-4, 0, 4)):
            writer.write(frame, [(str(i), (box[0] + shift, box[1], box[2], box[3]))], label, frame_index=0)
    (users / "unlabelled").mkdir()
    args = train.get_args_parser().parse_args([
        "--finetune", str(out / "valence_model.pt"), "--data", str(users), "--reference-data", str(fer_subset),
        "--output-dir", str(tmp_path / "ft"), "--epochs", "1", "--batch-size", "4", "--workers", "0",
        "--device", "cpu", "--val-fraction", "0.5",
    ])
    metrics = train.main(args)
    forgetting = metrics["forgetting"]
    assert 0 <= forgetting["accuracy_before"] <= 1 and 0 <= forgetting["accuracy_after"] <= 1
    _, card = load_model(tmp_path / "ft" / "valence_model.pt")
    assert card.training_data["finetuned_from"].endswith("valence_model.pt")


def test_evaluate_writes_metrics_and_plots(trained_run, fer_subset: Path, tmp_path: Path) -> None:
    out, _, metrics = trained_run
    args = evaluate.get_args_parser().parse_args([
        "--model", str(out / "valence_model.pt"), "--data", str(fer_subset), "--split", "test",
        "--output-dir", str(tmp_path),
    ])
    result = evaluate.main(args)
    assert result["n"] == metrics["test"]["n"]
    assert abs(result["macro_f1"] - metrics["test"]["macro_f1"]) < 0.02  # TorchScript vs eager, same faces
    assert (tmp_path / "confusion_matrix.png").is_file() and (tmp_path / "reliability.png").is_file()


def test_fer2013_label_names_cover_the_ids() -> None:
    assert FER2013_NAMES[3] == "happy" and FER2013_NAMES[5] == "surprise" and len(FER2013_NAMES) == 7


def test_plain_fer2013_csv_joined_with_the_ferplus_label_file(fer_subset: Path, vmap: ValenceMap,
                                                              tmp_path: Path) -> None:
    plain = tmp_path / "fer2013.csv"
    with fer_subset.open(newline="") as src, plain.open("w", newline="") as dst:
        writer = csv.writer(dst)
        writer.writerow(["fer2013_row", "emotion", "pixels", "Usage"])
        for row in csv.DictReader(src):
            writer.writerow([row["fer2013_row"], row["emotion"], row["pixels"], row["Usage"]])
    joined = read_fer_csv(plain, vmap, labels="ferplus", ferplus_mode="soft",
                          ferplus_votes=DATA_DIR / "fer2013new.csv")
    combined = read_fer_csv(fer_subset, vmap, ferplus_mode="soft")
    assert len(joined) == len(combined) and np.allclose(joined.targets, combined.targets)
    with pytest.raises(DatasetError, match="no FER\\+ vote columns"):
        read_fer_csv(plain, vmap, labels="ferplus")


def test_image_folder_with_splits_and_emotion_folders(tmp_path: Path, vmap: ValenceMap) -> None:
    rng = np.random.default_rng(0)
    layout = {("train", "happy"): 3, ("train", "sad"): 2, ("train", "surprise"): 2, ("test", "neutral"): 2}
    for (split, emotion), n in layout.items():
        folder = tmp_path / split / emotion
        folder.mkdir(parents=True)
        for i in range(n):
            cv2.imwrite(str(folder / f"{i}.png"), rng.integers(0, 256, (60, 60, 3), dtype=np.uint8))
    data = read_dataset(tmp_path, vmap)
    assert data.split("train").class_counts() == {"negative": 2, "neutral": 0, "positive": 3}
    assert data.split("test").class_counts() == {"negative": 0, "neutral": 2, "positive": 0}
    assert data.dropped == {"surprise": 2}
    assert data.images[0].shape == (60, 60, 3)
