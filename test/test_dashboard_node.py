# Copyright 2026 The emotion_perception Authors
# SPDX-License-Identifier: Apache-2.0
"""The dashboard node over real DDS: topics and the stats service in, pushed WebSocket messages out."""

from __future__ import annotations

import itertools
import json
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import cv2
import numpy as np
import pytest
from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue
from helpers import PROCESS_TEST_TIMEOUT_S, ROOT, wait_for
from rclpy.node import Node
from rclpy.parameter import Parameter
from rclpy.qos import QoSProfile, ReliabilityPolicy, qos_profile_sensor_data
from sensor_msgs.msg import Image
from websockets.sync.client import connect

from emotion_msgs.msg import ActionFeedback, EmotionReaction, EmotionReactionArray, RobotAction
from emotion_perception.dashboard.access import TOKEN_ENV
from emotion_perception.ros.action_feedback_node import ActionFeedbackNode
from emotion_perception.ros.dashboard_node import DashboardNode, in_namespace, main
from emotion_perception.ros.image_conversion import numpy_to_image
from emotion_perception.ros.parameter_file import load_node_parameters
from emotion_perception.tools.demo import get_args_parser

pytestmark = pytest.mark.timeout(PROCESS_TEST_TIMEOUT_S)

RELIABLE = QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE)


