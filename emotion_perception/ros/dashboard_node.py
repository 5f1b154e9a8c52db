# Copyright 2026 The emotion_perception Authors
# SPDX-License-Identifier: Apache-2.0
"""dashboard: a live web page of what the robot sees and how its actions are received (thin ROS side).

Subscribes ``human/reactions`` (valence per face and frame), ``robot/action``, ``human/action_feedback``,
``/diagnostics`` (the statuses of nodes in its own namespace: robots sharing a graph each see their own)
and, only while a page wants the camera view, ``perception_node/debug_image``; calls
``action_feedback_node/get_action_stats`` every ``stats_period`` s and after each verdict, and
``perception_node/get_state`` every second (its lifecycle state: active, or paused while inactive). Everything
goes into :class:`~emotion_perception.dashboard.state.DashboardState`; the web server
(:mod:`emotion_perception.dashboard`) runs on its own thread and pushes it to the pages.

    ros2 run emotion_perception dashboard                          # http://127.0.0.1:8080/
    ros2 run emotion_perception dashboard --ros-args -p host:=0.0.0.0 -p token:=$(openssl rand -hex 16)
"""

from __future__ import annotations

import math
import os
import sys
import threading
import time

import cv2
from diagnostic_msgs.msg import DiagnosticArray
from lifecycle_msgs.srv import GetState
from rclpy.clock import Clock, ClockType
from rclpy.event_handler import SubscriptionEventCallbacks
from rclpy.exceptions import InvalidParameterTypeException, InvalidParameterValueException
from rclpy.node import Node
from rclpy.qos import QoSProfile, ReliabilityPolicy, qos_profile_sensor_data
from rclpy.subscription import Subscription
from sensor_msgs.msg import Image

from emotion_msgs.msg import ActionFeedback, EmotionReactionArray, RobotAction
from emotion_msgs.srv import GetActionStats
from emotion_perception.dashboard.access import TOKEN_ENV, AccessPolicy
from emotion_perception.dashboard.hub import ClientHub, HubConfig
from emotion_perception.dashboard.server import DashboardServer, DashboardServerError
from emotion_perception.dashboard.state import (
    ActionEvent,
    DashboardState,
    FacePoint,
    HealthReport,
    Limits,
    VerdictEvent,
    json_number,
)
from emotion_perception.feedback.rule import NS_PER_S, Verdict
from emotion_perception.ros.image_conversion import ImageConversionError, image_to_bgr8
from emotion_perception.ros.messages import stamp_to_ns
from emotion_perception.ros.node_main import run_node, set_up_or_destroy
from emotion_perception.ros.parameter_table import ParameterSpec, parameter_descriptor

NODE_NAME = "dashboard"
#: name -> (default, description, (min, max) or None, read-only). Defaults mirror config/emotion_perception.yaml.
PARAMETERS: dict[str, ParameterSpec] = {
    "host": ("127.0.0.1", "address the web server listens on; a non-loopback one needs a token", None, True),
    "port": (8080, "TCP port of the web server; 0 = any free port", (0, 65535), True),
    "token": ("", f"access token every request must carry; empty = ${TOKEN_ENV}", None, True),
    "camera": (True, "show perception_node's annotated camera view; false = no image leaves the robot", None, True),
    "camera_fps": (5.0, "Hz: most camera frames sent to the pages", (0.2, 30.0), False),
    "camera_width": (640, "px: camera frames are scaled down to this width", (64, 4096), False),
    "jpeg_quality": (70, "JPEG quality of the camera frames", (10, 100), False),
    "history_seconds": (60.0, "s of valence shown per face", (5.0, 3600.0), True),
    "max_frames": (6000, "most frames of valences held (60 s at 100 fps)", (100, 1_000_000), True),
    "max_pages": (20, "most pages open at once; more are refused (503)", (1, 1000), True),
    "push_rate": (10.0, "Hz: updates pushed to the pages", (0.5, 60.0), True),
    "page_queue": (32, "updates queued per page before it is resynchronised", (1, 10_000), True),
    "send_timeout": (5.0, "s a page may take to accept one message before it is closed", (0.1, 120.0), True),
    "stale_after": (3.0, "s of silence after which perception or a status turns red", (0.5, 600.0), True),
    "stats_period": (5.0, "s between statistics refreshes (also refreshed after each verdict)", (0.5, 3600.0), True),
    "stats_service": ("action_feedback_node/get_action_stats", "GetActionStats service to read", None, True),
}
REACTIONS_QOS = QoSProfile(depth=20, reliability=ReliabilityPolicy.BEST_EFFORT)  # never holds perception back
EVENTS_QOS = QoSProfile(depth=50, reliability=ReliabilityPolicy.RELIABLE)  # actions, verdicts, diagnostics
CAMERA_CHECK_S = 0.5  # s between checks whether a page wants the camera view
LIFECYCLE_SERVICE = "perception_node/get_state"  # relative: the perception node of the dashboard's namespace
LIFECYCLE_POLL_S = 1.0  # s between two questions for its lifecycle state
LIFECYCLE_TIMEOUT_S = 3.0  # s after which an unanswered question counts as no answer (state unknown)
#: For the camera subscription, which comes and goes with the pages: a multi-threaded executor that meets
#: the QoS-event handler of a subscription destroyed meanwhile dies (ros2/rclpy#1206; reproduced here).
NO_EVENT_HANDLERS = SubscriptionEventCallbacks(use_default_callbacks=False)


