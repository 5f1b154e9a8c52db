# Copyright 2026 The emotion_perception Authors
# SPDX-License-Identifier: Apache-2.0
"""planner_example: a robot planner that chooses its next action from how people received the last ones.

It performs one action at a time from its ``repertoire``: it publishes a ``RobotAction`` on ``robot/action`` stamped
when the action starts, waits for the ``ActionFeedback`` with that ``action_id`` on ``human/action_feedback``, then
asks ``action_feedback_node/get_action_stats`` how every action has been received so far (in this session and, since
the verdicts are stored, in earlier ones) and picks the next action of its repertoire that has not been
``BADLY_RECEIVED`` ``max_badly_received`` times. So it stops telling a joke that fell flat twice, and stops altogether
when nothing is left that is welcome.

It needs nothing but rclpy and ``emotion_msgs``: copy it into your own package and replace ``_choose`` with your
planner's policy. Every wait is a timer or a callback on the node clock, so it runs on one single-threaded executor and
with ``use_sim_time`` (a video or a replayed session driving ``/clock``).

    ros2 launch emotion_perception planner_example.launch.py          # against the packaged clip
    ros2 run emotion_perception planner_example --ros-args -p "repertoire:=[greet, tell_joke]"
"""

from __future__ import annotations

import functools
import math
import sys
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import rclpy
from rcl_interfaces.msg import FloatingPointRange, IntegerRange, ParameterDescriptor
from rclpy.exceptions import InvalidParameterValueException
from rclpy.executors import ExternalShutdownException, SingleThreadedExecutor
from rclpy.node import Node
from rclpy.qos import HistoryPolicy, QoSProfile, ReliabilityPolicy
from rclpy.task import Future
from rclpy.timer import Timer

from emotion_msgs.msg import ActionFeedback, ActionStats, RobotAction
from emotion_msgs.srv import GetActionStats

#: The action feedback node takes every action (keep all, reliable); verdicts come reliable, depth 100.
MATCH_POLL_S = 0.2  # s between two checks whether the feedback node is matched
ACTION_QOS = QoSProfile(history=HistoryPolicy.KEEP_ALL, reliability=ReliabilityPolicy.RELIABLE)
FEEDBACK_QOS = QoSProfile(depth=100, reliability=ReliabilityPolicy.RELIABLE)
VERDICT_NAMES = {ActionFeedback.WELL_RECEIVED: "WELL_RECEIVED", ActionFeedback.NEUTRAL: "NEUTRAL",
                 ActionFeedback.BADLY_RECEIVED: "BADLY_RECEIVED", ActionFeedback.UNKNOWN: "UNKNOWN"}
#: name -> (default, description, (min, max) for a number).
PARAMETERS: dict[str, tuple[object, str, tuple[float, float] | None]] = {
    "repertoire": (["tell_joke", "offer_tissue", "wave"], "action names, tried in this order, round and round", None),
    "max_badly_received": (2, "BADLY_RECEIVED verdicts (get_action_stats) after which an action is dropped", (1, 1000)),
    "start_delay": (3.0, "s (node clock) from the feedback node matched to the first action", (0.0, 3600.0)),
    "pause": (2.0, "s (node clock) between a verdict and the next action", (0.0, 3600.0)),
    "feedback_timeout": (15.0, "s (node clock) to wait for a verdict before going on without it", (0.1, 3600.0)),
    "max_actions": (0, "stop after this many actions; 0 = no limit", (0, 1_000_000)),
    "stats_service": ("action_feedback_node/get_action_stats", "GetActionStats service (relative: in the namespace)",
                      None),
}


@dataclass
class Outcome:
    """What became of one action: its verdict (``None``: none heard within ``feedback_timeout``) and delta."""

    name: str
    action_id: str
    verdict: int | None = None
    delta: float = math.nan