class Page(threading.Thread):
    """A WebSocket client that keeps the model a page would build from what is pushed."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.url = url.replace("http://", "ws://") + "ws"
        self.opened = threading.Event()
        self.ws = None
        self.snapshot: dict = {}
        self.frames: list = []
        self.actions: list = []
        self.verdicts: list = []
        self.stats: dict = {}
        self.health: dict = {}
        self.jpegs: list[bytes] = []

    def run(self) -> None:
        with connect(self.url, open_timeout=10, max_size=None) as ws:
            self.ws = ws
            self.opened.set()
            for message in ws:
                if isinstance(message, bytes):
                    self.jpegs.append(message)
                    continue
                msg = json.loads(message)
                if msg["type"] == "snapshot":
                    self.snapshot = msg
                self.frames += msg.get("frames", [])
                self.actions += msg.get("actions", [])
                self.verdicts += msg.get("verdicts", [])
                self.stats = msg.get("stats", self.stats)
                self.health = msg.get("health", self.health)


def _page(url: str) -> Page:
    page = Page(url)
    page.start()
    assert page.opened.wait(timeout=20)
    return page


def _indicator(page: Page, name: str) -> dict:
    return next((i for i in page.health.get("indicators", []) if i["name"] == name), {})


@pytest.mark.slow
def test_topics_and_stats_reach_the_page_and_the_camera_is_read_only_while_a_page_is_open(
    ros_context, executor, tmp_path: Path
) -> None:
    dashboard = DashboardNode(context=ros_context, parameter_overrides=[
        Parameter("port", value=0), Parameter("stats_period", value=0.5), Parameter("camera_width", value=320)])
    feedback = ActionFeedbackNode(context=ros_context, parameter_overrides=[
        Parameter("stats_db_path", value=str(tmp_path / "stats.db"))])
    robot = Node("robot", context=ros_context)
    for node in (dashboard, feedback, robot):
        executor.add_node(node)
    reactions = robot.create_publisher(EmotionReactionArray, "human/reactions", RELIABLE)
    actions = robot.create_publisher(RobotAction, "robot/action", RELIABLE)
    verdicts = robot.create_publisher(ActionFeedback, "human/action_feedback", RELIABLE)
    diagnostics = robot.create_publisher(DiagnosticArray, "/diagnostics", RELIABLE)
    camera = robot.create_publisher(Image, "perception_node/debug_image", qos_profile_sensor_data)
    assert not dashboard.camera_subscribed  # no page yet: perception is not asked to annotate

    page = _page(dashboard.url)
    assert wait_for(lambda: dashboard.camera_subscribed, timeout=10)
    now = robot.get_clock().now().to_msg()
    array = EmotionReactionArray()
    array.header.stamp = now
    array.reactions = [EmotionReaction(face_id="face_1", valence=1, valence_score=0.7, confidence=0.9)]
    action = RobotAction(action_id="a1", name="tell_joke")
    action.header.stamp = now
    verdict = ActionFeedback(action_id="a1", name="tell_joke", action_stamp=now, verdict=1, delta=0.9,
                             baseline_valence=-0.4, response_valence=0.5, confidence=0.8, n_baseline=3,
                             n_response=4, face_ids=["face_1"])
    status = DiagnosticStatus(level=DiagnosticStatus.WARN, name="perception_node: face valence pipeline",
                              message="no input frames", values=[KeyValue(key="input_fps", value="0.00")])
    other_robot = DiagnosticStatus(level=DiagnosticStatus.ERROR, name="robot2/perception_node: face valence pipeline")

    def everything_arrived() -> bool:
        reactions.publish(array)
        if not page.actions:
            actions.publish(action)
        if not page.verdicts:
            verdicts.publish(verdict)
        diagnostics.publish(DiagnosticArray(status=[other_robot, status]))
        return bool(page.frames and page.actions and page.verdicts and page.health.get("statuses"))

    assert wait_for(everything_arrived, timeout=30, period=0.2)
    assert page.frames[0][2] == [["face_1", 0.7, 0.9]]
    assert page.actions[0]["name"] == "tell_joke"
    assert page.verdicts[0]["verdict"] == "WELL_RECEIVED" and page.verdicts[0]["delta"] == pytest.approx(0.9)
    levels = {s["name"]: s["level"] for s in page.health["statuses"]}
    assert levels["perception_node: face valence pipeline"] == "WARN"
    assert "robot2/perception_node: face valence pipeline" not in levels  # another robot's node on /diagnostics
    assert not _indicator(page, "camera")["ok"] and "camera silent" in _indicator(page, "camera")["text"]
    assert wait_for(lambda: page.stats.get("ok"), timeout=20), page.stats  # the real service answered
    assert page.stats["rows"] == []  # nothing recorded in this test's database

    bad = Image(width=4, height=4, encoding="no-such-encoding", step=4, data=bytes(16))
    frame = numpy_to_image(np.full((480, 640, 3), 90, np.uint8), "bgr8")

    def camera_view_arrived() -> bool:
        camera.publish(bad)
        camera.publish(frame)
        return bool(page.jpegs)

    assert wait_for(camera_view_arrived, timeout=30, period=0.25)
    assert dashboard.camera_drops >= 1  # the bad frame was dropped and counted; the node kept going
    shown = cv2.imdecode(np.frombuffer(page.jpegs[-1], np.uint8), cv2.IMREAD_COLOR)
    assert shown.shape == (240, 320, 3)  # scaled down to camera_width

    page.ws.close()
    assert wait_for(lambda: not dashboard.camera_subscribed, timeout=10)


def test_the_camera_view_comes_and_goes_while_the_executor_spins(ros_context, executor, monkeypatch) -> None:
    """Pages that open and close at any rate: the camera subscription comes and goes, and the executor keeps
    running (rclpy's default QoS-event handlers of a destroyed subscription once killed it: ros2/rclpy#1206)."""
    dashboard = DashboardNode(context=ros_context, parameter_overrides=[Parameter("port", value=0)])
    robot = Node("camera_robot", context=ros_context)
    camera = robot.create_publisher(Image, "perception_node/debug_image", qos_profile_sensor_data)
    frame = numpy_to_image(np.zeros((48, 64, 3), np.uint8), "bgr8")
    ticks = []
    robot.create_timer(0.001, lambda: (camera.publish(frame), ticks.append(1)))
    for node in (dashboard, robot):
        executor.add_node(node)
    viewers = itertools.cycle([1, 0])
    monkeypatch.setattr(type(dashboard.hub), "camera_viewers", property(lambda _: next(viewers)))

    for _ in range(1500):
        dashboard._follow_viewers()  # what its timer does, here as fast as pages could come and go
        time.sleep(0.001)
    seen = len(ticks)
    assert wait_for(lambda: len(ticks) > seen + 20, timeout=5.0), "the executor stopped"


def test_camera_off_and_a_token_from_the_environment(ros_context, executor, monkeypatch) -> None:
    monkeypatch.setenv(TOKEN_ENV, "env-token-1234")
    dashboard = DashboardNode(context=ros_context, parameter_overrides=[
        Parameter("port", value=0), Parameter("camera", value=False)])
    executor.add_node(dashboard)
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(dashboard.url, timeout=10)
    refused.value.close()
    assert refused.value.code == 401  # the token applies on loopback too once it is set
    with urllib.request.urlopen(dashboard.url + "api/state?token=env-token-1234", timeout=10) as response:
        state = json.loads(response.read())
    assert state["camera"] is False
    assert dashboard.hub.camera_viewers == 0 and not dashboard.camera_subscribed


def test_a_non_loopback_host_without_a_token_does_not_start(ros_context, monkeypatch, capfd) -> None:
    monkeypatch.delenv(TOKEN_ENV, raising=False)
    with pytest.raises(ValueError, match="not a loopback address"):
        DashboardNode(context=ros_context, parameter_overrides=[Parameter("host", value="0.0.0.0")])
    assert main(["dashboard", "--ros-args", "-p", "host:=0.0.0.0", "-p", "port:=0"]) == 1
    assert "cannot start" in capfd.readouterr().err


def test_its_yaml_section_is_declared_and_the_demo_starts_it_by_default(ros_context) -> None:
    values = load_node_parameters(ROOT / "config" / "emotion_perception.yaml", "dashboard")
    assert values["host"] == "127.0.0.1" and values["port"] == 8080
    values["port"] = 0  # never take the real port in a test
    node = DashboardNode(context=ros_context, parameter_overrides=[Parameter(k, value=v) for k, v in values.items()])
    try:
        for name, value in values.items():
            assert node.get_parameter(name).value == value, name
    finally:
        node.destroy_node()
    parser = get_args_parser()
    assert parser.parse_args([]).dashboard_port == 8080
    assert parser.parse_args(["--dashboard-port", "0"]).dashboard_port == 0
    assert parser.parse_args(["--no-dashboard"]).dashboard_port is None


@pytest.mark.parametrize(("name", "namespace", "shown"), [
    ("robot1/perception_node: face valence pipeline", "/robot1", True),
    ("robot1/perception_node: face valence pipeline", "/", False),
    ("robot1/perception_node: face valence pipeline", "/robot2", False),
    ("fleet/robot1/action_feedback_node: action feedback", "/fleet/robot1", True),
    ("perception_node: face valence pipeline", "/", True),
    ("perception_node: face valence pipeline", "/robot1", False),
])
def test_a_dashboard_shows_the_statuses_of_its_own_namespace(name: str, namespace: str, shown: bool) -> None:
    assert in_namespace(name, namespace) is shown
