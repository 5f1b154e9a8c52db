# Copyright 2026 The emotion_perception Authors
# SPDX-License-Identifier: Apache-2.0
"""record: the package's topics (optionally the camera too) into a session file (rosbag2's MCAP profile).

    ros2 run emotion_perception record -o session.mcap [--images [--image-topic T] [--compressed]]

Records ``human/reaction``, ``human/reactions``, ``robot/action``, ``human/action_feedback`` and
``/diagnostics`` (names resolved in the recorder's namespace), plus ``--topic NAME:TYPE`` extras. Messages
are stored as received (serialised CDR, never decoded), stamped with the recorder's clock; the chunk in
progress is written every ``--flush-interval`` seconds, so a recorder killed with SIGKILL loses at most
that. Ctrl-C or SIGTERM closes the file with its summary.

As ``ros2 bag record`` does, a topic's channel is created once a publisher is seen (at its first message,
or at the next flush), with the QoS each publisher then offered (``offered_qos_profiles``, what
``ros2 bag play`` publishes with) and their type hash; topics that never had one are added at the end,
empty. With ``--images``, the faces of ``human/reactions`` are also written as Foxglove image annotations on
``human/face_annotations``: one set per recorded camera frame, at the frame's log time and stamp
(:mod:`face_annotations`).
"""

from __future__ import annotations

import argparse
import sys
import threading
from pathlib import Path

import rclpy
import yaml
from rclpy.clock import Clock, ClockType
from rclpy.duration import Duration
from rclpy.executors import ExternalShutdownException
from rclpy.node import Node
from rclpy.qos import (
    DurabilityPolicy,
    HistoryPolicy,
    LivelinessPolicy,
    QoSProfile,
    ReliabilityPolicy,
    qos_profile_sensor_data,
)
from rclpy.serialization import deserialize_message
from rclpy.topic_endpoint_info import TopicEndpointInfo
from rclpy.utilities import remove_ros_args

from emotion_msgs.msg import EmotionReactionArray
from emotion_perception.ros.messages import stamp_to_ns
from emotion_perception.tools.session.face_annotations import (
    ANNOTATIONS_TYPE,
    NS_PER_S,
    Annotation,
    FaceAnnotator,
    header_key,
)
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
REACTIONS_TOPIC = "human/reactions"
#: Where ``--images`` writes the face boxes (Foxglove image annotations), in the recorder's namespace.
ANNOTATIONS_TOPIC = "human/face_annotations"
#: The package's topics are published reliably: record them reliably, holding any burst. A reliable reader
#: never matches a best-effort writer (a camera), so camera topics are read with the sensor-data profile.
RELIABLE_KEEP_ALL = QoSProfile(history=HistoryPolicy.KEEP_ALL, reliability=ReliabilityPolicy.RELIABLE)


def _duration(duration: Duration) -> dict[str, int]:
    sec, nsec = divmod(duration.nanoseconds, NS_PER_S)
    return {"sec": sec, "nsec": nsec}


def qos_metadata(qos: QoSProfile) -> dict[str, object]:
    """One profile as rosbag2 (metadata version 9: Jazzy, Kilted) writes it: policies by name, durations as
    sec/nsec (Fast DDS's infinite one as 9223372036 s 854775807 ns)."""
    return {
        "history": HistoryPolicy(qos.history).short_key,
        "depth": qos.depth,
        "reliability": ReliabilityPolicy(qos.reliability).short_key,
        "durability": DurabilityPolicy(qos.durability).short_key,
        "deadline": _duration(qos.deadline),
        "lifespan": _duration(qos.lifespan),
        "liveliness": LivelinessPolicy(qos.liveliness).short_key,
        "liveliness_lease_duration": _duration(qos.liveliness_lease_duration),
        "avoid_ros_namespace_conventions": qos.avoid_ros_namespace_conventions,
    }


def offered_qos_profiles(publishers: list[TopicEndpointInfo]) -> str:
    """rosbag2's ``offered_qos_profiles`` channel metadata: the YAML list of the publishers' QoS."""
    return yaml.safe_dump([qos_metadata(p.qos_profile) for p in publishers], sort_keys=False)


def topic_type_hash(publishers: list[TopicEndpointInfo]) -> str:
    """rosbag2's ``topic_type_hash``: the publishers' type hash when they agree on one, else empty."""
    hashes = {str(p.topic_type_hash) for p in publishers}
    return hashes.pop() if len(hashes) == 1 and next(iter(hashes)).startswith("RIHS01_") else ""


