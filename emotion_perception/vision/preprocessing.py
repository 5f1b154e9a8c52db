# Copyright 2026 The emotion_perception Authors
# SPDX-License-Identifier: Apache-2.0
"""The one face-crop-to-tensor path shared by the perception node and training (numpy + cv2, no torch).

A detector box ``(x, y, w, h)`` becomes a square crop centred on the box (shifted by
``shift_y`` box sizes) whose side is ``scale * (w + h) / 2``; pixels outside the image are
filled by replicating the border. The crop is converted to the model's colour space, resized
to ``size`` x ``size`` (area interpolation when shrinking) and normalised with ``mean``/``std``.

The default geometry reproduces FER2013's tight crop from a YuNet box: on 600 FER training faces
(upsampled x4, padded), YuNet's box had the FER frame's centre (offsets -0.003 w, -0.009 h) and
the 48 px frame measured 1.10 x the box's mean side (median; w ~ 38 px, h ~ 50 px). A model's card
may crop otherwise: the shipped one crops 0.95 x, which scored better on camera-like scenes and on the demo
clip (docs/in_the_wild.md, ninth round).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields

import cv2
import numpy as np

Box = tuple[float, float, float, float]


@dataclass(frozen=True)
class InputSpec:
    """What a model expects as input and how a detector box is turned into it."""

    size: int = 48  #: crop side in pixels
    grayscale: bool = True  #: one gray channel (True) or three BGR channels
    mean: float = 0.5  #: subtracted after scaling pixels to [0, 1]
    std: float = 0.25  #: divided by after subtracting ``mean``
    scale: float = 1.10  #: crop side / mean box side ((w + h) / 2)
    shift_x: float = 0.0  #: crop centre shift right, in mean box sides
    shift_y: float = 0.0  #: crop centre shift down, in mean box sides
    align: bool = False  #: level the eyes with the detector's landmarks (``face_crop``'s ``roll``)
    #: each crop's own mean and std replace ``mean`` / ``std`` (brightness and contrast removed)
    standardise: bool = False

    def __post_init__(self) -> None:
        if self.size < 8:
            raise ValueError(f"size must be >= 8, got {self.size}")
        if not self.std > 0:
            raise ValueError(f"std must be > 0, got {self.std}")
        if not self.scale > 0:
            raise ValueError(f"scale must be > 0, got {self.scale}")

    @property
    def channels(self) -> int:
        return 1 if self.grayscale else 3

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> InputSpec:
        """Build from a model card's dict; unknown keys are an error, missing ones take defaults."""
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown input spec keys: {sorted(unknown)}")
        return cls(**data)

    def crop_square(self, box: Box) -> tuple[float, float, float]:
        """The crop square ``(x0, y0, side)`` in image pixels for a detector box."""
        x, y, w, h = (float(v) for v in box)
        if not (w > 0 and h > 0) or not np.isfinite([x, y, w, h]).all():
            raise ValueError(f"invalid face box {box!r}: need finite values and w, h > 0")
        mean_side = (w + h) / 2.0
        side = self.scale * mean_side
        cx = x + w / 2.0 + self.shift_x * mean_side
        cy = y + h / 2.0 + self.shift_y * mean_side
        return cx - side / 2.0, cy - side / 2.0, side

    def full_frame_box(self, width: int, height: int) -> Box:
        """The box whose crop is exactly a ``width`` x ``height`` image (e.g. a stored FER face or crop)."""
        side = float(min(width, height))
        mean_side = side / self.scale
        cx = width / 2.0 - self.shift_x * mean_side
        cy = height / 2.0 - self.shift_y * mean_side
        return cx - mean_side / 2.0, cy - mean_side / 2.0, mean_side, mean_side


#: Floor of a crop's own std under ``InputSpec.standardise`` (one gray level): a flat crop stays finite.
MIN_CROP_STD = 1.0 / 255.0

#: Largest crop side accepted, in multiples of the image's larger side (a detector box is never near it).
MAX_CROP_TO_IMAGE = 8


def _to_model_colour(image: np.ndarray, spec: InputSpec) -> np.ndarray:
    if image.dtype != np.uint8:
        raise ValueError(f"expected a uint8 image, got dtype {image.dtype}")
    if image.ndim == 2 or (image.ndim == 3 and image.shape[2] == 1):
        gray = image.reshape(image.shape[:2])
        return gray if spec.grayscale else cv2.cvtColor(gray, cv2.COLOR_GRAY2BGR)
    if image.ndim == 3 and image.shape[2] == 3:
        return cv2.cvtColor(image, cv2.COLOR_BGR2GRAY) if spec.grayscale else image
    raise ValueError(f"expected a gray (H, W) or BGR (H, W, 3) image, got shape {image.shape}")


def _resize(image: np.ndarray, size: int) -> np.ndarray:
    if image.shape[0] == size and image.shape[1] == size:
        return np.ascontiguousarray(image)
    shrink = image.shape[0] > size or image.shape[1] > size
    return cv2.resize(image, (size, size), interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR)


def eye_roll(landmarks: Sequence[tuple[float, float]]) -> float:
    """Degrees the face is rolled: the angle of the line from the right eye to the left eye (YuNet order)."""
    (rx, ry), (lx, ly) = landmarks[0], landmarks[1]
    return float(np.degrees(np.arctan2(ly - ry, lx - rx)))


