# Copyright 2026 The emotion_perception Authors
# SPDX-License-Identifier: Apache-2.0
"""replay: publish a session file back with its original timing and ``/clock``, for nodes on ``use_sim_time``.

    ros2 run emotion_perception replay session.mcap [--topics T ...] [--rate 2] [--wait 10]

Each message goes out when its recorded arrival time comes round (scaled by ``--rate``), as the bytes
that were recorded; ``/clock`` follows the recorded clock at ``--clock-hz`` and runs ``--tail`` seconds
past the last message, so a node on sim time closes the windows still open (e.g. action_feedback_node
judging the recorded actions with new thresholds). Camera topics go out best effort, the rest reliable.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Iterable
from pathlib import Path

import rclpy
from rclpy.executors import ExternalShutdownException
from rclpy.node import Node
from rclpy.publisher import Publisher
from rclpy.qos import QoSProfile, ReliabilityPolicy, qos_profile_sensor_data
from rclpy.utilities import remove_ros_args
from rosgraph_msgs.msg import Clock

from emotion_perception.ros.sim_clock import CLOCK_QOS, CLOCK_TOPIC, NS_PER_S, clock_message
from emotion_perception.tools.session.message_definitions import UnknownMessageTypeError, message_class
from emotion_perception.tools.session.record import COMPRESSED_TYPE, IMAGE_TYPE
from emotion_perception.tools.session.session_file import SessionFileError, SessionReader

RELIABLE_1000 = QoSProfile(depth=1000, reliability=ReliabilityPolicy.RELIABLE)


class SessionPlayer(Node):
    """Publishes a session's topics (all, or ``topics``) and ``/clock``; :meth:`play` runs the replay."""

    def __init__(self, path: str | Path, topics: Iterable[str] | None = None, rate: float = 1.0,
                 clock_hz: float = 100.0, **kwargs: object) -> None:
        super().__init__("session_player", **kwargs)
        if not rate > 0 or not clock_hz > 0:
            raise ValueError(f"rate and clock_hz must be > 0, got {rate} and {clock_hz}")
        self.path, self.rate, self._clock_period = Path(path), rate, 1.0 / clock_hz
        self._reader = SessionReader(self.path)
        recorded = self._reader.recorded_topics()
        wanted = list(recorded) if topics is None else list(topics)
        missing = [t for t in wanted if t not in recorded]
        if missing:
            raise SessionFileError(f"{self.path}: no topic {', '.join(missing)} (it has {', '.join(recorded)})")
        self._outputs: dict[str, Publisher] = {}
        #: Recorded topics left out of a full replay because their type is not installed here (``ros2 bag play``
        #: ignores them too), e.g. the face boxes (foxglove_msgs) of ``record --images``.
        self.skipped: list[str] = []
        for topic in wanted:
            type_name = recorded[topic]
            try:
                message_type = message_class(type_name)
            except UnknownMessageTypeError:
                if topics is not None:
                    raise
                self.skipped.append(topic)
                continue
            qos = qos_profile_sensor_data if type_name in (IMAGE_TYPE, COMPRESSED_TYPE) else RELIABLE_1000
            self._outputs[topic] = self.create_publisher(message_type, topic, qos)
        self._clock_pub = self.create_publisher(Clock, CLOCK_TOPIC, CLOCK_QOS)
        self._clock_ns = 0
        self.published = 0

    @property
    def topics(self) -> list[str]:
        return list(self._outputs)

    @property
    def complete(self) -> bool:
        """False once a replay has met the cut-short end of a killed recording."""
        return self._reader.complete

    def wait_for_subscribers(self, timeout: float) -> list[str]:
        """Wait up to ``timeout`` s for a subscriber on every replayed topic; returns those still without one."""
        deadline = time.monotonic() + timeout
        while True:
            lonely = [t for t, p in self._outputs.items() if p.get_subscription_count() == 0]
            if not lonely or time.monotonic() >= deadline:
                return lonely
            time.sleep(0.05)

    def _publish_clock(self, ns: float) -> None:
        """``/clock`` at ``ns``, never behind what it said already: a face box, written at its frame's log time
        once the frame's reactions came, follows later messages in the file."""
        self._clock_ns = max(self._clock_ns, int(ns))
        self._clock_pub.publish(clock_message(self._clock_ns))

    def _clock_until(self, target_wall: float, start_wall: float, start_ns: int) -> None:
        """Publish ``/clock`` (recorded time running at ``rate``) until the wall clock reaches ``target_wall``."""
        while True:
            now = time.monotonic()
            self._publish_clock(start_ns + (now - start_wall) * self.rate * NS_PER_S)
            if now >= target_wall:
                return
            time.sleep(min(self._clock_period, target_wall - now))

    def play(self, tail: float = 5.0, lead_in: float = 2.0) -> int:
        """Replay the whole file, then ``tail`` s more of ``/clock``; returns the number of messages published.

        ``/clock`` starts ``lead_in`` s (recorded time) before the first message, so that sim-time nodes
        have a clock before the first stamp reaches them (a stamp ahead of a node's clock is dropped as
        from the future; 0.5 s was too short for a node on a loaded machine).
        """
        start_wall = start_ns = last_ns = None
        for message, _ in self._reader.messages(self._outputs):
            if start_ns is None:
                start_wall, start_ns = time.monotonic() + lead_in / self.rate, message.log_time_ns
            last_ns = max(message.log_time_ns, last_ns or message.log_time_ns)
            target = start_wall + (message.log_time_ns - start_ns) / NS_PER_S / self.rate
            self._clock_until(target, start_wall, start_ns)
            self._publish_clock(message.log_time_ns)
            self._outputs[message.topic].publish(message.data)
            self.published += 1
        if start_ns is not None:
            end = start_wall + ((last_ns - start_ns) / NS_PER_S + tail) / self.rate
            self._clock_until(end, start_wall, start_ns)
        return self.published


