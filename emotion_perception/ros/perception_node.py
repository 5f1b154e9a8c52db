# Copyright 2026 The emotion_perception Authors
# SPDX-License-Identifier: Apache-2.0
"""perception_node: camera frames in, the valence of every face out (thin wrapper of EmotionRecognizer).

Subscribes ``image`` (``sensor_msgs/Image``, or ``image/compressed`` with ``compressed_input``),
publishes ``human/reaction`` (one ``EmotionReaction`` per face), ``human/reactions`` (one
``EmotionReactionArray`` per processed frame, empty when nobody is in view), ``~/debug_image``
(annotated, only while someone subscribes) and ``/diagnostics`` at 1 Hz; with ``hri_output``, also the
ROS4HRI (REP-155) ``humans/faces/...`` topics (:mod:`emotion_perception.ros.hri_output`). Topic names are relative, so
they resolve in the node's namespace (``/human/reaction`` without one). Only the newest frame is
processed, on a worker thread, so a slow frame never blocks DDS and no backlog builds up; an exception
in one frame is a counted drop, and should the worker thread ever end, the node reports ERROR and its
process exits with status 1 (so launch's ``respawn`` can restart it).
"""

from __future__ import annotations

import math
import sys
import threading
import time
from collections import Counter

import numpy as np
from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue
from rcl_interfaces.msg import SetParametersResult
from rclpy.clock import Clock, ClockType
from rclpy.duration import Duration
from rclpy.exceptions import InvalidParameterTypeException, InvalidParameterValueException
from rclpy.lifecycle import LifecycleNode, LifecyclePublisher, LifecycleState, TransitionCallbackReturn
from rclpy.parameter import Parameter
from rclpy.qos import QoSProfile, ReliabilityPolicy, qos_profile_sensor_data
from rclpy.subscription import Subscription
from rclpy.task import Future
from sensor_msgs.msg import CompressedImage, Image
from std_msgs.msg import Header

from emotion_msgs.msg import EmotionReaction, EmotionReactionArray
from emotion_perception.ros.image_conversion import (
    DEFAULT_MAX_PIXELS,
    ImageConversionError,
    ImageTooLargeError,
    compressed_to_bgr8,
    image_to_bgr8,
    numpy_to_image,
)
from emotion_perception.ros.lifecycle_service import refuse_unavailable_transitions
from emotion_perception.ros.malloc_tuning import keep_freed_buffers
from emotion_perception.ros.messages import reaction_to_msg
from emotion_perception.ros.node_main import run_node, set_up_or_destroy
from emotion_perception.ros.parameter_table import ParameterSpec, parameter_descriptor
from emotion_perception.ros.qos import QosOverrideError, overridable_publisher, overridable_subscription
from emotion_perception.vision.detection import DetectorLoadError
from emotion_perception.vision.model_card import ModelLoadError
from emotion_perception.vision.recognizer import (
    CLASS_PRIOR_RANGE,
    CONFIG_RANGES,
    EmotionRecognizer,
    RecognizerConfig,
)

try:
    from emotion_perception.ros.hri_output import HriFaceOutput
except ModuleNotFoundError as _missing:  # hri_msgs is optional: only hri_output needs it
    if _missing.name != "hri_msgs":
        raise
    HriFaceOutput = None

