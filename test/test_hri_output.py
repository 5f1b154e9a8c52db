# Copyright 2026 The emotion_perception Authors
# SPDX-License-Identifier: Apache-2.0
"""ROS4HRI (REP-155) output over real DDS: a consumer follows humans/faces/tracked, then each id's topics."""

from __future__ import annotations

import re
import threading
import time
from pathlib import Path

import cv2
import numpy as np
import pytest
import rclpy
from builtin_interfaces.msg import Time
from helpers import PROCESS_TEST_TIMEOUT_S, appender, wait_for
from rclpy.executors import Executor
from rclpy.parameter import Parameter
from rclpy.qos import QoSProfile, ReliabilityPolicy, qos_profile_sensor_data
from sensor_msgs.msg import Image
from std_msgs.msg import Header

from emotion_msgs.msg import EmotionReaction
from emotion_perception.reaction import FaceReaction
from emotion_perception.ros.image_conversion import numpy_to_image
from emotion_perception.ros.perception_node import PerceptionNode

# A module-level skip (importorskip) would abort the collection of the whole folder under the
# launch_testing pytest plugin, which imports every test module: the module's tests are marked
# instead (a module-wide skip mark, which pytest reports as one line).
try:
    from hri_msgs.msg import Expression, IdsList, NormalizedRegionOfInterest2D

    from emotion_perception.ros.hri_output import FACE_IMAGE_SIZE, HriFaceOutput
    from emotion_perception.vision.preprocessing import letterbox
except ModuleNotFoundError as missing:
    if missing.name != "hri_msgs":
        raise
    HriFaceOutput = None
NO_HRI_MSGS = "hri_msgs is not installed (make setup builds it from the vendored archive)"
pytestmark = [pytest.mark.timeout(PROCESS_TEST_TIMEOUT_S)] + ([pytest.mark.skip(reason=NO_HRI_MSGS)]
                                                              if HriFaceOutput is None else [])

DATA = Path(__file__).parent / "data"
RELIABLE = QoSProfile(depth=100, reliability=ReliabilityPolicy.RELIABLE)
#: A face id: a ROS name token of five lowercase letters or digits, a letter first.
FACE_ID = re.compile(r"[a-z][a-z0-9]{4}")
EXPECTED_EXPRESSION = {EmotionReaction.POSITIVE: "happy", EmotionReaction.NEUTRAL: "neutral",
                       EmotionReaction.NEGATIVE: "sad"}


class HriConsumer:
    """Subscribes like a ROS4HRI client: to the tracked list, then to the topics of each id it lists."""

    def __init__(self, context: object, executor: Executor, cropped: bool) -> None:
        self.node = rclpy.create_node("hri_consumer", context=context)
        self.lock = threading.Lock()
        self.tracked: list[IdsList] = []
        self.reactions: list[EmotionReaction] = []
        self.per_face: dict[str, dict[str, list]] = {}
        self._topics = {"roi": NormalizedRegionOfInterest2D, "expression": Expression}
        if cropped:
            self._topics["cropped"] = Image
        self.node.create_subscription(IdsList, "/humans/faces/tracked", self._on_tracked, RELIABLE)
        self.node.create_subscription(EmotionReaction, "/human/reaction", appender(self.reactions, self.lock), RELIABLE)
        self.image_pub = self.node.create_publisher(Image, "image", qos_profile_sensor_data)
        executor.add_node(self.node)

    def _on_tracked(self, msg: IdsList) -> None:
        with self.lock:
            self.tracked.append(msg)
            new = [i for i in msg.ids if i not in self.per_face]
            for face_id in new:
                self.per_face[face_id] = {name: [] for name in self._topics}
        for face_id in new:
            for name, msg_type in self._topics.items():
                self.node.create_subscription(
                    msg_type, f"/humans/faces/{face_id}/{name}",
                    appender(self.per_face[face_id][name], self.lock), RELIABLE
                )

    def matched(self, face_id: str, stamp: Time) -> dict[str, object] | None:
        """The face's message on each topic and its EmotionReaction for the frame ``stamp``, once all arrived."""
        with self.lock:
            found = {name: next((m for m in msgs if m.header.stamp == stamp), None)
                     for name, msgs in self.per_face.get(face_id, {}).items()}
            found["reaction"] = next(
                (r for r in self.reactions if r.header.stamp == stamp and r.face_id == face_id), None)
        return found if len(found) > 1 and all(v is not None for v in found.values()) else None


