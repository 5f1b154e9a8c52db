# Copyright 2026 The emotion_perception Authors
# SPDX-License-Identifier: Apache-2.0
"""Cut the perception test fixtures out of the Pexels clip (run once; the JPEGs are committed).

Usage: python test/data/make_perception_fixtures.py [/path/to/WolfgangLanger_Pexels.mp4]
"""

from __future__ import annotations

import sys
from pathlib import Path

import cv2
import numpy as np

from emotion_perception.vision.detection import YuNetDetector

HERE = Path(__file__).resolve().parent
CLIP = Path("/work/shared/media/WolfgangLanger_Pexels.mp4")
JPEG = [cv2.IMWRITE_JPEG_QUALITY, 85]

#: fixture name -> frame index of the clip (640x360).
FACE_FRAMES = {"sad_030": 30, "sad_045": 45, "happy_330": 330, "happy_360": 360}
#: Frames whose faces are pasted (downscaled) into the left of frame 300 for the five-face scene.
PASTED_FRAMES = (15, 100, 240, 420)
FRAME_SIZE = (640, 480)


def read_frames(clip: Path) -> list[np.ndarray]:
    cap = cv2.VideoCapture(str(clip))
    frames = []
    while True:
        ok, frame = cap.read()
        if not ok:
            return frames
        frames.append(frame)


def letterbox(frame: np.ndarray, size: tuple[int, int] = FRAME_SIZE) -> np.ndarray:
    """Centre ``frame`` (same width) on a black canvas of ``size``."""
    canvas = np.zeros((size[1], size[0], 3), np.uint8)
    top = (size[1] - frame.shape[0]) // 2
    canvas[top : top + frame.shape[0], : frame.shape[1]] = frame
    return canvas


def main(clip: Path) -> None:
    frames = read_frames(clip)
    detector = YuNetDetector(input_size=0, score_threshold=0.6, nms_threshold=0.3, top_k=100)
    for name, index in FACE_FRAMES.items():
        cv2.imwrite(str(HERE / f"pexels_{name}.jpg"), frames[index], JPEG)
    cv2.imwrite(str(HERE / "pexels_no_face.jpg"), frames[0][:, :240], JPEG)

    scene = letterbox(frames[300])
    cells = [(20, 30), (160, 30), (20, 260), (160, 260)]
    for index, (cx, cy) in zip(PASTED_FRAMES, cells, strict=True):
        x, y, w, h = detector.detect(frames[index])[0].box
        x0, y0 = int(max(x - 0.25 * w, 0)), int(max(y - 0.2 * h, 0))
        x1, y1 = int(min(x + 1.25 * w, 640)), int(min(y + 1.2 * h, 360))
        crop = frames[index][y0:y1, x0:x1]
        scale = 125 / crop.shape[1]
        crop = cv2.resize(crop, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)[:190]
        scene[cy : cy + crop.shape[0], cx : cx + crop.shape[1]] = crop
    cv2.imwrite(str(HERE / "pexels_five_faces.jpg"), scene, JPEG)


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else CLIP)
