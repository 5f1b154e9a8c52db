# Copyright 2026 The emotion_perception Authors
# SPDX-License-Identifier: Apache-2.0
"""action_feedback_node over real DDS: verdicts, the stats service, restarts, a SIGKILL, bad input, sim time."""

from __future__ import annotations

import math
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest
import rclpy
import yaml
from builtin_interfaces.msg import Time
from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus
from helpers import PROCESS_TEST_TIMEOUT_S, ROOT, wait_for
from node_process import STOPS, NodeProcess
from rclpy.exceptions import InvalidParameterValueException
from rclpy.executors import SingleThreadedExecutor
from rclpy.parameter import Parameter
from rclpy.qos import QoSProfile, ReliabilityPolicy
from rosgraph_msgs.msg import Clock

from emotion_msgs.msg import ActionFeedback, EmotionReaction, RobotAction
from emotion_msgs.srv import GetActionStats
from emotion_perception.feedback.rule import ActionVerdict
from emotion_perception.feedback.stats_store import StatsStore, StatsStoreError, VerdictStore
from emotion_perception.ros.action_feedback_node import PARAMETERS, ActionFeedbackNode
from emotion_perception.ros.messages import ns_to_stamp, stamp_to_ns
from emotion_perception.ros.spin_thread import SpinThread

pytestmark = pytest.mark.timeout(PROCESS_TEST_TIMEOUT_S)

NS = 1_000_000_000
RELIABLE = QoSProfile(depth=500, reliability=ReliabilityPolicy.RELIABLE)
#: Short windows: 0.2 s baseline, response 0.05..0.4 s, verdict 0.1 s after.
FAST = {
    "baseline_window": 0.2,
    "response_delay": 0.05,
    "response_end": 0.4,
    "lateness_grace": 0.1,
    "max_response_window": 2.0,
    "max_future_stamp": 5.0,
    "check_period": 0.02,
}


def overrides(db: Path, **extra) -> list[Parameter]:
    values = {**FAST, "stats_db_path": str(db), **extra}
    return [Parameter(k, value=v) for k, v in values.items()]


def reaction(stamp_ns: int, score: float, face_id: str = "face_1") -> EmotionReaction:
    msg = EmotionReaction()
    msg.header.stamp = ns_to_stamp(stamp_ns)
    msg.valence = 1 if score > 0.3 else -1 if score < -0.3 else 0
    msg.confidence = 0.9
    msg.valence_score = score
    msg.face_id = face_id
    return msg


def action(stamp_ns: int, name: str, action_id: str | None = None) -> RobotAction:
    msg = RobotAction(action_id=uuid.uuid4().hex if action_id is None else action_id, name=name, duration=0.0)
    msg.header.stamp = ns_to_stamp(stamp_ns)
    return msg


def scene(t0: int, before: float | None, after: float | None, face_id: str = "face_1") -> list[EmotionReaction]:
    """One face at a constant score in the baseline (t0-0.18..t0-0.02 s) and response (t0+0.1..t0+0.35 s) windows."""
    out = []
    if before is not None:
        out += [reaction(t0 - int((0.18 - 0.04 * i) * NS), before, face_id) for i in range(5)]
    if after is not None:
        out += [reaction(t0 + int((0.1 + 0.05 * i) * NS), after, face_id) for i in range(6)]
    return out


