# Copyright 2026 The emotion_perception Authors
# SPDX-License-Identifier: Apache-2.0
"""record: the package's topics (optionally the camera too) into a session file (rosbag2's MCAP profile).

    ros2 run emotion_perception record -o session.mcap [--images [--image-topic T] [--compressed]]

Records ``human/reaction``, ``human/reactions``, ``robot/action``, ``human/action_feedback`` and
``/diagnostics`` (names resolved in the recorder's namespace), plus ``--topic NAME:TYPE`` extras. Messages
are stored as received (serialised CDR, never decoded), stamped with the recorder's clock; the chunk in
progress is written every ``--flush-interval`` seconds, so a recorder killed with SIGKILL loses at most
that. Ctrl-C or SIGTERM closes the file with its summary.
"""

from __future__ import annotations

import argparse
import sys
import threading
from pathlib import Path

import rclpy
from rclpy.clock import Clock, ClockType
from rclpy.executors import ExternalShutdownException
from rclpy.node import Node
from rclpy.qos import HistoryPolicy, QoSProfile, ReliabilityPolicy, qos_profile_sensor_data
from rclpy.utilities import remove_ros_args

from emotion_perception.tools.session.message_definitions import UnknownMessageTypeError, message_class
from emotion_perception.tools.session.session_file import SessionWriter

#: topic -> type of what ``record`` always records (relative names follow the recorder's namespace).
SESSION_TOPICS: dict[str, str] = {
    "human/reaction": "emotion_msgs/msg/EmotionReaction",
    "human/reactions": "emotion_msgs/msg/EmotionReactionArray",
    "robot/action": "emotion_msgs/msg/RobotAction",
    "human/action_feedback": "emotion_msgs/msg/ActionFeedback",
    "/diagnostics": "diagnostic_msgs/msg/DiagnosticArray",
}
IMAGE_TYPE = "sensor_msgs/msg/Image"
COMPRESSED_TYPE = "sensor_msgs/msg/CompressedImage"
DEFAULT_IMAGE_TOPIC = "/camera/image_raw"
#: The package's topics are published reliably: record them reliably, holding any burst. A reliable reader
#: never matches a best-effort writer (a camera), so camera topics are read with the sensor-data profile.
RELIABLE_KEEP_ALL = QoSProfile(history=HistoryPolicy.KEEP_ALL, reliability=ReliabilityPolicy.RELIABLE)


class SessionRecorder(Node):
    """Subscribes to ``topics`` (name -> type) and writes every message to ``path`` (``**kwargs`` to Node)."""

    def __init__(self, path: str | Path, topics: dict[str, str], flush_interval: float = 1.0,
                 node_name: str = "session_recorder", **kwargs: object) -> None:
        super().__init__(node_name, **kwargs)
        if flush_interval <= 0:
            raise ValueError(f"flush_interval must be > 0, got {flush_interval}")
        self._lock = threading.Lock()
        self._writer = SessionWriter(path)
        self.path = self._writer.path
        for name, type_name in topics.items():
            topic = self.resolve_topic_name(name)
            self._writer.add_topic(topic, type_name)
            qos = qos_profile_sensor_data if type_name in (IMAGE_TYPE, COMPRESSED_TYPE) else RELIABLE_KEEP_ALL
            self.create_subscription(message_class(type_name), topic,
                                     lambda data, topic=topic: self._on_message(topic, data), qos, raw=True)
        self.create_timer(flush_interval, self.flush, clock=Clock(clock_type=ClockType.STEADY_TIME))
        self.get_logger().info(f"recording {', '.join(self._writer.topics)} to {self.path}")

    @property
    def message_count(self) -> int:
        with self._lock:
            return self._writer.message_count

    def _on_message(self, topic: str, data: bytes) -> None:
        with self._lock:
            self._writer.write(topic, data, self.get_clock().now().nanoseconds)

    def flush(self) -> None:
        """Write the chunk in progress to the file."""
        with self._lock:
            self._writer.flush()

    def close(self) -> None:
        """Finish the file (summary and indexes); nothing is recorded afterwards."""
        with self._lock:
            self._writer.close()

    def destroy_node(self) -> None:
        self.close()
        super().destroy_node()


def session_topics(images: bool = False, image_topic: str = DEFAULT_IMAGE_TOPIC, compressed: bool = False,
                   extra: list[str] | None = None) -> dict[str, str]:
    """What ``record`` subscribes to: the session topics, the camera with ``images``, and ``NAME:TYPE`` extras."""
    topics = dict(SESSION_TOPICS)
    if images:
        topics[f"{image_topic}/compressed" if compressed else image_topic] = COMPRESSED_TYPE if compressed \
            else IMAGE_TYPE
    for item in extra or []:
        name, sep, type_name = item.rpartition(":")
        if not sep or not name:
            raise ValueError(f"--topic expects NAME:TYPE (e.g. /humans/faces/tracked:hri_msgs/msg/IdsList), "
                             f"got {item!r}")
        topics[name] = type_name
    return topics


def get_args_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="record", description=__doc__.split("\n\n")[0])
    parser.add_argument("-o", "--output", type=Path, required=True, help="session file to write (.mcap)")
    parser.add_argument("--images", action="store_true", help="also record the camera topic")
    parser.add_argument("--image-topic", default=DEFAULT_IMAGE_TOPIC, help="camera topic (default %(default)s)")
    parser.add_argument("--compressed", action="store_true", help="record <image-topic>/compressed instead")
    parser.add_argument("--topic", action="append", default=[], metavar="NAME:TYPE",
                        help="record another topic too, e.g. /humans/faces/tracked:hri_msgs/msg/IdsList")
    parser.add_argument("--flush-interval", type=float, default=1.0,
                        help="s between two writes of the chunk in progress (what a kill can lose)")
    return parser


def main(args: list[str] | None = None) -> int:
    """Record until Ctrl-C / SIGTERM; 2 for bad arguments or an unknown topic type, 1 when the file cannot be
    written."""
    argv = remove_ros_args(args if args is not None else sys.argv)[1:]
    options = get_args_parser().parse_args(argv)
    try:
        topics = session_topics(options.images, options.image_topic, options.compressed, options.topic)
        for type_name in topics.values():
            message_class(type_name)
    except (ValueError, UnknownMessageTypeError) as exc:
        print(f"record: {exc}", file=sys.stderr)
        return 2
    rclpy.init(args=args)
    recorder = None
    try:
        recorder = SessionRecorder(options.output, topics, options.flush_interval)
        rclpy.spin(recorder)
    except (OSError, ValueError, UnknownMessageTypeError) as exc:
        print(f"record: {exc}", file=sys.stderr)
        return 1
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    finally:
        if recorder is not None:
            count = recorder.message_count
            recorder.destroy_node()
            print(f"record: {count} messages in {recorder.path}")
        rclpy.try_shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