class SessionRecorder(Node):
    """Subscribes to ``topics`` (name -> type) and writes every message to ``path`` (``**kwargs`` to Node).

    ``face_boxes_on`` (a camera topic of ``topics``) also writes the faces of ``human/reactions`` (which
    ``topics`` must hold) as Foxglove image annotations of that camera's frames on ``human/face_annotations``.
    """

    def __init__(self, path: str | Path, topics: dict[str, str], flush_interval: float = 1.0,
                 node_name: str = "session_recorder", face_boxes_on: str | None = None, **kwargs: object) -> None:
        super().__init__(node_name, **kwargs)
        if flush_interval <= 0:
            raise ValueError(f"flush_interval must be > 0, got {flush_interval}")
        self._types = {self.resolve_topic_name(name): type_name for name, type_name in topics.items()}
        self._annotator: FaceAnnotator | None = None
        if face_boxes_on is not None:
            self._camera = self.resolve_topic_name(face_boxes_on)
            self._reactions = self.resolve_topic_name(REACTIONS_TOPIC)
            if self._types.get(self._camera) not in (IMAGE_TYPE, COMPRESSED_TYPE) or self._reactions not in self._types:
                raise ValueError(f"face boxes need {self._camera} (an image topic) and {self._reactions} recorded")
            self._annotations = self.resolve_topic_name(ANNOTATIONS_TOPIC)
            self._annotator = FaceAnnotator()
        self._lock = threading.Lock()
        self._writer = SessionWriter(path)
        self._offered: dict[str, str] = {}
        self._closed = False
        self.path = self._writer.path
        for topic, type_name in self._types.items():
            qos = qos_profile_sensor_data if type_name in (IMAGE_TYPE, COMPRESSED_TYPE) else RELIABLE_KEEP_ALL
            self.create_subscription(message_class(type_name), topic,
                                     lambda data, topic=topic: self._on_message(topic, data), qos, raw=True)
        self.create_timer(flush_interval, self._on_timer, clock=Clock(clock_type=ClockType.STEADY_TIME))
        extra = f" (+ face boxes of {self._camera} on {self._annotations})" if self._annotator else ""
        self.get_logger().info(f"recording {', '.join(self._types)}{extra} to {self.path}")

    @property
    def message_count(self) -> int:
        with self._lock:
            return self._writer.message_count

    def _add_topic(self, topic: str, publishers: list[TopicEndpointInfo]) -> None:
        self._offered[topic] = offered_qos_profiles(publishers)
        self._writer.add_topic(topic, self._types[topic], self._offered[topic], topic_type_hash(publishers))

    def _write_annotations(self, annotations: list[Annotation]) -> None:
        if annotations and self._annotations not in self._writer.topics:
            # Nobody publishes them: the camera's offers, so that a player sends boxes and frames alike.
            self._writer.add_topic(self._annotations, ANNOTATIONS_TYPE, self._offered[self._camera])
        for log_time_ns, data in annotations:
            self._writer.write(self._annotations, data, log_time_ns)

    def _annotate(self, topic: str, data: bytes, now_ns: int) -> list[Annotation]:
        try:
            if topic == self._camera:
                return self._annotator.frame(header_key(data), now_ns)
            if topic == self._reactions:
                array = deserialize_message(data, EmotionReactionArray)
                key = (array.header.frame_id, stamp_to_ns(array.header.stamp))
                return self._annotator.reactions(key, array.reactions, now_ns)
        except ValueError as exc:
            self.get_logger().warning(f"no face boxes for a message on {topic}: {exc}", throttle_duration_sec=10.0)
        return []

    def _on_message(self, topic: str, data: bytes) -> None:
        publishers = [] if topic in self._offered else self.get_publishers_info_by_topic(topic)
        now_ns = self.get_clock().now().nanoseconds
        with self._lock:
            if self._closed:
                return
            if topic not in self._offered:
                self._add_topic(topic, publishers)
            self._writer.write(topic, data, now_ns)
            if self._annotator is not None:
                self._write_annotations(self._annotate(topic, data, now_ns))

    def _on_timer(self) -> None:
        """Add the topics whose publishers appeared, write the frames that waited too long, flush."""
        waiting = [t for t in self._types if t not in self._offered]
        found = {t: p for t in waiting if (p := self.get_publishers_info_by_topic(t))}
        with self._lock:
            if self._closed:
                return
            for topic, publishers in found.items():
                if topic not in self._offered:
                    self._add_topic(topic, publishers)
            if self._annotator is not None:
                self._write_annotations(self._annotator.expire(self.get_clock().now().nanoseconds))
            self._writer.flush()

    def flush(self) -> None:
        """Write the chunk in progress to the file."""
        with self._lock:
            self._writer.flush()

    def close(self) -> None:
        """Finish the file (frames still waiting get empty face boxes; topics never published are added with no
        QoS; summary and indexes); nothing is recorded afterwards."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            if self._annotator is not None:
                self._write_annotations(self._annotator.finish())
            for topic in self._types:
                if topic not in self._offered:
                    self._add_topic(topic, [])
            self._writer.close()

    def destroy_node(self) -> None:
        self.close()
        super().destroy_node()


def camera_topic(image_topic: str = DEFAULT_IMAGE_TOPIC, compressed: bool = False) -> str:
    """The camera topic ``--images`` records: ``image_topic``, or its ``/compressed`` transport."""
    return f"{image_topic}/compressed" if compressed else image_topic


def session_topics(images: bool = False, image_topic: str = DEFAULT_IMAGE_TOPIC, compressed: bool = False,
                   extra: list[str] | None = None) -> dict[str, str]:
    """What ``record`` subscribes to: the session topics, the camera with ``images``, and ``NAME:TYPE`` extras."""
    topics = dict(SESSION_TOPICS)
    if images:
        topics[camera_topic(image_topic, compressed)] = COMPRESSED_TYPE if compressed else IMAGE_TYPE
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
    parser.add_argument("--images", action="store_true",
                        help="also record the camera topic, and the faces as Foxglove image annotations of its frames")
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
        camera = camera_topic(options.image_topic, options.compressed) if options.images else None
        recorder = SessionRecorder(options.output, topics, options.flush_interval, face_boxes_on=camera)
        rclpy.spin(recorder)
    except (OSError, ValueError, UnknownMessageTypeError) as exc:
        print(f"record: {exc}", file=sys.stderr)
        return 1
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    finally:
        if recorder is not None:
            recorder.destroy_node()  # closing writes the face boxes of the frames still waiting
            print(f"record: {recorder.message_count} messages in {recorder.path}")
        rclpy.try_shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
