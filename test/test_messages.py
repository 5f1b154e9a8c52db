# Copyright 2026 The emotion_perception Authors
# SPDX-License-Identifier: Apache-2.0
"""ros/messages.py field for field: core types to emotion_msgs and back, through the real CDR wire format (no DDS)."""

from __future__ import annotations

import math

import pytest
from builtin_interfaces.msg import Time
from rclpy.serialization import deserialize_message, serialize_message
from std_msgs.msg import Header

from emotion_msgs.msg import ActionFeedback, ActionStats, EmotionReaction, EmotionReactionArray, RobotAction
from emotion_perception.feedback.rule import NS_PER_S, Action, ActionVerdict, TimedReaction, Verdict
from emotion_perception.feedback.stats_store import ActionStatsRow
from emotion_perception.reaction import FaceReaction, Valence
from emotion_perception.ros.messages import (
    action_from_msg,
    ns_to_stamp,
    reaction_from_msg,
    reaction_to_msg,
    reactions_to_array,
    stamp_to_ns,
    stats_to_msg,
    timed_reaction_from_msg,
    verdict_to_msg,
)

HEADER = Header(stamp=Time(sec=1_700_000_123, nanosec=456_000_789), frame_id="camera_optical_frame")
FACE = FaceReaction(box=(12, 34, 56, 78), valence=Valence.POSITIVE, confidence=0.75,
                    probabilities=(0.05, 0.2, 0.75), valence_score=0.7, detection_confidence=0.93, face_id="face_7")


def wire(msg):
    """``msg`` after a trip through its serialised (CDR) form, as a subscriber gets it."""
    return deserialize_message(serialize_message(msg), type(msg))


def test_a_reaction_carries_every_field_and_the_frames_header() -> None:
    msg = wire(reaction_to_msg(FACE, HEADER))
    assert msg.header == HEADER
    assert msg.valence == EmotionReaction.POSITIVE and msg.face_id == "face_7"
    assert (msg.face.x_offset, msg.face.y_offset, msg.face.width, msg.face.height) == (12, 34, 56, 78)
    assert msg.confidence == pytest.approx(0.75) and msg.valence_score == pytest.approx(0.7)
    assert list(msg.probabilities) == pytest.approx([0.05, 0.2, 0.75])
    assert msg.detection_confidence == pytest.approx(0.93)
    back = reaction_from_msg(msg)
    assert back.box == FACE.box and back.valence is Valence.POSITIVE and back.face_id == "face_7"
    assert back.probabilities == pytest.approx(FACE.probabilities) and isinstance(back.probabilities, tuple)
    assert (back.confidence, back.valence_score, back.detection_confidence) == pytest.approx((0.75, 0.7, 0.93))


@pytest.mark.parametrize(("box", "face"), [
    ((-5, -7, 40, 50), (0, 0, 40, 50)),  # a face partly off the frame's top-left corner
    ((3, 4, -1, -2), (3, 4, 0, 0)),
])
def test_a_box_beyond_the_frame_is_clipped_to_what_the_message_can_hold(box, face) -> None:
    msg = reaction_to_msg(FaceReaction(**{**FACE.__dict__, "box": box}), HEADER)
    assert (msg.face.x_offset, msg.face.y_offset, msg.face.width, msg.face.height) == face


def test_an_array_holds_each_frame_once_even_when_nobody_is_in_view() -> None:
    other = FaceReaction(**{**FACE.__dict__, "face_id": "face_8", "valence": Valence.NEGATIVE})
    array = wire(reactions_to_array([FACE, other], HEADER))
    assert array.header == HEADER and [r.face_id for r in array.reactions] == ["face_7", "face_8"]
    assert all(r.header == HEADER for r in array.reactions)
    assert array.reactions[1].valence == EmotionReaction.NEGATIVE
    empty = wire(reactions_to_array([], HEADER))
    assert isinstance(empty, EmotionReactionArray) and empty.header == HEADER and empty.reactions == []


@pytest.mark.parametrize("ns", [0, 1, NS_PER_S - 1, NS_PER_S, 1_700_000_123_456_000_789, 2**31 * NS_PER_S - 1])
def test_stamps_and_nanoseconds_convert_exactly(ns: int) -> None:
    stamp = ns_to_stamp(ns)
    assert 0 <= stamp.nanosec < NS_PER_S and stamp.sec * NS_PER_S + stamp.nanosec == ns
    assert stamp_to_ns(wire(stamp)) == ns


def test_an_action_and_a_timed_reaction_keep_their_stamps_in_nanoseconds() -> None:
    action = RobotAction(action_id="a-1", name="wave", duration=2.5)
    action.header.stamp = HEADER.stamp
    assert action_from_msg(wire(action)) == Action("a-1", "wave", 1_700_000_123_456_000_789, 2.5)
    reaction = timed_reaction_from_msg(wire(reaction_to_msg(FACE, HEADER)))
    assert reaction.stamp_ns == 1_700_000_123_456_000_789 and reaction.face_id == "face_7"
    assert reaction.valence == 1 and type(reaction.valence) is int
    assert (reaction.valence_score, reaction.confidence) == pytest.approx((0.7, 0.75))
    assert isinstance(reaction, TimedReaction)


@pytest.mark.parametrize("verdict", list(Verdict))
def test_a_verdict_carries_every_field(verdict: Verdict) -> None:
    action = Action("a-9", "tell_joke", 1_700_000_100_000_000_001)
    unknown = verdict is Verdict.UNKNOWN
    judged = ActionVerdict(action, verdict, math.nan if unknown else -0.25, math.nan if unknown else 0.5,
                           math.nan if unknown else 0.75, 0.0 if unknown else 0.6, 0 if unknown else 20,
                           0 if unknown else 28, () if unknown else ("face_1", "face_2"), 1_700_000_103_300_000_002)
    msg = wire(verdict_to_msg(judged))
    assert stamp_to_ns(msg.header.stamp) == judged.decided_ns and stamp_to_ns(msg.action_stamp) == action.stamp_ns
    assert (msg.action_id, msg.name, msg.verdict) == ("a-9", "tell_joke", int(verdict))
    assert msg.verdict in (ActionFeedback.WELL_RECEIVED, ActionFeedback.NEUTRAL, ActionFeedback.BADLY_RECEIVED,
                           ActionFeedback.UNKNOWN)
    assert (msg.n_baseline, msg.n_response) == (judged.n_baseline, judged.n_response)
    assert list(msg.face_ids) == list(judged.face_ids)
    for field in ("baseline_valence", "response_valence", "delta", "confidence"):
        got, want = getattr(msg, field), getattr(judged, field)
        assert (math.isnan(got) and math.isnan(want)) or got == pytest.approx(want), field


def test_statistics_carry_every_count_and_the_mean_delta() -> None:
    msg = wire(stats_to_msg(ActionStatsRow("wave", 7, 3, 2, 1, 1, 0.125)))
    assert isinstance(msg, ActionStats)
    assert (msg.name, msg.count, msg.well_received, msg.neutral, msg.badly_received, msg.unknown) == (
        "wave", 7, 3, 2, 1, 1)
    assert msg.mean_delta == pytest.approx(0.125)
    assert math.isnan(stats_to_msg(ActionStatsRow("nod", 1, 0, 0, 0, 1, math.nan)).mean_delta)