def get_args_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="replay", description=__doc__.split("\n\n")[0])
    parser.add_argument("session", type=Path, help="session file (.mcap) written by record or ros2 bag record")
    parser.add_argument("--topics", nargs="+", help="replay only these topics (default: all recorded)")
    parser.add_argument("--rate", type=float, default=1.0, help="speed factor (default %(default)s)")
    parser.add_argument("--clock-hz", type=float, default=100.0, help="/clock rate (default %(default)s)")
    parser.add_argument("--tail", type=float, default=5.0,
                        help="s of /clock after the last message, to close open windows (default %(default)s)")
    parser.add_argument("--lead-in", type=float, default=2.0,
                        help="s of /clock before the first message, so sim-time nodes have one (default %(default)s)")
    parser.add_argument("--wait", type=float, default=0.0,
                        help="s to wait for a subscriber on every replayed topic before starting")
    return parser


def main(args: list[str] | None = None) -> int:
    """Replay once; 1 for an unusable file."""
    options = get_args_parser().parse_args(remove_ros_args(args if args is not None else sys.argv)[1:])
    rclpy.init(args=args)
    player = None
    try:
        player = SessionPlayer(options.session, options.topics, options.rate, options.clock_hz)
        if player.skipped:
            player.get_logger().warning(f"not replaying {', '.join(player.skipped)}: message type not installed here")
        lonely = player.wait_for_subscribers(options.wait) if options.wait > 0 else []
        if lonely:
            player.get_logger().warning(f"no subscriber yet on {', '.join(lonely)}; replaying anyway")
        count = player.play(options.tail, options.lead_in)
        status = "" if player.complete else " (the file was cut short: replayed up to its last chunk)"
        print(f"replay: {count} messages from {options.session}{status}")
    except (SessionFileError, UnknownMessageTypeError, ValueError) as exc:
        print(f"replay: {exc}", file=sys.stderr)
        return 1
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    finally:
        if player is not None:
            player.destroy_node()
        rclpy.try_shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
