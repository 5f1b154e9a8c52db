# Copyright 2026 The emotion_perception Authors
# SPDX-License-Identifier: Apache-2.0
"""Readers for labelled face data, relabelled to valence: FER2013 CSV, FER+ votes, ImageFolder trees.

Every reader returns a :class:`FaceSet`: uint8 images (48x48 FER faces or stored crops), a soft
target distribution over ``CLASS_NAMES`` per image, its split, and a pixel hash that groups
identical images (FER2013 has copies across splits). Bad input raises :class:`DatasetError`
naming the file (and line).
"""

from __future__ import annotations

import bz2
import csv
import gzip
import hashlib
import lzma
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from emotion_perception.reaction import CLASS_NAMES

from .relabel import FER2013_NAMES, FER2013_TO_FERPLUS, FERPLUS_COLUMNS, FERPLUS_EMOTIONS, ValenceMap

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".pgm", ".webp", ".tif", ".tiff"}
FER_SPLITS = {"Training": "train", "PublicTest": "val", "PrivateTest": "test"}
FOLDER_SPLITS = {"train": "train", "training": "train", "val": "val", "valid": "val", "validation": "val",
                 "test": "test", "testing": "test"}
FERPLUS_MODES = ("soft", "majority", "argmax")


class DatasetError(ValueError):
    """Unusable input data; the message names the file (and line) at fault."""


@dataclass
class FaceSet:
    """Labelled faces: ``images[i]`` uint8 (H, W) or (H, W, 3); ``targets[i]`` sums to 1 over CLASS_NAMES.

    ``landmarks`` maps a face's pixel hash to the detector's five points on it, where known."""

    images: list[np.ndarray]
    targets: np.ndarray
    splits: np.ndarray
    hashes: np.ndarray
    source: str
    dropped: Counter = field(default_factory=Counter)
    landmarks: dict[str, np.ndarray] = field(default_factory=dict)
    #: a face's pixel hash → its FER+ votes over ``FERPLUS_EMOTIONS`` as a distribution, where it has votes
    emotions: dict[str, np.ndarray] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.targets = np.asarray(self.targets, np.float32).reshape(-1, len(CLASS_NAMES))
        self.splits = np.asarray(self.splits, dtype=object)
        self.hashes = np.asarray(self.hashes, dtype=object)
        if not len(self.images) == len(self.targets) == len(self.splits) == len(self.hashes):
            raise ValueError("FaceSet fields differ in length")

    def __len__(self) -> int:
        return len(self.images)

    @property
    def labels(self) -> np.ndarray:
        return self.targets.argmax(axis=1) if len(self) else np.zeros(0, np.int64)

    def subset(self, index: np.ndarray) -> FaceSet:
        index = np.asarray(index, dtype=np.int64)
        return FaceSet([self.images[i] for i in index], self.targets[index], self.splits[index],
                       self.hashes[index], self.source, Counter(self.dropped), self.landmarks, self.emotions)

    def split(self, name: str) -> FaceSet:
        return self.subset(np.flatnonzero(self.splits == name))

    def class_counts(self) -> dict[str, int]:
        counts = np.bincount(self.labels, minlength=len(CLASS_NAMES))
        return {name: int(c) for name, c in zip(CLASS_NAMES, counts, strict=True)}

    def summary(self) -> dict:
        return {
            "source": self.source,
            "images": len(self),
            "per_split": {s: self.split(s).class_counts() for s in sorted(set(self.splits))},
            "dropped": dict(sorted(self.dropped.items())),
        }


