# Copyright 2026 The emotion_perception Authors
# SPDX-License-Identifier: Apache-2.0
"""The README's `ros2 launch` lines run for real: two robots side by side, a missing camera, the `ros2` CLI, Ctrl-C.

Three launches of ``perception.launch.py use_video:=true`` run side by side, started one after another as
robots would be (seen once in CI: with all three starting at the same moment on the loaded 2-core machine,
robot2's action feedback node never appeared in the graph and hung in Fast DDS at shutdown):
``namespace:=robot1`` and ``namespace:=robot2`` on a short cut of the packaged clip (``video_path:=``, so
looping past its end shows within seconds; its rate lowered in a copy of the parameter YAML passed as
``params_file:=``; robot1 with ``use_sim_time:=true``, so its video publisher drives ``/clock`` on the clip's
own timeline, as for a recorded study video; robot2 with ``respawn:=true``), and ``namespace:=cam0
video_path:=0`` on a camera this machine does not have.
Each wait fails at once, with the node's FATAL line and its own last lines, when a launch loses a node it should
keep (a fourth launch, whose perception node cannot start, shows it); every launch ends with the module.
Skipped, with one reason, where the ``ros2`` command or ``launch_ros`` is not installed.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import signal
import sqlite3
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from itertools import pairwise
from pathlib import Path

import cv2
import pytest
import rclpy
import yaml
from helpers import ROOT, wait_for
from node_process import NodeFailedError, NodeProcess
from rclpy.context import Context
from rclpy.executors import SingleThreadedExecutor
from rclpy.qos import QoSProfile, ReliabilityPolicy
from rclpy.time import Time

from emotion_msgs.msg import ActionFeedback, EmotionReaction, RobotAction
from emotion_perception.ros.spin_thread import SpinThread
from emotion_perception.tools.video_source import VideoSource, default_clip_path

NEED_ROS2 = ("launch tests need the `ros2` CLI and launch_ros: build them with `make setup` (from"
             " ../shared/vendor/ros2-tools) or source a ROS 2 install")
if importlib.util.find_spec("launch_ros") is None:
    pytest.skip(NEED_ROS2, allow_module_level=True)

ROBOTS = ("robot1", "robot2")
RESPAWNING = "robot2"  # launched with respawn:=true
SIM_TIME = "robot1"  # launched with use_sim_time:=true: its clock is its video's
CLIP_FRAMES = (240, 256)  # frames of the packaged clip cut into the test's clip: a face in view throughout
CLIP_FPS = 24.0  # of the test's clip
RATE_HZ = 8.0  # frames/s per robot: enough for verdicts, light on a shared machine
#: s one pass of the clip lasts on each robot's clock: the system clock, or robot1's video clock.
PASS_S = {robot: (CLIP_FRAMES[1] - CLIP_FRAMES[0]) / (CLIP_FPS if robot == SIM_TIME else RATE_HZ) for robot in ROBOTS}
RELIABLE = QoSProfile(depth=1000, reliability=ReliabilityPolicy.RELIABLE)
STARTUP_S = 180.0  # two perception nodes loading their models on a loaded 2-core machine
#: Nodes a launch loses by design: cam0's video publisher has no camera to open.
MAY_DIE = {"cam0": ("video_publisher",)}
# The first test starts the three launches, one after another, in its setup.
pytestmark = pytest.mark.timeout(3 * STARTUP_S + 120)


class Graph:
    """The test's own node: records reactions and verdicts of every robot and of the un-namespaced topics."""

    def __init__(self) -> None:
        self.context = Context()
        rclpy.init(context=self.context)
        self.node = rclpy.create_node("launch_test_probe", context=self.context)
        self.executor = SingleThreadedExecutor(context=self.context)
        self.executor.add_node(self.node)
        self.reactions: dict[str, list[EmotionReaction]] = {}
        self.verdicts: dict[str, list[ActionFeedback]] = {}
        self.action_pubs = {}
        for prefix in (*(f"/{robot}" for robot in ROBOTS), ""):
            self.reactions[prefix] = self._listen(EmotionReaction, f"{prefix}/human/reaction")
            self.verdicts[prefix] = self._listen(ActionFeedback, f"{prefix}/human/action_feedback")
            self.action_pubs[prefix] = self.node.create_publisher(RobotAction, f"{prefix}/robot/action", RELIABLE)
        self._spinner = SpinThread(self.executor)

    def _listen(self, kind: type, topic: str) -> list:
        received: list = []
        self.node.create_subscription(kind, topic, received.append, RELIABLE)
        return received

    def close(self) -> None:
        self._spinner.stop()
        self.node.destroy_node()
        self.context.try_shutdown()


