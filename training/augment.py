"""Training-time face sampling: detector-like box jitter through the core ``face_crop``, then photometrics.

The jitter widths match how far YuNet's box wanders relative to the FER frame (see
``emotion_perception.vision.preprocessing``): ~7 % of the box side in centre and scale. Camera-like
degradations (blur, down/up-sampling, JPEG, noise) are applied with probability ``camera``.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from emotion_perception.vision.preprocessing import Box, InputSpec, face_crop


@dataclass(frozen=True)
class AugmentConfig:
    shift: float = 0.07  #: std of the box centre shift, in box sides
    scale: float = 0.07  #: std of log box-size change
    rotate: float = 10.0  #: max rotation in degrees
    flip: float = 0.5  #: probability of a horizontal mirror
    brightness: float = 0.25  #: max additive brightness change, fraction of 255
    contrast: float = 0.3  #: max relative contrast change
    camera: float = 0.2  #: probability of one camera-like degradation
    erase: float = 0.25  #: probability of erasing a random rectangle


def jitter_box(box: Box, rng: np.random.Generator, cfg: AugmentConfig) -> Box:
    x, y, w, h = box
    side = (w + h) / 2.0
    factor = float(np.exp(rng.normal(0.0, cfg.scale)))
    cx = x + w / 2.0 + rng.normal(0.0, cfg.shift) * side
    cy = y + h / 2.0 + rng.normal(0.0, cfg.shift) * side
    return cx - w * factor / 2.0, cy - h * factor / 2.0, w * factor, h * factor


def _camera(crop: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    kind = rng.integers(4)
    if kind == 0:
        return cv2.GaussianBlur(crop, (0, 0), float(rng.uniform(0.4, 1.1)))
    if kind == 1:
        small = max(12, int(crop.shape[0] * rng.uniform(0.35, 0.75)))
        down = cv2.resize(crop, (small, small), interpolation=cv2.INTER_AREA)
        return cv2.resize(down, crop.shape[1::-1], interpolation=cv2.INTER_LINEAR)
    if kind == 2:
        ok, buf = cv2.imencode(".jpg", crop, [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(30, 90))])
        return cv2.imdecode(buf, cv2.IMREAD_UNCHANGED).reshape(crop.shape) if ok else crop
    noise = rng.normal(0.0, rng.uniform(2.0, 8.0), crop.shape)
    return np.clip(crop + noise, 0, 255).astype(np.uint8)


def augmented_crop(image: np.ndarray, spec: InputSpec, rng: np.random.Generator, cfg: AugmentConfig) -> np.ndarray:
    """One randomly sampled uint8 training crop of a stored face (whole image = the face's FER frame)."""
    height, width = image.shape[:2]
    if cfg.rotate > 0:
        angle = float(rng.uniform(-cfg.rotate, cfg.rotate))
        matrix = cv2.getRotationMatrix2D((width / 2.0, height / 2.0), angle, 1.0)
        image = cv2.warpAffine(image, matrix, (width, height), flags=cv2.INTER_LINEAR,
                               borderMode=cv2.BORDER_REPLICATE)
    crop = face_crop(image, jitter_box(spec.full_frame_box(width, height), rng, cfg), spec)
    if rng.random() < cfg.flip:
        crop = np.ascontiguousarray(crop[:, ::-1])
    if rng.random() < cfg.camera:
        crop = _camera(crop, rng)
    alpha = 1.0 + rng.uniform(-cfg.contrast, cfg.contrast)
    beta = rng.uniform(-cfg.brightness, cfg.brightness) * 255.0
    mean = float(crop.mean())
    crop = np.clip((crop.astype(np.float32) - mean) * alpha + mean + beta, 0, 255).astype(np.uint8)
    if rng.random() < cfg.erase:
        size = crop.shape[0]
        eh, ew = (int(size * rng.uniform(0.15, 0.4)) for _ in range(2))
        y0, x0 = int(rng.integers(0, size - eh + 1)), int(rng.integers(0, size - ew + 1))
        crop = crop.copy()
        crop[y0:y0 + eh, x0:x0 + ew] = rng.integers(0, 256)
    return crop