#: The recognizer settings' ranges are RecognizerConfig's (detection_size: 0 or its range).
RANGE = CONFIG_RANGES
#: name -> (default, description, (min, max) or None, read-only). Defaults mirror config/emotion_perception.yaml.
PARAMETERS: dict[str, ParameterSpec] = {
    "autostart": (True, "configure and activate at start (a bad model then ends the process with status 1);"
                  " false: stay unconfigured until the lifecycle services are called", None, True),
    "model_path": ("", "valence model file; empty = the shipped model", None, True),
    "detector_model_path": ("", "YuNet ONNX file; empty = the shipped detector", None, True),
    "compressed_input": (False, "subscribe sensor_msgs/CompressedImage on image/compressed", None, True),
    "threads": (2, "onnxruntime threads of the detector and the classifier (idle ones sleep)", (1, 16), True),
    "opencv_threads": (1, "OpenCV threads (process-wide); its per-frame work here is too small to share", (1, 16),
                       True),
    "precision": ("auto", "classifier: auto (the model's int8 export when it has one), int8 or fp32", None, True),
    "detection_size": (320, "longest side (px) of the frame copy the detector sees; 0 = full size",
                       (0, RANGE["detection_size"][1]), False),
    "detect_every": (2, "run the detector every N frames, reusing tracked boxes between", RANGE["detect_every"], False),
    "classify_every": (3, "re-classify a face every N frames, reusing its last result", RANGE["classify_every"], False),
    "min_detection_confidence": (0.6, "detector score below which a box is ignored",
                                 RANGE["min_detection_confidence"], False),
    "min_face_size": (24, "smallest face side (px) that is classified", RANGE["min_face_size"], False),
    "min_confidence": (0.4, "classifier probability below which valence is NEUTRAL", RANGE["min_confidence"], False),
    "smoothing": (0.5, "per-face EMA weight of past probabilities; 0 = off", RANGE["smoothing"], False),
    "max_faces": (10, "most faces classified per frame (highest detector score first)", RANGE["max_faces"], False),
    "max_missed": (5, "detector runs a face may be missed before its id is dropped", RANGE["max_missed"], False),
    "class_prior": ([0.0, 0.0, 0.0], "log-prior (negative, neutral, positive) added to the model's decision rule;"
                    " [0.35, 0.0, 0.0] reports more faces NEGATIVE", None, False),
    "max_image_pixels": (DEFAULT_MAX_PIXELS, "larger frames (width x height) are dropped", (1, 1 << 28), False),
    "debug_image_rate": (10.0, "Hz cap of ~/debug_image, drawn only while subscribed; 0 = every processed frame",
                         (0.0, 1000.0), False),
    "hri_output": (False, "also publish ROS4HRI (REP-155) humans/faces/... topics (needs hri_msgs)", None, True),
    "hri_face_images": (True, "with hri_output: humans/faces/<id>/cropped and /aligned exist (made only while"
                        " subscribed); false: no face image leaves the process", None, True),
    "hri_min_frames": (3, "frames in a row a face must be in before humans/faces/tracked lists it", (1, 100), True),
    "hri_max_missed": (4, "frames a listed face may be missing before humans/faces/tracked drops it", (0, 100), True),
    "hri_camera_timeout": (1.0, "s without a frame after which humans/faces/tracked says []", (0.1, 60.0), True),
    "hri_namespaced": (False, "humans/faces/... in the node's namespace instead of REP-155's /humans/faces/...",
                       None, True),
    "hri_face_timeout": (2.0, "s after a face leaves before its humans/faces/<id>/* publishers go", (0.0, 60.0), True),
}
CONSTRAINTS = {"detection_size": "0 or in [{}, {}]".format(*RANGE["detection_size"]),
               "class_prior": "3 numbers in [{}, {}]".format(*CLASS_PRIOR_RANGE)}
CONFIG_KEYS = tuple(f.name for f in RecognizerConfig.__dataclass_fields__.values())
STARTUP_ERRORS = (
    ModelLoadError, DetectorLoadError, ValueError, InvalidParameterValueException, InvalidParameterTypeException
)
DROP_REASONS = ("conversion", "too_large", "too_small", "backlog", "processing")
WORKER_DEAD = "the processing thread ended; no frame is processed any more"
RELIABLE_10 = QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE)
#: The publishers configure makes (message type, topic, QoS before the user's overrides).
PUBLISHED = ((EmotionReaction, "human/reaction", RELIABLE_10), (EmotionReactionArray, "human/reactions", RELIABLE_10),
             (Image, "~/debug_image", qos_profile_sensor_data))


def _period(rate_hz: float) -> float:
    """Seconds between two publications at most ``rate_hz`` (0 = no limit)."""
    return 1.0 / rate_hz if rate_hz > 0 else 0.0


#: What the log and /diagnostics say during the privacy pause (deactivated).
PAUSED = "paused (inactive): no frame is processed or published until activated"