def concat(sets: list[FaceSet]) -> FaceSet:
    dropped: Counter = Counter()
    landmarks: dict[str, np.ndarray] = {}
    emotions: dict[str, np.ndarray] = {}
    for s in sets:
        dropped.update(s.dropped)
        landmarks.update(s.landmarks)
        emotions.update(s.emotions)
    return FaceSet(
        [im for s in sets for im in s.images],
        np.concatenate([s.targets for s in sets]) if sets else np.zeros((0, 3)),
        np.concatenate([s.splits for s in sets]) if sets else np.zeros(0, object),
        np.concatenate([s.hashes for s in sets]) if sets else np.zeros(0, object),
        " + ".join(s.source for s in sets),
        dropped,
        landmarks,
        emotions,
    )


def pixel_hash(image: np.ndarray) -> str:
    return hashlib.sha1(np.ascontiguousarray(image).tobytes() + str(image.shape).encode()).hexdigest()


def _open_text(path: Path):
    opener = {".gz": gzip.open, ".xz": lzma.open, ".bz2": bz2.open}.get(path.suffix, open)
    return opener(path, "rt", newline="", encoding="utf-8")


def _csv_rows(path: Path) -> Iterator[tuple[int, dict[str, str]]]:
    if not path.is_file():
        raise DatasetError(f"{path}: no such file")
    try:
        with _open_text(path) as handle:
            reader = csv.DictReader(handle)
            for row in reader:
                yield reader.line_num, row
    except (OSError, EOFError, UnicodeDecodeError, csv.Error, lzma.LZMAError) as exc:
        raise DatasetError(f"{path}: unreadable CSV: {exc}") from exc


def ferplus_target(votes: np.ndarray, vmap: ValenceMap, mode: str) -> tuple[np.ndarray | None, str]:
    """A valence target from one row of FER+ votes (``FERPLUS_COLUMNS`` order), or None and why.

    ``majority`` is the FER+ protocol: single votes are dropped as outliers and the top emotion needs
    more than half of the rest, else the face is left out. ``argmax`` takes the top emotion (ties to
    the first column). ``soft`` keeps faces whose argmax emotion maps to a class and returns the vote
    share of each valence class (votes for dropped emotions are ignored).
    """
    votes = np.asarray(votes, np.float32)
    if mode == "majority":
        votes = np.where(votes <= 1, 0.0, votes)
        if votes.sum() <= 0 or votes.max() <= 0.5 * votes.sum():
            return None, "no_majority"
    elif mode not in FERPLUS_MODES:
        raise ValueError(f"unknown FER+ label mode {mode!r} (choose from {FERPLUS_MODES})")
    top = FERPLUS_COLUMNS[int(np.argmax(votes))]
    index = vmap.index(top)
    if index is None:
        return None, top.lower()
    if mode != "soft":
        return np.eye(len(CLASS_NAMES), dtype=np.float32)[index], ""
    valence = votes @ vmap.vote_matrix(FERPLUS_COLUMNS)
    return valence / valence.sum(), ""


