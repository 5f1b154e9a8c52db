# Copyright 2026 The emotion_perception Authors
# SPDX-License-Identifier: Apache-2.0
"""video_publisher: the right frames, in order, with increasing stamps, over real DDS."""

from __future__ import annotations

import time
from itertools import pairwise
from pathlib import Path

import cv2
import numpy as np
import pytest
import rclpy
import yaml
from helpers import PROCESS_TEST_TIMEOUT_S, ROOT, wait_for
from node_process import STOPS, NodeProcess
from rclpy.executors import Executor
from rclpy.parameter import Parameter
from rclpy.qos import QoSProfile, ReliabilityPolicy
from rclpy.time import Time
from rosgraph_msgs.msg import Clock as ClockMsg
from sensor_msgs.msg import Image
from std_msgs.msg import Header

from emotion_perception.ros.image_conversion import image_to_bgr8
from emotion_perception.ros.sim_clock import CLOCK_QOS, CLOCK_TOPIC
from emotion_perception.tools.video_publisher import PARAMETERS, VideoPublisher
from emotion_perception.tools.video_source import VideoFrame, VideoSource, VideoSourceError

pytestmark = pytest.mark.timeout(PROCESS_TEST_TIMEOUT_S)

CLIP = ROOT / "media" / "WolfgangLanger_Pexels.mp4"


def _params(**values: object) -> list[Parameter]:
    return [Parameter(name, value=value) for name, value in values.items()]


def _listen(executor: Executor, ros_context, topic: str = "image") -> list[Image]:
    listener = rclpy.create_node("listener", context=ros_context)
    received: list[Image] = []
    listener.create_subscription(Image, topic, received.append,
                                 QoSProfile(depth=100, reliability=ReliabilityPolicy.RELIABLE))
    executor.add_node(listener)
    return received


def test_publishes_clip_frames_in_order(executor: Executor, ros_context) -> None:
    received = _listen(executor, ros_context)
    node = VideoPublisher(context=ros_context, parameter_overrides=_params(
        source=str(CLIP), start_time=9.0, max_frames=12, rate=40.0, reliability="reliable",
        frame_id="test_frame"))
    assert wait_for(lambda: node.count_subscribers("/image") > 0)
    executor.add_node(node)

    assert wait_for(node.finished.is_set, timeout=20.0)
    assert wait_for(lambda: len(received) == 12, timeout=5.0)
    assert node.published == 12
    stamps = [Time.from_msg(m.header.stamp).nanoseconds for m in received]
    assert all(b > a for a, b in pairwise(stamps))
    assert {(m.width, m.height, m.encoding, m.header.frame_id) for m in received} == {
        (640, 360, "bgr8", "test_frame")}
    # The first frame is the clip's frame at 9 s, pixel for pixel.
    with VideoSource(CLIP, start_s=9.0) as source:
        expected = source.read()
    assert expected is not None
    np.testing.assert_array_equal(image_to_bgr8(received[0]), expected.image)


def test_image_folder_loops_until_max_frames(
    executor: Executor, ros_context, tmp_path: Path
) -> None:
    for i in range(3):
        cv2.imwrite(str(tmp_path / f"{i:03d}.png"), np.full((48, 64, 3), 40 * (i + 1), np.uint8))
    received = _listen(executor, ros_context)
    node = VideoPublisher(context=ros_context, parameter_overrides=_params(
        source=str(tmp_path), loop=True, max_frames=7, rate=50.0, reliability="reliable"))
    assert wait_for(lambda: node.count_subscribers("/image") > 0)
    executor.add_node(node)

    assert wait_for(lambda: node.finished.is_set() and len(received) == 7, timeout=10.0)
    assert [int(image_to_bgr8(m)[0, 0, 0]) for m in received] == [40, 80, 120, 40, 80, 120, 40]


def test_publish_clock_keeps_the_videos_timeline_when_playback_stalls(
    executor: Executor, ros_context
) -> None:
    received = _listen(executor, ros_context)
    clocks: list[int] = []
    clock_listener = rclpy.create_node("clock_listener", context=ros_context)
    clock_listener.create_subscription(
        ClockMsg, CLOCK_TOPIC, lambda m: clocks.append(Time.from_msg(m.clock).nanoseconds), CLOCK_QOS)
    executor.add_node(clock_listener)

    def stall_once(header: Header, frame: VideoFrame) -> None:
        if frame.index == 3:
            time.sleep(0.5)  # a machine that falls behind for 12 frame intervals

    node = VideoPublisher(context=ros_context, on_frame=stall_once, parameter_overrides=_params(
        source=str(CLIP), start_time=9.0, max_frames=8, rate=100.0, reliability="reliable", publish_clock=True))
    assert wait_for(lambda: node.count_subscribers("/image") > 0 and node.count_subscribers(CLOCK_TOPIC) > 0)
    executor.add_node(node)

    assert wait_for(lambda: node.finished.is_set() and len(received) == 8, timeout=10.0)
    stamps = [Time.from_msg(m.header.stamp).nanoseconds for m in received]
    with VideoSource(CLIP) as source:
        interval = round(1e9 / source.fps)
    # One source frame interval (the clip is 23.976 fps) per frame, though played at 100 Hz with a stall.
    assert {b - a for a, b in pairwise(stamps)} == {interval}
    # /clock is best effort (as rclpy's TimeSource reads it), so a tick may be lost under load; every tick
    # that arrives lies on the frames' timeline, in order, not on the wall time the stall took.
    assert clocks and all(b > a for a, b in pairwise(clocks))
    assert {(c - stamps[0]) % interval for c in clocks} == {0}
    # /clock runs on after the end, so that sim-time nodes close their last windows.
    assert wait_for(lambda: clocks and clocks[-1] >= stamps[-1] + 5 * interval, timeout=5.0)