def _params_file(folder: Path) -> Path:
    """The packaged parameter YAML with the video published at RATE_HZ."""
    document = yaml.safe_load((ROOT / "config" / "emotion_perception.yaml").read_text())
    document["/**/video_publisher"]["ros__parameters"]["rate"] = RATE_HZ
    path = folder / "params.yaml"
    path.write_text(yaml.safe_dump(document))
    return path


def _short_clip(folder: Path) -> Path:
    """CLIP_FRAMES of the packaged clip as a clip of its own (it starts at 0 s and ends at its end of file)."""
    with VideoSource(default_clip_path()) as source:
        frames = [frame.image for frame in source][slice(*CLIP_FRAMES)]
    path = folder / "short_clip.mp4"
    height, width = frames[0].shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), CLIP_FPS, (width, height))
    for frame in frames:
        writer.write(frame)
    writer.release()
    return path


@pytest.fixture(scope="module", autouse=True)
def _ros2_cli() -> None:
    """Skip where launch_ros is installed but the ros2 command is not on PATH. (Not at import time: the
    launch_testing plugin that comes with launch_ros imports every test module, and a module-level skip
    would then skip the other modules too.)"""
    if shutil.which("ros2") is None:
        pytest.skip(NEED_ROS2)


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("home")


@pytest.fixture(scope="module")
def launches(home: Path) -> Iterator[dict[str, NodeProcess]]:
    env = {**os.environ, "HOME": str(home)}  # the stats databases and the launch logs land here
    params, clip = _params_file(home), _short_clip(home)
    commands = {
        robot: ["ros2", "launch", "emotion_perception", "perception.launch.py", "use_video:=true",
                f"namespace:={robot}", f"params_file:={params}", f"video_path:={clip}",
                f"respawn:={'true' if robot == RESPAWNING else 'false'}",
                f"use_sim_time:={'true' if robot == SIM_TIME else 'false'}"]
        for robot in ROBOTS
    } | {"cam0": ["ros2", "launch", "emotion_perception", "perception.launch.py", "use_video:=true",
                  "namespace:=cam0", "video_path:=0"]}
    started: dict[str, NodeProcess] = {}
    try:
        for name, command in commands.items():
            started[name] = launch = NodeProcess(command, env)
            for line in (f"publishing /{name}/human/reaction", "judging actions"):  # the next starts once it is up
                launch.expect(line, STARTUP_S, may_die=MAY_DIE.get(name, ()))
        yield started
    finally:
        for launch in started.values():
            launch.kill()


@pytest.fixture(scope="module")
def graph(launches: dict[str, NodeProcess]) -> Iterator[Graph]:
    probe = Graph()
    try:
        yield probe
    finally:
        probe.close()


def until(condition: Callable[[], object], timeout: float, launches: dict[str, NodeProcess]) -> bool:
    """``wait_for`` that raises :class:`NodeFailedError` at once when one of ``launches`` loses a node (see MAY_DIE)."""
    def met() -> object:
        for name, launch in launches.items():
            reason = launch.failure(MAY_DIE.get(name, ()))
            if reason is not None:
                raise NodeFailedError(f"{name}: {reason}")
        return condition()
    return wait_for(met, timeout)


