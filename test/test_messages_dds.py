# Copyright 2026 The emotion_perception Authors
# SPDX-License-Identifier: Apache-2.0
"""emotion_msgs travel between two real rclpy nodes over Fast DDS, field for field."""

from __future__ import annotations

import math

import pytest
import rclpy
from builtin_interfaces.msg import Time
from helpers import PROCESS_TEST_TIMEOUT_S, wait_for
from rclpy.executors import Executor
from rclpy.qos import QoSProfile, ReliabilityPolicy

from emotion_msgs.msg import EmotionReaction, EmotionReactionArray
from emotion_perception.ros.messages import reaction_from_msg, reaction_to_msg

pytestmark = pytest.mark.timeout(PROCESS_TEST_TIMEOUT_S)


def _reaction(i: int) -> EmotionReaction:
    msg = EmotionReaction()
    msg.header.stamp = Time(sec=1_700_000_000 + i, nanosec=123_456_789)
    msg.header.frame_id = "camera_optical_frame"
    msg.valence = EmotionReaction.POSITIVE if i % 2 else EmotionReaction.NEGATIVE
    msg.probabilities = [0.1, 0.2, 0.7]
    msg.confidence = 0.7
    msg.valence_score = 0.6
    msg.face.x_offset, msg.face.y_offset, msg.face.width, msg.face.height = 10 + i, 20, 64, 80
    msg.detection_confidence = 0.93
    msg.face_id = f"face_{i}"
    return msg


@pytest.mark.parametrize("with_faces", [True, False])
def test_reaction_and_array_round_trip(executor: Executor, ros_context, with_faces: bool) -> None:
    qos = QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE)
    talker = rclpy.create_node("talker", context=ros_context)
    listener = rclpy.create_node("listener", context=ros_context)
    single, arrays = [], []
    listener.create_subscription(EmotionReaction, "/human/reaction", single.append, qos)
    listener.create_subscription(EmotionReactionArray, "/human/reactions", arrays.append, qos)
    pub_single = talker.create_publisher(EmotionReaction, "/human/reaction", qos)
    pub_array = talker.create_publisher(EmotionReactionArray, "/human/reactions", qos)
    executor.add_node(talker)
    executor.add_node(listener)
    assert wait_for(lambda: pub_single.get_subscription_count() and pub_array.get_subscription_count())

    sent = [_reaction(i) for i in range(3)] if with_faces else []
    array = EmotionReactionArray()
    array.header.stamp = Time(sec=1_700_000_000, nanosec=5)
    array.header.frame_id = "camera_optical_frame"
    array.reactions = sent
    for msg in sent:
        pub_single.publish(msg)
    pub_array.publish(array)

    assert wait_for(lambda: len(single) == len(sent) and len(arrays) == 1)
    assert arrays[0].header == array.header
    assert len(arrays[0].reactions) == len(sent)
    for got, want in zip(single, sent, strict=True):
        assert got.header == want.header
        assert got.valence == want.valence and got.face_id == want.face_id
        assert list(got.probabilities) == pytest.approx(list(want.probabilities))
        assert math.isclose(got.confidence, want.confidence, rel_tol=1e-6)
        assert got.face == want.face
    for got, want in zip(arrays[0].reactions, sent, strict=True):
        assert got.face_id == want.face_id and got.face == want.face


def test_reaction_message_round_trips_through_the_core_type() -> None:
    msg = _reaction(3)
    back = reaction_to_msg(reaction_from_msg(msg), msg.header)
    assert back.header == msg.header and back.face == msg.face and back.face_id == msg.face_id
    assert back.valence == msg.valence
    assert list(back.probabilities) == pytest.approx(list(msg.probabilities))
