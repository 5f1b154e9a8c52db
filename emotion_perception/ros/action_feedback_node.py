# Copyright 2026 The emotion_perception Authors
# SPDX-License-Identifier: Apache-2.0
"""action_feedback_node: was the robot's action well received? (thin wrapper of FeedbackTracker + StatsStore).

Subscribes ``robot/action`` (``RobotAction``) and ``human/reaction`` (``EmotionReaction``), both
reliable; publishes one ``ActionFeedback`` per action on ``human/action_feedback`` once its response
window has closed (checked by a timer on the node clock, so ``use_sim_time`` and bag replay work),
after writing the verdict to the store (sqlite, or PostgreSQL for a fleet; rows carry ``robot_id``);
serves ``~/get_action_stats`` (this robot) and ``~/get_fleet_action_stats`` (every robot in the database)
and publishes ``/diagnostics`` at 1 Hz. Topic names are relative: they resolve in the node's namespace
(``/human/reaction`` without one), and the default sqlite file is one per namespace. The verdict rule is in
:mod:`emotion_perception.feedback.rule`.
"""

from __future__ import annotations

import sys
import threading
import time

from builtin_interfaces.msg import Time
from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue
from rcl_interfaces.msg import SetParametersResult
from rclpy.clock import Clock, ClockType
from rclpy.exceptions import ParameterException
from rclpy.node import Node
from rclpy.parameter import Parameter
from rclpy.qos import DurabilityPolicy, HistoryPolicy, QoSProfile, ReliabilityPolicy

from emotion_msgs.msg import ActionFeedback, EmotionReaction, RobotAction
from emotion_msgs.srv import GetActionStats
from emotion_perception.feedback.rule import ActionVerdict, DropReason, FeedbackConfig, FeedbackTracker
from emotion_perception.feedback.stats_store import StatsStoreError, StoreHealth, VerdictStore, default_robot_id
from emotion_perception.feedback.store_url import (
    DEFAULT_OUTBOX_CAPACITY,
    DEFAULT_RETRY_PERIOD,
    SQLITE_SCHEME,
    open_store,
)
from emotion_perception.ros.messages import (
    action_from_msg,
    stats_to_msg,
    timed_reaction_from_msg,
    verdict_to_msg,
)
from emotion_perception.ros.node_main import run_node, set_up_or_destroy
from emotion_perception.ros.parameter_table import ParameterSpec, parameter_descriptor
from emotion_perception.ros.qos import overridable_publisher