def load(name: str) -> np.ndarray:
    image = cv2.imread(str(DATA / name))
    assert image is not None, name
    return image


def start_node(context: object, executor: Executor, **overrides: object) -> PerceptionNode:
    params = {"hri_output": True, "smoothing": 0.0, "min_confidence": 0.0, **overrides}
    node = PerceptionNode(context=context, parameter_overrides=[Parameter(k, value=v) for k, v in params.items()])
    executor.add_node(node)
    return node


def stream_until(consumer: HriConsumer, frame: np.ndarray, done: object, first_sec: int, timeout: float = 60.0
                 ) -> list[Time]:
    """Publish ``frame`` with a new stamp every 0.2 s until ``done(stamps)`` is true; returns the stamps sent."""
    assert wait_for(lambda: consumer.image_pub.get_subscription_count() > 0, 20.0)
    stamps: list[Time] = []

    def step() -> bool:
        msg = numpy_to_image(frame, "bgr8", Header(stamp=Time(sec=first_sec + len(stamps)), frame_id="cam"))
        stamps.append(msg.header.stamp)
        consumer.image_pub.publish(msg)
        return wait_for(lambda: done(stamps), 0.2)

    assert wait_for(step, timeout, period=0.0), "the REP-155 topics never matched our EmotionReactions"
    return stamps


def test_a_rep155_consumer_gets_each_faces_roi_expression_and_crop_matching_our_reaction(
    ros_context: object, executor: Executor
) -> None:
    start_node(ros_context, executor, hri_face_timeout=1.0)
    consumer = HriConsumer(ros_context, executor, cropped=True)
    frame = load("pexels_five_faces.jpg")
    height, width = frame.shape[:2]
    results: dict[str, dict[str, object]] = {}

    def all_faces_matched(stamps: list[Time]) -> bool:
        with consumer.lock:
            ids = [i for msg in consumer.tracked for i in msg.ids]
        for face_id in set(ids) - set(results):
            for stamp in stamps:
                match = consumer.matched(face_id, stamp)
                if match:
                    results[face_id] = match
                    break
        return len(results) == 5

    stream_until(consumer, frame, all_faces_matched, first_sec=1000)
    assert len(results) == 5 and all(FACE_ID.fullmatch(i) for i in results), sorted(results)
    for face_id, found in results.items():
        reaction, roi, expression, cropped = found["reaction"], found["roi"], found["expression"], found["cropped"]
        assert expression.valence == pytest.approx(reaction.valence_score, abs=1e-6)
        assert expression.confidence == pytest.approx(reaction.confidence, abs=1e-6)
        assert expression.expression == EXPECTED_EXPRESSION[reaction.valence]
        assert expression.arousal == 0.0
        box = reaction.face
        assert (roi.xmin * width, roi.ymin * height) == pytest.approx((box.x_offset, box.y_offset), abs=0.01)
        assert (roi.xmax * width, roi.ymax * height) == pytest.approx(
            (box.x_offset + box.width, box.y_offset + box.height), abs=0.01)
        assert 0.0 <= roi.xmin < roi.xmax <= 1.0 and 0.0 <= roi.ymin < roi.ymax <= 1.0
        assert roi.c == pytest.approx(reaction.detection_confidence, abs=1e-6)
        # The face box letterboxed into 128 x 128: a box taller than wide leaves black bars left and right.
        assert (cropped.width, cropped.height, cropped.encoding) == (FACE_IMAGE_SIZE, FACE_IMAGE_SIZE, "bgr8")
        crop = np.frombuffer(cropped.data, np.uint8).reshape(FACE_IMAGE_SIZE, FACE_IMAGE_SIZE, 3)
        expected = frame[box.y_offset:box.y_offset + box.height, box.x_offset:box.x_offset + box.width]
        assert np.array_equal(crop, letterbox(expected, FACE_IMAGE_SIZE)), face_id
        bar = (FACE_IMAGE_SIZE - round(FACE_IMAGE_SIZE * box.width / box.height)) // 2
        assert box.height > box.width and bar > 0 and not crop[:, :bar].any() and not crop[:, -bar:].any()
        assert crop[:, bar:-bar].mean() > 20  # the face itself
        assert roi.header.frame_id == expression.header.frame_id == "cam"

    # Nobody in view: tracked goes on, empty; each face's topics disappear once the timeout has passed.
    empty = load("pexels_no_face.jpg")

    def empty_and_gone(stamps: list[Time]) -> bool:
        with consumer.lock:
            last = consumer.tracked[-1] if consumer.tracked else None
        publishers = sum(consumer.node.count_publishers(f"/humans/faces/{i}/expression") for i in results)
        return last is not None and last.ids == [] and last.header.stamp in stamps and publishers == 0

    stream_until(consumer, empty, empty_and_gone, first_sec=2000)
    assert consumer.node.count_publishers("/humans/faces/tracked") == 1


