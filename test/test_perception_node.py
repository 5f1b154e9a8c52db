# Copyright 2026 The emotion_perception Authors
# SPDX-License-Identifier: Apache-2.0
"""perception_node over real DDS with the real detector and model, fed real face frames."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import rclpy
import yaml
from builtin_interfaces.msg import Time
from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus
from helpers import PROCESS_TEST_TIMEOUT_S, ROOT, appender, load, wait_for
from node_process import STOPS, NodeProcess
from rclpy.exceptions import InvalidParameterValueException
from rclpy.executors import Executor
from rclpy.parameter import Parameter
from rclpy.qos import QoSProfile, ReliabilityPolicy, qos_profile_sensor_data
from sensor_msgs.msg import CompressedImage, Image

from emotion_msgs.msg import EmotionReaction, EmotionReactionArray
from emotion_perception.ros.image_conversion import bgr8_to_compressed, numpy_to_image
from emotion_perception.ros.perception_node import PARAMETERS, PerceptionNode
from emotion_perception.vision.detection import DEFAULT_DETECTOR_PATH, DetectorLoadError
from emotion_perception.vision.model import DEFAULT_MODEL_PATH, ModelLoadError, card_path

pytestmark = pytest.mark.timeout(PROCESS_TEST_TIMEOUT_S)

RELIABLE = QoSProfile(depth=50, reliability=ReliabilityPolicy.RELIABLE)
FRAME_ID = "camera_optical_frame"


class Camera:
    """A node that publishes frames to perception_node and records everything it answers."""

    def __init__(self, context: object, executor: Executor) -> None:
        self.node = rclpy.create_node("test_camera", context=context)
        self.image_pub = self.node.create_publisher(Image, "image", qos_profile_sensor_data)
        self.compressed_pub = self.node.create_publisher(CompressedImage, "image/compressed", qos_profile_sensor_data)
        self.reactions: list[EmotionReaction] = []
        self.arrays: list[EmotionReactionArray] = []
        self.diagnostics: list[DiagnosticArray] = []
        self.debug: list[Image] = []
        self._lock = threading.Lock()
        self.node.create_subscription(
            EmotionReaction, "/human/reaction", appender(self.reactions, self._lock), RELIABLE)
        self.node.create_subscription(
            EmotionReactionArray, "/human/reactions", appender(self.arrays, self._lock), RELIABLE)
        self.node.create_subscription(DiagnosticArray, "/diagnostics", appender(self.diagnostics, self._lock), RELIABLE)
        self._stamp = 1_700_000_000
        executor.add_node(self.node)

    def saw_status(self, level: bytes) -> bool:
        """Whether a /diagnostics status of ``level`` has arrived."""
        return any(a.status[0].level == level for a in list(self.diagnostics))

    def subscribe_debug(self) -> None:
        self.node.create_subscription(
            Image, "/perception_node/debug_image", appender(self.debug, self._lock), qos_profile_sensor_data
        )

    def next_stamp(self) -> Time:
        self._stamp += 1
        return Time(sec=self._stamp, nanosec=250_000_000)

    def image(self, frame: np.ndarray) -> Image:
        msg = numpy_to_image(frame, "bgr8")
        msg.header.stamp, msg.header.frame_id = self.next_stamp(), FRAME_ID
        return msg

    def array_for(self, stamp: Time) -> EmotionReactionArray | None:
        with self._lock:
            return next((a for a in self.arrays if a.header.stamp == stamp), None)

    def send(self, msg: Image | CompressedImage, timeout: float = 15.0) -> EmotionReactionArray:
        """Publish ``msg`` (again every second: best effort may lose one) until its array comes back."""
        pub = self.compressed_pub if isinstance(msg, CompressedImage) else self.image_pub
        assert wait_for(lambda: pub.get_subscription_count() > 0, timeout)
        for _ in range(int(timeout)):
            pub.publish(msg)
            if wait_for(lambda: self.array_for(msg.header.stamp) is not None, 1.0):
                return self.array_for(msg.header.stamp)
        raise AssertionError(f"no EmotionReactionArray for the frame stamped {msg.header.stamp}")

    def reactions_for(self, stamp: Time, count: int) -> list[EmotionReaction]:
        def found() -> list[EmotionReaction]:
            with self._lock:
                return [r for r in self.reactions if r.header.stamp == stamp]

        assert wait_for(lambda: len(found()) >= count, 5.0)
        return found()


def start_node(context: object, executor: Executor, **overrides: object) -> PerceptionNode:
    params = {"smoothing": 0.0, "min_confidence": 0.0, **overrides}
    node = PerceptionNode(context=context, parameter_overrides=[Parameter(k, value=v) for k, v in params.items()])
    executor.add_node(node)
    return node


@pytest.fixture
def camera(ros_context: object, executor: Executor) -> Camera:
    return Camera(ros_context, executor)


@pytest.fixture
def node(ros_context: object, executor: Executor) -> PerceptionNode:
    return start_node(ros_context, executor)


@pytest.mark.parametrize(
    ("name", "valence"),
    [
        ("pexels_sad_030.jpg", EmotionReaction.NEGATIVE),
        ("pexels_sad_045.jpg", EmotionReaction.NEGATIVE),
        ("pexels_happy_330.jpg", EmotionReaction.POSITIVE),
        ("pexels_happy_360.jpg", EmotionReaction.POSITIVE),
    ],
)
def test_one_reaction_per_face_with_the_frames_stamp_and_the_right_valence(
    camera: Camera, node: PerceptionNode, name: str, valence: int
) -> None:
    msg = camera.image(load(name))
    array = camera.send(msg)
    assert len(array.reactions) == 1
    assert array.header.frame_id == FRAME_ID
    (reaction,) = camera.reactions_for(msg.header.stamp, 1)
    assert reaction.header.stamp == msg.header.stamp and reaction.header.frame_id == FRAME_ID
    assert reaction.valence == valence
    assert reaction.confidence == pytest.approx(max(reaction.probabilities))
    box = reaction.face
    # The face is in the right half of the 640x360 frame, about 210x300 px.
    assert 300 < box.x_offset + box.width / 2 < 520 and 120 < box.y_offset + box.height / 2 < 260
    assert 170 < box.width < 260
    assert re.fullmatch(r"[a-z][a-z0-9]{4}", reaction.face_id), reaction.face_id


def test_no_face_gives_an_empty_array(camera: Camera, node: PerceptionNode) -> None:
    msg = camera.image(load("pexels_no_face.jpg"))
    assert camera.send(msg).reactions == []
    noise = np.random.default_rng(1).integers(0, 256, (480, 640, 3), dtype=np.uint8)
    assert camera.send(camera.image(noise)).reactions == []
    assert camera.reactions == []


def test_five_faces_give_five_reactions_with_distinct_ids(camera: Camera, node: PerceptionNode) -> None:
    msg = camera.image(load("pexels_five_faces.jpg"))
    array = camera.send(msg)
    assert len(array.reactions) == 5
    assert len({r.face_id for r in array.reactions}) == 5
    assert len(camera.reactions_for(msg.header.stamp, 5)) == 5


def test_face_id_is_stable_over_a_sequence_and_new_after_the_face_left(
    camera: Camera, ros_context: object, executor: Executor
) -> None:
    # Every frame searched: a frame sent twice (best effort may lose one) must not change which frames are.
    start_node(ros_context, executor, max_missed=1, detect_every=1)
    names = ["pexels_sad_030.jpg", "pexels_sad_045.jpg", "pexels_happy_330.jpg", "pexels_happy_360.jpg"]
    ids = [r.face_id for name in names for r in camera.send(camera.image(load(name))).reactions]
    assert len(ids) == 4 and len(set(ids)) == 1
    for _ in range(2):
        assert camera.send(camera.image(load("pexels_no_face.jpg"))).reactions == []
    (again,) = [r.face_id for r in camera.send(camera.image(load("pexels_happy_330.jpg"))).reactions]
    assert again != ids[0]


def test_compressed_input_and_sim_time(camera: Camera, ros_context: object, executor: Executor) -> None:
    start_node(ros_context, executor, compressed_input=True, use_sim_time=True)
    msg = bgr8_to_compressed(load("pexels_happy_330.jpg"))
    msg.header.stamp, msg.header.frame_id = Time(sec=42, nanosec=7), FRAME_ID
    array = camera.send(msg)
    assert array.header.stamp == Time(sec=42, nanosec=7)
    assert [r.valence for r in array.reactions] == [EmotionReaction.POSITIVE]


def test_debug_image_is_annotated_and_only_published_to_subscribers(camera: Camera, node: PerceptionNode) -> None:
    frame = load("pexels_sad_030.jpg")
    camera.send(camera.image(frame))
    assert camera.debug == []
    camera.subscribe_debug()
    assert wait_for(lambda: node.count_subscribers("/perception_node/debug_image") > 0)

    def debug_arrived() -> bool:
        camera.send(camera.image(frame))
        return bool(camera.debug)

    assert wait_for(debug_arrived, 15.0, period=0.0)
    debug = camera.debug[-1]
    assert (debug.width, debug.height, debug.encoding) == (640, 360, "bgr8")
    assert np.frombuffer(debug.data, np.uint8).reshape(360, 640, 3).tobytes() != frame.tobytes()


def test_debug_image_rate_caps_the_annotated_frames(camera: Camera, node: PerceptionNode) -> None:
    frame = load("pexels_happy_330.jpg")
    assert node.set_parameters([Parameter("debug_image_rate", value=0.5)])[0].successful
    camera.subscribe_debug()
    assert wait_for(lambda: node.count_subscribers("/perception_node/debug_image") > 0)
    started = time.monotonic()
    for _ in range(20):
        camera.send(camera.image(frame))
    elapsed = time.monotonic() - started
    assert wait_for(lambda: camera.debug, 5.0)
    time.sleep(0.5)  # any image still in flight
    assert 1 <= len(camera.debug) <= 1 + int(elapsed * 0.5), (len(camera.debug), elapsed)
    # 0 = every processed frame (best effort may still lose one).
    assert node.set_parameters([Parameter("debug_image_rate", value=0.0)])[0].successful
    before = len(camera.debug)
    for _ in range(10):
        camera.send(camera.image(frame))
    assert wait_for(lambda: len(camera.debug) - before >= 8, 5.0), len(camera.debug) - before


def test_a_burst_is_not_queued_only_the_newest_frame_is_processed(
    camera: Camera, ros_context: object, executor: Executor
) -> None:
    # Reliable on both sides (the node's by its qos_overrides parameters): every frame of the burst reaches it.
    # Five faces, each detected and classified on every frame: a frame takes longer than the next takes to arrive.
    node = start_node(ros_context, executor, detect_every=1, classify_every=1,
                      **{"qos_overrides./image.subscription.reliability": "reliable",
                         "qos_overrides./image.subscription.depth": 50})
    publisher = camera.node.create_publisher(Image, "image", RELIABLE)
    assert wait_for(lambda: publisher.get_subscription_count() > 0, 10.0)
    warm = camera.image(load("pexels_sad_030.jpg"))
    publisher.publish(warm)
    assert wait_for(lambda: camera.array_for(warm.header.stamp) is not None, 15.0)
    before = node.drops["backlog"]
    frames = [camera.image(load("pexels_five_faces.jpg")) for _ in range(20)]
    for msg in frames:
        publisher.publish(msg)

    def answered() -> int:
        return sum(camera.array_for(m.header.stamp) is not None for m in frames)

    assert wait_for(lambda: camera.array_for(frames[-1].header.stamp) is not None, 15.0), "the newest frame"
    assert wait_for(lambda: answered() + node.drops["backlog"] - before == len(frames), 5.0)
    assert node.drops["backlog"] - before > 0 and answered() < len(frames)


def _image(encoding: str = "bgr8", width: int = 64, height: int = 48, step: int | None = None, size: int | None = None):
    msg = Image(encoding=encoding, width=width, height=height)
    msg.step = 3 * width if step is None else step
    msg.data = bytes(msg.step * height if size is None else size)
    return msg


MALFORMED = {
    "unknown encoding": (_image(encoding="bayer_weird16"), "conversion"),
    "zero size": (_image(width=0, height=0, size=0), "conversion"),
    "truncated data": (_image(size=100), "conversion"),
    "step too small": (_image(step=10), "conversion"),
    "1x1 image": (_image(width=1, height=1), "too_small"),
    "8000x8000 image": (_image(width=8000, height=8000, size=64), "too_large"),
}


def test_malformed_frames_are_counted_and_the_node_keeps_working(camera: Camera, node: PerceptionNode) -> None:
    for label, (msg, reason) in MALFORMED.items():
        before = node.drops[reason]
        msg.header.stamp = camera.next_stamp()

        def dropped(msg: Image = msg, reason: str = reason, before: int = before) -> bool:
            camera.image_pub.publish(msg)
            return node.drops[reason] > before

        assert wait_for(lambda: camera.image_pub.get_subscription_count() > 0)
        assert wait_for(dropped, 10.0, period=0.5), label
        assert camera.array_for(msg.header.stamp) is None, label
    assert len(camera.send(camera.image(load("pexels_happy_360.jpg"))).reactions) == 1

    def warned() -> DiagnosticStatus | None:
        for array in reversed(list(camera.diagnostics)):
            status = array.status[0]
            values = {kv.key: kv.value for kv in status.values}
            if int(values.get("drops_conversion", 0)) >= 4 and int(values.get("drops_too_large", 0)) >= 1:
                return status
        return None

    assert wait_for(lambda: warned() is not None, 5.0)
    status = warned()
    assert status.name.startswith("perception_node")
    assert {"input_fps", "processed_fps", "latency_p95_ms", "drops_backlog", "drops_too_small"} <= {
        kv.key for kv in status.values
    }


def test_diagnostics_report_rates_and_levels(camera: Camera, node: PerceptionNode) -> None:
    assert wait_for(lambda: camera.saw_status(DiagnosticStatus.WARN), 5.0)
    assert any("no input" in a.status[0].message for a in camera.diagnostics)
    topic = node.resolve_topic_name("image")

    def silent_with_the_camera_matched() -> DiagnosticStatus | None:
        return next((a.status[0] for a in reversed(list(camera.diagnostics)) if a.status[0].message.startswith(
            f"no input frames although 1 publisher(s) matched on {topic}: none sent, or lost in transport")), None)

    assert wait_for(lambda: silent_with_the_camera_matched() is not None, 5.0), [
        a.status[0].message for a in camera.diagnostics]
    assert {kv.key: kv.value for kv in silent_with_the_camera_matched().values}["image_publishers_matched"] == "1"
    frame = load("pexels_sad_030.jpg")
    camera.diagnostics.clear()

    def healthy() -> bool:
        camera.send(camera.image(frame))
        return camera.saw_status(DiagnosticStatus.OK)

    assert wait_for(healthy, 10.0, period=0.0)
    ok = next(a.status[0] for a in camera.diagnostics if a.status[0].level == DiagnosticStatus.OK)
    values = {kv.key: float(kv.value) for kv in ok.values}
    assert values["processed_fps"] > 0 and values["latency_p95_ms"] > 0 and values["faces_per_frame"] == 1
    assert values["frames_received"] >= 1 and values["frames_received"] == int(values["frames_received"])


def test_an_oversized_compressed_frame_is_counted_as_too_large(
        camera: Camera, ros_context: object, executor: Executor) -> None:
    node = start_node(ros_context, executor, compressed_input=True, max_image_pixels=1000)
    big = bgr8_to_compressed(load("pexels_happy_330.jpg"), "jpeg")
    assert wait_for(lambda: camera.compressed_pub.publish(big) or node.drops["too_large"] > 0, 10.0, period=0.5)
    assert node.drops["conversion"] == 0


def test_a_node_with_no_camera_says_no_publisher_matched(camera: Camera, ros_context: object,
                                                         executor: Executor) -> None:
    lonely = PerceptionNode(context=ros_context, namespace="lonely")
    executor.add_node(lonely)
    reason = "no input frames: no publisher matched on /lonely/image (none running, or its QoS is incompatible"
    assert wait_for(lambda: any(a.status[0].message.startswith(reason) and a.status[0].name.startswith("lonely/")
                                for a in list(camera.diagnostics)), 5.0)


@pytest.mark.parametrize(
    ("name", "value", "reason"),
    [
        ("smoothing", 1.5, "smoothing"),
        ("detection_size", 32, "detection_size"),
        ("min_detection_confidence", 0.0, "min_detection_confidence"),
        ("detect_every", 0, "detect_every"),
        ("max_faces", "many", "type"),
        ("class_prior", [0.35, 0.0], "class_prior"),
        ("class_prior", [9.0, 0.0, 0.0], "class_prior"),
        ("model_path", "/new/model.pt", "read-only"),
    ],
)
def test_set_parameters_rejects_bad_values_with_a_reason(
    node: PerceptionNode, name: str, value: object, reason: str
) -> None:
    before = node.get_parameter(name).value
    (result,) = node.set_parameters([Parameter(name, value=value)])
    assert not result.successful
    assert reason in result.reason
    assert node.get_parameter(name).value == before


def test_set_parameters_applies_good_values_at_runtime(camera: Camera, node: PerceptionNode) -> None:
    results = node.set_parameters([Parameter("min_confidence", value=1.0), Parameter("detection_size", value=256)])
    assert all(r.successful for r in results)
    assert node.recognizer.config.min_confidence == 1.0 and node.recognizer.detector.input_size == 256
    (reaction,) = camera.send(camera.image(load("pexels_happy_330.jpg"))).reactions
    assert reaction.valence == EmotionReaction.NEUTRAL
    node.set_parameters([Parameter("max_image_pixels", value=1000)])
    before = node.drops["too_large"]
    big = camera.image(load("pexels_happy_330.jpg"))
    assert wait_for(lambda: camera.image_pub.publish(big) or node.drops["too_large"] > before, 10.0, period=0.5)


def test_class_prior_set_at_runtime_shifts_the_published_probabilities(
    ros_context: object, executor: Executor, camera: Camera
) -> None:
    node = start_node(ros_context, executor, detect_every=1, classify_every=1)
    face, prior = load("pexels_sad_045.jpg"), np.array([1.0, 0.0, -1.0])
    (plain,) = camera.send(camera.image(face)).reactions
    (result,) = node.set_parameters([Parameter("class_prior", value=prior.tolist())])
    assert result.successful and node.recognizer.config.class_prior == tuple(prior)
    (shifted,) = camera.send(camera.image(face)).reactions
    before = np.array(plain.probabilities, np.float64)
    assert np.allclose(shifted.probabilities, before * np.exp(prior) / (before * np.exp(prior)).sum(), atol=1e-5)
    assert shifted.probabilities[0] > plain.probabilities[0] + 0.01


@pytest.mark.parametrize(
    ("overrides", "error"),
    [
        ({"smoothing": 1.5}, InvalidParameterValueException),
        ({"class_prior": [0.1, 0.2]}, ValueError),
        ({"detection_size": 32}, ValueError),
        ({"model_path": "/nonexistent/valence.pt"}, ModelLoadError),
    ],
)
def test_invalid_start_parameters_fail_with_a_reason(
    ros_context: object, overrides: dict, error: type[Exception]
) -> None:
    with pytest.raises(error, match=next(iter(overrides)) if error is not ModelLoadError else "nonexistent"):
        PerceptionNode(context=ros_context, parameter_overrides=[Parameter(k, value=v) for k, v in overrides.items()])


def test_a_corrupt_model_fails_at_start_naming_the_file(ros_context: object, tmp_path: Path) -> None:
    corrupt = tmp_path / "truncated_model.pt"
    corrupt.write_bytes(DEFAULT_MODEL_PATH.read_bytes()[:4096])
    card_path(corrupt).write_text(card_path(DEFAULT_MODEL_PATH).read_text())
    with pytest.raises(ModelLoadError, match="truncated_model"):
        PerceptionNode(context=ros_context, parameter_overrides=[Parameter("model_path", value=str(corrupt))])
    corrupt_detector = tmp_path / "truncated_yunet.onnx"
    corrupt_detector.write_bytes(DEFAULT_DETECTOR_PATH.read_bytes()[:4096])
    with pytest.raises(DetectorLoadError, match="truncated_yunet"):
        PerceptionNode(
            context=ros_context, parameter_overrides=[Parameter("detector_model_path", value=str(corrupt_detector))]
        )


def test_main_exits_non_zero_naming_a_missing_model(tmp_path: Path) -> None:
    missing = tmp_path / "missing_model.pt"
    command = [sys.executable, "-m", "emotion_perception.ros.perception_node"]
    result = subprocess.run(
        [*command, "--ros-args", "-p", f"model_path:={missing}"],
        capture_output=True, text=True, timeout=120, cwd=ROOT, env=os.environ.copy(),
    )
    assert result.returncode == 1
    assert str(missing) in result.stderr + result.stdout


def test_yaml_defaults_match_the_declared_defaults() -> None:
    section = yaml.safe_load((ROOT / "config" / "emotion_perception.yaml").read_text())["/**/perception_node"]
    assert section["ros__parameters"] == {name: spec[0] for name, spec in PARAMETERS.items()}


@pytest.mark.parametrize("signals", STOPS.values(), ids=STOPS.keys())
def test_stop_signals_end_the_process_quietly_with_status_0(signals: tuple[int, ...], tmp_path: Path) -> None:
    process = NodeProcess.module("emotion_perception.ros.perception_node")
    try:
        assert process.wait_for_output("publishing /human/reaction"), process.output
        assert process.stop(*signals) == 0, process.output
    finally:
        process.kill()
    assert "Traceback" not in process.output


def test_an_exception_of_any_type_in_one_frame_is_a_counted_drop(camera: Camera, node: PerceptionNode) -> None:
    from onnxruntime.capi.onnxruntime_pybind11_state import InvalidArgument  # not a RuntimeError

    run = node.recognizer.run
    failures: list[int] = []

    def fail_once(frame: np.ndarray) -> list:
        if not failures:
            failures.append(1)
            raise InvalidArgument("the classifier refused this frame")
        return run(frame)

    node.recognizer.run = fail_once
    frame = camera.image(load("pexels_happy_330.jpg"))
    assert wait_for(lambda: camera.image_pub.get_subscription_count() > 0)
    assert wait_for(lambda: camera.image_pub.publish(frame) or node.drops["processing"] == 1, 15.0, period=0.5)
    assert len(camera.send(camera.image(load("pexels_happy_360.jpg"))).reactions) == 1


WORKER_KILLER = """
import sys
from emotion_perception.ros import perception_node


