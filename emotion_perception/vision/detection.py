# Copyright 2026 The emotion_perception Authors
# SPDX-License-Identifier: Apache-2.0
"""Face detection behind one small interface, with OpenCV's YuNet as the shipped detector (no ROS)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import cv2
import numpy as np

#: The package's ``models/`` folder (next to the Python package in the source tree and the symlink install).
MODELS_DIR = Path(__file__).resolve().parents[2] / "models"
#: The shipped YuNet ONNX (Apache-2.0, see models/LICENSE.yunet).
DEFAULT_DETECTOR_PATH = MODELS_DIR / "face_detection_yunet_2023mar.onnx"
#: YuNet needs a few strides of pixels; smaller frames cannot hold a detectable face (px).
MIN_FRAME_SIDE = 16


@dataclass(frozen=True)
class Detection:
    """One face: ``box`` is ``(x, y, width, height)`` in pixels of the frame, ``score`` in [0, 1].

    ``landmarks`` are five ``(x, y)`` points in pixels: right eye, left eye, nose tip, right and
    left mouth corners (the subject's right/left).
    """

    box: tuple[float, float, float, float]
    score: float
    landmarks: tuple[tuple[float, float], ...] = ()

    def __post_init__(self) -> None:
        if len(self.box) != 4 or self.box[2] < 0 or self.box[3] < 0:
            raise ValueError(f"box must be (x, y, width>=0, height>=0), got {self.box!r}")


class FaceDetector(Protocol):
    """Anything that finds faces in a BGR uint8 frame."""

    def detect(self, image: np.ndarray) -> list[Detection]:
        """Every face in ``image`` (H, W, 3 uint8 BGR), best score first."""
        ...


class DetectorLoadError(RuntimeError):
    """The detector's model file is missing or cannot be read."""


class YuNetDetector:
    """YuNet through ``cv2.FaceDetectorYN``, run on a copy of the frame downscaled to ``input_size``.

    ``input_size`` is the longest side (px) of the image YuNet sees; 0 runs at full resolution.
    Boxes and landmarks come back in pixels of the original frame.
    """

    def __init__(
        self,
        model_path: str | Path | None = None,
        input_size: int = 320,
        score_threshold: float = 0.6,
        nms_threshold: float = 0.3,
        top_k: int = 50,
    ) -> None:
        path = Path(model_path) if model_path else DEFAULT_DETECTOR_PATH
        if not path.is_file():
            raise DetectorLoadError(f"face detector model not found: {path}")
        if input_size and input_size < MIN_FRAME_SIDE:
            raise ValueError(f"input_size must be 0 or >= {MIN_FRAME_SIDE}, got {input_size}")
        try:
            self._net = cv2.FaceDetectorYN.create(str(path), "", (320, 320), score_threshold, nms_threshold, top_k)
        except cv2.error as exc:
            raise DetectorLoadError(f"cannot load face detector model {path}: {exc.msg.strip()}") from None
        self.model_path = path
        self.input_size = int(input_size)
        self._score_threshold = float(score_threshold)
        self._size: tuple[int, int] = (320, 320)

    @property
    def score_threshold(self) -> float:
        return self._score_threshold

    @score_threshold.setter
    def score_threshold(self, value: float) -> None:
        self._score_threshold = float(value)
        self._net.setScoreThreshold(self._score_threshold)

    def detect(self, image: np.ndarray) -> list[Detection]:
        """Faces in ``image`` (H, W, 3 uint8 BGR); an image under 16 px a side has none."""
        height, width = image.shape[:2]
        if min(height, width) < MIN_FRAME_SIDE:
            return []
        scale = 1.0
        if self.input_size and max(height, width) > self.input_size:
            scale = self.input_size / max(height, width)
            size = (max(round(width * scale), MIN_FRAME_SIDE), max(round(height * scale), MIN_FRAME_SIDE))
            image = cv2.resize(image, size, interpolation=cv2.INTER_LINEAR)
        size = (image.shape[1], image.shape[0])
        if size != self._size:
            self._net.setInputSize(size)
            self._size = size
        _, faces = self._net.detect(np.ascontiguousarray(image))
        if faces is None:
            return []
        points = faces[:, :14].astype(np.float64) / scale
        return [
            Detection(
                box=(float(p[0]), float(p[1]), float(p[2]), float(p[3])),
                score=float(score),
                landmarks=tuple((float(p[i]), float(p[i + 1])) for i in range(4, 14, 2)),
            )
            for p, score in zip(points, faces[:, 14], strict=True)
        ]