class PerceptionNode(LifecycleNode):
    """The perception pipeline as a composable lifecycle node (``**kwargs`` go to ``rclpy.lifecycle.LifecycleNode``).

    ``configure`` loads and checks the models and makes the publishers; ``activate`` subscribes to the camera
    and starts the worker thread; ``deactivate`` is the privacy pause: unsubscribed, the worker ended, the
    publishers disabled, no frame processed, kept or published (diagnostics say "paused"); ``cleanup`` and
    ``shutdown`` release the models and publishers. With ``autostart`` (the default) the constructor goes to
    active and raises ``ModelLoadError`` / ``DetectorLoadError`` for a missing or corrupt model and
    ``ValueError`` / ``InvalidParameterValueException`` for an invalid parameter; without, a failed
    ``configure`` logs the reason and leaves the node unconfigured.
    """

    def __init__(self, **kwargs: object) -> None:
        super().__init__("perception_node", **kwargs)
        refuse_unavailable_transitions(self)  # Jazzy's rclpy would end the process on a transition not offered
        set_up_or_destroy(self._setup, super().destroy_node)

    def _setup(self) -> None:
        for name, (default, *_) in PARAMETERS.items():
            descriptor = parameter_descriptor(name, PARAMETERS[name], CONSTRAINTS.get(name, ""))
            self.declare_parameter(name, default, descriptor)
        self._lock = threading.Condition()  # guards the pending frame, the counters and the lifecycle state
        self._recognizer_lock = threading.Lock()  # guards the recognizer (worker vs. parameter changes)
        self._state = "unconfigured"  # the lifecycle state the transitions left, for the callbacks and diagnostics
        self._configure_error: Exception | None = None  # why the last configure failed
        self._activate_error: Exception | None = None  # why the last activate failed
        self.recognizer: EmotionRecognizer | None = None
        self._hri = None
        self._image_sub: Subscription | None = None
        self._worker: threading.Thread | None = None
        self._stop = threading.Event()  # set: the current worker thread ends
        self._pending: tuple[Image | CompressedImage, float] | None = None
        self._totals: Counter[str] = Counter()
        self._window: Counter[str] = Counter()
        self._latencies: list[float] = []
        self._last_problem = ""
        #: Done with status 1 when the worker thread has ended while the node was active.
        self.exit_status = Future()
        self._diag_pub = self.create_publisher(DiagnosticArray, "/diagnostics", RELIABLE_10)
        self.add_on_set_parameters_callback(self._validate)
        self.add_post_set_parameters_callback(self._apply)
        steady = Clock(clock_type=ClockType.STEADY_TIME)  # diagnostics tick in wall time, also under sim time
        self._diag_timer = self.create_timer(1.0, self._publish_diagnostics, clock=steady)
        self._window_start, self._window_cpu = time.monotonic(), time.process_time()
        if self.get_parameter("autostart").value:
            # main: one FATAL line naming the reason, exit status 1 (a transition that raised logged its own)
            if self.trigger_configure() != TransitionCallbackReturn.SUCCESS:
                raise self._configure_error or RuntimeError("perception_node could not be configured")
            if self.trigger_activate() != TransitionCallbackReturn.SUCCESS:
                raise self._activate_error or RuntimeError("perception_node was configured but could not be activated")

    def on_configure(self, state: LifecycleState) -> TransitionCallbackReturn:
        """Load and check the models with the current parameters, make the publishers (disabled until active)."""
        params = {name: self.get_parameter(name).value for name in PARAMETERS}
        publishers: list[LifecyclePublisher] = []
        try:
            config = RecognizerConfig(**{k: params[k] for k in CONFIG_KEYS})
            recognizer = EmotionRecognizer(
                params["model_path"] or None, params["detector_model_path"] or None, config=config,
                threads=params["threads"], precision=params["precision"], opencv_threads=params["opencv_threads"],
            )
            for msg_type, topic, qos in PUBLISHED:
                publishers.append(overridable_publisher(self, msg_type, topic, qos, lifecycle=True))
            if params["hri_output"]:
                if HriFaceOutput is None:
                    raise ValueError("hri_output is true but hri_msgs is not installed (build it, or rosdep install)")
                self._hri = HriFaceOutput(
                    self, params["hri_face_timeout"], min_frames=params["hri_min_frames"],
                    max_missed=params["hri_max_missed"], face_images=params["hri_face_images"],
                    camera_timeout=params["hri_camera_timeout"], namespaced=params["hri_namespaced"])
        except STARTUP_ERRORS as exc:
            for publisher in publishers:
                self.destroy_lifecycle_publisher(publisher)
            self._configure_error = exc
            self.get_logger().error(f"configure failed, still unconfigured: {exc}")
            return TransitionCallbackReturn.FAILURE
        self._configure_error = None
        self._reaction_pub, self._array_pub, self._debug_pub = publishers
        keep_freed_buffers()  # each frame's buffers reuse freed heap instead of fresh pages the kernel faults in
        with self._recognizer_lock:
            self.recognizer = recognizer
        with self._lock:
            self._max_pixels = params["max_image_pixels"]
            self._debug_period = _period(params["debug_image_rate"])
        self._last_debug = -math.inf
        self._compressed = params["compressed_input"]
        self._set_state("inactive")
        self.get_logger().info(f"configured: classifier {recognizer.classifier.precision}")
        return super().on_configure(state)

    def on_activate(self, state: LifecycleState) -> TransitionCallbackReturn:
        """Subscribe to the camera, enable the publishers and start the worker thread."""
        try:
            # Frames that come before the state says active are not taken (_on_image).
            self._image_sub = overridable_subscription(
                self,
                CompressedImage if self._compressed else Image,
                "image/compressed" if self._compressed else "image",
                self._on_image,
                qos_profile_sensor_data,
            )
        except QosOverrideError as exc:
            self._activate_error = exc
            self.get_logger().error(f"activate failed, still inactive: {exc}")
            return TransitionCallbackReturn.FAILURE
        self._activate_error = None
        result = super().on_activate(state)
        with self._lock:
            self._pending = None
            self._window, self._latencies = Counter(), []
            self._window_start, self._window_cpu = time.monotonic(), time.process_time()
            self._state = "active"
        self._stop = threading.Event()
        self._worker = threading.Thread(target=self._work, args=(self._stop,), name="perception_worker", daemon=True)
        self._worker.start()
        self.get_logger().info(
            f"reading {self._image_sub.topic_name},"
            f" publishing {self._reaction_pub.topic_name} and {self._array_pub.topic_name}")
        return result

    def on_deactivate(self, state: LifecycleState) -> TransitionCallbackReturn:
        """The privacy pause: publishers disabled first (a frame in hand is not published), then no frame taken."""
        result = super().on_deactivate(state)
        self._stop_processing()
        self.get_logger().info(PAUSED)
        return result

    def on_cleanup(self, state: LifecycleState) -> TransitionCallbackReturn:
        """Release the models and the publishers (back to unconfigured)."""
        result = super().on_cleanup(state)
        self._release()
        return result

    def on_shutdown(self, state: LifecycleState) -> TransitionCallbackReturn:
        """Release everything, from whichever state, diagnostics included (finalized)."""
        result = super().on_shutdown(state)
        self._stop_processing()
        self._release()
        self.destroy_timer(self._diag_timer)
        self._set_state("finalized")
        return result

    def on_error(self, state: LifecycleState) -> TransitionCallbackReturn:
        """A transition raised: release everything and go back to unconfigured."""
        self.get_logger().error(f"a transition from {state.label} raised; releasing everything (unconfigured)")
        self._stop_processing()
        self._release()
        return super().on_error(state)

    def _set_state(self, label: str) -> None:
        with self._lock:
            self._state = label

    def _stop_processing(self) -> None:
        """Unsubscribe, end the worker after the frame in hand, forget the pending frame, say ``tracked: []``."""
        with self._lock:
            running = self._state == "active"
            self._state = "inactive" if running else self._state
            self._pending = None
            self._stop.set()
            self._lock.notify_all()
        if self._image_sub is not None:
            self.destroy_subscription(self._image_sub)
            self._image_sub = None
        if self._worker is not None and self._worker.is_alive() and threading.current_thread() is not self._worker:
            self._worker.join(timeout=5.0)
        if running and self._hri is not None:
            self._hri.clear()

    def _release(self) -> None:
        """Destroy the publishers and the REP-155 output, drop the models (unconfigured)."""
        if self.recognizer is None:
            return
        if self._hri is not None:
            self._hri.destroy()
            self._hri = None
        for publisher in (self._reaction_pub, self._array_pub, self._debug_pub):
            self.destroy_lifecycle_publisher(publisher)
        with self._recognizer_lock:
            self.recognizer = None
        self._set_state("unconfigured")

    def _validate(self, parameters: list[Parameter]) -> SetParametersResult:
        values = {name: self.get_parameter(name).value for name in CONFIG_KEYS}
        values.update({p.name: p.value for p in parameters if p.name in CONFIG_KEYS})
        try:
            RecognizerConfig(**values)
        except ValueError as exc:
            return SetParametersResult(successful=False, reason=str(exc))
        return SetParametersResult(successful=True)

    def _apply(self, parameters: list[Parameter]) -> None:
        changes = {p.name: p.value for p in parameters if p.name in CONFIG_KEYS}
        with self._recognizer_lock:
            if changes and self.recognizer is not None:  # unconfigured: configure reads the parameters
                self.recognizer.configure(**changes)
        with self._lock:
            self._max_pixels = self.get_parameter("max_image_pixels").value
            self._debug_period = _period(self.get_parameter("debug_image_rate").value)

    def _on_image(self, msg: Image | CompressedImage) -> None:
        with self._lock:
            if self._state != "active":
                return  # a frame delivered while the pause began: not kept, not counted
            self._window["input"] += 1
            self._totals["received"] += 1
            if self._pending is not None:
                self._count_drop("backlog")
            self._pending = (msg, time.monotonic())
            self._lock.notify()

    def _work(self, stop: threading.Event) -> None:
        try:
            while True:
                with self._lock:
                    self._lock.wait_for(lambda: self._pending is not None or stop.is_set())
                    if stop.is_set():
                        return
                    msg, received = self._pending
                    self._pending = None
                    max_pixels = self._max_pixels
                try:
                    self._process(msg, received, max_pixels)
                except Exception as exc:  # one frame's failure, whatever it is, is a counted drop
                    if not self.context.ok():
                        return  # shutting down: publishing failed because the context is gone
                    self._drop("processing", f"frame failed in processing: {type(exc).__name__}: {exc}")
        finally:
            if not stop.is_set() and self.context.ok():
                self._worker_died()

    def _worker_died(self) -> None:
        """Report the dead worker (ERROR diagnostics, FATAL log) and end the process with status 1.

        The exit waits (up to 2 s) for the monitors already matched to acknowledge the ERROR status: a
        sample still in flight when the process ends is lost.
        """
        self.get_logger().fatal(WORKER_DEAD)
        self._publish_status(DiagnosticStatus.ERROR, WORKER_DEAD)
        self._diag_pub.wait_for_all_acked(Duration(seconds=2.0))
        self.exit_status.set_result(1)

    def _process(self, msg: Image | CompressedImage, received: float, max_pixels: int) -> None:
        try:
            frame = compressed_to_bgr8(msg, max_pixels) if self._compressed else image_to_bgr8(msg, max_pixels)
        except ImageTooLargeError as exc:
            self._drop("too_large", f"frame dropped: {exc}")
            return
        except ImageConversionError as exc:
            self._drop("conversion", f"bad input frame dropped: {exc}")
            return
        if min(frame.shape[:2]) < self.recognizer.config.min_face_size:
            self._drop("too_small", f"frame of {frame.shape[1]}x{frame.shape[0]} px is smaller than min_face_size")
            return
        with self._recognizer_lock:
            reactions = self.recognizer.run(frame)
        messages = [reaction_to_msg(reaction, msg.header) for reaction in reactions]
        for message in messages:
            self._reaction_pub.publish(message)
        self._array_pub.publish(EmotionReactionArray(header=msg.header, reactions=messages))
        if self._hri is not None:
            self._hri.publish(reactions, msg.header, frame, time.monotonic())
        if self._debug_pub.get_subscription_count() > 0 and received - self._last_debug >= self._debug_period:
            self._last_debug = received
            annotated = self.recognizer.annotate(frame, reactions)
            self._debug_pub.publish(numpy_to_image(annotated, "bgr8", msg.header))
        with self._lock:
            self._window["processed"] += 1
            self._window["faces"] += len(reactions)
            self._latencies.append(1e3 * (time.monotonic() - received))

    def _count_drop(self, reason: str) -> None:
        self._window[f"drop_{reason}"] += 1
        self._totals[reason] += 1

    def _drop(self, reason: str, message: str) -> None:
        with self._lock:
            self._count_drop(reason)
            self._last_problem = message
        log = self.get_logger().error if reason == "processing" else self.get_logger().warning
        log(message, throttle_duration_sec=5.0)

    def _publish_status(self, level: bytes, message: str, values: dict[str, object] | None = None) -> None:
        status = DiagnosticStatus(
            level=level, name=f"{self.get_fully_qualified_name().lstrip('/')}: face valence pipeline",
            message=message, hardware_id="none",
            values=[KeyValue(key=k, value=f"{v:.2f}" if isinstance(v, float) else str(v))
                    for k, v in (values or {}).items()],
        )
        self._diag_pub.publish(DiagnosticArray(header=Header(stamp=self.get_clock().now().to_msg()), status=[status]))

    def _silence(self, matched: int) -> str:
        """Why no frame came: no publisher matched, or frames lost between a matched publisher and this node."""
        topic = self._image_sub.topic_name
        if not matched:
            return (f"no input frames: no publisher matched on {topic} (none running, or its QoS is incompatible: "
                    f"ros2 topic info -v {topic})")
        return (f"no input frames although {matched} publisher(s) matched on {topic}: none sent, or lost in "
                "transport (camera-sized images need the shared-memory profile; after a crash, restart the publisher)")

    def _publish_diagnostics(self) -> None:
        with self._lock:
            state = self._state
        if state != "active":
            self._publish_status(*self._idle_status(state))
            return
        if not self._worker.is_alive():
            self._publish_status(DiagnosticStatus.ERROR, WORKER_DEAD)
            return
        with self._lock:
            window, self._window = self._window, Counter()
            latencies, self._latencies = np.asarray(self._latencies), []
            totals, problem = dict(self._totals), self._last_problem
            now, cpu = time.monotonic(), time.process_time()
            elapsed, self._window_start = max(now - self._window_start, 1e-3), now
            cpu_seconds, self._window_cpu = cpu - self._window_cpu, cpu
        matched = self._image_sub.get_publisher_count()
        bad = window["drop_conversion"] + window["drop_too_large"] + window["drop_too_small"]
        if window["drop_processing"]:
            level, message = DiagnosticStatus.ERROR, f"{window['drop_processing']} frame(s) failed: {problem}"
        elif window["input"] == 0:
            level, message = DiagnosticStatus.WARN, self._silence(matched)
        elif bad:
            level, message = DiagnosticStatus.WARN, f"{bad} bad frame(s) dropped: {problem}"
        elif window["drop_backlog"] > window["processed"]:
            level, message = DiagnosticStatus.WARN, "processing slower than input; dropping old frames"
        else:
            level, message = DiagnosticStatus.OK, f"processing {window['processed'] / elapsed:.1f} fps"
        p50, p95 = (np.percentile(latencies, [50, 95]) if latencies.size else (float("nan"),) * 2)
        values = {
            "input_fps": window["input"] / elapsed,
            "processed_fps": window["processed"] / elapsed,
            "latency_p50_ms": p50,
            "latency_p95_ms": p95,
            "faces_per_frame": window["faces"] / max(window["processed"], 1),
            # This whole process (all its threads, and any other node composed into it), 100 = one core busy.
            "process_cpu_percent": 100.0 * cpu_seconds / elapsed,
            "frames_received": totals.get("received", 0),  # since start: each is processed or in a drops_ count
            "image_publishers_matched": matched,
            **{f"drops_{r}": totals.get(r, 0) for r in DROP_REASONS},
        }
        self._publish_status(level, message, values)

    @property
    def drops(self) -> dict[str, int]:
        """Frames dropped since start, per reason."""
        with self._lock:
            return {r: self._totals.get(r, 0) for r in DROP_REASONS}

    def _idle_status(self, state: str) -> tuple[bytes, str]:
        """Level and message of /diagnostics while not active."""
        if state == "inactive" and self._activate_error is not None:
            return DiagnosticStatus.ERROR, f"inactive: activate failed: {self._activate_error}"
        if state == "inactive":
            return DiagnosticStatus.OK, PAUSED
        if self._configure_error is not None:
            return DiagnosticStatus.ERROR, f"unconfigured: configure failed: {self._configure_error}"
        return DiagnosticStatus.WARN, f"{state}: no model loaded, no frame processed"

    def destroy_node(self) -> None:
        # A face list still active says tracked: [] first (run_node destroys the node before the context ends).
        self._stop_processing()
        self._release()
        super().destroy_node()


def main(args: list[str] | None = None) -> int:
    """Run the node until stopped; 1 when the models or parameters are unusable or the worker thread died."""
    return run_node(PerceptionNode, "perception_node", args, STARTUP_ERRORS)


if __name__ == "__main__":
    sys.exit(main())