class Planner:
    """The planner and camera side: publishes actions and reactions, hears verdicts and diagnostics."""

    def __init__(self, context, executor, node_name: str = "action_feedback_node") -> None:
        self.node = rclpy.create_node("feedback_tester", context=context)
        self.actions = self.node.create_publisher(RobotAction, "/robot/action", RELIABLE)
        self.reactions = self.node.create_publisher(EmotionReaction, "/human/reaction", RELIABLE)
        self.feedback: list[ActionFeedback] = []
        self.arrival_ns: dict[str, int] = {}
        self.diagnostics: list[DiagnosticArray] = []
        self.node.create_subscription(ActionFeedback, "/human/action_feedback", self._on_feedback, RELIABLE)
        self.node.create_subscription(DiagnosticArray, "/diagnostics", self.diagnostics.append, RELIABLE)
        self.stats = self.node.create_client(GetActionStats, f"/{node_name}/get_action_stats")
        executor.add_node(self.node)

    def _on_feedback(self, msg: ActionFeedback) -> None:
        self.arrival_ns[msg.action_id] = time.time_ns()
        self.feedback.append(msg)

    def connect(self) -> None:
        assert wait_for(
            lambda: self.actions.get_subscription_count() > 0
            and self.reactions.get_subscription_count() > 0
            and self.node.count_publishers("/human/action_feedback") > 0,
            timeout=10.0,
        )
        assert self.stats.wait_for_service(timeout_sec=10.0)

    def send(self, actions: list[RobotAction], reactions: list[EmotionReaction]) -> None:
        for msg in reactions:
            self.reactions.publish(msg)
        for msg in actions:
            self.actions.publish(msg)

    def verdicts(self) -> dict[str, ActionFeedback]:
        return {m.action_id: m for m in self.feedback}

    def get_stats(self, name: str = "") -> GetActionStats.Response:
        future = self.stats.call_async(GetActionStats.Request(name=name))
        assert wait_for(future.done, timeout=10.0)
        return future.result()

    def last_diagnostics(self) -> dict[str, str]:
        return {kv.key: kv.value for kv in self.diagnostics[-1].status[0].values} if self.diagnostics else {}


def start_with_planner(executor, ros_context, db: Path, **extra) -> tuple[ActionFeedbackNode, Planner]:
    """An action-feedback node with the fast windows (and ``extra`` parameters), its database at ``db``, and a
    connected planner."""
    node = ActionFeedbackNode(context=ros_context, parameter_overrides=overrides(db, **extra))
    executor.add_node(node)
    planner = Planner(ros_context, executor)
    planner.connect()
    return node, planner


def counts(response: GetActionStats.Response) -> list[tuple]:
    return [(s.name, s.count, s.well_received, s.neutral, s.badly_received, s.unknown) for s in response.stats]


def test_verdicts_stats_service_and_restart(executor, ros_context, tmp_path: Path) -> None:
    db = tmp_path / "stats.db"
    node, planner = start_with_planner(executor, ros_context, db)

    now = time.time_ns()
    t = [now + int(k * 0.6 * NS) for k in range(4)]
    actions = [action(t[0], "wave"), action(t[1], "frown"), action(t[2], "nod"), action(t[3], "wave")]
    reactions = (
        scene(t[0], 0.0, 0.8)  # happy after the wave
        + scene(t[1], 0.3, -0.6)  # sad after the frown
        + scene(t[2], 0.1, 0.15)  # unchanged
        # nobody after the last wave
    )
    planner.send(actions, reactions)
    assert wait_for(lambda: len(planner.feedback) == 4, timeout=15.0)

    got = planner.verdicts()
    want = [ActionFeedback.WELL_RECEIVED, ActionFeedback.BADLY_RECEIVED, ActionFeedback.NEUTRAL, ActionFeedback.UNKNOWN]
    assert [got[a.action_id].verdict for a in actions] == want
    first = got[actions[0].action_id]
    assert first.name == "wave" and first.action_stamp == actions[0].header.stamp
    assert first.delta == pytest.approx(0.8, abs=1e-6) and first.n_baseline == 5 and first.n_response == 6
    assert list(first.face_ids) == ["face_1"] and 0.0 < first.confidence <= 1.0
    assert math.isnan(got[actions[3].action_id].response_valence) and got[actions[3].action_id].n_response == 0
    # Judged after the window closed (action + 0.4 s + 0.1 s grace), by the node clock.
    for a in actions:
        assert stamp_to_ns(got[a.action_id].header.stamp) >= stamp_to_ns(a.header.stamp) + int(0.5 * NS)
    closed = {a.action_id: stamp_to_ns(a.header.stamp) + int(0.5 * NS) for a in actions}
    latency_ms = [(planner.arrival_ns[k] - v) / 1e6 for k, v in closed.items()]
    print(f"verdict latency after window + grace closed: {', '.join(f'{v:.1f}' for v in latency_ms)} ms")

    expected = [("frown", 1, 0, 0, 1, 0), ("nod", 1, 0, 1, 0, 0), ("wave", 2, 1, 0, 0, 1)]
    answer = planner.get_stats()
    assert answer.success and counts(answer) == expected
    assert answer.stats[2].mean_delta == pytest.approx(0.8, abs=1e-6)  # UNKNOWN has no delta
    only = planner.get_stats("frown")
    assert only.success and counts(only) == expected[:1]
    none = planner.get_stats("never_done")
    assert none.success and none.stats == []

    # A restart on the same database keeps every statistic.
    executor.remove_node(node)
    node.destroy_node()
    executor.add_node(ActionFeedbackNode(context=ros_context, parameter_overrides=overrides(db)))
    assert planner.stats.wait_for_service(timeout_sec=10.0)
    after = planner.get_stats()
    assert after.success and counts(after) == expected
    assert StatsStore(db).action_ids() == [a.action_id for a in actions]