class Killed(BaseException):
    pass


def process(self, *args):
    raise Killed("the test ends the worker thread")


perception_node.PerceptionNode._process = process
sys.exit(perception_node.main())
"""


def test_a_dead_worker_reports_error_and_the_process_exits_1(camera: Camera) -> None:
    process = NodeProcess([sys.executable, "-c", WORKER_KILLER])
    try:
        assert process.wait_for_output("publishing /human/reaction"), process.output
        # Its first status (no input yet) shows that /diagnostics has matched: a loaded machine can match the
        # image topic first, and a status sent before the match is not delivered.
        assert wait_for(lambda: camera.saw_status(DiagnosticStatus.WARN), 60.0)
        frame = camera.image(load("pexels_happy_330.jpg"))
        assert wait_for(lambda: camera.image_pub.publish(frame) or process.process.poll() is not None, 60.0, 0.5)
        assert process.finish() == 1, process.output
    finally:
        process.kill()
    assert "processing thread ended" in process.output
    assert wait_for(lambda: camera.saw_status(DiagnosticStatus.ERROR), 5.0)


def test_topics_are_relative_to_the_namespace(ros_context: object) -> None:
    node = PerceptionNode(context=ros_context, namespace="robot1")
    try:
        assert node._reaction_pub.topic_name == "/robot1/human/reaction"
        assert node._array_pub.topic_name == "/robot1/human/reactions"
        assert [subscription.topic_name for subscription in node.subscriptions] == ["/robot1/image"]
    finally:
        node.destroy_node()