def read_fer_csv(
    path: str | Path,
    vmap: ValenceMap,
    labels: str = "auto",
    ferplus_mode: str | dict[str, str] = "majority",
    ferplus_votes: str | Path | None = None,
    fer2013_votes: float = 0.0,
) -> FaceSet:
    """Read a FER2013-style CSV (``pixels`` + ``Usage`` columns, ``emotion`` ids) into a FaceSet.

    ``labels``: ``fer2013`` (the ``emotion`` column), ``ferplus`` (vote columns in the same CSV, as in
    ``fer2013_ferplus.csv.gz``, or a separate ``fer2013new.csv`` given as ``ferplus_votes``, matched by
    row), or ``auto`` (FER+ when votes are available). ``ferplus_mode`` may differ per split, e.g.
    ``{"train": "soft", "val": "majority", "test": "majority"}``. Rows whose label the map drops, or
    FER2013 rows with label -1 (not recovered), are dropped and counted. ``fer2013_votes`` > 0 adds the
    row's original FER2013 label as that many extra votes to its FER+ votes in ``soft`` splits (the
    training targets), where the label was recovered.
    """
    path = Path(path)
    vmap.dropped.clear()
    external_votes = _read_ferplus_votes(Path(ferplus_votes)) if ferplus_votes else None
    images, targets, splits, hashes = [], [], [], []
    emotions: dict[str, np.ndarray] = {}
    dropped: Counter = Counter()
    use_ferplus: bool | None = None
    for index, (line, row) in enumerate(_csv_rows(path)):
        where = f"{path}:{line}"
        if "pixels" not in row or "Usage" not in row:
            raise DatasetError(f"{where}: a FER CSV needs 'pixels' and 'Usage' columns, found {list(row)}")
        if use_ferplus is None:
            has_votes = all(c in row for c in FERPLUS_COLUMNS) or external_votes is not None
            if labels == "ferplus" and not has_votes:
                raise DatasetError(f"{path}: no FER+ vote columns; pass the FER+ label CSV (fer2013new.csv)")
            if labels not in ("auto", "ferplus", "fer2013"):
                raise ValueError(f"labels must be auto, ferplus or fer2013, got {labels!r}")
            use_ferplus = has_votes and labels != "fer2013"
        split = FER_SPLITS.get((row["Usage"] or "").strip())
        if split is None:
            raise DatasetError(f"{where}: unknown Usage {row['Usage']!r} (expected one of {sorted(FER_SPLITS)})")
        votes = _ferplus_votes(row, index, external_votes, where) if use_ferplus else None
        if votes is not None:
            target, why = _ferplus_target(row, votes, vmap, ferplus_mode, split, fer2013_votes)
        else:
            target, why = _fer2013_row(row, vmap, where)
        if target is None:
            dropped[why] += 1
            continue
        image = _decode_pixels(row["pixels"], where)
        images.append(image)
        targets.append(target)
        splits.append(split)
        hashes.append(pixel_hash(image))
        if votes is not None and (expressed := votes[:len(FERPLUS_EMOTIONS)].sum()) > 0:
            emotions[hashes[-1]] = votes[:len(FERPLUS_EMOTIONS)] / expressed
    if not images:
        raise DatasetError(f"{path}: no usable labelled rows (dropped: {dict(dropped)})")
    kind = "FER+ votes" if use_ferplus else "FER2013 labels"
    return FaceSet(images, np.stack(targets), splits, hashes, f"{path} ({kind})", dropped, emotions=emotions)


def _decode_pixels(text: str | None, where: str) -> np.ndarray:
    values = (text or "").split()
    if len(values) != 48 * 48:
        raise DatasetError(f"{where}: 'pixels' must hold 2304 values (48x48), found {len(values)}")
    try:
        pixels = np.array(values, dtype=np.int32)
    except ValueError as exc:
        raise DatasetError(f"{where}: 'pixels' holds a non-integer value") from exc
    if pixels.min() < 0 or pixels.max() > 255:
        raise DatasetError(f"{where}: pixel values must be 0-255")
    return pixels.astype(np.uint8).reshape(48, 48)


def _fer2013_row(row: dict[str, str], vmap: ValenceMap, where: str) -> tuple[np.ndarray | None, str]:
    raw = (row.get("emotion") or "").strip()
    if not raw:
        raise DatasetError(f"{where}: missing 'emotion' label")
    try:
        label = int(raw)
    except ValueError as exc:
        raise DatasetError(f"{where}: 'emotion' must be an integer 0-6, got {raw!r}") from exc
    if label == -1:
        return None, "unrecovered"
    if not 0 <= label < len(FER2013_NAMES):
        raise DatasetError(f"{where}: 'emotion' must be 0-6 (or -1), got {label}")
    index = vmap.index(FER2013_NAMES[label])
    if index is None:
        return None, FER2013_NAMES[label]
    return np.eye(len(CLASS_NAMES), dtype=np.float32)[index], ""