def test_bad_input_is_dropped_counted_and_the_node_keeps_working(executor, ros_context, tmp_path: Path) -> None:
    _, planner = start_with_planner(executor, ros_context, tmp_path / "s.db")

    now = time.time_ns()
    good = action(now, "wave", "good")
    bad_actions = [
        action(now, "wave", ""),  # empty id
        action(now, "wave", "good"),  # duplicate id
        action(now + 60 * NS, "wave"),  # in the future
        action(now - 3600 * NS, "wave"),  # long ago
    ]
    bad_reactions = [reaction(now, math.nan), reaction(now, 0.5), reaction(now - 3600 * NS, 0.5)]
    bad_reactions[1].valence = 5
    bad_reactions[1].confidence = math.inf
    bad_reactions.append(reaction(now, 0.5))
    bad_reactions[3].valence = 5
    planner.send([good, *bad_actions], bad_reactions + scene(now, 0.0, 0.9))
    assert wait_for(lambda: "good" in planner.verdicts(), timeout=10.0)
    assert planner.verdicts()["good"].verdict == ActionFeedback.WELL_RECEIVED

    expected = {
        "actions_received": "5",
        "reactions_received": str(4 + 11),
        "verdicts_published": "1",
        "pending_actions": "0",
        "db_errors": "0",
        "dropped_empty_action_id": "1",
        "dropped_duplicate_action_id": "1",
        "dropped_future_stamp": "1",
        "dropped_stale_stamp": "2",
        "dropped_non_finite": "2",
        "dropped_unknown_valence": "1",
    }
    assert wait_for(lambda: expected.items() <= planner.last_diagnostics().items(), timeout=5.0), (
        planner.last_diagnostics()
    )
    status = planner.diagnostics[-1].status[0]
    assert status.name == "action_feedback_node: action feedback" and status.hardware_id == "none"


def test_parameters_are_validated_at_start_and_when_set(executor, ros_context, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="response_delay"):
        ActionFeedbackNode(context=ros_context, parameter_overrides=overrides(tmp_path / "a.db", response_delay=1.0))
    with pytest.raises(InvalidParameterValueException, match="baseline_window"):
        ActionFeedbackNode(context=ros_context, parameter_overrides=overrides(tmp_path / "a.db", baseline_window=-1.0))
    assert not (tmp_path / "a.db").exists()

    node = ActionFeedbackNode(context=ros_context, parameter_overrides=overrides(tmp_path / "b.db"))
    result = node.set_parameters([Parameter("response_end", value=0.05)])[0]  # = response_delay
    assert not result.successful and "response_delay" in result.reason
    assert not node.set_parameters([Parameter("delta_threshold", value=5.0)])[0].successful
    assert not node.set_parameters([Parameter("stats_db_path", value=str(tmp_path / "c.db"))])[0].successful
    assert node.set_parameters([Parameter("delta_threshold", value=0.5)])[0].successful
    assert node.get_parameter("delta_threshold").value == 0.5
    for name, (_, description, _, _) in PARAMETERS.items():
        assert node.describe_parameter(name).description == description
    node.destroy_node()


