# Copyright 2026 The emotion_perception Authors
# SPDX-License-Identifier: Apache-2.0
"""A fleet: action-feedback nodes as separate robots over real DDS, sharing one database.

On a real PostgreSQL server three robots (processes) write 1,000 verdicts each concurrently while the
server is stopped and started in the middle; a node is SIGKILLed with the server up and with it down;
a server down at start stops the node. Two robots can also share one sqlite file.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import psycopg
import pytest
import rclpy
from diagnostic_msgs.msg import DiagnosticArray
from helpers import PROCESS_TEST_TIMEOUT_S, wait_for
from rclpy.parameter import Parameter
from rclpy.qos import HistoryPolicy, QoSProfile, ReliabilityPolicy
from test_action_feedback_node import FAST, action, reaction

from emotion_msgs.msg import ActionFeedback, EmotionReaction, RobotAction
from emotion_msgs.srv import GetActionStats
from emotion_perception.ros.action_feedback_node import ActionFeedbackNode
from harness.postgres_server import PostgresServer

pytestmark = pytest.mark.timeout(PROCESS_TEST_TIMEOUT_S)

NS = 1_000_000_000
ALL = QoSProfile(history=HistoryPolicy.KEEP_ALL, reliability=ReliabilityPolicy.RELIABLE)
DEEP = QoSProfile(depth=1000, reliability=ReliabilityPolicy.RELIABLE)
#: The short windows, with room for a node that lags seconds behind on a loaded machine: reactions count
#: until 2 s after the response window closes, and stamps a minute old are still accepted.
WINDOWS = {**FAST, "lateness_grace": 2.0, "max_stamp_age": 60.0, "history_seconds": 120.0,
           "stats_db_retry_period": 0.2}
KINDS = ("well_received", "neutral", "badly_received", "unknown")
#: The valence after an action (before it: 0.0) and the verdict it gets when no other action's windows overlap.
AFTER = {0.8: ActionFeedback.WELL_RECEIVED, -0.7: ActionFeedback.BADLY_RECEIVED, 0.05: ActionFeedback.NEUTRAL,
         None: ActionFeedback.UNKNOWN}



def start_robot(robot: str, url: str, tmp_path: Path) -> subprocess.Popen:
    """An action-feedback node in namespace /<robot> (so robot_id defaults to it), as its own process."""
    params = {**WINDOWS, "stats_db_url": url, "stats_outbox_path": tmp_path / f"outbox_{robot}.db"}
    command = [sys.executable, "-m", "emotion_perception.ros.action_feedback_node", "--ros-args",
               "-r", f"__ns:=/{robot}", *(a for k, v in params.items() for a in ("-p", f"{k}:={v}"))]
    with (tmp_path / f"{robot}.log").open("a") as log:  # a file, not a pipe: a node logs a line per verdict
        return subprocess.Popen(command, env=os.environ, stdout=log, stderr=subprocess.STDOUT)


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=15.0)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10.0)


class Fleet:
    """The planners and cameras of several robots in one test node: actions, reactions, verdicts, services."""

    def __init__(self, context, executor, robots: list[str]) -> None:
        self.node = rclpy.create_node("fleet_tester", context=context)
        self.robots = robots
        self.actions = {r: self.node.create_publisher(RobotAction, f"/{r}/robot/action", ALL) for r in robots}
        self.reactions = {r: self.node.create_publisher(EmotionReaction, f"/{r}/human/reaction", DEEP) for r in robots}
        self.sent: dict[str, list[str]] = {r: [] for r in robots}
        self.intended: dict[str, int] = {}
        self.heard: dict[str, dict[str, ActionFeedback]] = {r: {} for r in robots}
        self.health: dict[str, dict[str, str]] = {}
        self.health_stamp: dict[str, int] = {}  #: ns, the stamp of each robot's latest diagnostics
        self.outage_seen: set[str] = set()
        for r in robots:
            self.node.create_subscription(
                ActionFeedback, f"/{r}/human/action_feedback", lambda m, r=r: self.heard[r].update({m.action_id: m}),
                DEEP,
            )
        self.node.create_subscription(DiagnosticArray, "/diagnostics", self._on_diagnostics, DEEP)
        self.clients = {
            (r, service): self.node.create_client(GetActionStats, f"/{r}/action_feedback_node/{service}")
            for r in robots for service in ("get_action_stats", "get_fleet_action_stats")
        }
        executor.add_node(self.node)

    def _on_diagnostics(self, msg: DiagnosticArray) -> None:
        for status in msg.status:
            values = {kv.key: kv.value for kv in status.values}
            robot = values.get("robot_id")
            if robot in self.heard:
                self.health[robot] = values
                self.health_stamp[robot] = msg.header.stamp.sec * NS + msg.header.stamp.nanosec
                if values.get("db_connected") == "False":
                    self.outage_seen.add(robot)

    def connect(self, robots: list[str] | None = None, since_ns: int = 0, log_dir: Path | None = None) -> None:
        """Wait for each robot's node: its diagnostics (it is running, its store open), endpoints and services.

        A node killed before stays on the graph for a while and its last diagnostics may still be queued here,
        so a restarted node counts as up only once diagnostics stamped after ``since_ns`` arrive.
        """
        for r in robots or self.robots:
            assert wait_for(
                lambda r=r: self.health_stamp.get(r, -1) >= since_ns
                and self.actions[r].get_subscription_count() > 0
                and self.reactions[r].get_subscription_count() > 0
                and self.node.count_publishers(f"/{r}/human/action_feedback") > 0,
                timeout=120.0,
            ), f"robot {r} did not come up" + (f"; its log:\n{(log_dir / f'{r}.log').read_text()[-3000:]}"
                                               if log_dir is not None else "")
            for service in ("get_action_stats", "get_fleet_action_stats"):
                assert self.clients[r, service].wait_for_service(timeout_sec=30.0)

    def drive(self, count: int, robots: list[str] | None = None, period: float = 0.01) -> None:
        """``count`` actions per robot ``period`` apart, one face before and two after each, at varied valence.

        The windows span 0.6 s around an action (FAST), so at the default period each action's windows hold the
        reactions of some 50 neighbours and its verdict pools them (mostly NEUTRAL): that is a load for the store.
        Only actions at least 0.5 s apart get the verdict of their own reactions (``intended``).
        """
        for _ in range(count):
            time.sleep(period)  # pacing the publisher, not waiting for anything
            for r in robots or self.robots:
                i = len(self.sent[r])
                now = time.time_ns()
                face = f"face_{i % 3}"
                after = list(AFTER)[(i * 7 + len(r)) % 4]
                self.reactions[r].publish(reaction(now - int(0.1 * NS), 0.0, face))
                if after is not None:
                    for dt in (0.1, 0.25):
                        self.reactions[r].publish(reaction(now + int(dt * NS), after, face))
                msg = action(now, f"action_{i % 5}", f"{r}_{i}")
                self.actions[r].publish(msg)
                self.sent[r].append(msg.action_id)
                self.intended[msg.action_id] = AFTER[after]

    def total_heard(self) -> int:
        return sum(len(h) for h in self.heard.values())

    def stats(self, robot: str, service: str) -> GetActionStats.Response:
        future = self.clients[robot, service].call_async(GetActionStats.Request())
        assert wait_for(future.done, timeout=30.0)
        return future.result()


def tally(verdicts: list[ActionFeedback]) -> dict[str, tuple]:
    """name -> (count, well, neutral, badly, unknown), from verdicts heard on the topic."""
    names = Counter((v.name, v.verdict) for v in verdicts)
    codes = (ActionFeedback.WELL_RECEIVED, ActionFeedback.NEUTRAL, ActionFeedback.BADLY_RECEIVED,
             ActionFeedback.UNKNOWN)
    return {
        name: (sum(names[name, c] for c in codes), *(names[name, c] for c in codes))
        for name in sorted({v.name for v in verdicts})
    }


def served(response: GetActionStats.Response) -> dict[str, tuple]:
    assert response.success, response.message
    return {s.name: (s.count, s.well_received, s.neutral, s.badly_received, s.unknown) for s in response.stats}


def rows(url: str) -> list[tuple[str, str]]:
    with psycopg.connect(url) as conn:
        return conn.execute("SELECT robot_id, action_id FROM verdicts ORDER BY id").fetchall()


def test_three_robots_write_concurrently_through_a_server_restart(
    executor, ros_context, server: PostgresServer, url: str, tmp_path: Path
) -> None:
    robots = ["robot_a", "robot_b", "robot_c"]
    nodes = [start_robot(r, url, tmp_path) for r in robots]
    try:
        fleet = Fleet(ros_context, executor, robots)
        fleet.connect(log_dir=tmp_path)
        started = time.monotonic()
        fleet.drive(400)
        assert wait_for(lambda: fleet.total_heard() == 1200, timeout=120.0), fleet.total_heard()

        server.stop()  # the server goes away in the middle of the run
        fleet.drive(300)
        assert wait_for(lambda: fleet.total_heard() == 2100, timeout=120.0), fleet.total_heard()
        assert wait_for(
            lambda: fleet.outage_seen == set(robots) and all(int(h["db_queued"]) > 0 for h in fleet.health.values()),
            timeout=30.0,
        ), fleet.health
        assert not server.running  # every verdict of the outage was published while the server was down
        answer = fleet.stats("robot_a", "get_fleet_action_stats")
        assert not answer.success and "unreachable" in answer.message

        server.start()
        fleet.drive(296)
        fleet.drive(4, period=0.7)  # apart: each of these four gets its own verdict, one of each kind
        assert wait_for(lambda: fleet.total_heard() == 3000, timeout=120.0), fleet.total_heard()
        assert wait_for(lambda: len(rows(url)) == 3000, timeout=60.0, period=0.2), len(rows(url))
        print(f"fleet: 3 robots x 1000 verdicts through a server restart in {time.monotonic() - started:.1f} s")

        stored = rows(url)
        assert len(set(stored)) == 3000  # none twice
        for r in robots:
            assert sorted(a for robot, a in stored if robot == r) == sorted(fleet.sent[r])  # none lost
            assert set(fleet.heard[r]) == set(fleet.sent[r])
            assert [fleet.heard[r][a].verdict for a in fleet.sent[r][-4:]] == [
                fleet.intended[a] for a in fleet.sent[r][-4:]]
        assert wait_for(lambda: all(h["db_connected"] == "True" and h["db_queued"] == "0"
                                    and int(h["db_outages"]) >= 1 for h in fleet.health.values()), timeout=10.0)

        everyone = tally([v for heard in fleet.heard.values() for v in heard.values()])
        assert sum(c[0] for c in everyone.values()) == 3000
        assert all(sum(c[k] for c in everyone.values()) > 0 for k in (1, 2, 3, 4)), everyone  # every kind occurs
        for r in robots:
            assert served(fleet.stats(r, "get_fleet_action_stats")) == everyone
            assert served(fleet.stats(r, "get_action_stats")) == tally(list(fleet.heard[r].values()))
    finally:
        for process in nodes:
            stop(process)
    assert [p.returncode for p in nodes] == [0, 0, 0]


def test_sigkill_loses_no_published_verdict_with_the_server_up_or_down(
    executor, ros_context, server: PostgresServer, url: str, tmp_path: Path
) -> None:
    fleet = Fleet(ros_context, executor, ["robot_k"])
    for server_up in (True, False):
        started = time.time_ns()
        node = start_robot("robot_k", url, tmp_path)
        try:
            fleet.connect(since_ns=started, log_dir=tmp_path)
            if not server_up:
                server.stop()
            before = len(fleet.heard["robot_k"])
            deadline = time.monotonic() + 60.0
            while len(fleet.heard["robot_k"]) < before + 40 and time.monotonic() < deadline:
                fleet.drive(1, period=0.02)
            node.send_signal(signal.SIGKILL)  # with verdicts still pending
            assert node.wait(timeout=10.0) == -signal.SIGKILL
        finally:
            stop(node)
        assert len(fleet.heard["robot_k"]) >= before + 40
        if not server_up:
            server.start()
            node = start_robot("robot_k", url, tmp_path)  # its outbox survived the kill: written on restart
            try:
                assert wait_for(lambda: len(rows(url)) >= len(fleet.heard["robot_k"]), timeout=60.0, period=0.2)
            finally:
                stop(node)
        stored = [a for _, a in rows(url)]
        assert len(stored) == len(set(stored))
        assert set(fleet.heard["robot_k"]) <= set(stored)
        assert set(stored) <= set(fleet.sent["robot_k"])
        print(f"SIGKILL (server {'up' if server_up else 'down'}): {len(fleet.sent['robot_k'])} sent, "
              f"{len(fleet.heard['robot_k'])} heard, {len(stored)} stored")


def test_a_server_down_at_start_stops_the_node_with_one_line(tmp_path: Path) -> None:
    url = f"postgresql:///verdicts?host={tmp_path}&user=postgres"
    result = subprocess.run(
        [sys.executable, "-m", "emotion_perception.ros.action_feedback_node", "--ros-args",
         "-p", f"stats_db_url:={url}", "-p", f"stats_outbox_path:={tmp_path / 'outbox.db'}"],
        env=os.environ, capture_output=True, text=True, timeout=60, check=False,
    )
    assert result.returncode == 1
    lines = [line for line in result.stderr.splitlines() if "action_feedback_node" in line]
    assert len(lines) == 1 and f"cannot start: cannot connect to PostgreSQL {url}: " in lines[0], result.stderr
    assert "Traceback" not in result.stderr


def test_two_robots_sharing_one_sqlite_file_get_their_own_and_the_fleet_stats(
    executor, ros_context, tmp_path: Path
) -> None:
    db = tmp_path / "shared.db"
    for robot in ("robot_x", "robot_y"):
        params = {**WINDOWS, "stats_db_url": f"sqlite://{db}"}
        executor.add_node(ActionFeedbackNode(
            context=ros_context, namespace=robot, parameter_overrides=[Parameter(k, value=v) for k, v in params.items()]
        ))
    fleet = Fleet(ros_context, executor, ["robot_x", "robot_y"])
    fleet.connect()
    fleet.drive(4, ["robot_x"], period=0.7)  # apart: each action judged on its own reactions
    fleet.drive(2, ["robot_y"], period=0.7)
    assert wait_for(lambda: fleet.total_heard() == 6, timeout=30.0)
    mine = served(fleet.stats("robot_x", "get_action_stats"))
    assert mine == tally(list(fleet.heard["robot_x"].values())) and sum(c[0] for c in mine.values()) == 4
    everyone = tally([v for heard in fleet.heard.values() for v in heard.values()])
    assert served(fleet.stats("robot_y", "get_fleet_action_stats")) == everyone
    assert {a: v.verdict for a, v in fleet.heard["robot_x"].items()} == {
        a: fleet.intended[a] for a in fleet.sent["robot_x"]}  # one of each kind
    assert fleet.health["robot_x"]["db_connected"] == "True" and fleet.health["robot_y"]["db_queued"] == "0"