def test_no_face_image_topic_when_face_images_are_forbidden(ros_context: object, executor: Executor) -> None:
    node = start_node(ros_context, executor, hri_face_images=False)
    consumer = HriConsumer(ros_context, executor, cropped=False)

    matched: set[str] = set()

    def face_matched(stamps: list[Time]) -> bool:
        with consumer.lock:
            ids = {i for msg in consumer.tracked for i in msg.ids}
        matched.update(i for i in ids for s in stamps if consumer.matched(i, s))
        return bool(matched)

    stream_until(consumer, load("pexels_happy_330.jpg"), face_matched, first_sec=3000)
    (face_id,) = matched

    def publishers(name: str) -> int:
        return consumer.node.count_publishers(f"/humans/faces/{face_id}/{name}")

    assert wait_for(lambda: all(publishers(t) == 1 for t in ("roi", "expression", "landmarks")), 10.0)
    assert publishers("cropped") == publishers("aligned") == 0
    assert node._hri.images_made == {}


def reaction(face_id: str, x: int) -> FaceReaction:
    return FaceReaction.from_probabilities((x, 10, 40, 40), (0.1, 0.2, 0.7), 0.9, face_id)


def test_many_faces_coming_and_going_leave_no_publisher_behind(
    ros_context: object, executor: Executor
) -> None:
    node = rclpy.create_node("hri_lifecycle", context=ros_context)
    ticks = []
    node.create_timer(0.001, lambda: ticks.append(1))
    executor.add_node(node)  # spinning meanwhile, as in the node: publishers come and go under the executor
    baseline = len(list(node.publishers))
    output = HriFaceOutput(node, face_timeout=2.0)
    frame = np.zeros((120, 640, 3), np.uint8)
    header = Header(frame_id="cam")
    start = time.monotonic()  # the output's own timer expires faces by this clock too: keep ahead of it
    peak = 0
    # 300 faces 0.1 s apart: a new one every 0.5 s, each in view for 1.5 s (3 at a time), then gone.
    for step in range(1500):
        faces = [reaction(f"face_{n}", (n % 10) * 50) for n in range(max(0, step // 5 - 3), step // 5 + 1)
                 if n * 5 <= step < n * 5 + 15]
        output.publish(faces, header, frame, start + step * 0.1)
        peak = max(peak, len(output.face_ids))
    # The executor outlived the publishers' comings and goings (an rclpy QoS-event handler once killed it).
    seen = len(ticks)
    assert wait_for(lambda: len(ticks) > seen + 20, timeout=5.0), "the executor stopped"
    # In view (3) plus those that left less than face_timeout ago (2.0 s / 0.5 s = 4): never more.
    assert peak == 7
    assert len(list(node.publishers)) == baseline + 1 + 5 * len(output.face_ids)
    assert output.expire(start + 1500 * 0.1 + 2.5) != []
    assert output.face_ids == []
    assert len(list(node.publishers)) == baseline + 1  # only humans/faces/tracked
    output.destroy()
    assert len(list(node.publishers)) == baseline
