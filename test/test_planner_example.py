# Copyright 2026 The emotion_perception Authors
# SPDX-License-Identifier: Apache-2.0
"""The planner example (examples/planner_example.py) as a user runs it: its own process, over real DDS, against the
real action feedback node and its stats service.

A scripted person stands in for the perception node: neutral, frowning for a moment after each joke and smiling after
each wave, reported on /human/reaction as perception reports a face. The planner must hear the verdict on each of its
actions, drop the joke once it was badly received twice, and, started again on the same database, not tell it at all;
it must not act before the feedback node is there to hear it.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import PROCESS_TEST_TIMEOUT_S, ROOT, wait_for
from node_process import NodeProcess
from rclpy.duration import Duration
from rclpy.executors import SingleThreadedExecutor
from rclpy.node import Node
from rclpy.parameter import Parameter
from rclpy.qos import HistoryPolicy, QoSProfile, ReliabilityPolicy
from rclpy.time import Time

from emotion_msgs.msg import ActionFeedback, EmotionReaction, RobotAction
from emotion_perception.ros.action_feedback_node import ActionFeedbackNode

pytestmark = pytest.mark.timeout(PROCESS_TEST_TIMEOUT_S)

RELIABLE = QoSProfile(depth=100, reliability=ReliabilityPolicy.RELIABLE)
KEEP_ALL = QoSProfile(history=HistoryPolicy.KEEP_ALL, reliability=ReliabilityPolicy.RELIABLE)
#: How the scripted person's valence_score answers each action, for MOOD_S seconds after its stamp.
MOODS = {"tell_joke": -0.7, "wave": +0.7}
MOOD_S = 1.5
REACTION_PERIOD_S = 0.05
#: Short windows, so five actions take seconds: baseline [t - 1, t), response [t + 0.2, t + 1.2], verdict at t + 1.5.
FEEDBACK = {"baseline_window": 1.0, "response_delay": 0.2, "response_end": 1.2, "lateness_grace": 0.3}
PLANNER = ["-p", "repertoire:=[tell_joke, wave]", "-p", "start_delay:=2.0", "-p", "pause:=1.0",
           "-p", "feedback_timeout:=20.0"]


class ScriptedPerson(Node):
    """One face in view (``face_1``), reported every 50 ms: neutral, or the mood the last action put it in."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__("scripted_person", **kwargs)
        self.actions: list[RobotAction] = []
        self.verdicts: list[ActionFeedback] = []
        self._mood, self._mood_until = 0.0, Time(clock_type=self.get_clock().clock_type)
        self._reactions = self.create_publisher(EmotionReaction, "/human/reaction", RELIABLE)
        self.create_subscription(RobotAction, "/robot/action", self._on_action, KEEP_ALL)
        self.create_subscription(ActionFeedback, "/human/action_feedback", self.verdicts.append, RELIABLE)
        self.create_timer(REACTION_PERIOD_S, self._react)

    def _on_action(self, action: RobotAction) -> None:
        self.actions.append(action)
        self._mood = MOODS[action.name]
        self._mood_until = Time.from_msg(action.header.stamp) + Duration(seconds=MOOD_S)

    def _react(self) -> None:
        now = self.get_clock().now()
        score = self._mood if now < self._mood_until else 0.0
        p_pos, p_neg = max(score, 0.0), max(-score, 0.0)
        reaction = EmotionReaction(valence=(score > 0) - (score < 0), confidence=0.9, valence_score=score,
                                   probabilities=[p_neg, 1.0 - p_pos - p_neg, p_pos], face_id="face_1",
                                   detection_confidence=0.95)
        reaction.header.stamp = now.to_msg()
        reaction.header.frame_id = "camera_optical_frame"
        self._reactions.publish(reaction)


@pytest.fixture
def graph(executor: SingleThreadedExecutor, tmp_path: Path) -> Iterator[ScriptedPerson]:
    """The real action feedback node (its sqlite store in ``tmp_path``) and the scripted person, spinning."""
    overrides = [Parameter(name, value=value) for name, value in FEEDBACK.items()]
    feedback = ActionFeedbackNode(context=executor.context, parameter_overrides=[
        *overrides, Parameter("stats_db_path", value=str(tmp_path / "verdicts.db"))])
    person = ScriptedPerson(context=executor.context)
    executor.add_node(feedback)
    executor.add_node(person)
    yield person
    for node in (person, feedback):
        executor.remove_node(node)
        node.destroy_node()


def _planner(*ros_args: str) -> NodeProcess:
    return NodeProcess.module("examples.planner_example", *PLANNER, *ros_args)


