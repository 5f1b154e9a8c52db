# Copyright 2026 The emotion_perception Authors
# SPDX-License-Identifier: Apache-2.0
"""emotion_perception: facial valence perception and robot-action feedback for ROS 2.

``EmotionRecognizer`` is loaded on first use (PEP 562), so that modules which do not need it
(the feedback node, message conversion) do not pay for importing torch and OpenCV.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from emotion_perception.reaction import FaceReaction, Valence

if TYPE_CHECKING:
    from emotion_perception.vision.recognizer import EmotionRecognizer

__all__ = ["EmotionRecognizer", "FaceReaction", "Valence"]


def __getattr__(name: str) -> object:
    if name == "EmotionRecognizer":
        return importlib.import_module("emotion_perception.vision.recognizer").EmotionRecognizer
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