def test_the_yaml_section_is_the_declared_defaults(ros_context, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))  # the default database path lands here
    path = ROOT / "config" / "emotion_perception.yaml"
    section = yaml.safe_load(path.read_text())["/**/action_feedback_node"]["ros__parameters"]
    assert section == {name: spec[0] for name, spec in PARAMETERS.items()}
    node = ActionFeedbackNode(
        context=ros_context,
        cli_args=["--ros-args", "--params-file", str(path)],
        parameter_overrides=[Parameter("history_seconds", value=99.0)],
    )
    values = {name: node.get_parameter(name).value for name in PARAMETERS}
    node.destroy_node()
    assert values == {**section, "history_seconds": 99.0}


def test_a_corrupt_database_stops_the_start_and_is_left_untouched(ros_context, tmp_path: Path) -> None:
    db = tmp_path / "stats.db"
    db.write_bytes(b"not a database at all" * 100)
    with pytest.raises(StatsStoreError, match="not an SQLite database"):
        ActionFeedbackNode(context=ros_context, parameter_overrides=overrides(db))
    assert db.read_bytes() == b"not a database at all" * 100
    result = subprocess.run(
        [sys.executable, "-m", "emotion_perception.ros.action_feedback_node", "--ros-args",
         "-p", f"stats_db_path:={db}"],
        env=os.environ, capture_output=True, text=True, timeout=30, check=False,
    )
    assert result.returncode == 1
    assert "cannot start" in result.stderr and "not an SQLite database" in result.stderr
    assert "Traceback" not in result.stderr
    assert db.read_bytes() == b"not a database at all" * 100


def test_a_database_failure_is_a_service_error_and_verdicts_still_flow(executor, ros_context, tmp_path: Path) -> None:
    node, planner = start_with_planner(executor, ros_context, tmp_path / "s.db")
    node._store.close()  # the database goes away under the running node

    answer = planner.get_stats()
    assert not answer.success and "cannot read" in answer.message and answer.stats == []
    now = time.time_ns()
    planner.send([action(now, "wave", "after_failure")], scene(now, 0.0, -0.9))
    assert wait_for(lambda: "after_failure" in planner.verdicts(), timeout=10.0)
    assert planner.verdicts()["after_failure"].verdict == ActionFeedback.BADLY_RECEIVED
    assert wait_for(lambda: planner.last_diagnostics().get("db_errors") == "2", timeout=5.0)
    assert any(s.level == DiagnosticStatus.ERROR for d in planner.diagnostics for s in d.status)


class StalledStore(StatsStore):
    """The real sqlite store on a disk that stalls: each write waits until ``resume`` is set."""

    def __init__(self, path: Path, robot_id: str = "") -> None:
        super().__init__(path, robot_id)
        self.writing = threading.Event()
        self.resume = threading.Event()

    def record(self, verdict: ActionVerdict) -> bool:
        self.writing.set()
        self.resume.wait(timeout=60.0)
        return super().record(verdict)


class FailingStore(StatsStore):
    """The real sqlite store on a disk that is full: every write fails as sqlite's would."""

    def record(self, verdict: ActionVerdict) -> bool:
        raise StatsStoreError(f"cannot record verdict of action {verdict.action.action_id!r} in {self.path}: "
                              "database or disk is full")


class NodeOnStore(ActionFeedbackNode):
    """The real node, its verdicts written to a store of the test's kind at ``stats_db_path``."""

    store_kind: type[StatsStore] = StatsStore

    def _open_store(self) -> VerdictStore:
        return self.store_kind(self._db_path(), "robot_t")


class StalledNode(NodeOnStore):
    store_kind = StalledStore


class FullDiskNode(NodeOnStore):
    store_kind = FailingStore


def _planner_on_its_own_thread(ros_context) -> tuple[Planner, SpinThread]:
    """A planner spinning apart from the node: it hears what is published while the node's thread is in a write."""
    spinner = SpinThread(SingleThreadedExecutor(context=ros_context), name="planner")
    return Planner(ros_context, spinner.executor), spinner


