# Copyright 2026 The emotion_perception Authors
# SPDX-License-Identifier: Apache-2.0
"""YuNet face detection on real frames of the Pexels clip (no ROS)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from helpers import load

from emotion_perception.vision.detection import DEFAULT_DETECTOR_PATH, Detection, DetectorLoadError, YuNetDetector

FACE_FIXTURES = ["pexels_sad_030.jpg", "pexels_sad_045.jpg", "pexels_happy_330.jpg", "pexels_happy_360.jpg"]


@pytest.fixture(scope="module")
def detector() -> YuNetDetector:
    return YuNetDetector()


@pytest.mark.parametrize("name", FACE_FIXTURES)
def test_finds_the_one_face_on_the_right_of_the_frame(detector: YuNetDetector, name: str) -> None:
    faces = detector.detect(load(name))
    assert len(faces) == 1
    x, y, w, h = faces[0].box
    # The woman's face is in the right half of the 640x360 frame, about 210x300 px.
    assert 300 < x + w / 2 < 520 and 120 < y + h / 2 < 260
    assert 170 < w < 260 and 240 < h < 360
    assert faces[0].score > 0.8
    assert len(faces[0].landmarks) == 5
    assert all(x <= px <= x + w and y <= py <= y + h for px, py in faces[0].landmarks)


@pytest.mark.parametrize("size", [0, 160, 320, 640])
def test_boxes_are_in_source_pixels_whatever_the_detection_size(size: int) -> None:
    reference = YuNetDetector(input_size=0).detect(load("pexels_happy_330.jpg"))[0].box
    box = YuNetDetector(input_size=size).detect(load("pexels_happy_330.jpg"))[0].box
    assert np.allclose(box, reference, atol=0.12 * reference[2])


def test_finds_five_faces_in_the_composed_scene(detector: YuNetDetector) -> None:
    faces = detector.detect(load("pexels_five_faces.jpg"))
    assert len(faces) == 5
    centres = sorted((round((f.box[0] + f.box[2] / 2) / 100), round((f.box[1] + f.box[3] / 2) / 100)) for f in faces)
    assert len(set(centres)) == 5


def test_finds_nothing_on_a_face_free_region_of_the_clip(detector: YuNetDetector) -> None:
    assert detector.detect(load("pexels_no_face.jpg")) == []


def test_finds_nothing_in_noise_or_tiny_frames(detector: YuNetDetector) -> None:
    noise = np.random.default_rng(0).integers(0, 256, (480, 640, 3), dtype=np.uint8)
    assert detector.detect(noise) == []
    assert detector.detect(np.zeros((1, 1, 3), np.uint8)) == []
    assert detector.detect(np.zeros((8, 3000, 3), np.uint8)) == []


def test_score_threshold_can_be_raised_at_runtime() -> None:
    detector = YuNetDetector(score_threshold=0.5)
    assert len(detector.detect(load("pexels_sad_030.jpg"))) == 1
    detector.score_threshold = 0.99
    assert detector.detect(load("pexels_sad_030.jpg")) == []


def test_missing_or_corrupt_model_fails_with_the_file_name(tmp_path: Path) -> None:
    missing = tmp_path / "nope.onnx"
    with pytest.raises(DetectorLoadError, match=r"nope\.onnx"):
        YuNetDetector(missing)
    corrupt = tmp_path / "corrupt.onnx"
    corrupt.write_bytes(DEFAULT_DETECTOR_PATH.read_bytes()[:5000])
    with pytest.raises(DetectorLoadError, match=r"corrupt\.onnx"):
        YuNetDetector(corrupt)


def test_detection_rejects_a_negative_box() -> None:
    with pytest.raises(ValueError, match="box"):
        Detection(box=(0, 0, -1, 5), score=0.9)