def test_publish_clock_needs_a_recording_and_the_system_clock(ros_context) -> None:
    with pytest.raises(ValueError, match="not camera 0"):
        VideoPublisher(context=ros_context, parameter_overrides=_params(source="0", publish_clock=True))
    with pytest.raises(ValueError, match="use_sim_time"):
        VideoPublisher(context=ros_context, parameter_overrides=_params(source=str(CLIP), publish_clock=True,
                                                                        use_sim_time=True))


def test_bad_parameters_fail_with_a_reason(ros_context) -> None:
    with pytest.raises(ValueError, match="reliability"):
        VideoPublisher(context=ros_context, parameter_overrides=_params(source=str(CLIP), reliability="fast"))
    with pytest.raises(ValueError, match="end_time"):
        VideoPublisher(context=ros_context, parameter_overrides=_params(source=str(CLIP), start_time=5.0,
                                                                        end_time=2.0))
    with pytest.raises(VideoSourceError, match="no such video file"):
        VideoPublisher(context=ros_context, parameter_overrides=_params(source="/nonexistent/clip.mp4"))


def test_rate_changes_at_runtime_within_its_range(ros_context) -> None:
    node = VideoPublisher(context=ros_context, parameter_overrides=_params(source=str(CLIP)))
    try:
        assert node.set_parameters([Parameter("rate", value=10.0)])[0].successful
        assert node._timer.timer_period_ns == 100_000_000
        assert not node.set_parameters([Parameter("rate", value=-1.0)])[0].successful
        assert not node.set_parameters([Parameter("source", value="other.mp4")])[0].successful
    finally:
        node.destroy_node()


def test_a_clip_loops_from_its_start_when_it_begins_at_zero() -> None:
    with VideoSource(CLIP, end_s=0.5, loop=True) as source:
        first_pass = [source.read() for _ in range(source.frame_count)]
        again = source.read()
    assert again is not None and again.index == 0
    np.testing.assert_array_equal(again.image, first_pass[0].image)


@pytest.mark.parametrize("signals", STOPS.values(), ids=STOPS.keys())
def test_stop_signals_end_the_process_quietly_with_status_0(signals: tuple[int, ...], tmp_path: Path) -> None:
    process = NodeProcess.module("emotion_perception.tools.video_publisher")
    try:
        assert process.wait_for_output("publishing file"), process.output
        assert process.stop(*signals) == 0, process.output
    finally:
        process.kill()
    assert "Traceback" not in process.output


@pytest.mark.skipif(Path("/dev/video0").exists(), reason="this machine has a camera")
def test_a_missing_camera_is_one_fatal_line_and_status_1() -> None:
    # `source:=0` on the command line (or from launch) arrives as an integer: it still names the camera.
    process = NodeProcess.module("emotion_perception.tools.video_publisher", "-p", "source:=0")
    try:
        assert process.finish() == 1, process.output
    finally:
        process.kill()
    fatal = [line for line in process.output.splitlines() if "FATAL" in line]
    assert len(fatal) == 1 and "cannot open camera device 0" in fatal[0], process.output
    assert "camera" not in process.output.replace(fatal[0], ""), process.output  # OpenCV's own warnings too
    assert "Traceback" not in process.output


def test_the_yaml_section_is_the_declared_defaults() -> None:
    section = yaml.safe_load((ROOT / "config" / "emotion_perception.yaml").read_text())["/**/video_publisher"]
    assert section["ros__parameters"] == {name: spec[0] for name, spec in PARAMETERS.items()}


def test_shutdown_at_end_ends_the_process_with_status_0() -> None:
    process = NodeProcess.module("emotion_perception.tools.video_publisher", "-p", "shutdown_at_end:=true",
                                 "-p", "max_frames:=3", "-p", "rate:=30.0")
    try:
        assert process.finish() == 0, process.output
    finally:
        process.kill()
    assert "published max_frames=3: 3 frame(s) published" in process.output