def test_a_launch_whose_node_cannot_start_fails_the_wait_within_seconds(home: Path) -> None:
    """A perception node given a model that does not exist logs one FATAL line and exits 1, while launch runs on:
    the wait for its first line fails as soon as that happens, with the FATAL line, and nothing is left running."""
    missing = home / "no_such_model.pt"
    launch = NodeProcess(["ros2", "launch", "emotion_perception", "perception.launch.py", "use_video:=true",
                          "namespace:=dies", f"model_path:={missing}"], {**os.environ, "HOME": str(home)})
    with launch:
        started = time.monotonic()
        with pytest.raises(NodeFailedError) as failed:
            launch.expect("publishing /dies/human/reaction", STARTUP_S)
        took = time.monotonic() - started
        assert launch.process.poll() is None  # launch itself still runs: only its node died
    message = str(failed.value)
    print(f"failed after {took:.1f} s:\n{message}")
    assert "[perception_node-2] [FATAL]" in message and f"model file {missing} does not exist" in message, message
    assert "--- perception_node's last lines ---" in message
    assert took < STARTUP_S / 4, took  # the node's own start (a few seconds), not the wait's limit
    assert not launch.group_alive()


def _span_s(reactions: list[EmotionReaction]) -> float:
    stamps = [Time.from_msg(r.header.stamp).nanoseconds for r in list(reactions)]
    return (max(stamps) - min(stamps)) / 1e9 if stamps else 0.0


def test_each_robot_publishes_reactions_past_the_clips_end(graph: Graph, launches: dict[str, NodeProcess]) -> None:
    for robot in ROBOTS:
        assert until(lambda robot=robot: graph.reactions[f"/{robot}"], STARTUP_S, launches), launches[robot].tail()
    assert until(lambda: all(_span_s(graph.reactions[f"/{r}"]) > 3 * PASS_S[r] for r in ROBOTS), 120.0, launches), {
        robot: _span_s(graph.reactions[f"/{robot}"]) for robot in ROBOTS}
    # robot1's frames, hence its reactions, are stamped on the video's clock: whole frame intervals apart.
    stamps = [Time.from_msg(r.header.stamp).nanoseconds for r in list(graph.reactions[f"/{SIM_TIME}"])]
    assert {(b - a) % round(1e9 / CLIP_FPS) for a, b in pairwise(stamps)} == {0}


def test_nothing_is_published_on_the_unnamespaced_topics(graph: Graph) -> None:
    assert wait_for(lambda: all(graph.node.count_publishers(f"/{r}/human/reaction") == 1 for r in ROBOTS), 30.0)
    assert graph.node.count_publishers("/human/reaction") == 0
    assert graph.node.count_publishers("/human/action_feedback") == 0
    assert graph.reactions[""] == []


def test_an_action_on_each_robot_gets_its_own_verdict(graph: Graph, home: Path,
                                                      launches: dict[str, NodeProcess]) -> None:
    ids = {}
    for robot in ROBOTS:
        assert wait_for(lambda robot=robot: graph.node.count_subscribers(f"/{robot}/robot/action") == 1, 30.0)
        ids[robot] = uuid.uuid4().hex
        action = RobotAction(action_id=ids[robot], name=f"greet_{robot}", duration=0.0)
        action.header.stamp = graph.reactions[f"/{robot}"][-1].header.stamp  # now, on the robot's clock
        graph.action_pubs[f"/{robot}"].publish(action)

    def verdict(robot: str) -> ActionFeedback | None:
        return next((v for v in list(graph.verdicts[f"/{robot}"]) if v.action_id == ids[robot]), None)

    assert until(lambda: all(verdict(robot) for robot in ROBOTS), 60.0, launches)
    for robot in ROBOTS:
        assert verdict(robot).verdict != ActionFeedback.UNKNOWN, verdict(robot)
        assert verdict(robot).name == f"greet_{robot}"
        assert [v.action_id for v in graph.verdicts[f"/{robot}"]] == [ids[robot]]  # not the other robot's
        db = home / ".ros" / "emotion_perception" / robot / "action_stats.db"
        with sqlite3.connect(db) as connection:
            assert connection.execute("SELECT action_id FROM verdicts").fetchall() == [(ids[robot],)]
    assert graph.verdicts[""] == []
    # The README's service line, in a namespace: this robot's statistics only.
    answer = subprocess.run(["ros2", "service", "call", "/robot1/action_feedback_node/get_action_stats",
                             "emotion_msgs/srv/GetActionStats", "{name: ''}"], capture_output=True, text=True,
                            timeout=120)
    assert "success=True" in answer.stdout and "greet_robot1" in answer.stdout, answer
    assert "greet_robot2" not in answer.stdout


