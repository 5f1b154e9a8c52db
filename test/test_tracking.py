# Copyright 2026 The emotion_perception Authors
# SPDX-License-Identifier: Apache-2.0
"""Face ids across frames and probability smoothing (no ROS)."""

from __future__ import annotations

import re

import numpy as np
import pytest

from emotion_perception.vision.detection import Detection
from emotion_perception.vision.tracking import (
    ID_LENGTH,
    ISSUED_MEMORY,
    FaceTracker,
    Track,
    TrackedFaces,
    centre_distance,
    iou,
    new_face_id,
)

#: A ROS name token: a letter, then letters, digits or underscores (lowercase here).
ID_PATTERN = re.compile(r"[a-z][a-z0-9]*")


class Names:
    """Each face id as ``face_<n>``, numbered in the order the ids first appear (ids themselves are random)."""

    def __init__(self) -> None:
        self._names: dict[str, str] = {}

    def __call__(self, tracks: list[Track]) -> list[str]:
        return [self._names.setdefault(t.face_id, f"face_{len(self._names) + 1}") for t in tracks]


def det(x: float, y: float, w: float = 100, h: float = 120, score: float = 0.9) -> Detection:
    return Detection(box=(x, y, w, h), score=score)


def test_iou_and_centre_distance() -> None:
    assert iou((0, 0, 10, 10), (0, 0, 10, 10)) == 1.0
    assert iou((0, 0, 10, 10), (20, 20, 10, 10)) == 0.0
    assert iou((0, 0, 10, 10), (5, 0, 10, 10)) == pytest.approx(50 / 150)
    assert centre_distance((0, 0, 10, 10), (5, 0, 10, 10)) == pytest.approx(0.5)


def test_iou_of_boxes_of_every_shape() -> None:
    # Widths, heights and offsets all differ, so a coordinate read in place of another shows.
    a, b = (10, 20, 40, 60), (30, 50, 50, 20)  # overlap 20 x 20 of areas 2400 and 1000
    assert iou(a, b) == pytest.approx(400 / (2400 + 1000 - 400))
    assert iou(b, a) == pytest.approx(iou(a, b))
    assert iou((0, 0, 10, 10), (30, 0, 10, 10)) == 0.0  # apart side by side
    assert iou((0, 0, 10, 10), (0, 30, 10, 10)) == 0.0  # apart one above the other
    assert iou((0, 0, 10, 10), (11, 11, 10, 10)) == 0.0  # apart on the diagonal
    assert iou((0, 0, 0.5, 0.5), (0, 0, 0.5, 0.5)) == 1.0  # smaller than a pixel
    assert iou((5, 5, 0, 0), (5, 5, 0, 0)) == 0.0  # no area at all: no overlap, no division by zero


def test_centre_distance_is_in_units_of_the_first_boxs_larger_side() -> None:
    assert centre_distance((10, 20, 40, 60), (30, 50, 20, 30)) == pytest.approx(np.hypot(10, 15) / 60)
    assert centre_distance((10, 20, 60, 40), (30, 50, 20, 30)) == pytest.approx(np.hypot(0, 25) / 60)
    assert centre_distance((0, 0, 0.5, 0.5), (0.25, 0, 0.5, 0.5)) == pytest.approx(0.5)  # sub-pixel boxes
    assert centre_distance((5, 5, 0, 0), (5, 5, 0, 0)) == 0.0
    assert centre_distance((0, 0, 0, 0), (1, 0, 0, 0)) == pytest.approx(1e6)  # a point: no division by zero


def test_a_face_that_moves_keeps_its_id() -> None:
    tracker, names = FaceTracker(), Names()
    ids = [names(tracker.update([det(100 + 8 * i, 50 + 3 * i)]))[0] for i in range(20)]
    assert ids == ["face_1"] * 20


