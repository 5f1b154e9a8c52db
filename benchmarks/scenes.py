# Copyright 2026 The emotion_perception Authors
# SPDX-License-Identifier: Apache-2.0
"""The benchmarks' 640x480 bgr8 scenes, all real faces ("Video by Wolfgang Langer, Pexels").

- ``clip``: consecutive frames of the packaged clip (media/), one face moving and changing expression;
- ``5_people``: five real faces from the same clip, each playing its own part of the clip while it drifts
  across a dark frame (consecutive frames, so the tracker sees real motion);
- ``static_1_face`` / ``static_5_faces``: the test fixtures repeated, the best case for reusing tracked boxes;
- ``no_face``: the clip's room with nobody in it (a fixture), what a robot's camera sees most of the day.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

from emotion_perception.tools.video_source import default_clip_path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "test" / "data"
ONE_FACE = ["pexels_sad_030.jpg", "pexels_sad_045.jpg", "pexels_happy_330.jpg", "pexels_happy_360.jpg"]
FIVE_FACES = "pexels_five_faces.jpg"
NO_FACE = "pexels_no_face.jpg"
CLIP_FRAMES = 472
#: (x, y, w, h) of the head in the clip's 640x360 frames (YuNet's boxes stay inside it), and its size as a "person".
HEAD = (280, 0, 330, 360)
PERSON_SIZE = (120, 131)
PERSON_OFFSET = 90  #: frames between the parts of the clip two neighbouring "persons" show
#: The scene a camera of ``faces`` faces sees: the clip for one, five people moving for five, the empty room for none.
MOVING = {0: "no_face", 1: "clip", 5: "5_people"}


def letterbox(frame: np.ndarray, size: tuple[int, int] = (640, 480)) -> np.ndarray:
    """``frame`` scaled to fit ``size`` and centred on black (the clip is 640x360)."""
    scale = min(size[0] / frame.shape[1], size[1] / frame.shape[0])
    resized = cv2.resize(frame, (round(frame.shape[1] * scale), round(frame.shape[0] * scale)))
    canvas = np.zeros((size[1], size[0], 3), np.uint8)
    top, left = (size[1] - resized.shape[0]) // 2, (size[0] - resized.shape[1]) // 2
    canvas[top : top + resized.shape[0], left : left + resized.shape[1]] = resized
    return canvas


def clip_frames(count: int) -> list[np.ndarray]:
    """The first ``count`` frames of the packaged clip (472 frames at 24 fps; looped if more), as decoded."""
    capture = cv2.VideoCapture(str(default_clip_path()))
    frames: list[np.ndarray] = []
    try:
        while len(frames) < count:
            ok, frame = capture.read()
            if not ok:
                if not frames:
                    raise RuntimeError(f"cannot read {default_clip_path()}")
                capture.set(cv2.CAP_PROP_POS_FRAMES, 0)
                continue
            frames.append(frame)
    finally:
        capture.release()
    return frames


def five_people(count: int) -> list[np.ndarray]:
    """Five real faces moving: each shows the clip from its own start frame, cut to the head and scaled to
    ``PERSON_SIZE``, drifting about a dark 640x480 frame."""
    source = clip_frames(min(count + 4 * PERSON_OFFSET, CLIP_FRAMES))
    x0, y0, w0, h0 = HEAD
    heads = [cv2.resize(frame[y0 : y0 + h0, x0 : x0 + w0], PERSON_SIZE, interpolation=cv2.INTER_AREA)
             for frame in source]
    w, h = PERSON_SIZE
    frames = []
    for i in range(count):
        canvas = np.full((480, 640, 3), 20, np.uint8)
        for person in range(5):
            x = round(15 + person * 122 + 10 * np.sin(0.05 * i + person))  # left edge 5..513 of 640
            y = round(170 + 100 * np.sin(0.03 * i + 1.7 * person))
            canvas[y : y + h, x : x + w] = heads[(i + person * PERSON_OFFSET) % len(heads)]
        frames.append(canvas)
    return frames


def scenes(count: int) -> dict[str, Callable[[], list[np.ndarray]]]:
    """Every scene's 640x480 frames (``count`` of each video scene), made when called (they take memory)."""
    return {
        "clip": lambda: [letterbox(frame) for frame in clip_frames(count)],
        "5_people": lambda: five_people(count),
        "static_1_face": lambda: [letterbox(cv2.imread(str(DATA / name))) for name in ONE_FACE],
        "static_5_faces": lambda: [letterbox(cv2.imread(str(DATA / FIVE_FACES)))],
        "no_face": lambda: [letterbox(cv2.imread(str(DATA / NO_FACE)))],
    }
