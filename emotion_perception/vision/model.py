# Copyright 2026 The emotion_perception Authors
# SPDX-License-Identifier: Apache-2.0
"""The valence network, its model card, and loading a saved model with clear errors (no ROS)."""

from __future__ import annotations

import itertools
import pickle
import zipfile
from pathlib import Path

import torch
from torch import nn

from emotion_perception.reaction import CLASS_NAMES
from emotion_perception.vision.model_card import (
    DEFAULT_MODEL_PATH,
    MODEL_FILENAME,
    ModelCard,
    ModelLoadError,
    card_path,
    load_card,
)

__all__ = [
    "ARCHITECTURES", "DEFAULT_MODEL_PATH", "MODEL_FILENAME", "MobileNetV2Valence", "ModelCard", "ModelLoadError",
    "ValenceNet",
    "build_model", "card_path", "load_card", "load_model", "load_state_dict",
]


class ResidualBlock(nn.Module):
    """Two 3x3 convolutions with BatchNorm and a (projected) identity shortcut."""

    def __init__(self, in_channels: int, out_channels: int, stride: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_channels)
        self.relu = nn.ReLU(inplace=True)
        self.shortcut: nn.Module = nn.Identity()
        if stride != 1 or in_channels != out_channels:
            self.shortcut = nn.Sequential(
                nn.Conv2d(in_channels, out_channels, 1, stride, bias=False), nn.BatchNorm2d(out_channels)
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + self.shortcut(x))


class ValenceNet(nn.Module):
    """A small residual CNN for 48x48 faces: a full-resolution stem, then one stride-2 block per width.

    ~1.2 M parameters, ~0.12 GMAC per 48x48 gray face; outputs logits ordered as ``CLASS_NAMES``.
    """

    def __init__(
        self,
        in_channels: int = 1,
        num_classes: int = len(CLASS_NAMES),
        widths: tuple[int, ...] = (32, 64, 128, 256),
        dropout: float = 0.3,
    ) -> None:
        super().__init__()
        stem = widths[0]
        self.stem = nn.Sequential(
            nn.Conv2d(in_channels, stem, 3, 1, 1, bias=False),
            nn.BatchNorm2d(stem),
            nn.ReLU(inplace=True),
            nn.Conv2d(stem, stem, 3, 1, 1, bias=False),
            nn.BatchNorm2d(stem),
            nn.ReLU(inplace=True),
        )
        self.stages = nn.Sequential(
            *(ResidualBlock(c_in, c_out, 2) for c_in, c_out in itertools.pairwise(widths))
        )
        self.head = nn.Sequential(
            nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(dropout), nn.Linear(widths[-1], num_classes)
        )
        for module in self.modules():
            if isinstance(module, nn.Conv2d):
                nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.stages(self.stem(x)))


class MobileNetV2Valence(nn.Module):
    """torchvision's MobileNetV2 with a 3-class head, for larger (e.g. 64x64) faces: the capacity lever and a
    distillation teacher (``train --arch MobileNetV2 --pretrained``).

    ~2.2 M parameters, ~0.03 GMAC per 64x64 gray face. A gray input gets a one-channel first convolution
    (``training.pretrained`` sums ImageNet's RGB filters into it).
    """

    def __init__(self, in_channels: int = 1, num_classes: int = len(CLASS_NAMES), dropout: float = 0.2) -> None:
        super().__init__()
        import torchvision  # here: the shipped ValenceNet needs none of its ~2 s import (measured here)

        self.features = torchvision.models.mobilenet_v2().features
        if in_channels != 3:
            first = self.features[0][0]
            self.features[0][0] = nn.Conv2d(in_channels, first.out_channels, first.kernel_size, first.stride,
                                            first.padding, bias=False)
        self.head = nn.Sequential(
            nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(dropout),
            nn.Linear(self.features[-1].out_channels, num_classes),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


ARCHITECTURES: dict[str, type[nn.Module]] = {"ValenceNet": ValenceNet, "MobileNetV2": MobileNetV2Valence}


def build_model(card: ModelCard) -> nn.Module:
    """A fresh (untrained) network shaped as ``card`` says."""
    kwargs = dict(card.arch_kwargs)
    if "widths" in kwargs:
        kwargs["widths"] = tuple(kwargs["widths"])
    return ARCHITECTURES[card.architecture](in_channels=card.spec.channels, num_classes=len(card.classes), **kwargs)


def load_state_dict(path: str | Path) -> dict[str, torch.Tensor]:
    """Read a state dict (or a training checkpoint holding one under ``model``) with ``weights_only``."""
    path = Path(path)
    if not path.is_file():
        raise ModelLoadError(f"model file {path} does not exist")
    try:
        data = torch.load(path, map_location="cpu", weights_only=True)
    except (RuntimeError, EOFError, OSError, zipfile.BadZipFile, ValueError, pickle.UnpicklingError) as exc:
        raise ModelLoadError(f"model file {path} is corrupt or truncated: {type(exc).__name__}: {exc}") from exc
    if isinstance(data, dict) and isinstance(data.get("model"), dict):
        data = data["model"]
    if not isinstance(data, dict) or not all(isinstance(v, torch.Tensor) for v in data.values()):
        raise ModelLoadError(f"model file {path} holds no state dict")
    return data


def load_model(path: str | Path | None = None) -> tuple[nn.Module, ModelCard]:
    """Load weights + card into an eval-mode CPU model; ``None`` loads the shipped default.

    Raises :class:`ModelLoadError` for a missing, corrupt or mismatched file or card.
    """
    path = Path(path) if path is not None else DEFAULT_MODEL_PATH
    state = load_state_dict(path)
    card = load_card(path)
    try:
        model = build_model(card)
        model.load_state_dict(state, strict=True)
    except (RuntimeError, TypeError, ValueError) as exc:
        raise ModelLoadError(
            f"model file {path} does not fit architecture {card.architecture} {card.arch_kwargs}: {exc}"
        ) from exc
    return model.eval(), card
