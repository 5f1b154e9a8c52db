# Copyright 2026 The emotion_perception Authors
# SPDX-License-Identifier: Apache-2.0
"""Face crops written as an ImageFolder tree (``positive/ neutral/ negative/`` or ``unlabelled/``), no ROS.

``train --finetune`` reads the labelled folders. Crops are the classifier's input geometry
(:func:`emotion_perception.vision.preprocessing.face_crop` with the model's ``InputSpec``), saved as PNG.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np

from emotion_perception.reaction import CLASS_NAMES
from emotion_perception.vision.preprocessing import Box, InputSpec, face_crop

UNLABELLED = "unlabelled"
#: Folder names a crop may go to: the three classes, or unlabelled (to sort later).
LABELS: tuple[str, ...] = (*CLASS_NAMES, UNLABELLED)


class CropWriter:
    """Crop faces out of frames and write them under ``root/<label>/``, up to ``max_crops`` (0 = no limit).

    File names are ``<prefix>_f<frame>_<face id>.png``; ``prefix`` (default: the start time) keeps
    several sessions in one tree apart.
    """

    def __init__(self, root: str | Path, spec: InputSpec, max_crops: int = 0, prefix: str | None = None) -> None:
        if max_crops < 0:
            raise ValueError(f"max_crops must be >= 0, got {max_crops}")
        self.root = Path(root)
        self.spec = spec
        self.max_crops = max_crops
        self.prefix = prefix or time.strftime("%Y%m%d-%H%M%S")
        self.counts: Counter[str] = Counter()

    @property
    def written(self) -> int:
        return sum(self.counts.values())

    @property
    def full(self) -> bool:
        return bool(self.max_crops) and self.written >= self.max_crops

    def write(self, frame: np.ndarray, faces: Sequence[tuple[str, Box]], label: str, frame_index: int) -> list[Path]:
        """Write the crop of each ``(face_id, box)`` of ``frame`` under ``label``; returns the files written."""
        if label not in LABELS:
            raise ValueError(f"label must be one of {', '.join(LABELS)}, got {label!r}")
        folder = self.root / label
        paths = []
        for face_id, box in faces:
            if self.full:
                break
            crop = face_crop(frame, box, self.spec)
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / f"{self.prefix}_f{frame_index:06d}_{face_id or 'face'}.png"
            if not cv2.imwrite(str(path), crop):
                raise OSError(f"cannot write {path}")
            self.counts[label] += 1
            paths.append(path)
        return paths
