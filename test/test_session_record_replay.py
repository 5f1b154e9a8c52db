# Copyright 2026 The emotion_perception Authors
# SPDX-License-Identifier: Apache-2.0
"""record and replay over real DDS: what is published ends up in the file, and a replay drives sim-time nodes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import cv2
import numpy as np
import pytest
import rclpy
from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus
from helpers import PROCESS_TEST_TIMEOUT_S, ROOT, wait_for
from mcap.reader import make_reader
from mcap_ros2.decoder import DecoderFactory
from rclpy.executors import Executor
from rclpy.parameter import Parameter
from rclpy.qos import QoSProfile, ReliabilityPolicy, qos_profile_sensor_data
from rclpy.serialization import deserialize_message, serialize_message
from session_helpers import ACTIONS, EXPECTED, FRAME_NS, START_NS, stamp, write_session
from std_msgs.msg import Header

from emotion_msgs.msg import ActionFeedback, EmotionReaction, EmotionReactionArray, RobotAction
from emotion_perception.ros.action_feedback_node import ActionFeedbackNode
from emotion_perception.ros.image_conversion import numpy_to_image
from emotion_perception.tools.session.record import SessionRecorder, session_topics
from emotion_perception.tools.session.replay import SessionPlayer
from emotion_perception.tools.session.report import feedback_config, load_session, rejudge
from emotion_perception.tools.session.session_file import SessionReader

pytestmark = pytest.mark.timeout(PROCESS_TEST_TIMEOUT_S)

RELIABLE = QoSProfile(depth=1000, reliability=ReliabilityPolicy.RELIABLE)


def publish_all(node: rclpy.node.Node, messages: list[tuple[str, object]], qos: dict[str, QoSProfile]) -> None:
    publishers = {}
    for topic, msg in messages:
        if topic not in publishers:
            publishers[topic] = node.create_publisher(type(msg), topic, qos.get(topic, RELIABLE))
    assert wait_for(lambda: all(p.get_subscription_count() > 0 for p in publishers.values()), 20.0)
    for topic, msg in messages:
        publishers[topic].publish(msg)


def test_record_writes_every_session_topic_and_the_camera_as_received(
    ros_context: object, executor: Executor, tmp_path: Path
) -> None:
    recorder = SessionRecorder(tmp_path / "s.mcap", session_topics(images=True), context=ros_context)
    executor.add_node(recorder)
    planner = rclpy.create_node("planner", context=ros_context)
    executor.add_node(planner)
    frame = cv2.imread(str(ROOT / "test" / "data" / "pexels_happy_330.jpg"))
    reactions = [EmotionReaction(header=Header(stamp=stamp(i)), face_id=f"face_{i}", valence_score=i / 100,
                                 confidence=0.5, probabilities=[0.2, 0.3, 0.5]) for i in range(60)]
    messages = [("/human/reaction", r) for r in reactions] + [
        ("/human/reactions", EmotionReactionArray(header=Header(stamp=stamp(1)), reactions=reactions[:3])),
        ("/robot/action", RobotAction(header=Header(stamp=stamp(2)), action_id="a-1", name="wave", duration=1.5)),
        ("/human/action_feedback", ActionFeedback(action_id="a-1", name="wave", verdict=1, delta=0.4)),
        ("/diagnostics", DiagnosticArray(status=[DiagnosticStatus(name="perception_node", message="ok")])),
        ("/camera/image_raw", numpy_to_image(frame, "bgr8", Header(stamp=stamp(3), frame_id="cam"))),
    ]
    publish_all(planner, messages, {"/camera/image_raw": qos_profile_sensor_data})
    assert wait_for(lambda: recorder.message_count == len(messages), 20.0), recorder.message_count
    executor.remove_node(recorder)
    recorder.destroy_node()

    reader = SessionReader(tmp_path / "s.mcap")
    recorded = list(reader.messages())
    assert reader.complete
    for topic in {t for t, _ in messages}:  # per topic, in order, the messages as published
        sent = [deserialize_message(serialize_message(msg), type(msg)) for t, msg in messages if t == topic]
        assert [deserialize_message(m.data, type(sent[0])) for m, _ in recorded if m.topic == topic] == sent
    assert reader.topics["/camera/image_raw"] == "sensor_msgs/msg/Image"
    # An independent reader (the summary, its statistics and the embedded schemas) sees the same.
    with (tmp_path / "s.mcap").open("rb") as stream:
        mcap = make_reader(stream, decoder_factories=[DecoderFactory()])
        summary = mcap.get_summary()
        decoded = {topic: [m for *_, m in mcap.iter_decoded_messages(topics=[topic])]
                   for topic in ("/human/reaction", "/camera/image_raw")}
    assert summary.statistics.message_count == len(messages)
    assert {s.name for s in summary.schemas.values()} >= {"emotion_msgs/msg/EmotionReaction",
                                                          "diagnostic_msgs/msg/DiagnosticArray"}
    assert [m.face_id for m in decoded["/human/reaction"]] == [r.face_id for r in reactions]
    assert decoded["/human/reaction"][7].valence_score == pytest.approx(0.07)
    (image,) = decoded["/camera/image_raw"]
    assert np.array_equal(np.frombuffer(bytes(image.data), np.uint8).reshape(frame.shape), frame)


def test_a_recorder_killed_with_sigkill_leaves_its_file_readable_up_to_the_last_chunk(
    ros_context: object, executor: Executor, tmp_path: Path
) -> None:
    path = tmp_path / "killed.mcap"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        [sys.executable, "-m", "emotion_perception.tools.session.record", "-o", str(path), "--flush-interval", "0.2"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        node = rclpy.create_node("reaction_source", context=ros_context)
        executor.add_node(node)
        publisher = node.create_publisher(EmotionReaction, "/human/reaction", RELIABLE)
        action_publisher = node.create_publisher(RobotAction, "/robot/action", RELIABLE)
        assert wait_for(lambda: publisher.get_subscription_count() > 0
                        and action_publisher.get_subscription_count() > 0, 30.0)
        action_publisher.publish(RobotAction(header=Header(stamp=stamp(0)), action_id="a-0", name="greet"))
        sent = 0

        def grown() -> bool:
            nonlocal sent
            for _ in range(20):
                publisher.publish(EmotionReaction(header=Header(stamp=stamp(sent)), face_id=str(sent),
                                                  valence_score=0.5, confidence=0.5))
                sent += 1
            return path.stat().st_size > 20_000 if path.exists() else False

        assert wait_for(grown, 60.0, period=0.01)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)

    reader = SessionReader(path)
    ids = [reader.decode(m, s).face_id for m, s in reader.messages(["/human/reaction"])]
    assert not reader.complete
    assert 0 < len(ids) <= sent
    # In order and without a gap up to the last chunk; the first few may precede the recorder's side of discovery
    # (its subscription matched, it not yet the publisher), so the run starts where the recording does.
    first = int(ids[0])
    assert ids == [str(i) for i in range(first, first + len(ids))]
    assert SessionReader(path).recorded_topics()["/human/reaction"] == "emotion_msgs/msg/EmotionReaction"
    session = load_session(path)  # and the report reads it too
    assert not session.complete and len(session.reactions) == len(ids) and len(session.actions) == 1


def test_replay_drives_a_sim_time_feedback_node_to_the_offline_verdicts_and_records_them(
    ros_context: object, executor: Executor, tmp_path: Path
) -> None:
    source = write_session(tmp_path / "source.mcap")
    # Sim-time tolerances for a loaded machine (the judged windows are unchanged): a lateness grace of 6 s (3 s
    # of wall time at rate 2) for reactions that reach the node after the /clock that closes their window, and
    # 4 s of future stamps for a node whose /clock lags the reactions. A grace of 1 s was once too short for one
    # late reaction, 2 s once for many on CI; the offline report has them all. The replay's tail of 12 s runs
    # /clock past the last window's close plus that grace.
    feedback = ActionFeedbackNode(context=ros_context, parameter_overrides=[
        Parameter("use_sim_time", value=True), Parameter("stats_db_path", value=str(tmp_path / "stats.db")),
        Parameter("lateness_grace", value=6.0), Parameter("max_future_stamp", value=4.0)])
    recorder = SessionRecorder(tmp_path / "replayed.mcap", session_topics(), context=ros_context)
    listener = rclpy.create_node("listener", context=ros_context)
    verdicts: list[ActionFeedback] = []
    reactions: list[EmotionReaction] = []
    lock = threading.Lock()
    listener.create_subscription(ActionFeedback, "/human/action_feedback",
                                 lambda m: (lock.acquire(), verdicts.append(m), lock.release()), RELIABLE)
    listener.create_subscription(EmotionReaction, "/human/reaction",
                                 lambda m: (lock.acquire(), reactions.append(m), lock.release()), RELIABLE)
    for node in (feedback, recorder, listener):
        executor.add_node(node)
    rate = 2.0
    player = SessionPlayer(source, ["/human/reaction", "/robot/action"], rate=rate, context=ros_context)
    try:
        assert player.wait_for_subscribers(30.0) == []
        assert wait_for(lambda: feedback.count_publishers("/clock") > 0, 10.0)
        started = time.monotonic()
        published = player.play(tail=12.0)  # the default lead-in: the node has a clock before the first stamp
        took = time.monotonic() - started
    finally:
        player.destroy_node()
    span_s = 130 * FRAME_NS / 1e9
    assert took >= 0.9 * span_s / rate  # the recorded timing, scaled
    assert wait_for(lambda: len(verdicts) == len(ACTIONS), 20.0), [(v.name, v.verdict) for v in verdicts]
    with lock:
        assert published == len(reactions) + len(ACTIONS)
    offline = {v.action.action_id: v for v in rejudge(load_session(source), feedback_config())[0]}
    for msg in verdicts:
        expected = offline[msg.action_id]
        assert msg.verdict == expected.verdict == {"WELL_RECEIVED": 1, "NEUTRAL": 0, "UNKNOWN": 2}[EXPECTED[msg.name]]
        assert (msg.n_baseline, msg.n_response) == (expected.n_baseline, expected.n_response), (
            msg.name, dict(feedback._tracker.drops))
        assert msg.delta == pytest.approx(expected.delta, abs=1e-5, nan_ok=True)
        # Judged on the replayed /clock (the recording's time), not on this machine's clock.
        decided_ns = msg.header.stamp.sec * 1_000_000_000 + msg.header.stamp.nanosec
        assert START_NS < decided_ns <= START_NS + 250 * FRAME_NS  # the replay's /clock ends at frame 249
    executor.remove_node(recorder)
    recorder.destroy_node()
    replayed = load_session(tmp_path / "replayed.mcap")
    assert {a: v.verdict for a, v in replayed.verdicts.items()} == {a: v.verdict.name for a, v in offline.items()}