def _ferplus_votes(row, index, external, where) -> np.ndarray:
    """The row's FER+ vote counts in ``FERPLUS_COLUMNS`` order, from its own columns or ``fer2013new.csv``."""
    if external is not None:
        key = int(row["fer2013_row"]) if row.get("fer2013_row") else index
        if key not in external:
            raise DatasetError(f"{where}: no FER+ votes for row {key}")
        return external[key]
    try:
        return np.array([float(row[c]) for c in FERPLUS_COLUMNS], np.float32)
    except (TypeError, ValueError) as exc:
        raise DatasetError(f"{where}: missing or non-numeric FER+ vote columns") from exc


def _ferplus_target(row, votes, vmap, mode, split, fer2013_votes) -> tuple[np.ndarray | None, str]:
    if votes.sum() <= 0:
        return None, "no_votes"
    split_mode = mode[split] if isinstance(mode, dict) else mode
    if fer2013_votes > 0 and split_mode == "soft":
        votes = votes + fer2013_votes * _fer2013_vote(row)
    return ferplus_target(votes, vmap, split_mode)


def _fer2013_vote(row: dict[str, str]) -> np.ndarray:
    """The row's original FER2013 label as one vote in ``FERPLUS_COLUMNS`` order (zeros when not recovered)."""
    vote = np.zeros(len(FERPLUS_COLUMNS), np.float32)
    raw = (row.get("emotion") or "").strip()
    if raw.lstrip("-").isdigit() and 0 <= int(raw) < len(FER2013_NAMES):
        vote[FERPLUS_COLUMNS.index(FER2013_TO_FERPLUS[FER2013_NAMES[int(raw)]])] = 1.0
    return vote


def _read_ferplus_votes(path: Path) -> dict[int, np.ndarray]:
    """``fer2013new.csv``: one row per fer2013.csv row (``Usage, Image name`` + vote columns)."""
    votes = {}
    for index, (line, row) in enumerate(_csv_rows(path)):
        if not (row.get("Image name") or "").strip():
            continue  # FER+ never wrote this image
        try:
            votes[index] = np.array([float(row[c]) for c in FERPLUS_COLUMNS], np.float32)
        except (KeyError, TypeError, ValueError) as exc:
            raise DatasetError(f"{path}:{line}: missing or non-numeric FER+ vote columns") from exc
    return votes


def read_image(path: Path) -> np.ndarray:
    """An image file as uint8 gray (H, W) or BGR (H, W, 3); a clear error naming the file otherwise."""
    data = np.fromfile(path, np.uint8) if path.is_file() else None
    image = cv2.imdecode(data, cv2.IMREAD_UNCHANGED) if data is not None and data.size else None
    if image is None:
        raise DatasetError(f"{path}: not a readable image (corrupt, empty or unsupported format)")
    if image.dtype != np.uint8:
        image = cv2.convertScaleAbs(image, alpha=255.0 / max(float(image.max()), 1.0))
    if image.ndim == 3 and image.shape[2] == 4:
        image = cv2.cvtColor(image, cv2.COLOR_BGRA2BGR)
    return image