def test_two_faces_keep_their_ids_whatever_the_detection_order() -> None:
    tracker, names = FaceTracker(), Names()
    first = names(tracker.update([det(0, 0), det(300, 0)]))
    second = names(tracker.update([det(305, 2), det(4, 1)]))
    assert first == ["face_1", "face_2"]
    assert second == ["face_2", "face_1"]


def test_a_new_person_gets_a_new_id_and_ids_are_never_reused() -> None:
    tracker, names = FaceTracker(max_missed=2), Names()
    assert names(tracker.update([det(0, 0)])) == ["face_1"]
    assert names(tracker.update([det(2, 0), det(400, 0)])) == ["face_1", "face_2"]
    for _ in range(3):
        tracker.update([])
    assert tracker.tracks == []
    assert names(tracker.update([det(0, 0)])) == ["face_3"]
    tracker.reset()
    assert names(tracker.update([det(0, 0)])) == ["face_4"]


def test_ids_are_short_random_topic_name_tokens_never_issued_twice() -> None:
    ids = [new_face_id() for _ in range(2000)]
    assert all(len(i) == ID_LENGTH and ID_PATTERN.fullmatch(i) for i in ids)
    assert len(set(ids)) > 1990  # random: about 44 million of them, so 2000 rarely repeat
    # Two trackers (two processes, two cameras) issue different ids for the same scene.
    first, second = FaceTracker(), FaceTracker()
    assert first.update([det(0, 0)])[0].face_id != second.update([det(0, 0)])[0].face_id


def test_a_tracker_never_issues_an_id_again_even_when_the_generator_repeats(
    monkeypatch: pytest.MonkeyPatch
) -> None:
    draws = iter(["aaaaa", "aaaaa", "bbbbb", "aaaaa", "bbbbb", "ccccc"])
    monkeypatch.setattr("emotion_perception.vision.tracking.new_face_id", lambda: next(draws))
    tracker = FaceTracker(max_missed=0)
    issued = []
    for _ in range(3):
        issued.append(tracker.update([det(0, 0)])[0].face_id)
        tracker.update([])
    assert issued == ["aaaaa", "bbbbb", "ccccc"]


def test_a_track_survives_a_few_missed_frames_then_is_dropped() -> None:
    tracker = FaceTracker(max_missed=3)
    tracker.update([det(0, 0)])
    for missed in range(1, 4):
        tracker.update([])
        assert [t.missed for t in tracker.tracks] == [missed]
        assert tracker.visible() == []
    assert tracker.update([det(5, 5)])[0].face_id == tracker.tracks[0].face_id
    assert len(tracker.tracks) == 1
    for _ in range(4):
        tracker.update([])
    assert tracker.tracks == []


def test_centre_distance_matches_a_face_that_changed_size() -> None:
    tracker, names = FaceTracker(iou_threshold=0.9, max_centre_distance=0.5), Names()
    names(tracker.update([det(100, 100, 100, 100)]))
    assert names(tracker.update([det(90, 90, 130, 130)])) == ["face_1"]
    assert names(tracker.update([det(400, 90, 130, 130)])) == ["face_2"]


def test_the_defaults_keep_an_id_for_5_missed_updates_and_half_a_face_of_movement() -> None:
    """README: a face lost for more than max_missed (5) detector runs comes back with a new id."""
    for missed, same in ((5, True), (6, False)):
        tracker, names = FaceTracker(), Names()
        names(tracker.update([det(100, 100, 100, 100)]))
        for _ in range(missed):
            tracker.update([])
        assert (names(tracker.update([det(100, 100, 100, 100)])) == ["face_1"]) is same, missed
    # Moved diagonally so the boxes overlap less than iou_threshold (0.3): the centre distance decides.
    for shift, same in ((35, True), (40, False)):  # centres 0.49 / 0.57 faces apart
        tracker, names = FaceTracker(), Names()
        names(tracker.update([det(100, 100, 100, 100)]))
        moved = det(100 + shift, 100 + shift, 100, 100)
        assert iou(tracker.tracks[0].detection.box, moved.box) < 0.3
        assert (names(tracker.update([moved])) == ["face_1"]) is same, shift