def test_ros2_param_set_refuses_an_out_of_range_value_and_the_yaml_applies(launches: dict[str, NodeProcess]) -> None:
    node = "/robot1/perception_node"
    result = subprocess.run(["ros2", "param", "set", "--no-daemon", "--timeout", "30", node, "smoothing", "1.5"],
                            capture_output=True, text=True, timeout=120)
    assert "Setting parameter failed" in result.stdout + result.stderr, result
    got = subprocess.run(["ros2", "param", "get", "--no-daemon", "--timeout", "30", node, "smoothing"],
                         capture_output=True, text=True, timeout=120)
    assert "0.5" in got.stdout, got
    # The YAML's /**/ sections apply in a namespace: the rate comes from the test's params_file.
    rate = subprocess.run(["ros2", "param", "get", "--no-daemon", "--timeout", "30", "/robot1/video_publisher", "rate"],
                          capture_output=True, text=True, timeout=120)
    assert f"{RATE_HZ}" in rate.stdout, rate


def test_a_missing_camera_is_one_clear_line_and_no_traceback(launches: dict[str, NodeProcess]) -> None:
    launch = launches["cam0"]
    assert launch.wait_for_output("[video_publisher-1]: process has died", STARTUP_S), launch.output
    lines = [line for line in launch.output.splitlines() if "cannot open camera device 0" in line]
    assert len(lines) == 1 and "FATAL" in lines[0], launch.output
    assert "exit code 1" in launch.output
    assert "Traceback" not in launch.output


def test_respawn_restarts_a_perception_node_that_died(graph: Graph, launches: dict[str, NodeProcess]) -> None:
    """A crash (SIGKILL) of robot2's perception node: launch starts it again and reactions resume."""
    launch = launches[RESPAWNING]
    assert wait_for(lambda: graph.reactions[f"/{RESPAWNING}"], STARTUP_S), launch.output
    found = subprocess.run(["pgrep", "-s", str(launch.process.pid), "-f", "perception_node --ros-args"],
                           capture_output=True, text=True, timeout=10)
    (pid,) = [int(p) for p in found.stdout.split()]
    os.kill(pid, signal.SIGKILL)
    died = f"[perception_node-2]: process has died [pid {pid}, exit code -9"
    assert launch.wait_for_output(died, 30.0), launch.output
    killed_ns = graph.node.get_clock().now().nanoseconds + 1_000_000_000
    reactions = graph.reactions[f"/{RESPAWNING}"]
    assert wait_for(lambda: any(Time.from_msg(r.header.stamp).nanoseconds > killed_ns for r in list(reactions)),
                    STARTUP_S), launch.output
    assert launch.output.count("[INFO] [perception_node-2]: process started with pid") == 2, launch.output


@pytest.mark.parametrize("name", [*ROBOTS, "cam0"])
def test_ctrl_c_ends_every_node_with_status_0(launches: dict[str, NodeProcess], name: str) -> None:
    launch = launches[name]
    assert launch.wait_for_output("[perception_node-2]", STARTUP_S), launch.output
    assert launch.stop(signal.SIGINT, group=True, timeout=60.0) == 0, launch.output
    nodes = ("perception_node-2", "action_feedback_node-3") if name == "cam0" else (
        "video_publisher-1", "perception_node-2", "action_feedback_node-3")
    for node in nodes:
        assert f"[{node}]: process has finished cleanly" in launch.output, launch.output
    assert "Traceback" not in launch.output