class PlannerExample(Node):
    """Acts, waits for the verdict, asks for the statistics, chooses; ``finished`` is done when it stops."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__("planner_example", **kwargs)
        for name, (default, description, bounds) in PARAMETERS.items():
            descriptor = ParameterDescriptor(description=description, read_only=True)
            if isinstance(default, float):
                descriptor.floating_point_range = [FloatingPointRange(from_value=bounds[0], to_value=bounds[1])]
            elif isinstance(default, int):
                descriptor.integer_range = [IntegerRange(from_value=bounds[0], to_value=bounds[1])]
            self.declare_parameter(name, default, descriptor)
        value = {name: self.get_parameter(name).value for name in PARAMETERS}
        if not value["repertoire"] or not all(value["repertoire"]):
            raise ValueError("repertoire must name at least one action, none of them empty")
        self.repertoire: list[str] = list(value["repertoire"])
        self.max_badly: int = value["max_badly_received"]
        self._pause: float = value["pause"]
        self._timeout: float = value["feedback_timeout"]
        self._max_actions: int = value["max_actions"]
        self.outcomes: list[Outcome] = []
        self._awaited: Outcome | None = None  # the action whose verdict is awaited
        self.finished = Future()
        self._next = 0  # index into the repertoire of the next action to consider
        self._timer: Timer | None = None
        self._actions = self.create_publisher(RobotAction, "robot/action", ACTION_QOS)
        self.create_subscription(ActionFeedback, "human/action_feedback", self._on_feedback, FEEDBACK_QOS)
        self._stats = self.create_client(GetActionStats, value["stats_service"])
        self._stats_name = self.resolve_service_name(value["stats_service"])
        self._waiting = False  # a "waiting for the feedback node" line is out for the current wait
        start_delay = value["start_delay"]
        self.get_logger().info(f"repertoire {self.repertoire}; first action {start_delay:g} s after the feedback"
                               " node is matched")
        self._when_matched(functools.partial(self._after, start_delay, self._ask_for_stats))

    def _after(self, seconds: float, callback: Callable[[], None]) -> None:
        """Run ``callback`` once, ``seconds`` from now on the node clock (the one pending wait is replaced)."""
        if self._timer is not None:
            self.destroy_timer(self._timer)

        def once() -> None:
            self.destroy_timer(timer)
            self._timer = None
            callback()

        timer = self._timer = self.create_timer(max(seconds, 1e-3), once)

    def _when_matched(self, callback: Callable[[], None]) -> None:
        """Run ``callback`` once the action feedback node is matched: a subscriber on robot/action and the stats
        service. Discovery takes a moment after either side starts, and an action sent before it is lost."""
        if self._actions.get_subscription_count() > 0 and self._stats.service_is_ready():
            self._waiting = False
            callback()
            return
        if not self._waiting:
            self._waiting = True
            self.get_logger().info(f"waiting for a subscriber on {self._actions.topic_name} and {self._stats_name}")
        self._after(MATCH_POLL_S, functools.partial(self._when_matched, callback))

    def _act(self, name: str) -> None:
        outcome = Outcome(name, f"{name}-{uuid.uuid4().hex[:8]}")
        action = RobotAction(action_id=outcome.action_id, name=name, duration=0.0)
        action.header.stamp = self.get_clock().now().to_msg()  # judged on this stamp: the moment the action starts
        self.outcomes.append(outcome)
        self._awaited = outcome
        self._actions.publish(action)
        self.get_logger().info(f"action {name!r} ({outcome.action_id}) started")
        self._after(self._timeout, self._on_timeout)

    def _on_feedback(self, msg: ActionFeedback) -> None:
        current = self._awaited
        if current is None or msg.action_id != current.action_id:
            return  # another planner's action, or one no longer awaited
        self._awaited = None
        current.verdict, current.delta = msg.verdict, msg.delta
        change = "no baseline" if math.isnan(msg.delta) else f"delta {msg.delta:+.2f}"  # judged on its level alone
        self.get_logger().info(f"verdict on {current.name!r}: {VERDICT_NAMES.get(msg.verdict, msg.verdict)}"
                               f" ({change}, {msg.n_response} reactions)")
        self._ask_for_stats()

    def _on_timeout(self) -> None:
        self._awaited = None
        self.get_logger().warning(f"no verdict on {self.outcomes[-1].name!r} within {self._timeout:g} s; going on")
        self._ask_for_stats()

    def _ask_for_stats(self) -> None:
        if self._timer is not None:
            self.destroy_timer(self._timer)
            self._timer = None
        if not self._stats.service_is_ready():  # just started, or the feedback node is not up yet
            self.get_logger().warning(f"{self._stats_name} not available; choosing from this session's verdicts")
            self._choose(None)
            return
        self._stats.call_async(GetActionStats.Request(name="")).add_done_callback(self._on_stats)

    def _on_stats(self, future: Future) -> None:
        response = future.result() if future.exception() is None else None
        if response is None or not response.success:
            reason = response.message if response is not None else repr(future.exception())
            self.get_logger().warning(f"get_action_stats failed ({reason}); choosing from this session's verdicts")
            self._choose(None)
            return
        self._choose({s.name: s for s in response.stats})

    def badly_received(self, name: str, stats: dict[str, ActionStats] | None) -> int:
        """How often ``name`` was badly received: the stored count, else this session's own verdicts."""
        if stats is not None:
            return stats[name].badly_received if name in stats else 0
        return sum(o.name == name and o.verdict == ActionFeedback.BADLY_RECEIVED for o in self.outcomes)

    def _choose(self, stats: dict[str, ActionStats] | None) -> None:
        """The next action of the repertoire, in turn, that is not dropped; stop when none is left."""
        if self._max_actions and len(self.outcomes) >= self._max_actions:
            self._finish(f"{len(self.outcomes)} actions done")
            return
        for step in range(len(self.repertoire)):
            name = self.repertoire[(self._next + step) % len(self.repertoire)]
            badly = self.badly_received(name, stats)
            if badly < self.max_badly:
                self._next = (self._next + step + 1) % len(self.repertoire)
                self.get_logger().info(f"next: {name!r} (badly received {badly} times so far)")
                act = functools.partial(self._when_matched, functools.partial(self._act, name))
                self._after(0.0 if not self.outcomes else self._pause, act)
                return
            self.get_logger().info(f"skipping {name!r}: badly received {badly} times")
        self._finish(f"every action was badly received {self.max_badly} times")

    def _finish(self, why: str) -> None:
        self.get_logger().info(f"done: {why}")
        self.finished.set_result(why)


def main(args: list[str] | None = None) -> int:
    """``ros2 run emotion_perception planner_example``: until ``max_actions``, nothing left to try, or Ctrl-C."""
    rclpy.init(args=args)
    try:
        planner = PlannerExample()
    except (ValueError, InvalidParameterValueException) as exc:
        print(f"[FATAL] [planner_example]: cannot start: {exc}", file=sys.stderr)
        rclpy.try_shutdown()
        return 1
    executor = SingleThreadedExecutor()
    executor.add_node(planner)
    try:
        executor.spin_until_future_complete(planner.finished)
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    finally:
        executor.shutdown()
        planner.destroy_node()
        rclpy.try_shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
