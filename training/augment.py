# Copyright 2026 The emotion_perception Authors
# SPDX-License-Identifier: Apache-2.0
"""Training-time face sampling: detector-like box jitter through the core ``face_crop``, then photometrics.

The jitter widths match how far YuNet's box wanders relative to the FER frame (see
``emotion_perception.vision.preprocessing``): ~7 % of the box side in centre and scale. The rest is
torchvision ``transforms.v2``: with probability ``camera`` one camera-like degradation (Gaussian blur,
resolution loss, JPEG, sensor noise), then brightness/contrast jitter and, with probability ``erase``,
a random gray rectangle. With probability ``occlude`` a hand-like occluder (:func:`paint_hand`) is
painted before the photometrics, so blur and JPEG act on it as on the face. The box jitter, rotation
and hand draw from the numpy ``rng``; the ``transforms.v2`` ops draw from torch's generator (seeded per
data-loader worker).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import cv2
import numpy as np
import torch
from torchvision.transforms import v2

from emotion_perception.vision.preprocessing import Box, InputSpec, face_crop


@dataclass(frozen=True)
class AugmentConfig:
    shift: float = 0.07  #: std of the box centre shift, in box sides
    scale: float = 0.07  #: std of log box-size change
    rotate: float = 10.0  #: max rotation in degrees
    flip: float = 0.5  #: probability of a horizontal mirror
    brightness: float = 0.25  #: max relative brightness change
    contrast: float = 0.3  #: max relative contrast change
    camera: float = 0.2  #: probability of one camera-like degradation
    erase: float = 0.25  #: probability of erasing a random rectangle
    occlude: float = 0.0  #: probability of painting a hand over the mouth or an eye (:func:`paint_hand`)


def jitter_box(box: Box, rng: np.random.Generator, cfg: AugmentConfig) -> Box:
    x, y, w, h = box
    side = (w + h) / 2.0
    factor = float(np.exp(rng.normal(0.0, cfg.scale)))
    cx = x + w / 2.0 + rng.normal(0.0, cfg.shift) * side
    cy = y + h / 2.0 + rng.normal(0.0, cfg.shift) * side
    return cx - w * factor / 2.0, cy - h * factor / 2.0, w * factor, h * factor


@lru_cache(maxsize=8)
def photometric(cfg: AugmentConfig, size: int) -> v2.Transform:
    """The ``transforms.v2`` pipeline for a uint8 ``(C, size, size)`` crop tensor."""
    camera = v2.RandomChoice([
        v2.GaussianBlur(kernel_size=5, sigma=(0.4, 1.2)),
        v2.Compose([v2.RandomResize(max(8, round(size * 0.3)), round(size * 0.75)),  # resolution loss
                    v2.Resize((size, size))]),
        v2.JPEG(quality=(30, 90)),
        v2.Compose([v2.ToDtype(torch.float32, scale=True), v2.GaussianNoise(sigma=0.02),
                    v2.ToDtype(torch.uint8, scale=True)]),
    ])
    return v2.Compose([
        v2.RandomApply([camera], p=cfg.camera),
        v2.ColorJitter(brightness=cfg.brightness, contrast=cfg.contrast),
        v2.ToDtype(torch.float32, scale=True),
        v2.RandomErasing(p=cfg.erase, scale=(0.02, 0.16), value=0.5),
        v2.ToDtype(torch.uint8, scale=True),
    ])


def paint_hand(crop: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """``crop`` (uint8, gray or BGR, face centred) with a hand-like occluder painted over it.

    The hand is a soft-edged ellipse in the face's own skin tone (the median of the crop's centre, scaled
    by 0.8-1.2), shaded across its width and creased along its length by up to three fingers. Three
    times in four it reaches up from below the chin over the mouth and often the nose (a hand over the
    mouth, or fingers pressed to the lips); otherwise it covers one eye (a hand wiping tears)."""
    side = crop.shape[0]
    pixels = crop.astype(np.float32)
    skin = np.median(pixels[side * 3 // 10: side * 7 // 10, side * 3 // 10: side * 7 // 10], axis=(0, 1))
    if rng.random() < 0.75:
        cx, cy = rng.uniform(0.3, 0.7), rng.uniform(0.78, 1.0)
        half_width, half_length = rng.uniform(0.15, 0.28), rng.uniform(0.25, 0.45)
    else:
        cx, cy = rng.choice([0.32, 0.68]) + rng.normal(0.0, 0.04), rng.uniform(0.36, 0.46)
        half_width, half_length = rng.uniform(0.1, 0.16), rng.uniform(0.12, 0.2)
    tilt = rng.uniform(-0.7, 0.7)
    yy, xx = (np.mgrid[0:side, 0:side].astype(np.float32) + 0.5) / side
    across = ((xx - cx) * np.cos(tilt) - (yy - cy) * np.sin(tilt)) / half_width
    along = ((xx - cx) * np.sin(tilt) + (yy - cy) * np.cos(tilt)) / half_length
    mask = np.clip((1.0 - (across**2 + along**2)) * rng.uniform(3.0, 8.0), 0.0, 1.0)
    tone = 1.0 + rng.uniform(-0.15, 0.15) * across
    for _ in range(rng.integers(0, 4)):
        tone -= 0.2 * np.exp(-(((across - rng.uniform(-0.6, 0.6)) * half_width * side) ** 2))
    hand = skin * rng.uniform(0.8, 1.2) * (tone if crop.ndim == 2 else tone[..., None])
    if crop.ndim == 3:
        mask = mask[..., None]
    return np.clip(pixels * (1.0 - mask) + hand * mask, 0, 255).astype(np.uint8)


def augmented_crop(image: np.ndarray, spec: InputSpec, rng: np.random.Generator, cfg: AugmentConfig,
                   roll: float | None = None) -> np.ndarray:
    """One randomly sampled uint8 training crop of a stored face (whole image = the face's FER frame).

    ``roll`` (the face's :func:`eye_roll`, when aligned training knows it) levels the face first, as the
    pipeline does; the random rotation is then about the level face."""
    height, width = image.shape[:2]
    angle = float(rng.uniform(-cfg.rotate, cfg.rotate)) if cfg.rotate > 0 else 0.0
    box = spec.full_frame_box(width, height)
    if roll is not None:
        crop = face_crop(image, jitter_box(box, rng, cfg), spec, roll + angle)
    else:
        if angle:
            matrix = cv2.getRotationMatrix2D((width / 2.0, height / 2.0), angle, 1.0)
            image = cv2.warpAffine(image, matrix, (width, height), flags=cv2.INTER_LINEAR,
                                   borderMode=cv2.BORDER_REPLICATE)
        crop = face_crop(image, jitter_box(box, rng, cfg), spec)
    if rng.random() < cfg.flip:
        crop = crop[:, ::-1]
    if cfg.occlude > 0 and rng.random() < cfg.occlude:
        crop = paint_hand(crop, rng)
    tensor = torch.from_numpy(np.ascontiguousarray(crop))
    tensor = tensor[None] if tensor.ndim == 2 else tensor.permute(2, 0, 1)
    out = photometric(cfg, spec.size)(tensor)
    return np.ascontiguousarray(out[0].numpy() if crop.ndim == 2 else out.permute(1, 2, 0).numpy())
