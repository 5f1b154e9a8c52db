# Copyright 2026 The emotion_perception Authors
# SPDX-License-Identifier: Apache-2.0
"""YuNet face detection on onnxruntime, on real frames of the Pexels clip (no ROS)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import onnx
import pytest
from helpers import ROOT, load

from emotion_perception.vision.detection import (
    DEFAULT_DETECTOR_PATH,
    Detection,
    DetectorLoadError,
    YuNetDetector,
    nms,
)
from training.free_yunet_input_size import free_input_size

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
    right_eye, left_eye, nose, right_mouth, left_mouth = faces[0].landmarks
    # The subject's right is the image's left; eyes above the nose, the nose above the mouth.
    assert right_eye[0] < nose[0] < left_eye[0] and right_mouth[0] < left_mouth[0]
    assert max(right_eye[1], left_eye[1]) < nose[1] < min(right_mouth[1], left_mouth[1])


@pytest.mark.parametrize("size", [0, 100, 160, 320, 640])
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


def test_a_model_of_fixed_input_size_or_another_model_is_refused_with_the_remedy(tmp_path: Path) -> None:
    fixed = tmp_path / "yunet_640.onnx"
    onnx.save(fixed_input_model(), fixed)
    with pytest.raises(DetectorLoadError, match=r"yunet_640\.onnx has a fixed input size .*free_yunet_input_size"):
        YuNetDetector(fixed)
    with pytest.raises(DetectorLoadError, match=r"valence_model\.onnx is not a YuNet"):
        YuNetDetector(ROOT / "models" / "valence_model.onnx")


def test_the_shipped_model_is_upstreams_with_a_free_input_size(tmp_path: Path) -> None:
    """The conversion tool turns a fixed 640x640 YuNet back into the shipped model, which finds the same faces."""
    shipped = onnx.load(DEFAULT_DETECTOR_PATH)
    assert [d.dim_param for d in shipped.graph.input[0].type.tensor_type.shape.dim[2:]] == ["height", "width"]
    freed = tmp_path / "freed.onnx"
    onnx.save(free_input_size(fixed_input_model()), freed)
    frame = load("pexels_five_faces.jpg")
    assert YuNetDetector(freed).detect(frame) == YuNetDetector().detect(frame)


@pytest.mark.skipif(not hasattr(cv2, "FaceDetectorYN"), reason="this OpenCV has no FaceDetectorYN to compare with")
@pytest.mark.parametrize("name", [*FACE_FIXTURES, "pexels_five_faces.jpg", "pexels_no_face.jpg"])
@pytest.mark.parametrize(("score", "nms_iou", "top_k"), [(0.6, 0.3, 50), (0.05, 0.3, 50), (0.02, 0.5, 3)])
def test_same_faces_as_opencvs_yunet(name: str, score: float, nms_iou: float, top_k: int) -> None:
    """OpenCV 4.8+'s own YuNet decoding and NMS, at full size and with low thresholds (many candidates)."""
    image = load(name)
    faces = YuNetDetector(input_size=0, score_threshold=score, nms_threshold=nms_iou, top_k=top_k).detect(image)
    reference = cv2.FaceDetectorYN.create(str(DEFAULT_DETECTOR_PATH), "", (image.shape[1], image.shape[0]),
                                          score, nms_iou, top_k).detect(image)[1]
    reference = np.zeros((0, 15)) if reference is None else reference
    ours = np.array([[*f.box, *np.ravel(f.landmarks), f.score] for f in faces]).reshape(-1, 15)
    assert ours.shape == reference.shape
    assert np.allclose(ours, reference, atol=1e-3)


def test_nms_keeps_the_best_of_overlapping_boxes_as_opencv_does() -> None:
    boxes = np.array([[0, 0, 10, 10], [1, 0, 10, 10], [0.9, 0.9, 10, 10], [50, 50, 5, 5], [20, 0, 10, 10]], float)
    scores = np.array([0.8, 0.9, 0.7, 0.6, 0.95])
    # IoU of boxes 0 and 1 is 90/110; box 2 truncates to box 0 (IoU 1 with it, 81/119 with box 1).
    assert nms(boxes, scores, 0.3).tolist() == [4, 1, 3]
    assert nms(boxes, scores, 0.85).tolist() == [4, 1, 0, 3]
    assert nms(boxes, scores, 1.0).tolist() == [4, 1, 0, 2, 3]
    assert nms(boxes, scores, 0.3, top_k=2).tolist() == [4, 1]
    assert nms(np.zeros((0, 4)), np.zeros(0), 0.3).tolist() == []


def fixed_input_model() -> onnx.ModelProto:
    """The shipped YuNet with its input fixed at 1x3x640x640, as upstream ships it."""
    model = onnx.load(DEFAULT_DETECTOR_PATH)
    for dim in model.graph.input[0].type.tensor_type.shape.dim[2:]:
        dim.dim_value = 640
    return model


def test_detection_rejects_a_negative_box() -> None:
    with pytest.raises(ValueError, match="box"):
        Detection(box=(0, 0, -1, 5), score=0.9)