NODE_NAME = "action_feedback_node"
#: One database per namespace, so two robots on one host never share one: {namespace} is replaced by the
#: node's namespace without its leading slash (nothing at the root: ~/.ros/emotion_perception/action_stats.db).
DEFAULT_DB_PATH = "~/.ros/emotion_perception/{namespace}/action_stats.db"
_D = FeedbackConfig()
#: name -> (default, description, (min, max) or None, read-only). Defaults mirror config/emotion_perception.yaml.
PARAMETERS: dict[str, ParameterSpec] = {
    "baseline_window": (_D.baseline_window, "s before the action start: the baseline window", (0.05, 60.0), False),
    "response_delay": (_D.response_delay, "s after the action start: response window opens", (0.0, 10.0), False),
    "response_end": (_D.response_end, "s after the action start: response window closes", (0.05, 60.0), False),
    "duration_margin": (_D.duration_margin, "s added to the action's duration to close its window", (0.0, 30.0), False),
    "max_response_window": (_D.max_response_window, "s: cap of the response window's end", (0.05, 600.0), False),
    "lateness_grace": (_D.lateness_grace, "s waited after the window for reactions in flight", (0.0, 10.0), False),
    "delta_threshold": (_D.delta_threshold, "valence change that makes a verdict", (0.01, 2.0), False),
    "level_threshold": (_D.level_threshold, "valence level that makes a verdict without baseline", (0.01, 1.0), False),
    "full_confidence_reactions": (_D.full_confidence_reactions, "response reactions for full trust", (1, 1000), False),
    "history_seconds": (_D.history_seconds, "s of reactions kept", (1.0, 3600.0), False),
    "history_max_reactions": (_D.history_max_reactions, "most reactions kept", (10, 1_000_000), False),
    "max_pending_actions": (_D.max_pending_actions, "most actions awaiting a verdict", (1, 100_000), False),
    "remembered_action_ids": (_D.remembered_action_ids, "recent ids checked for duplicates", (1, 1_000_000), False),
    "max_stamp_age": (_D.max_stamp_age, "s: older stamps (vs the node clock) are dropped", (0.0, 3600.0), False),
    "max_future_stamp": (_D.max_future_stamp, "s: stamps further ahead are dropped", (0.0, 60.0), False),
    "check_period": (0.05, "s between checks for closed windows (node clock)", (0.005, 1.0), True),
    "reaction_queue_depth": (200, "reliable queue depth of /human/reaction (bursts)", (1, 10_000), True),
    "warn_throttle": (5.0, "s between two warnings of the same drop reason", (0.0, 3600.0), False),
    "stats_db_path": (DEFAULT_DB_PATH, "sqlite file of the verdicts; {namespace} = the node's namespace", None, True),
    "stats_db_url": ("", "verdict database URL; '' = sqlite at stats_db_path", None, True),
    "robot_id": ("", "this robot's id in the verdict rows; '' = the node's namespace, else the host name", None, True),
    "stats_outbox_path": ("", "local file queuing verdicts while PostgreSQL is unreachable", None, True),
    "stats_outbox_capacity": (
        DEFAULT_OUTBOX_CAPACITY, "most verdicts queued on disk during an outage", (1, 10_000_000), True),
    "stats_db_retry_period": (
        DEFAULT_RETRY_PERIOD, "s between reconnection attempts to PostgreSQL", (0.05, 60.0), True),
}
CONSTRAINTS = {
    "stats_db_path": "a file path; ~ and {namespace} are expanded and missing folders are created",
    "stats_db_url": "sqlite:///abs/path.db, sqlite://~/path.db or postgresql://[user@]host[:port]/db[?...] "
    "without a password (libpq takes it from PGPASSWORD, a service file or ~/.pgpass)",
    "stats_outbox_path": "a file path; '' = ~/.ros/emotion_perception/verdict_outbox_<robot_id>.db",
}
CONFIG_KEYS = tuple(FeedbackConfig.__dataclass_fields__)
RELIABLE = ReliabilityPolicy.RELIABLE
# Every action must be judged: KEEP_ALL, so an action waiting in the queue while the node is busy is never
# overwritten by a newer one (reliable delivery then holds it at the planner's writer until taken).
ACTION_QOS = QoSProfile(history=HistoryPolicy.KEEP_ALL, reliability=RELIABLE, durability=DurabilityPolicy.VOLATILE)
FEEDBACK_QOS = QoSProfile(depth=100, reliability=RELIABLE)
DIAGNOSTICS_QOS = QoSProfile(depth=10, reliability=RELIABLE)


def _stamp_text(stamp: Time) -> str:
    return f"{stamp.sec}.{stamp.nanosec:09d} s"


