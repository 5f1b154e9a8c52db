# Copyright 2026 The emotion_perception Authors
# SPDX-License-Identifier: Apache-2.0
"""Publisher QoS overridden from a YAML parameter file, checked on the DDS graph (real nodes, real DDS)."""

from __future__ import annotations

from pathlib import Path

import pytest
import rclpy
import yaml
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