def test_the_planner_hears_each_verdict_and_stops_telling_a_joke_badly_received_twice(graph: ScriptedPerson) -> None:
    planner = _planner("-p", "max_actions:=5")
    assert planner.finish(timeout=120) == 0, planner.output
    assert [a.name for a in graph.actions] == ["tell_joke", "wave", "tell_joke", "wave", "wave"], planner.output
    assert wait_for(lambda: len(graph.verdicts) == 5, 10.0)
    verdicts = {v.action_id: v.verdict for v in graph.verdicts}
    assert [verdicts[a.action_id] for a in graph.actions] == [
        ActionFeedback.BADLY_RECEIVED, ActionFeedback.WELL_RECEIVED, ActionFeedback.BADLY_RECEIVED,
        ActionFeedback.WELL_RECEIVED, ActionFeedback.WELL_RECEIVED]
    # It heard each verdict itself (not a timeout) and chose from the service's counts.
    for action in graph.actions:
        expected = "BADLY_RECEIVED" if action.name == "tell_joke" else "WELL_RECEIVED"
        assert f"verdict on {action.name!r}: {expected}" in planner.output
    assert planner.output.count(f"action {'tell_joke'!r} (") == 2
    assert "skipping 'tell_joke': badly received 2 times" in planner.output
    assert "no verdict" not in planner.output and "not available" not in planner.output
    assert "done: 5 actions done" in planner.output

    # Started again on the same database, it knows the joke from the stored statistics and never tells it.
    again = _planner("-p", "max_actions:=1")
    assert again.finish(timeout=60) == 0, again.output
    assert [a.name for a in graph.actions[5:]] == ["wave"]
    assert again.output.index("skipping 'tell_joke'") < again.output.index("action 'wave'")

    # With nothing but the joke to offer, it does nothing and says why.
    jokes_only = _planner("-p", "repertoire:=[tell_joke]")
    assert jokes_only.finish(timeout=60) == 0, jokes_only.output
    assert "done: every action was badly received 2 times" in jokes_only.output
    assert len(graph.actions) == 6


def test_it_acts_only_once_the_feedback_node_is_there(executor: SingleThreadedExecutor, tmp_path: Path) -> None:
    """An action sent before the feedback node is matched would be lost: the planner waits for its subscriber and its
    stats service (a subscriber alone, here the scripted person's, is not enough)."""
    person = ScriptedPerson(context=executor.context)
    executor.add_node(person)
    planner = _planner("-p", "max_actions:=1", "-p", "start_delay:=0.5")
    planner.expect("waiting for a subscriber on /robot/action and /action_feedback_node/get_action_stats")
    assert not wait_for(lambda: person.actions, 3.0)
    feedback = ActionFeedbackNode(context=executor.context, parameter_overrides=[
        *(Parameter(name, value=value) for name, value in FEEDBACK.items()),
        Parameter("stats_db_path", value=str(tmp_path / "verdicts.db"))])
    executor.add_node(feedback)
    assert planner.finish(timeout=60) == 0, planner.output
    assert [a.name for a in person.actions] == ["tell_joke"] and "verdict on 'tell_joke'" in planner.output
    for node in (person, feedback):
        executor.remove_node(node)
        node.destroy_node()


@pytest.mark.parametrize(("argument", "reason"), [("max_badly_received:=0", "max_badly_received"),
                                                  ("repertoire:=['']", "repertoire must name")])
def test_an_invalid_parameter_stops_it_with_one_line(argument: str, reason: str) -> None:
    planner = NodeProcess.module("examples.planner_example", "-p", argument)
    assert planner.finish(timeout=60) == 1, planner.output
    (line,) = [line for line in planner.output.splitlines() if "FATAL" in line]
    assert line.startswith("[FATAL] [planner_example]: cannot start:") and reason in line, planner.output


def _launch_tree() -> ast.Module:
    path = ROOT / "launch" / "planner_example.launch.py"
    return ast.parse(path.read_text(), str(path))


def test_the_launch_file_runs_the_installed_planner_against_perception_on_the_clip() -> None:
    calls = [n for n in ast.walk(_launch_tree()) if isinstance(n, ast.Call)]
    keywords = {(getattr(c.func, "id", ""), k.arg): k.value for c in calls for k in c.keywords}
    assert ast.literal_eval(keywords["Node", "executable"]) == "planner_example"
    (include,) = [c for c in calls if getattr(c.func, "id", "") == "PathJoinSubstitution"]
    assert [ast.literal_eval(e) for e in include.args[0].elts[1:]] == ["launch", "perception.launch.py"]
    defaults = {ast.literal_eval(c.args[0]): ast.literal_eval(next(k.value for k in c.keywords if k.arg ==
                                                                   "default_value"))
                for c in calls if getattr(c.func, "id", "") == "DeclareLaunchArgument"}
    assert defaults["use_video"] == "true"  # the packaged clip, unless told otherwise
    setup = (ROOT / "setup.py").read_text()
    assert '"planner_example = emotion_perception_examples.planner_example:main"' in setup
    assert 'EXAMPLES: "examples"' in setup
    example = ROOT / "examples" / "planner_example.py"
    assert "main" in {f.name for f in ast.parse(example.read_text()).body if isinstance(f, ast.FunctionDef)}