def test_a_verdict_is_published_only_once_its_write_has_returned(executor, ros_context, tmp_path: Path) -> None:
    """README: every verdict is written to sqlite (one transaction) before it is published."""
    db = tmp_path / "s.db"
    node = StalledNode(context=ros_context, parameter_overrides=overrides(db))
    executor.add_node(node)
    planner, spinner = _planner_on_its_own_thread(ros_context)
    in_database_when_heard: dict[str, bool] = {}

    def on_feedback(msg: ActionFeedback) -> None:
        with sqlite3.connect(f"{db.as_uri()}?mode=ro", uri=True) as conn:
            rows = conn.execute("SELECT action_id FROM verdicts WHERE action_id = ?", (msg.action_id,)).fetchall()
        in_database_when_heard[msg.action_id] = rows == [(msg.action_id,)]

    planner.node.create_subscription(ActionFeedback, "/human/action_feedback", on_feedback, RELIABLE)
    try:
        planner.connect()
        now = time.time_ns()
        planner.send([action(now, "wave", "stalled")], scene(now, 0.0, 0.8))
        assert node._store.writing.wait(timeout=10.0), "the node never began writing the verdict"
        assert not wait_for(lambda: planner.feedback, timeout=1.5), "published while its write had not returned"
        node._store.resume.set()
        assert wait_for(lambda: "stalled" in in_database_when_heard, timeout=10.0)
        assert in_database_when_heard == {"stalled": True}  # committed by the time a subscriber hears it
        assert planner.verdicts()["stalled"].verdict == ActionFeedback.WELL_RECEIVED
    finally:
        node._store.resume.set()
        spinner.stop()
        planner.node.destroy_node()


def test_a_failed_write_is_counted_reported_and_the_verdict_still_published(
    executor, ros_context, tmp_path: Path
) -> None:
    """README: a write that fails while the node runs is counted in ``db_errors`` and /diagnostics goes ERROR; the
    planner still gets the verdict (the statistics lack it)."""
    node = FullDiskNode(context=ros_context, parameter_overrides=overrides(tmp_path / "s.db"))
    executor.add_node(node)
    planner = Planner(ros_context, executor)
    planner.connect()
    now = time.time_ns()
    planner.send([action(now, "wave", "lost_write")], scene(now, 0.0, -0.9))
    assert wait_for(lambda: "lost_write" in planner.verdicts(), timeout=10.0)
    assert planner.verdicts()["lost_write"].verdict == ActionFeedback.BADLY_RECEIVED
    assert wait_for(lambda: planner.last_diagnostics().get("db_errors") == "1", timeout=5.0)
    assert planner.last_diagnostics()["verdicts_published"] == "1"
    assert any(s.level == DiagnosticStatus.ERROR and "stats database errors" in s.message
               for d in planner.diagnostics for s in d.status)
    answer = planner.get_stats()
    assert answer.success and answer.stats == []


def test_windows_follow_the_node_clock_under_sim_time(executor, ros_context, tmp_path: Path) -> None:
    node = ActionFeedbackNode(
        context=ros_context, parameter_overrides=[*overrides(tmp_path / "s.db"), Parameter("use_sim_time", value=True)]
    )
    executor.add_node(node)
    planner = Planner(ros_context, executor)
    clock = planner.node.create_publisher(Clock, "/clock", 10)
    planner.connect()
    assert wait_for(lambda: clock.get_subscription_count() > 0)

    t0 = 1_000 * NS  # a bag's time, far from the wall clock

    def set_clock(ns: int) -> None:
        clock.publish(Clock(clock=ns_to_stamp(ns)))

    set_clock(t0)
    assert wait_for(lambda: node.get_clock().now().nanoseconds == t0)
    planner.send([action(t0, "wave", "replayed")], scene(t0, 0.0, 0.7))
    set_clock(t0 + int(0.45 * NS))  # window closed, grace not over
    assert wait_for(lambda: node.get_clock().now().nanoseconds == t0 + int(0.45 * NS))
    assert not wait_for(lambda: planner.feedback, timeout=0.5)
    set_clock(t0 + int(0.6 * NS))
    assert wait_for(lambda: planner.feedback, timeout=10.0)
    verdict = planner.feedback[0]
    assert verdict.verdict == ActionFeedback.WELL_RECEIVED and verdict.action_stamp == Time(sec=1000, nanosec=0)
    assert stamp_to_ns(verdict.header.stamp) == t0 + int(0.6 * NS)