def _square(image: np.ndarray, x0: int, y0: int, side: int, spec: InputSpec) -> np.ndarray:
    """The ``side`` x ``side`` square at ``(x0, y0)`` in the model's colours, border-replicated outside the image."""
    height, width = image.shape[:2]
    # Only the part of the image inside the square is read; the rest is border-replicated. A pad
    # longer than the square only replicates the same edge pixels, so it is capped at the side:
    # the cost then follows the crop, however far off the image the box lies.
    ix0, iy0 = min(max(x0, 0), width - 1), min(max(y0, 0), height - 1)
    ix1, iy1 = max(min(x0 + side, width), ix0 + 1), max(min(y0 + side, height), iy0 + 1)
    inside = _to_model_colour(image[iy0:iy1, ix0:ix1], spec)
    pad = (iy0 - y0, y0 + side - iy1, ix0 - x0, x0 + side - ix1)
    if any(p != 0 for p in pad):
        top, bottom, left, right = (min(max(p, 0), side) for p in pad)
        inside = cv2.copyMakeBorder(inside, top, bottom, left, right, cv2.BORDER_REPLICATE)
        # A square entirely off the image: trim what the border made too large.
        inside = inside[: side, : side] if inside.shape[0] >= side and inside.shape[1] >= side else inside
    return inside


def face_crop(image: np.ndarray, box: Box, spec: InputSpec, roll: float = 0.0) -> np.ndarray:
    """The uint8 ``size`` x ``size`` face crop (gray or BGR as ``spec`` says) of one detector box.

    ``roll`` (degrees, e.g. :func:`eye_roll` of the detector's landmarks) rotates the crop about its
    centre so that a face rolled by that much comes out level.
    """
    if image.ndim < 2 or image.shape[0] == 0 or image.shape[1] == 0:
        raise ValueError(f"empty image of shape {image.shape}")
    x0f, y0f, sidef = spec.crop_square(box)
    side = max(1, round(sidef))
    height, width = image.shape[:2]
    if side > MAX_CROP_TO_IMAGE * max(height, width):
        raise ValueError(
            f"face box {box!r} gives a {side} px crop,"
            f" more than {MAX_CROP_TO_IMAGE}x the image's {max(height, width)} px"
        )
    if not roll:
        return _resize(_square(image, round(x0f), round(y0f), side, spec), spec.size)
    big = round(side * 1.5)  # covers the square rotated by any angle
    cx, cy = x0f + sidef / 2.0, y0f + sidef / 2.0
    square = _square(image, round(cx - big / 2.0), round(cy - big / 2.0), big, spec)
    matrix = cv2.getRotationMatrix2D((big / 2.0, big / 2.0), float(roll), 1.0)
    matrix[:, 2] += (side - big) / 2.0
    square = cv2.warpAffine(square, matrix, (side, side), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return _resize(square, spec.size)


def letterbox(image: np.ndarray, size: int) -> np.ndarray:
    """``image`` scaled to fit a ``size`` x ``size`` square, aspect kept, centred on black (the same channels)."""
    height, width = image.shape[:2]
    if height == 0 or width == 0:
        raise ValueError(f"empty image of shape {image.shape}")
    scale = size / max(height, width)
    new_w, new_h = max(1, round(width * scale)), max(1, round(height * scale))
    scaled = cv2.resize(image, (new_w, new_h), interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
    out = np.zeros((size, size, *image.shape[2:]), image.dtype)
    x0, y0 = (size - new_w) // 2, (size - new_h) // 2
    out[y0:y0 + new_h, x0:x0 + new_w] = scaled.reshape(new_h, new_w, *image.shape[2:])
    return out


def normalise(crops: np.ndarray, spec: InputSpec) -> np.ndarray:
    """uint8 crops ``(N, H, W)`` or ``(N, H, W, 3)`` → float32 ``(N, C, H, W)`` normalised tensors."""
    data = crops.astype(np.float32) * np.float32(1.0 / 255.0)
    if spec.standardise:
        axes = tuple(range(1, data.ndim))
        mean, std = data.mean(axis=axes, keepdims=True), data.std(axis=axes, keepdims=True)
        data = (data - mean) / np.maximum(std, np.float32(MIN_CROP_STD))
    else:
        data = (data - np.float32(spec.mean)) / np.float32(spec.std)
    if data.ndim == 3:
        return data[:, None]
    return np.ascontiguousarray(data.transpose(0, 3, 1, 2))


def preprocess_faces(
    image: np.ndarray,
    boxes: Sequence[Box],
    spec: InputSpec,
    landmarks: Sequence[Sequence[tuple[float, float]]] | None = None,
) -> np.ndarray:
    """All faces of one image → float32 ``(N, C, size, size)``; N = 0 gives an empty batch.

    With ``spec.align``, each face whose ``landmarks`` (the detector's five points) are given is levelled.
    """
    if len(boxes) == 0:
        return np.zeros((0, spec.channels, spec.size, spec.size), np.float32)
    points = landmarks if spec.align and landmarks is not None else [()] * len(boxes)
    return normalise(np.stack([
        face_crop(image, box, spec, eye_roll(marks) if len(marks) >= 2 else 0.0)
        for box, marks in zip(boxes, points, strict=True)
    ]), spec)


def preprocess_crop(crop: np.ndarray, spec: InputSpec) -> np.ndarray:
    """An already cropped face (any size, square expected) → float32 ``(C, size, size)``."""
    return preprocess_faces(crop, [spec.full_frame_box(crop.shape[1], crop.shape[0])], spec)[0]
