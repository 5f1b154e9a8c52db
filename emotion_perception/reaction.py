# Copyright 2026 The emotion_perception Authors
# SPDX-License-Identifier: Apache-2.0
"""Core result types: valence classes and one face's reaction in one frame (no ROS)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import IntEnum

import numpy as np


class Valence(IntEnum):
    """Valence classes; the values are emotion_msgs/EmotionReaction's constants."""

    NEGATIVE = -1
    NEUTRAL = 0
    POSITIVE = 1

    @property
    def index(self) -> int:
        """Position in a probability vector ordered as :data:`CLASS_NAMES`."""
        return self.value + 1

    @classmethod
    def from_index(cls, index: int) -> Valence:
        return cls(int(index) - 1)


#: Class order of every probability vector in the package (model outputs, messages, datasets).
CLASS_NAMES: tuple[str, str, str] = ("negative", "neutral", "positive")


@dataclass(frozen=True)
class FaceReaction:
    """The valence of one face in one frame.

    ``box`` is ``(x, y, width, height)`` in pixels of the source frame; ``probabilities`` are
    calibrated and ordered as :data:`CLASS_NAMES`; ``valence_score`` is ``p_pos - p_neg``.
    ``landmarks`` are the detector's five ``(x, y)`` points in pixels of the source frame (right eye,
    left eye, nose tip, right and left mouth corners: :class:`~emotion_perception.vision.detection.Detection`'s),
    empty when the face was not found by a detector.
    """

    box: tuple[int, int, int, int]
    valence: Valence
    confidence: float
    probabilities: tuple[float, float, float]
    valence_score: float
    detection_confidence: float
    face_id: str = ""
    landmarks: tuple[tuple[float, float], ...] = ()

    @classmethod
    def from_probabilities(
        cls,
        box: tuple[int, int, int, int],
        probabilities: np.ndarray | tuple[float, float, float],
        detection_confidence: float,
        face_id: str = "",
        min_confidence: float = 0.0,
        landmarks: tuple[tuple[float, float], ...] = (),
    ) -> FaceReaction:
        """Build a reaction from class probabilities; below ``min_confidence`` the valence is NEUTRAL.

        ``confidence`` is always the probability of the reported valence, so a face reported
        NEUTRAL for lack of confidence carries the (low) probability of its neutral class.
        """
        probs = tuple(float(p) for p in probabilities)
        if len(probs) != 3 or not all(math.isfinite(p) for p in probs):
            raise ValueError(f"expected 3 finite probabilities, got {probabilities!r}")
        best = Valence.from_index(int(np.argmax(probs)))
        valence = best if probs[best.index] >= min_confidence else Valence.NEUTRAL
        return cls(
            box=tuple(int(v) for v in box),
            valence=valence,
            confidence=probs[valence.index],
            probabilities=probs,
            valence_score=probs[Valence.POSITIVE.index] - probs[Valence.NEGATIVE.index],
            detection_confidence=float(detection_confidence),
            face_id=face_id,
            landmarks=tuple((float(x), float(y)) for x, y in landmarks),
        )