def test_sigkill_loses_no_published_verdict(executor, ros_context, tmp_path: Path) -> None:
    db = tmp_path / "stats.db"
    args = [f"{k}:={v}" for k, v in {**FAST, "stats_db_path": db}.items()]
    command = [sys.executable, "-m", "emotion_perception.ros.action_feedback_node", "--ros-args"]
    command += [a for arg in args for a in ("-p", arg)]
    process = subprocess.Popen(command, env=os.environ, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        planner = Planner(ros_context, executor)
        planner.connect()
        sent = []
        deadline = time.monotonic() + 20.0
        while len(planner.feedback) < 8 and time.monotonic() < deadline:
            now = time.time_ns()
            msg = action(now, "wave" if len(sent) % 2 else "joke")
            sent.append(msg.action_id)
            planner.send([msg], scene(now, 0.0, 0.6 if len(sent) % 3 else -0.6))
            time.sleep(0.1)
        assert len(planner.feedback) >= 8
        process.send_signal(signal.SIGKILL)  # with about five actions still waiting for their verdict
        assert process.wait(timeout=10.0) == -signal.SIGKILL
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10.0)
        process.stderr.close()

    published = [m.action_id for m in planner.feedback]
    with sqlite3.connect(f"{db.as_uri()}?mode=ro", uri=True) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    store = StatsStore(db)
    recorded = store.action_ids()
    assert set(published) <= set(recorded)
    print(f"SIGKILL: {len(sent)} actions sent, {len(published)} verdicts heard, {len(recorded)} recorded")
    assert recorded == sent[: len(recorded)]  # in order, no gaps
    assert sum(s.count for s in store.stats()) == len(recorded)
    store.close()


def test_a_burst_of_reactions_within_the_queue_depth_is_not_lost(executor, ros_context, tmp_path: Path) -> None:
    # The verdict counts the reactions the node has taken by window end + lateness_grace, so the grace must cover
    # the time a loaded machine needs to take 190 messages (FAST's 0.1 s does not: a verdict came with 140).
    node, planner = start_with_planner(executor, ros_context, tmp_path / "s.db", lateness_grace=3.0)
    now = time.time_ns()
    burst = [reaction(now + int((0.1 + 0.001 * i) * NS), 0.5, f"face_{i % 4}") for i in range(190)]
    planner.send([action(now, "wave", "burst")], burst)  # all at once, before the action itself
    assert wait_for(lambda: "burst" in planner.verdicts(), timeout=10.0)
    verdict = planner.verdicts()["burst"]
    assert verdict.n_response == 190 and list(verdict.face_ids) == ["face_0", "face_1", "face_2", "face_3"]
    assert verdict.verdict == ActionFeedback.WELL_RECEIVED  # four newcomers at 0.5 > level_threshold
    assert node._tracker.reactions_received == 190 and not node._tracker.drops


@pytest.mark.parametrize("signals", STOPS.values(), ids=STOPS.keys())
def test_stop_signals_end_the_process_quietly_with_status_0(signals: tuple[int, ...], tmp_path: Path) -> None:
    process = NodeProcess.module(
        "emotion_perception.ros.action_feedback_node", "-p", f"stats_db_path:={tmp_path / 'stats.db'}")
    try:
        assert process.wait_for_output("judging actions"), process.output
        assert process.stop(*signals) == 0, process.output
    finally:
        process.kill()
    assert "Traceback" not in process.output


def test_each_namespace_gets_its_own_topics_and_stats_database(ros_context, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    path = ROOT / "config" / "emotion_perception.yaml"
    nodes = [ActionFeedbackNode(context=ros_context, namespace=ns, cli_args=["--ros-args", "--params-file", str(path)])
             for ns in ("robot1", "robot2", "")]
    try:
        assert [n._store.path for n in nodes] == [
            tmp_path / ".ros" / "emotion_perception" / name / "action_stats.db" for name in ("robot1", "robot2", "")]
        assert nodes[0]._feedback_pub.topic_name == "/robot1/human/action_feedback"
        assert nodes[2]._feedback_pub.topic_name == "/human/action_feedback"
    finally:
        for node in nodes:
            node.destroy_node()