def read_image_folder(root: str | Path, vmap: ValenceMap, default_split: str = "train") -> FaceSet:
    """A class-per-folder tree: ``root/<class>/*`` or ``root/<split|fold>/<class>/*``.

    Class folders are valence names (``positive/neutral/negative``) or emotion names, relabelled
    with the map; unmapped folders (e.g. ``unlabelled``) are dropped and counted per image. Split
    folders are train/val/test (and synonyms) or any other name such as ``fold1`` (kept as the split).
    """
    root = Path(root)
    if not root.is_dir():
        raise DatasetError(f"{root}: not a directory")
    vmap.dropped.clear()
    subdirs = sorted(p for p in root.iterdir() if p.is_dir())
    if not subdirs:
        raise DatasetError(f"{root}: empty folder (expected class folders such as positive/neutral/negative)")
    is_split_tree = all(p.name.lower() not in vmap.mapping for p in subdirs)
    groups = [(FOLDER_SPLITS.get(p.name.lower(), p.name), p) for p in subdirs] if is_split_tree \
        else [(default_split, root)]
    images, targets, splits, hashes = [], [], [], []
    dropped: Counter = Counter()
    for split, split_dir in groups:
        class_dirs = sorted(p for p in split_dir.iterdir() if p.is_dir())
        if not class_dirs:
            raise DatasetError(f"{split_dir}: no class folders inside")
        for class_dir in class_dirs:
            files = sorted(p for p in class_dir.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
            index = vmap.index(class_dir.name)
            if index is None:
                dropped[class_dir.name.lower()] += len(files)
                continue
            for file in files:
                image = read_image(file)
                images.append(image)
                targets.append(np.eye(len(CLASS_NAMES), dtype=np.float32)[index])
                splits.append(split)
                hashes.append(pixel_hash(image))
    if not images:
        raise DatasetError(f"{root}: no labelled images found (dropped: {dict(dropped)})")
    return FaceSet(images, np.stack(targets), splits, hashes, f"{root} (image folder)", dropped)


def read_dataset(
    path: str | Path,
    vmap: ValenceMap,
    labels: str = "auto",
    ferplus_mode: str | dict[str, str] = "majority",
    ferplus_votes: str | Path | None = None,
    fer2013_votes: float = 0.0,
) -> FaceSet:
    """Any supported labelled set: a directory is an ImageFolder tree, a (compressed) CSV is FER-style."""
    path = Path(path)
    if path.is_dir():
        return read_image_folder(path, vmap)
    if ".csv" in path.suffixes:
        return read_fer_csv(path, vmap, labels, ferplus_mode, ferplus_votes, fer2013_votes)
    if not path.exists():
        raise DatasetError(f"{path}: no such file or directory")
    raise DatasetError(f"{path}: unsupported data set (expected a folder tree or a FER-style .csv[.gz|.xz])")


def deduplicate(data: FaceSet) -> FaceSet:
    """Keep one copy of each pixel-identical image; a test copy wins over val, val over train.

    So no training image reappears in validation or test, and folds cannot straddle copies. The
    removed copies are counted in ``dropped['duplicate']``.
    """
    priority = {"test": 0, "val": 1}
    order = sorted(range(len(data)), key=lambda i: (priority.get(data.splits[i], 2), i))
    seen: dict[str, str] = {}
    keep = []
    for i in order:
        h = data.hashes[i]
        if h in seen:
            continue
        seen[h] = data.splits[i]
        keep.append(i)
    out = data.subset(np.sort(np.asarray(keep, np.int64)))
    out.dropped["duplicate"] += len(data) - len(keep)
    return out


def stratified_group_folds(labels: np.ndarray, groups: np.ndarray, k: int, seed: int) -> list[np.ndarray]:
    """K disjoint index arrays, stratified by label, never splitting a group (identical pixels).

    Groups are shuffled and each goes to the fold with the fewest samples of its label so far.
    """
    if k < 2:
        raise ValueError(f"need at least 2 folds, got {k}")
    labels = np.asarray(labels)
    members: dict[str, list[int]] = {}
    for i, g in enumerate(groups):
        members.setdefault(g, []).append(i)
    keys = list(members)
    rng = np.random.default_rng(seed)
    rng.shuffle(keys)
    keys.sort(key=lambda g: -len(members[g]))  # place big groups first (stable: ties keep the shuffle)
    counts = np.zeros((k, int(labels.max()) + 1 if len(labels) else 1))
    folds: list[list[int]] = [[] for _ in range(k)]
    for g in keys:
        idx = members[g]
        label = int(np.bincount(labels[idx]).argmax())
        fold = int(np.lexsort((counts.sum(axis=1), counts[:, label]))[0])
        folds[fold].extend(idx)
        counts[fold, label] += len(idx)
    return [np.sort(np.asarray(f, np.int64)) for f in folds]
