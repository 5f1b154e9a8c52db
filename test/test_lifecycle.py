# Copyright 2026 The emotion_perception Authors
# SPDX-License-Identifier: Apache-2.0
"""perception_node as a managed (lifecycle) node over real DDS: driven through its lifecycle services, the
privacy pause, a bad model at configure, the ros2 lifecycle CLI and the dashboard's view of the state."""

from __future__ import annotations

import shutil
import subprocess
import threading
import time
from pathlib import Path

import pytest
import rclpy
from diagnostic_msgs.msg import DiagnosticArray
from helpers import PROCESS_TEST_TIMEOUT_S, load, wait_for
from lifecycle_msgs.msg import Transition
from lifecycle_msgs.srv import ChangeState, GetState
from node_process import NodeProcess
from rclpy.executors import Executor
from rclpy.lifecycle import TransitionCallbackReturn
from rclpy.parameter import Parameter
from rclpy.qos import QoSProfile, ReliabilityPolicy, qos_profile_sensor_data
from sensor_msgs.msg import Image

from emotion_msgs.msg import EmotionReaction, EmotionReactionArray
from emotion_perception.ros.dashboard_node import DashboardNode
from emotion_perception.ros.image_conversion import numpy_to_image
from emotion_perception.ros.perception_node import PerceptionNode

pytestmark = pytest.mark.timeout(PROCESS_TEST_TIMEOUT_S)

RELIABLE = QoSProfile(depth=50, reliability=ReliabilityPolicy.RELIABLE)
PAUSE_S = 4.0  # s a paused node is watched with a face in view


class Operator:
    """A planner's side of the graph: lifecycle service calls, a camera with a face in view, what comes back."""

    def __init__(self, context: object, executor: Executor, node_name: str = "/perception_node") -> None:
        self.node = rclpy.create_node("operator", context=context)
        self.change = self.node.create_client(ChangeState, f"{node_name}/change_state")
        self.get = self.node.create_client(GetState, f"{node_name}/get_state")
        self.image_pub = self.node.create_publisher(Image, "/image", qos_profile_sensor_data)
        self.reactions: list[EmotionReaction] = []
        self.arrays: list[EmotionReactionArray] = []
        self.statuses: list[tuple[int, str]] = []
        self.node.create_subscription(EmotionReaction, "/human/reaction", self.reactions.append, RELIABLE)
        self.node.create_subscription(EmotionReactionArray, "/human/reactions", self.arrays.append, RELIABLE)
        self.node.create_subscription(DiagnosticArray, "/diagnostics", self._on_diagnostics, RELIABLE)
        executor.add_node(self.node)
        self._frame = numpy_to_image(load("pexels_happy_330.jpg"), "bgr8")
        self._streaming = threading.Event()
        self._camera = threading.Thread(target=self._stream, daemon=True)

    def _on_diagnostics(self, msg: DiagnosticArray) -> None:
        self.statuses += [(s.level[0] if isinstance(s.level, bytes) else s.level, s.message) for s in msg.status
                          if s.name.startswith("perception_node")]

    def _stream(self) -> None:
        while self._streaming.is_set():
            self._frame.header.stamp = self.node.get_clock().now().to_msg()
            self.image_pub.publish(self._frame)
            time.sleep(0.1)

    def start_camera(self) -> None:
        self._streaming.set()
        self._camera.start()

    def stop_camera(self) -> None:
        self._streaming.clear()
        self._camera.join()

    def _call(self, client: rclpy.client.Client, request: object) -> object:
        assert client.wait_for_service(timeout_sec=10.0), client.srv_name
        future = client.call_async(request)
        assert wait_for(future.done, 30.0), f"no answer from {client.srv_name}"
        return future.result()

    def transition(self, transition_id: int) -> bool:
        return self._call(self.change, ChangeState.Request(transition=Transition(id=transition_id))).success

    def state(self) -> str:
        return self._call(self.get, GetState.Request()).current_state.label


def _start(context: object, executor: Executor, **overrides: object) -> PerceptionNode:
    params = {"autostart": False, "smoothing": 0.0, **overrides}
    node = PerceptionNode(context=context, parameter_overrides=[Parameter(k, value=v) for k, v in params.items()])
    executor.add_node(node)
    return node


def test_the_lifecycle_services_drive_the_node_and_deactivate_is_a_privacy_pause(
    ros_context: object, executor: Executor
) -> None:
    node = _start(ros_context, executor)
    op = Operator(ros_context, executor)
    assert op.state() == "unconfigured" and node.recognizer is None
    assert wait_for(lambda: any("no model loaded" in m for _, m in op.statuses), 5.0)
    op.start_camera()
    try:
        time.sleep(1.0)
        assert op.arrays == []  # unconfigured: nothing subscribed, nothing published
        assert op.transition(Transition.TRANSITION_CONFIGURE) and op.state() == "inactive"
        assert node.recognizer is not None and node.count_publishers("/human/reaction") == 1
        assert op.transition(Transition.TRANSITION_ACTIVATE) and op.state() == "active"
        assert wait_for(lambda: len(op.reactions) >= 3, 30.0), "no reactions while active"

        assert op.transition(Transition.TRANSITION_DEACTIVATE) and op.state() == "inactive"
        assert node.count_publishers("/image") == 1 and node.count_subscribers("/image") == 0  # unsubscribed
        paused_at = (len(op.reactions), len(op.arrays), dict(node.drops))
        statuses_before = len(op.statuses)
        time.sleep(PAUSE_S)  # the camera keeps sending the face
        assert (len(op.reactions), len(op.arrays), dict(node.drops)) == paused_at, "published while paused"
        paused = op.statuses[statuses_before:]
        assert paused and all(level == 0 and m.startswith("paused") for level, m in paused), paused

        assert op.transition(Transition.TRANSITION_ACTIVATE) and op.state() == "active"
        assert wait_for(lambda: len(op.reactions) >= paused_at[0] + 3, 30.0), "no reactions after resuming"

        assert op.transition(Transition.TRANSITION_DEACTIVATE)
        assert op.transition(Transition.TRANSITION_CLEANUP) and op.state() == "unconfigured"
        assert node.recognizer is None and node.count_publishers("/human/reaction") == 0  # released
        assert op.transition(Transition.TRANSITION_CONFIGURE) and op.transition(Transition.TRANSITION_ACTIVATE)
        resumed = len(op.reactions)
        assert wait_for(lambda: len(op.reactions) >= resumed + 3, 30.0), "no reactions after a new configure"
        assert op.transition(Transition.TRANSITION_ACTIVE_SHUTDOWN) and op.state() == "finalized"
        assert node.recognizer is None and node.count_subscribers("/image") == 0
    finally:
        op.stop_camera()


