# Copyright 2026 The emotion_perception Authors
# SPDX-License-Identifier: Apache-2.0
"""Publisher QoS overridden from a YAML parameter file, checked on the DDS graph (real nodes, real DDS)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import rclpy
import yaml
from diagnostic_msgs.msg import DiagnosticStatus
from helpers import PROCESS_TEST_TIMEOUT_S, wait_for
from rclpy.executors import Executor
from rclpy.lifecycle import TransitionCallbackReturn
from rclpy.parameter import Parameter
from rclpy.qos import DurabilityPolicy, ReliabilityPolicy

from emotion_perception.ros import perception_node
from emotion_perception.ros.action_feedback_node import ActionFeedbackNode
from emotion_perception.ros.perception_node import PerceptionNode

pytestmark = pytest.mark.timeout(PROCESS_TEST_TIMEOUT_S)

OVERRIDES = {
    "/**/perception_node": {"ros__parameters": {"qos_overrides": {
        "/human/reaction": {"publisher": {"reliability": "best_effort", "durability": "transient_local", "depth": 3}},
        "/perception_node/debug_image": {"publisher": {"reliability": "reliable"}},
    }}},
    "/**/action_feedback_node": {"ros__parameters": {"qos_overrides": {
        "/human/action_feedback": {"publisher": {"reliability": "best_effort"}},
    }}},
}


def test_publisher_qos_from_a_params_file_is_what_the_graph_shows(
    ros_context: object, executor: Executor, tmp_path: Path
) -> None:
    params = tmp_path / "qos.yaml"
    params.write_text(yaml.safe_dump(OVERRIDES))
    args = ["--ros-args", "--params-file", str(params)]
    perception = PerceptionNode(context=ros_context, cli_args=args)
    feedback = ActionFeedbackNode(context=ros_context, cli_args=args,
                                  parameter_overrides=[Parameter("stats_db_path", value=str(tmp_path / "stats.db"))])
    graph = rclpy.create_node("graph", context=ros_context)
    for node in (perception, feedback, graph):
        executor.add_node(node)

    def offered(topic: str) -> list:
        return [info.qos_profile for info in graph.get_publishers_info_by_topic(topic)]

    topics = ("/human/reaction", "/human/reactions", "/perception_node/debug_image", "/human/action_feedback")
    assert wait_for(lambda: all(len(offered(t)) == 1 for t in topics), 10.0)
    (reaction,), (array,), (debug,), (verdicts,) = (offered(t) for t in topics)
    assert (reaction.reliability, reaction.durability) == (ReliabilityPolicy.BEST_EFFORT,
                                                           DurabilityPolicy.TRANSIENT_LOCAL)
    assert perception.get_parameter("qos_overrides./human/reaction.publisher.depth").value == 3
    assert (array.reliability, array.durability) == (ReliabilityPolicy.RELIABLE, DurabilityPolicy.VOLATILE)  # default
    assert debug.reliability == ReliabilityPolicy.RELIABLE  # the code says best effort
    assert verdicts.reliability == ReliabilityPolicy.BEST_EFFORT
    # The override went into a copy: the module's shared profile still says reliable for the array and diagnostics.
    assert perception_node.RELIABLE_10.reliability == ReliabilityPolicy.RELIABLE
    assert offered("/diagnostics")[0].reliability == ReliabilityPolicy.RELIABLE

    # A publisher made again (cleanup, configure) takes the same overrides.
    for step in (perception.trigger_deactivate, perception.trigger_cleanup, perception.trigger_configure):
        assert step() == TransitionCallbackReturn.SUCCESS
    assert wait_for(lambda: [q.reliability for q in offered("/human/reaction")] == [ReliabilityPolicy.BEST_EFFORT])


@pytest.mark.parametrize(("module", "override", "says"), [
    ("emotion_perception.ros.perception_node", "qos_overrides./human/reaction.publisher.reliability:=sometimes",
     "invalid qos_overrides./human/reaction.publisher parameter: Unexpected QoS override for policy `reliability`: "
     "`sometimes`"),
    ("emotion_perception.ros.perception_node", "qos_overrides./image.subscription.depth:=-3",
     "invalid qos_overrides./image.subscription parameter: Failed to create subscription"),
    ("emotion_perception.ros.action_feedback_node", "qos_overrides./human/action_feedback.publisher.depth:=-3",
     "invalid qos_overrides./human/action_feedback.publisher parameter: Failed to create publisher"),
    ("emotion_perception.tools.video_publisher", "qos_overrides./image.publisher.history:=keep_some",
     "invalid qos_overrides./image.publisher parameter: Unexpected QoS override for policy `history`: `keep_some`"),
])
def test_an_override_rclpy_refuses_is_one_fatal_line_naming_the_topic(
    module: str, override: str, says: str, tmp_path: Path
) -> None:
    args = ["-p", override] + (["-p", f"stats_db_path:={tmp_path / 'stats.db'}"] if "feedback" in module else [])
    result = subprocess.run([sys.executable, "-m", module, "--ros-args", *args], env=os.environ, capture_output=True,
                            text=True, timeout=120, check=False)
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    (fatal,) = [line for line in result.stderr.splitlines() if "[FATAL]" in line]
    assert f"cannot start: {says}" in fatal, result.stderr


def test_a_refused_override_leaves_the_lifecycle_node_where_it_was_and_says_why(
    ros_context: object, executor: Executor
) -> None:
    """Without autostart: a refused publisher override fails configure and leaves no publisher on the graph; a
    refused camera override fails activate, the node stays inactive and /diagnostics' message says why."""
    bad_array = ["--ros-args", "-p", "autostart:=false", "-p", "qos_overrides./human/reactions.publisher.depth:=-1"]
    node = PerceptionNode(context=ros_context, cli_args=bad_array)
    graph = rclpy.create_node("graph", context=ros_context)
    executor.add_node(graph)
    assert node.trigger_configure() == TransitionCallbackReturn.FAILURE
    assert node._idle_status("unconfigured")[1].startswith(
        "unconfigured: configure failed: invalid qos_overrides./human/reactions.publisher parameter: ")
    assert graph.get_publishers_info_by_topic("/human/reaction") == []  # made before the refused one, then destroyed
    node.destroy_node()

    bad_camera = ["--ros-args", "-p", "autostart:=false", "-p", "qos_overrides./image.subscription.depth:=-1"]
    node = PerceptionNode(context=ros_context, cli_args=bad_camera)
    assert node.trigger_configure() == TransitionCallbackReturn.SUCCESS
    assert node.trigger_activate() == TransitionCallbackReturn.FAILURE
    assert node._state == "inactive" and node._image_sub is None
    level, message = node._idle_status("inactive")
    assert level == DiagnosticStatus.ERROR
    assert message.startswith("inactive: activate failed: invalid qos_overrides./image.subscription parameter: ")
    node.destroy_node()
