# Copyright 2026 The emotion_perception Authors
# SPDX-License-Identifier: Apache-2.0
"""Face detection behind one small interface, with YuNet on onnxruntime as the shipped detector (no ROS)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import cv2
import numpy as np
import onnxruntime as ort

from emotion_perception.package_files import package_file
from emotion_perception.vision.onnx_session import ORT_LOAD_ERRORS, onnx_session

#: The shipped YuNet ONNX with a free input size (Apache-2.0, see models/LICENSE.yunet and models/README.md).
DEFAULT_DETECTOR_PATH = package_file("models", "face_detection_yunet_2023mar.onnx")
#: YuNet needs a few strides of pixels; smaller frames cannot hold a detectable face (px).
MIN_FRAME_SIDE = 16
#: YuNet's output strides; its input is padded to a multiple of the largest.
STRIDES = (8, 16, 32)


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
    """YuNet 2023mar on onnxruntime, run on a copy of the frame downscaled to ``input_size``.

    ``input_size`` is the longest side (px) of the image YuNet sees; 0 runs at full resolution.
    ``threads`` is onnxruntime's intra-op thread count. Boxes and landmarks come back in pixels of the
    original frame: the faces, scores and order ``cv2.FaceDetectorYN`` (OpenCV 4.8+) gives for the same
    model and settings, without needing that OpenCV. The model's input size must be free
    (``training/free_yunet_input_size.py`` makes it so; the shipped model is).
    """

    def __init__(
        self,
        model_path: str | Path | None = None,
        input_size: int = 320,
        score_threshold: float = 0.6,
        nms_threshold: float = 0.3,
        top_k: int = 50,
        threads: int = 2,
    ) -> None:
        path = Path(model_path) if model_path else DEFAULT_DETECTOR_PATH
        if not path.is_file():
            raise DetectorLoadError(f"face detector model not found: {path}")
        if input_size and input_size < MIN_FRAME_SIDE:
            raise ValueError(f"input_size must be 0 or >= {MIN_FRAME_SIDE}, got {input_size}")
        try:
            self._session = onnx_session(path, threads)
        except ORT_LOAD_ERRORS as exc:
            raise DetectorLoadError(f"cannot load face detector model {path}: {exc}") from None
        self._input, self._outputs = _yunet_io(self._session, path)
        self.model_path = path
        self.input_size = int(input_size)
        self.score_threshold = float(score_threshold)
        self.nms_threshold = float(nms_threshold)
        self.top_k = int(top_k)

    def detect(self, image: np.ndarray) -> list[Detection]:
        """Faces in ``image`` (H, W, 3 uint8 BGR), best score first; an image under 16 px a side has none."""
        height, width = image.shape[:2]
        if min(height, width) < MIN_FRAME_SIDE:
            return []
        scale = 1.0
        if self.input_size and max(height, width) > self.input_size:
            scale = self.input_size / max(height, width)
            size = (max(round(width * scale), MIN_FRAME_SIDE), max(round(height * scale), MIN_FRAME_SIDE))
            image = cv2.resize(image, size, interpolation=cv2.INTER_LINEAR)
        blob = _blob(image)
        outputs = self._session.run(self._outputs, {self._input: blob})
        boxes, landmarks, scores = _decode(outputs, blob.shape[3], self.score_threshold)
        keep = nms(boxes, scores, self.nms_threshold, self.top_k)
        boxes, landmarks = boxes[keep] / scale, landmarks[keep] / scale
        return [
            Detection(box=tuple(map(float, box)), score=float(score), landmarks=tuple(map(tuple, points.tolist())))
            for box, points, score in zip(boxes, landmarks, scores[keep], strict=True)
        ]


def _yunet_io(session: ort.InferenceSession, path: Path) -> tuple[str, list[str]]:
    """The input's name and YuNet's output names, stride by stride; ``DetectorLoadError`` for another model."""
    inputs, names = session.get_inputs(), {output.name for output in session.get_outputs()}
    outputs = [f"{kind}_{stride}" for stride in STRIDES for kind in ("cls", "obj", "bbox", "kps")]
    if len(inputs) != 1 or len(inputs[0].shape) != 4 or not names.issuperset(outputs):
        raise DetectorLoadError(f"{path} is not a YuNet 2023mar model (one image input; outputs {', '.join(outputs)})")
    if any(isinstance(dim, int) for dim in inputs[0].shape[2:]):
        raise DetectorLoadError(f"{path} has a fixed input size {inputs[0].shape[2:]}: make it free with "
                                "python -m training.free_yunet_input_size")
    return inputs[0].name, outputs


def _blob(image: np.ndarray) -> np.ndarray:
    """``image`` as YuNet's 1x3xHxW float32 BGR input, zero-padded right and below to a multiple of 32."""
    height, width = image.shape[:2]
    step = STRIDES[-1]
    blob = np.zeros((1, 3, -(-height // step) * step, -(-width // step) * step), np.float32)
    blob[0, :, :height, :width] = image.transpose(2, 0, 1)
    return blob


def _decode(outputs: list[np.ndarray], width: int, score_threshold: float) -> tuple[np.ndarray, ...]:
    """YuNet's per-anchor outputs → boxes ``(N, 4)`` x, y, w, h, landmarks ``(N, 5, 2)`` and scores ``(N,)``.

    Only anchors scoring above ``score_threshold``; ``width`` is the padded input's. Each stride's anchors
    lie on its grid, row by row; a score is ``sqrt(cls * obj)``; a box's centre is its anchor's cell plus
    the predicted offset, its size ``exp`` of the prediction, and landmarks are offsets from the cell,
    all in units of the stride.
    """
    boxes, landmarks, scores = [], [], []
    for i, stride in enumerate(STRIDES):
        cls, obj, bbox, kps = (output[0] for output in outputs[4 * i : 4 * i + 4])
        score = np.sqrt(cls[:, 0] * obj[:, 0])
        keep = np.flatnonzero(score > score_threshold)
        row, col = np.divmod(keep, width // stride)
        cell = np.stack([col, row], axis=1).astype(np.float64)
        centre = (cell + bbox[keep, :2]) * stride
        size = np.exp(bbox[keep, 2:].astype(np.float64)) * stride
        boxes.append(np.concatenate([centre - size / 2, size], axis=1))
        landmarks.append((kps[keep].reshape(-1, 5, 2) + cell[:, None, :]) * stride)
        scores.append(score[keep].astype(np.float64))
    return np.concatenate(boxes), np.concatenate(landmarks), np.concatenate(scores)


def nms(boxes: np.ndarray, scores: np.ndarray, threshold: float, top_k: int = 0) -> np.ndarray:
    """Indices of ``boxes`` (x, y, w, h) that greedy non-maximum suppression keeps, best score first.

    As ``cv2.dnn.NMSBoxes`` does for YuNet: boxes truncated to whole pixels, only the ``top_k`` best
    (0: all) considered, a box dropped when its IoU with a kept one exceeds ``threshold``.
    """
    order = np.argsort(-scores, kind="stable")
    if top_k > 0:
        order = order[:top_k]
    x0, y0, w, h = np.trunc(boxes).T
    x1, y1, area = x0 + w, y0 + h, w * h
    kept: list[int] = []
    for i in order:
        if kept:
            inter = (np.clip(np.minimum(x1[i], x1[kept]) - np.maximum(x0[i], x0[kept]), 0, None)
                     * np.clip(np.minimum(y1[i], y1[kept]) - np.maximum(y0[i], y0[kept]), 0, None))
            union = area[i] + area[kept] - inter
            iou = np.divide(inter, union, out=np.ones_like(inter), where=union > 0)
            if np.any(iou > threshold):
                continue
        kept.append(int(i))
    return np.asarray(kept, np.intp)