def in_namespace(status_name: str, namespace: str) -> bool:
    """True when a status is named by a node of ``namespace`` (``robot1/perception_node: ...`` in ``/robot1``)."""
    node = status_name.split(":", 1)[0].strip()
    return node.rpartition("/")[0] == namespace.strip("/")


def _seconds(stamp) -> float:
    return stamp_to_ns(stamp) / NS_PER_S


def _level(value: bytes | int) -> int:
    """``DiagnosticStatus.level`` (a ``byte`` field: ``bytes`` in rclpy) as an int."""
    return value[0] if isinstance(value, bytes) else int(value)


def _verdict_name(value: int) -> str:
    try:
        return Verdict(value).name
    except ValueError:
        return "UNKNOWN"


class DashboardNode(Node):
    """The dashboard as a composable node (``**kwargs`` go to ``rclpy.node.Node``).

    Raises ``ValueError`` / ``InvalidParameterValueException`` for invalid parameters (a non-loopback
    host without a token included) and ``DashboardServerError`` when the port cannot be opened.
    """

    def __init__(self, **kwargs: object) -> None:
        super().__init__(NODE_NAME, **kwargs)
        self.server: DashboardServer | None = None
        set_up_or_destroy(self._setup, self.destroy_node)

    def _setup(self) -> None:
        for name, spec in PARAMETERS.items():
            self.declare_parameter(name, spec[0], parameter_descriptor(name, spec))
        p = {name: self.get_parameter(name).value for name in PARAMETERS}
        policy = AccessPolicy(p["host"], p["token"] or os.environ.get(TOKEN_ENV, ""))
        self.state = DashboardState(Limits(history_s=p["history_seconds"], max_frames=p["max_frames"],
                                           stale_after_s=p["stale_after"]))
        self.hub = ClientHub(self.state, HubConfig(max_clients=p["max_pages"], push_rate=p["push_rate"],
                                                   mailbox=p["page_queue"], send_timeout=p["send_timeout"],
                                                   camera=p["camera"]))
        self.server = DashboardServer(self.hub, p["host"], p["port"], policy)
        self._lock = threading.Lock()
        self._camera_sub: Subscription | None = None
        self._last_frame = -math.inf
        self.camera_drops = 0
        self._stats_busy = False
        self._stats_again = False
        self._state_asked: float | None = None  # monotonic s of the question in flight

        self.create_subscription(EmotionReactionArray, "human/reactions", self._on_reactions, REACTIONS_QOS)
        self.create_subscription(RobotAction, "robot/action", self._on_action, EVENTS_QOS)
        self.create_subscription(ActionFeedback, "human/action_feedback", self._on_verdict, EVENTS_QOS)
        self.create_subscription(DiagnosticArray, "/diagnostics", self._on_diagnostics, EVENTS_QOS)
        self._stats_client = self.create_client(GetActionStats, p["stats_service"])
        steady = Clock(clock_type=ClockType.STEADY_TIME)
        self.create_timer(p["stats_period"], self._request_stats, clock=steady)
        self._state_client = self.create_client(GetState, LIFECYCLE_SERVICE)
        self.create_timer(LIFECYCLE_POLL_S, self._request_lifecycle_state, clock=steady)
        if p["camera"]:
            self.create_timer(CAMERA_CHECK_S, self._follow_viewers, clock=steady)
        self.server.start()
        note = " (every request needs ?token=...)" if policy.token else ""
        self.get_logger().info(f"dashboard on {self.server.url}{note}")

    @property
    def url(self) -> str:
        return self.server.url

    def _on_reactions(self, msg: EmotionReactionArray) -> None:
        faces = [FacePoint(r.face_id, float(r.valence_score), float(r.confidence)) for r in msg.reactions]
        self.state.add_frame(_seconds(msg.header.stamp), faces)

    def _on_action(self, msg: RobotAction) -> None:
        self.state.add_action(ActionEvent(msg.action_id, msg.name, _seconds(msg.header.stamp), float(msg.duration)))

    def _on_verdict(self, msg: ActionFeedback) -> None:
        self.state.add_verdict(VerdictEvent(
            msg.action_id, msg.name, _seconds(msg.action_stamp), _verdict_name(msg.verdict), float(msg.delta),
            float(msg.baseline_valence), float(msg.response_valence), float(msg.confidence), msg.n_baseline,
            msg.n_response, tuple(msg.face_ids)))
        self._request_stats()

    def _on_diagnostics(self, msg: DiagnosticArray) -> None:
        namespace = self.get_namespace()
        self.state.add_diagnostics(
            HealthReport(s.name, _level(s.level), s.message, {kv.key: kv.value for kv in s.values})
            for s in msg.status if in_namespace(s.name, namespace))

    def _request_stats(self) -> None:
        """Ask for the statistics unless a request is in flight (then ask again when it returns)."""
        with self._lock:
            if self._stats_busy:
                self._stats_again = True
                return
            if not self._stats_client.service_is_ready():
                self.state.set_stats([], False, f"service {self._stats_client.srv_name} not available")
                return
            self._stats_busy, self._stats_again = True, False
        future = self._stats_client.call_async(GetActionStats.Request(name=""))
        future.add_done_callback(self._on_stats)

    def _on_stats(self, future) -> None:
        response = future.result() if not future.cancelled() and future.exception() is None else None
        if response is None:
            self.state.set_stats([], False, "statistics request failed")
        elif not response.success:
            self.state.set_stats([], False, response.message)
        else:
            self.state.set_stats(
                [{"name": s.name, "count": s.count, "well_received": s.well_received, "neutral": s.neutral,
                  "badly_received": s.badly_received, "unknown": s.unknown, "mean_delta": json_number(s.mean_delta)}
                 for s in response.stats], True, response.message)
        with self._lock:
            self._stats_busy = False
            again = self._stats_again
        if again:
            self._request_stats()

    def _request_lifecycle_state(self) -> None:
        """Ask perception_node for its lifecycle state; unknown (not shown) while nobody serves or answers it."""
        now = time.monotonic()
        with self._lock:
            if self._state_asked is not None and now - self._state_asked < LIFECYCLE_TIMEOUT_S:
                return  # a question in flight
            unanswered = self._state_asked is not None
            ready = self._state_client.service_is_ready()
            self._state_asked = now if ready else None
        if unanswered or not ready:
            self.state.set_perception_state(None)
        if ready:
            self._state_client.call_async(GetState.Request()).add_done_callback(self._on_lifecycle_state)

    def _on_lifecycle_state(self, future) -> None:
        response = future.result() if not future.cancelled() and future.exception() is None else None
        with self._lock:
            self._state_asked = None
        self.state.set_perception_state(None if response is None else response.current_state.label)

    def _follow_viewers(self) -> None:
        """Subscribe to the camera view only while a page shows it (perception annotates only then)."""
        wanted = self.hub.camera_viewers > 0
        if wanted and self._camera_sub is None:
            self._camera_sub = self.create_subscription(
                Image, "perception_node/debug_image", self._on_camera, qos_profile_sensor_data,
                event_callbacks=NO_EVENT_HANDLERS)
        elif not wanted and self._camera_sub is not None:
            self.destroy_subscription(self._camera_sub)
            self._camera_sub = None

    @property
    def camera_subscribed(self) -> bool:
        return self._camera_sub is not None

    def _on_camera(self, msg: Image) -> None:
        now = time.monotonic()
        if now - self._last_frame < 1.0 / self.get_parameter("camera_fps").value:
            return
        try:
            frame = image_to_bgr8(msg)
        except ImageConversionError as exc:
            self.camera_drops += 1
            self.get_logger().warning(f"camera frame dropped: {exc}", throttle_duration_sec=5.0)
            return
        self._last_frame = now  # a bad frame does not hold back the next good one
        width = self.get_parameter("camera_width").value
        if frame.shape[1] > width:
            frame = cv2.resize(frame, (width, round(frame.shape[0] * width / frame.shape[1])),
                               interpolation=cv2.INTER_AREA)
        ok, jpeg = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, self.get_parameter("jpeg_quality").value])
        if ok:
            self.state.set_camera_frame(jpeg.tobytes())

    def destroy_node(self) -> None:
        if self.server is not None:
            self.server.stop()
        super().destroy_node()


#: What a bad configuration raises while the node starts: one FATAL line and exit status 1.
STARTUP_ERRORS = (DashboardServerError, ValueError, InvalidParameterValueException, InvalidParameterTypeException)


def main(args: list[str] | None = None) -> int:
    """Run the dashboard until stopped; 1 (with the reason) when it cannot start."""
    return run_node(DashboardNode, NODE_NAME, args, STARTUP_ERRORS)


if __name__ == "__main__":
    sys.exit(main())
