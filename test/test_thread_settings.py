# Copyright 2026 The emotion_perception Authors
# SPDX-License-Identifier: Apache-2.0
"""The CPU settings of issue 27 reach onnxruntime, OpenCV and glibc as configured (read back, never timed)."""

from __future__ import annotations

import platform
from collections.abc import Iterator

import cv2
import onnxruntime as ort
import pytest
import rclpy
from diagnostic_msgs.msg import DiagnosticArray
from helpers import PROCESS_TEST_TIMEOUT_S, load, wait_for
from rclpy.executors import Executor
from rclpy.parameter import Parameter
from rclpy.qos import QoSProfile, ReliabilityPolicy

from emotion_perception.ros.malloc_tuning import keep_freed_buffers
from emotion_perception.ros.perception_node import PerceptionNode
from emotion_perception.vision import classifier, detection
from emotion_perception.vision.detection import DEFAULT_DETECTOR_PATH
from emotion_perception.vision.onnx_session import SPINNING_KEYS, onnx_session
from emotion_perception.vision.recognizer import EmotionRecognizer, RecognizerConfig


@pytest.fixture
def opened(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, list[ort.InferenceSession]]]:
    """Every onnxruntime session the detector and the classifier open, by model; OpenCV's threads restored after."""
    sessions: dict[str, list[ort.InferenceSession]] = {"detector": [], "classifier": []}
    for name, module in (("detector", detection), ("classifier", classifier)):
        def recording(*args: object, _into: list = sessions[name], **kwargs: object) -> ort.InferenceSession:
            session = onnx_session(*args, **kwargs)
            _into.append(session)
            return session

        monkeypatch.setattr(module, "onnx_session", recording)
    threads = cv2.getNumThreads()
    yield sessions
    cv2.setNumThreads(threads)


def assert_pool(session: ort.InferenceSession, threads: int) -> None:
    """``threads`` intra-op threads, no inter-op pool, and no pool that spins between jobs."""
    options = session.get_session_options()
    assert (options.intra_op_num_threads, options.inter_op_num_threads) == (threads, 1)
    assert [options.get_session_config_entry(key) for key in SPINNING_KEYS] == ["0", "0"]


@pytest.mark.parametrize("threads", [1, 2, 3])
def test_onnx_session_has_the_threads_asked_for_and_sleeps_between_jobs(threads: int) -> None:
    assert_pool(onnx_session(DEFAULT_DETECTOR_PATH, threads), threads)
    spinning = onnx_session(DEFAULT_DETECTOR_PATH, threads, spinning=True).get_session_options()
    assert [spinning.get_session_config_entry(key) for key in SPINNING_KEYS] == ["1", "1"]


def test_the_recognizer_gives_its_threads_to_both_models_and_opencv_its_own(opened: dict) -> None:
    EmotionRecognizer(threads=3)
    assert cv2.getNumThreads() == 1  # the default: OpenCV's share of a frame is too small for a pool
    EmotionRecognizer(threads=2, opencv_threads=2)
    assert cv2.getNumThreads() == 2
    EmotionRecognizer(threads=1)
    for name, sessions in opened.items():  # each pooled model has its one-thread twin; one thread needs none
        assert [s.get_session_options().intra_op_num_threads for s in sessions] == [3, 1, 2, 1, 1], name
        for session in sessions:
            assert_pool(session, session.get_session_options().intra_op_num_threads)
    with pytest.raises(ValueError, match="opencv_threads"):
        EmotionRecognizer(opencv_threads=0)


def test_one_face_runs_on_one_thread_and_five_on_the_pools(monkeypatch: pytest.MonkeyPatch) -> None:
    recognizer = EmotionRecognizer(config=RecognizerConfig(detect_every=1, classify_every=1), threads=2)
    ran: list[int] = []
    run = ort.InferenceSession.run

    def recording(session: ort.InferenceSession, *args: object, **kwargs: object) -> object:
        ran.append(session.get_session_options().intra_op_num_threads)
        return run(session, *args, **kwargs)

    monkeypatch.setattr(ort.InferenceSession, "run", recording)
    assert len(recognizer.run(load("pexels_sad_030.jpg"))) == 1
    assert ran == [1, 1]  # the detector, then the classifier
    five = load("pexels_five_faces.jpg")
    recognizer.run(five)
    ran.clear()
    assert len(recognizer.run(five)) == 5
    assert ran == [2, 2]


@pytest.mark.timeout(PROCESS_TEST_TIMEOUT_S)
def test_the_node_parameters_reach_onnxruntime_and_opencv(ros_context: object, opened: dict) -> None:
    node = PerceptionNode(context=ros_context, parameter_overrides=[
        Parameter("threads", value=3), Parameter("opencv_threads", value=2)])
    try:
        assert cv2.getNumThreads() == 2
        for sessions in opened.values():
            assert [s.get_session_options().intra_op_num_threads for s in sessions] == [3, 1]
            assert_pool(sessions[0], 3)
    finally:
        node.destroy_node()


@pytest.mark.timeout(PROCESS_TEST_TIMEOUT_S)
def test_diagnostics_report_the_process_cpu(ros_context: object, executor: Executor) -> None:
    executor.add_node(PerceptionNode(context=ros_context))
    reported: list[float] = []

    def on_diagnostics(msg: DiagnosticArray) -> None:
        reported.extend(float(kv.value) for status in msg.status for kv in status.values
                        if kv.key == "process_cpu_percent")

    probe = rclpy.create_node("cpu_probe", context=ros_context)
    probe.create_subscription(DiagnosticArray, "/diagnostics", on_diagnostics,
                              QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE))
    executor.add_node(probe)
    assert wait_for(lambda: len(reported) >= 2, 10.0)
    assert all(value >= 0.0 for value in reported)


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="mallopt thresholds are glibc's")
def test_freed_frame_buffers_stay_in_the_process_on_glibc() -> None:
    assert keep_freed_buffers()