class ActionFeedbackNode(Node):
    """The action-feedback node as a composable node (``**kwargs`` go to ``rclpy.node.Node``).

    Raises ``ValueError`` / ``ParameterException`` for invalid parameters and ``StatsStoreError``
    when the database cannot be used (the file is left untouched).
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(NODE_NAME, **kwargs)
        set_up_or_destroy(self._setup, super().destroy_node)

    def _setup(self) -> None:
        for name, spec in PARAMETERS.items():
            self.declare_parameter(name, spec[0], parameter_descriptor(name, spec, CONSTRAINTS.get(name, "")))
        config = self._config({})
        problems = config.problems()
        if problems:
            raise ValueError("invalid parameters: " + "; ".join(problems))
        self._lock = threading.Lock()
        self._tracker = FeedbackTracker(config)
        self._published = 0
        self._db_errors = 0
        self._last_warn: dict[str, float] = {}
        self._last_report = (0, 0)  # (drops, db errors) at the previous diagnostics report
        self._db_was_connected = True
        self.add_on_set_parameters_callback(self._validate)
        self.add_post_set_parameters_callback(self._apply)

        self._feedback_pub = overridable_publisher(self, ActionFeedback, "human/action_feedback", FEEDBACK_QOS)
        self._diag_pub = self.create_publisher(DiagnosticArray, "/diagnostics", DIAGNOSTICS_QOS)
        reaction_qos = QoSProfile(depth=self.get_parameter("reaction_queue_depth").value, reliability=RELIABLE)
        self.create_subscription(RobotAction, "robot/action", self._on_action, ACTION_QOS)
        self.create_subscription(EmotionReaction, "human/reaction", self._on_reaction, reaction_qos)
        self.create_service(GetActionStats, "~/get_action_stats", self._on_get_stats)
        self.create_service(GetActionStats, "~/get_fleet_action_stats", self._on_get_fleet_stats)
        self.create_timer(self.get_parameter("check_period").value, self._judge_due)
        self.create_timer(1.0, self._publish_diagnostics, clock=Clock(clock_type=ClockType.STEADY_TIME))
        self._store = self._open_store()  # last: nothing to undo after it
        store = self._store
        self.get_logger().info(f"judging actions; verdicts of robot {store.robot_id!r} recorded in {store.location}")

    def _open_store(self) -> VerdictStore:
        value = self.get_parameter
        return open_store(
            value("stats_db_url").value or SQLITE_SCHEME + self._db_path(),
            value("robot_id").value or default_robot_id(self.get_namespace()),
            outbox_path=value("stats_outbox_path").value,
            outbox_capacity=value("stats_outbox_capacity").value,
            retry_period=value("stats_db_retry_period").value,
        )

    def _db_path(self) -> str:
        """``stats_db_path`` with ``{namespace}`` replaced by the node's (nothing at the root)."""
        return self.get_parameter("stats_db_path").value.replace("{namespace}", self.get_namespace().strip("/"))

    def _config(self, changes: dict[str, object]) -> FeedbackConfig:
        return FeedbackConfig(**{k: changes.get(k, self.get_parameter(k).value) for k in CONFIG_KEYS})

    def _validate(self, params: list[Parameter]) -> SetParametersResult:
        problems = self._config({p.name: p.value for p in params if p.name in CONFIG_KEYS}).problems()
        return SetParametersResult(successful=not problems, reason="; ".join(problems))

    def _apply(self, params: list[Parameter]) -> None:
        if any(p.name in CONFIG_KEYS for p in params):
            with self._lock:
                self._tracker.config = self._config({})

    def _now_ns(self) -> int:
        return self.get_clock().now().nanoseconds

    def _warn_drop(self, reason: DropReason, detail: str) -> None:
        """A warning per drop reason at most every ``warn_throttle`` seconds, with the running count."""
        now = time.monotonic()
        if now - self._last_warn.get(reason.value, -1e9) < self.get_parameter("warn_throttle").value:
            return
        self._last_warn[reason.value] = now
        count = self._tracker.drops[reason.value]
        self.get_logger().warning(f"dropped {detail}: {reason.value} ({count} dropped for this reason so far)")

    def _on_action(self, msg: RobotAction) -> None:
        with self._lock:
            reason = self._tracker.add_action(action_from_msg(msg), self._now_ns())
        if reason is DropReason.PENDING_OVERFLOW:
            self._warn_drop(reason, "the oldest pending action (max_pending_actions reached)")
        elif reason:
            self._warn_drop(reason, f"action {msg.action_id!r} ({msg.name!r}) stamped {_stamp_text(msg.header.stamp)}")

    def _on_reaction(self, msg: EmotionReaction) -> None:
        with self._lock:
            reason = self._tracker.add_reaction(timed_reaction_from_msg(msg), self._now_ns())
        if reason is DropReason.HISTORY_OVERFLOW:
            self._warn_drop(reason, "the oldest reaction held (history_max_reactions reached)")
        elif reason:
            self._warn_drop(reason, f"reaction of face {msg.face_id!r} stamped {_stamp_text(msg.header.stamp)}")

    def _judge_due(self) -> None:
        with self._lock:
            verdicts = self._tracker.due(self._now_ns())
        for verdict in verdicts:
            self._record(verdict)
            self._feedback_pub.publish(verdict_to_msg(verdict))
            self._published += 1

    def _record(self, verdict: ActionVerdict) -> None:
        """Write the verdict before it is published; a failure is logged and counted, and it is still published."""
        try:
            self._store.record(verdict)
        except StatsStoreError as e:
            self._db_errors += 1
            self.get_logger().error(str(e))
        a = verdict.action
        self.get_logger().info(
            f"{a.name} ({a.action_id}): {verdict.verdict.name} delta={verdict.delta:+.2f} "
            f"response={verdict.response_valence:+.2f} n={verdict.n_baseline}/{verdict.n_response}"
        )

    def _on_get_stats(self, request: GetActionStats.Request, response: GetActionStats.Response):
        return self._answer_stats(request, response, self._store.robot_id)

    def _on_get_fleet_stats(self, request: GetActionStats.Request, response: GetActionStats.Response):
        return self._answer_stats(request, response, None)

    def _answer_stats(self, request: GetActionStats.Request, response: GetActionStats.Response, robot: str | None):
        """Statistics of one robot (or every robot when ``robot`` is None); a database error is success=False."""
        try:
            rows = self._store.stats(request.name, robot)
        except StatsStoreError as e:
            self._db_errors += 1
            response.success, response.message = False, str(e)
            return response
        response.success = True
        whose = f"robot {robot!r}" if robot is not None else "all robots"
        response.message = f"{sum(r.count for r in rows)} verdicts for {len(rows)} action name(s) of {whose}"
        response.stats = [stats_to_msg(r) for r in rows]
        return response

    def _publish_diagnostics(self) -> None:
        with self._lock:
            tracker = self._tracker
            values = {
                "reactions_received": tracker.reactions_received,
                "actions_received": tracker.actions_received,
                "verdicts_published": self._published,
                "pending_actions": tracker.pending_count,
                "reactions_held": tracker.history_size,
                "db_errors": self._db_errors,
                "robot_id": self._store.robot_id,
                **{f"dropped_{r.value}": tracker.drops[r.value] for r in DropReason},
            }
            drops = sum(tracker.drops.values())
        health = self._store.health()
        values.update(db_connected=health.connected, db_queued=health.queued, db_outages=health.outages)
        self._log_connection(health)
        if self._db_errors > self._last_report[1]:
            level, message = DiagnosticStatus.ERROR, f"stats database errors; see the log ({self._store.location})"
        elif not health.connected:
            level = DiagnosticStatus.WARN
            message = f"stats database unreachable, {health.queued} verdicts queued on disk: {health.last_error}"
        elif drops > self._last_report[0]:
            level, message = DiagnosticStatus.WARN, "input dropped in the last period; see the drop counts"
        else:
            level, message = DiagnosticStatus.OK, "ok"
        self._last_report = (drops, self._db_errors)
        status = DiagnosticStatus(
            level=level, name=f"{self.get_fully_qualified_name().lstrip('/')}: action feedback", message=message,
            hardware_id="none",
            values=[KeyValue(key=k, value=str(v)) for k, v in values.items()],
        )
        array = DiagnosticArray(status=[status])
        array.header.stamp = self.get_clock().now().to_msg()
        self._diag_pub.publish(array)

    def _log_connection(self, health: StoreHealth) -> None:
        """One line when the database goes away and one when it is back (checked at the diagnostics rate)."""
        if health.connected != self._db_was_connected:
            if health.connected:
                self.get_logger().info(
                    f"stats database {self._store.location} is back; writing {health.queued} queued verdicts"
                )
            else:
                self.get_logger().error(
                    f"stats database {self._store.location} unreachable ({health.last_error}); "
                    "verdicts are published and queued on disk until it returns"
                )
            self._db_was_connected = health.connected

    def destroy_node(self) -> None:
        super().destroy_node()
        self._store.close()


def main(args: list[str] | None = None) -> int:
    """Run the node until stopped; 1 with a one-line reason when it cannot start."""
    return run_node(ActionFeedbackNode, NODE_NAME, args, (StatsStoreError, ParameterException, ValueError))


if __name__ == "__main__":
    sys.exit(main())
