# Copyright 2026 The emotion_perception Authors
# SPDX-License-Identifier: Apache-2.0
"""Faces drawn on a frame: box, id, valence and confidence (OpenCV only: no model, no ROS)."""

from __future__ import annotations

import cv2
import numpy as np

from emotion_perception.reaction import FaceReaction, Valence

#: Box colour (BGR) per valence in :func:`draw_reactions`.
VALENCE_COLOURS: dict[Valence, tuple[int, int, int]] = {
    Valence.NEGATIVE: (60, 60, 230),
    Valence.NEUTRAL: (200, 200, 200),
    Valence.POSITIVE: (80, 200, 60),
}


def draw_reactions(frame_bgr: np.ndarray, reactions: list[FaceReaction]) -> np.ndarray:
    """A copy of ``frame_bgr`` with each face's box, id, valence and confidence drawn on it."""
    canvas = np.ascontiguousarray(frame_bgr).copy()
    scale = max(canvas.shape[0], canvas.shape[1]) / 1000.0
    font_scale, thickness = max(0.4, scale), max(1, round(2 * scale))
    for r in reactions:
        x, y, w, h = r.box
        colour = VALENCE_COLOURS[r.valence]
        cv2.rectangle(canvas, (x, y), (x + w, y + h), colour, thickness)
        label = f"{r.face_id + ' ' if r.face_id else ''}{r.valence.name.lower()} {r.confidence:.2f}"
        (tw, th), base = cv2.getTextSize(label, cv2.FONT_HERSHEY_SIMPLEX, font_scale, thickness)
        top = max(y - th - base - 2, 0)
        cv2.rectangle(canvas, (x, top), (x + tw + 4, top + th + base + 2), colour, cv2.FILLED)
        cv2.putText(
            canvas, label, (x + 2, top + th + 1), cv2.FONT_HERSHEY_SIMPLEX, font_scale, (0, 0, 0), thickness,
            cv2.LINE_AA,
        )
    return canvas