def test_an_overlap_or_a_distance_of_exactly_the_limit_keeps_the_id() -> None:
    half = det(0, 0, 10, 5)  # IoU 0.5 with the 10 x 10 face, centres 0.25 of its side apart
    by_overlap = FaceTracker(iou_threshold=0.5, max_centre_distance=0.0)
    (first,) = by_overlap.update([det(0, 0, 10, 10)])
    assert by_overlap.update([half]) == [first]
    by_distance = FaceTracker(iou_threshold=1.0, max_centre_distance=0.25)
    (first,) = by_distance.update([det(0, 0, 10, 10)])
    assert by_distance.update([half]) == [first]


def test_a_detection_joins_the_track_it_overlaps_most() -> None:
    for x, face_id in ((60, "face_1"), (90, "face_2")):  # IoU 0.25 / 0.05 with the face it is nearer / further
        tracker, names = FaceTracker(iou_threshold=0.05, max_centre_distance=0.0), Names()
        names(tracker.update([det(0, 0, 100, 100), det(150, 0, 100, 100)]))
        assert sorted(iou(t.detection.box, (x, 0, 100, 100)) for t in tracker.tracks) == pytest.approx([1 / 19, 1 / 4])
        assert names(tracker.update([det(x, 0, 100, 100)])) == [face_id]


def test_a_pair_already_taken_does_not_stop_the_others_from_being_matched() -> None:
    tracker, names = FaceTracker(max_centre_distance=3.0), Names()
    names(tracker.update([det(0, 0, 100, 100), det(300, 0, 100, 100)]))
    # Best first: face_1 with the first detection (IoU 1), face_1 with the second (IoU 0.67: face_1 is taken), then
    # face_2 with the second by distance (2.8 faces apart).
    assert names(tracker.update([det(0, 0, 100, 100), det(20, 0, 100, 100)])) == ["face_1", "face_2"]


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
    assert track.smooth(np.array([0.2, 0.2, 0.2]), 0.0).tolist() == [0.2, 0.2, 0.2]  # unchanged, as given


def test_the_smoothed_estimate_stays_a_distribution() -> None:
    track = Track(face_id="face_1", detection=det(0, 0))
    track.smooth(np.array([0.5, 0.25, 0.25]), 0.5)
    blended = track.smooth(np.array([0.25, 0.25, 0.25]), 0.5)  # a classifier output summing to 0.75
    assert blended.sum() == pytest.approx(1.0)
    assert blended == pytest.approx(np.array([0.375, 0.25, 0.25]) / 0.875)


