# Copyright 2026 The emotion_perception Authors
# SPDX-License-Identifier: Apache-2.0
"""Knowledge distillation: a trained teacher's calibrated probabilities become part of the student's targets."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

import torch
import torch.nn.functional as F  # noqa: N812

from emotion_perception.vision.model import load_model
from emotion_perception.vision.preprocessing import InputSpec


class Teacher:
    """A frozen model that sees the student's (augmented, normalised) batch, resized to its own input side.

    Its input spec must crop and normalise as the student's does (only the side may differ), so both see
    the same face; its probabilities are calibrated with its card's single-view temperature.
    """

    def __init__(self, path: Path, student: InputSpec, device: torch.device) -> None:
        model, card = load_model(path)
        spec = card.spec
        differs = [f.name for f in fields(InputSpec)
                   if f.name != "size" and getattr(spec, f.name) != getattr(student, f.name)]
        if differs:
            raise SystemExit(f"--teacher {path}: its input spec differs from the student's in {differs}")
        self.model = model.to(device).eval()
        self.size = spec.size
        single = card.temperature_single if card.tta_flip else None
        self.temperature = float(single if single is not None else card.temperature)

    @torch.inference_mode()
    def probabilities(self, images: torch.Tensor) -> torch.Tensor:
        if images.shape[-1] != self.size:
            images = F.interpolate(images, size=(self.size, self.size), mode="bilinear", align_corners=False,
                                   antialias=images.shape[-1] > self.size)
        return torch.softmax(self.model(images).float() / self.temperature, dim=1)

    def targets(self, images: torch.Tensor, targets: torch.Tensor, weight: float) -> torch.Tensor:
        """``weight`` of the teacher's probabilities and ``1 - weight`` of the labels' targets."""
        return (1.0 - weight) * targets + weight * self.probabilities(images).to(targets.dtype)
