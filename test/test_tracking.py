# Copyright 2026 The emotion_perception Authors
# SPDX-License-Identifier: Apache-2.0
"""Face ids across frames and probability smoothing (no ROS)."""

from __future__ import annotations

import numpy as np
import pytest

from emotion_perception.vision.detection import Detection
from emotion_perception.vision.tracking import FaceTracker, Track, centre_distance, iou


def det(x: float, y: float, w: float = 100, h: float = 120, score: float = 0.9) -> Detection:
    return Detection(box=(x, y, w, h), score=score)


def test_iou_and_centre_distance() -> None:
    assert iou((0, 0, 10, 10), (0, 0, 10, 10)) == 1.0
    assert iou((0, 0, 10, 10), (20, 20, 10, 10)) == 0.0
    assert iou((0, 0, 10, 10), (5, 0, 10, 10)) == pytest.approx(50 / 150)
    assert centre_distance((0, 0, 10, 10), (5, 0, 10, 10)) == pytest.approx(0.5)


def test_a_face_that_moves_keeps_its_id() -> None:
    tracker = FaceTracker()
    ids = [tracker.update([det(100 + 8 * i, 50 + 3 * i)])[0].face_id for i in range(20)]
    assert ids == ["face_1"] * 20


def test_two_faces_keep_their_ids_whatever_the_detection_order() -> None:
    tracker = FaceTracker()
    first = [t.face_id for t in tracker.update([det(0, 0), det(300, 0)])]
    second = [t.face_id for t in tracker.update([det(305, 2), det(4, 1)])]
    assert first == ["face_1", "face_2"]
    assert second == ["face_2", "face_1"]


def test_a_new_person_gets_a_new_id_and_ids_are_never_reused() -> None:
    tracker = FaceTracker(max_missed=2)
    assert tracker.update([det(0, 0)])[0].face_id == "face_1"
    assert [t.face_id for t in tracker.update([det(2, 0), det(400, 0)])] == ["face_1", "face_2"]
    for _ in range(3):
        tracker.update([])
    assert tracker.tracks == []
    assert tracker.update([det(0, 0)])[0].face_id == "face_3"


def test_a_track_survives_a_few_missed_frames_then_is_dropped() -> None:
    tracker = FaceTracker(max_missed=3)
    tracker.update([det(0, 0)])
    for missed in range(1, 4):
        tracker.update([])
        assert [t.missed for t in tracker.tracks] == [missed]
        assert tracker.visible() == []
    assert tracker.update([det(5, 5)])[0].face_id == "face_1"
    for _ in range(4):
        tracker.update([])
    assert tracker.tracks == []


def test_centre_distance_matches_a_face_that_changed_size() -> None:
    tracker = FaceTracker(iou_threshold=0.9, max_centre_distance=0.5)
    tracker.update([det(100, 100, 100, 100)])
    assert tracker.update([det(90, 90, 130, 130)])[0].face_id == "face_1"
    assert tracker.update([det(400, 90, 130, 130)])[0].face_id == "face_2"


def test_one_detection_never_takes_two_tracks() -> None:
    tracker = FaceTracker()
    tracker.update([det(0, 0), det(20, 0)])
    tracks = tracker.update([det(10, 0)])
    assert len(tracks) == 1
    assert len(tracker.visible()) == 1


def test_smoothing_is_an_exponential_moving_average() -> None:
    track = Track(face_id="face_1", detection=det(0, 0))
    first = track.smooth(np.array([1.0, 0.0, 0.0]), 0.75)
    assert np.allclose(first, [1.0, 0.0, 0.0])
    second = track.smooth(np.array([0.0, 0.0, 1.0]), 0.75)
    assert np.allclose(second, [0.75, 0.0, 0.25])
    third = track.smooth(np.array([0.0, 0.0, 1.0]), 0.75)
    assert np.allclose(third, [0.5625, 0.0, 0.4375])
    assert third.sum() == pytest.approx(1.0)


def test_smoothing_zero_is_off() -> None:
    track = Track(face_id="face_1", detection=det(0, 0))
    track.smooth(np.array([1.0, 0.0, 0.0]), 0.0)
    assert np.allclose(track.smooth(np.array([0.1, 0.2, 0.7]), 0.0), [0.1, 0.2, 0.7])


@pytest.mark.parametrize(
    "kwargs", [{"iou_threshold": 0.0}, {"iou_threshold": 1.5}, {"max_centre_distance": -1}, {"max_missed": -1}]
)
def test_invalid_settings_are_rejected(kwargs: dict) -> None:
    with pytest.raises(ValueError):
        FaceTracker(**kwargs)


def test_age_counts_frames_since_the_last_probabilities() -> None:
    tracker = FaceTracker()
    (track,) = tracker.update([det(0, 0)])
    track.smooth(np.array([0.2, 0.3, 0.5]), 0.0)
    tracker.age()
    tracker.age()
    assert track.stale == 2
    track.smooth(np.array([0.2, 0.3, 0.5]), 0.0)
    assert track.stale == 0