@pytest.mark.parametrize(
    ("kwargs", "reason"),
    [
        ({"iou_threshold": 0.0}, r"iou_threshold must be in \(0, 1\], got 0.0"),
        ({"iou_threshold": 1.5}, r"iou_threshold must be in \(0, 1\], got 1.5"),
        ({"max_centre_distance": -1}, "max_centre_distance must be >= 0, got -1"),
        ({"max_missed": -1}, "max_missed must be >= 0, got -1"),
    ],
)
def test_invalid_settings_are_rejected(kwargs: dict, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        FaceTracker(**kwargs)


def test_settings_at_their_limits_are_accepted() -> None:
    tracker = FaceTracker(iou_threshold=1.0, max_centre_distance=0.0, max_missed=0)
    (first,) = tracker.update([det(0, 0)])
    assert tracker.update([det(0, 0)]) == [first]  # the same box: IoU 1.0
    tracker.update([])
    assert tracker.tracks == []  # missed once, more than max_missed (0)


def test_age_counts_frames_since_the_last_probabilities() -> None:
    tracker = FaceTracker()
    (track,) = tracker.update([det(0, 0)])
    track.smooth(np.array([0.2, 0.3, 0.5]), 0.0)
    tracker.age()
    tracker.age()
    assert track.stale == 2
    track.smooth(np.array([0.2, 0.3, 0.5]), 0.0)
    assert track.stale == 0


def listed_over(rule: TrackedFaces, frames: list[list[str]]) -> list[list[str]]:
    return [rule.update(ids) for ids in frames]


def test_tracked_lists_a_face_after_min_frames_in_a_row_and_keeps_it_through_short_misses() -> None:
    rule = TrackedFaces(min_frames=3, max_missed=2)
    frames = [["a"], ["a"], ["a"], [], ["a"], [], [], ["a"], [], [], [], ["a"]]
    assert listed_over(rule, frames) == [[], [], ["a"], ["a"], ["a"], ["a"], ["a"], ["a"], ["a"], ["a"], [], []]


def test_a_face_seen_now_and_then_is_never_listed() -> None:
    rule = TrackedFaces(min_frames=3, max_missed=4)
    assert listed_over(rule, [["a"], ["a"], [], ["a"], ["a"], [], ["a"]]) == [[]] * 7
    assert rule.update(["a"]) == [] and rule.update(["a"]) == ["a"]  # then three in a row


def test_faces_are_listed_oldest_first_and_each_by_its_own_counts() -> None:
    rule = TrackedFaces(min_frames=2, max_missed=1)
    frames = [["a"], ["a", "b"], ["b"], ["b"], ["b"], ["b", "c"], ["c"]]
    assert listed_over(rule, frames) == [[], ["a"], ["a", "b"], ["b"], ["b"], ["b"], ["b", "c"]]


def test_reset_forgets_every_face() -> None:
    rule = TrackedFaces(min_frames=1, max_missed=5)
    assert rule.update(["a"]) == ["a"]
    rule.reset()
    assert rule.listed == [] and rule.update([]) == []
    rule = TrackedFaces(min_frames=2)
    rule.update(["a"])
    rule.reset()
    assert rule.update(["a"]) == []  # its first frame was forgotten


@pytest.mark.parametrize(("kwargs", "reason"), [({"min_frames": 0}, "min_frames must be >= 1, got 0"),
                                                ({"max_missed": -1}, "max_missed must be >= 0, got -1")])
def test_invalid_tracked_rules_are_rejected(kwargs: dict, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        TrackedFaces(**kwargs)


def test_iou_reads_each_box_bottom_from_its_own_y_and_height() -> None:
    # Each box's bottom (y + height) differs from its width + height, and it is the lower bottom that bounds.
    a, b = (10, 20, 40, 30), (30, 30, 50, 60)  # overlap 20 x 20 of areas 1200 and 3000
    assert iou(a, b) == pytest.approx(400 / (1200 + 3000 - 400))
    assert iou(b, a) == pytest.approx(400 / (1200 + 3000 - 400))


def test_a_tracker_remembers_exactly_its_last_issued_memory_of_ids() -> None:
    """The ids never issued again are the last ISSUED_MEMORY ones, the newest included."""
    tracker = FaceTracker()
    issued = [tracker._new_id() for _ in range(ISSUED_MEMORY + 1)]
    remembered = list(tracker._issued)
    assert len(remembered) == ISSUED_MEMORY
    assert remembered == issued[1:]  # the oldest was forgotten, the newest kept


def test_tracked_defaults_are_hri_face_detects_three_frames_in_and_four_missed_out() -> None:
    rule = TrackedFaces()
    frames = [["a"], ["a"], ["a"], [], [], [], [], []]
    assert listed_over(rule, frames) == [[], [], ["a"], ["a"], ["a"], ["a"], ["a"], []]


def test_tracked_without_misses_allowed_drops_a_face_on_its_first_missed_frame() -> None:
    rule = TrackedFaces(min_frames=1, max_missed=0)
    assert listed_over(rule, [["a"], ["a"], [], ["a"]]) == [["a"], ["a"], [], ["a"]]