def test_deactivate_says_tracked_is_empty_once(ros_context: object, executor: Executor) -> None:
    hri_msgs = pytest.importorskip("hri_msgs.msg")
    node = _start(ros_context, executor, hri_output=True, autostart=True)
    op = Operator(ros_context, executor)
    tracked: list = []
    op.node.create_subscription(hri_msgs.IdsList, "/humans/faces/tracked", tracked.append, RELIABLE)
    op.start_camera()
    try:
        assert wait_for(lambda: any(t.ids for t in tracked), 30.0), "the face was never listed"
        assert wait_for(lambda: node.count_subscribers("/humans/faces/tracked") >= 1, 5.0)
        assert op.transition(Transition.TRANSITION_DEACTIVATE)
        listed_before = max(i for i, t in enumerate(tracked) if t.ids)
        time.sleep(2.0)
        after = tracked[listed_before + 1:]
        assert [t.ids for t in after] == [[]], after  # one empty list, then silence
    finally:
        op.stop_camera()


def test_a_bad_model_fails_configure_with_the_reason_and_the_node_stays_unconfigured(
    ros_context: object, executor: Executor, tmp_path: Path
) -> None:
    missing = tmp_path / "no_such_model.pt"
    node = _start(ros_context, executor, model_path=str(missing))
    op = Operator(ros_context, executor)
    assert not op.transition(Transition.TRANSITION_CONFIGURE)
    assert op.state() == "unconfigured" and node.recognizer is None
    assert wait_for(lambda: any(level == 2 and str(missing) in m for level, m in op.statuses), 5.0), op.statuses
    assert not op.transition(Transition.TRANSITION_ACTIVATE)  # not offered while unconfigured: refused, on Jazzy too
    assert op.state() == "unconfigured"


@pytest.mark.skipif(shutil.which("ros2") is None, reason="no `ros2` CLI: `make setup` builds ros2lifecycle from"
                    " ../shared/vendor/ros2-tools, or source a ROS 2 install")
def test_the_ros2_lifecycle_cli_pauses_and_resumes_a_node_started_without_autostart() -> None:
    def lifecycle(*args: str, check: bool = True) -> str:
        result = subprocess.run(["ros2", "lifecycle", *args], capture_output=True, text=True, timeout=60)
        assert result.returncode == 0 or not check, result.stdout + result.stderr
        return result.stdout

    process = NodeProcess.module("emotion_perception.ros.perception_node", "-r", "__ns:=/cli", "-p",
                                 "autostart:=false")
    with process:
        node = "/cli/perception_node"
        assert wait_for(lambda: "unconfigured" in lifecycle("get", node, check=False), 60.0, period=1.0)
        assert "successful" in lifecycle("set", "/cli/perception_node", "configure")
        assert "successful" in lifecycle("set", "/cli/perception_node", "activate")
        assert process.wait_for_output("publishing /cli/human/reaction", 30.0), process.output
        assert "successful" in lifecycle("set", "/cli/perception_node", "deactivate")
        assert lifecycle("get", "/cli/perception_node").startswith("inactive")
        assert process.wait_for_output("paused (inactive)", 10.0), process.output
        assert process.process.poll() is None  # the pause does not end the process


def test_the_dashboard_shows_the_lifecycle_state(ros_context: object, executor: Executor) -> None:
    node = _start(ros_context, executor)
    dashboard = DashboardNode(context=ros_context, parameter_overrides=[Parameter("port", value=0)])
    executor.add_node(dashboard)

    def lifecycle() -> dict:
        return next((i for i in dashboard.state.health()["indicators"] if i["name"] == "lifecycle"), {})

    assert wait_for(lambda: lifecycle().get("text") == "unconfigured", 15.0), lifecycle()
    assert node.trigger_configure() == TransitionCallbackReturn.SUCCESS
    assert node.trigger_activate() == TransitionCallbackReturn.SUCCESS
    assert wait_for(lambda: lifecycle() == {"name": "lifecycle", "ok": True, "text": "active"}, 10.0), lifecycle()
    node.trigger_deactivate()
    assert wait_for(lambda: not lifecycle()["ok"] and "paused" in lifecycle()["text"], 10.0), lifecycle()
    executor.remove_node(node)
    node.destroy_node()
    assert wait_for(lambda: lifecycle() == {}, 10.0), lifecycle()  # nobody answers: no state shown
