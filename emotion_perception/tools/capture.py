# Copyright 2026 The emotion_perception Authors
# SPDX-License-Identifier: Apache-2.0
"""capture: collect face crops of the robot's own users for fine-tuning, as an ImageFolder tree.

Reads the camera (relative topic ``image``, or ``image/compressed`` with ``--compressed``) or a
video file (``--video``, no ROS needed), finds and tracks faces with the perception core, crops
each face exactly as the perception node feeds it to the classifier, and writes PNGs under
``OUT/positive|neutral|negative/`` (``--label``, or keys) or ``OUT/unlabelled/`` (default).
``train --finetune MODEL.pt --data OUT`` then reads the labelled folders.

Keys (``--keys``, in a terminal; nothing is written until a label key is pressed):
    p = positive   n = neutral   g = negative   u = unlabelled   space = pause   q = quit

    ros2 run emotion_perception capture --keys --out ~/crops --ros-args -r image:=/camera/image_raw
    make shell; python -m emotion_perception.tools.capture --video session.mp4 --label positive --every 5
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from pathlib import Path

import numpy as np
import rclpy
from rclpy.executors import ExternalShutdownException
from rclpy.node import Node
from rclpy.qos import qos_profile_sensor_data
from rclpy.utilities import remove_ros_args
from sensor_msgs.msg import CompressedImage, Image

from emotion_perception.ros.image_conversion import ImageConversionError, compressed_to_bgr8, image_to_bgr8
from emotion_perception.tools.crop_dataset import LABELS, UNLABELLED, CropWriter
from emotion_perception.tools.terminal_keys import KeyReader
from emotion_perception.tools.video_source import VideoSource, VideoSourceError
from emotion_perception.vision.recognizer import EmotionRecognizer

#: Key -> label folder (None = pause) when labelling with ``--keys``.
KEY_LABELS: dict[str, str | None] = {"p": "positive", "n": "neutral", "g": "negative", "u": UNLABELLED, " ": None}
QUIT_KEY = "q"


class CaptureSession:
    """Every ``every``-th frame: detect and track faces, write their crops under the current label."""

    def __init__(self, recognizer: EmotionRecognizer, writer: CropWriter, label: str | None, every: int,
                 keys: KeyReader | None = None) -> None:
        if every < 1:
            raise ValueError(f"--every must be >= 1, got {every}")
        self.recognizer, self.writer, self.label, self.every, self.keys = recognizer, writer, label, every, keys
        self.frames = 0
        self.quit = False

    @property
    def done(self) -> bool:
        return self.quit or self.writer.full

    def _read_keys(self) -> None:
        while self.keys is not None and (key := self.keys.poll()) is not None:
            if key == QUIT_KEY:
                self.quit = True
            elif key in KEY_LABELS:
                self.label = KEY_LABELS[key]
                print(f"-- now writing to {self.label}/" if self.label else "-- paused", flush=True)

    def on_frame(self, frame: np.ndarray) -> None:
        """Handle one BGR frame (keys first, then every ``every``-th frame is cropped)."""
        self._read_keys()
        index = self.frames
        self.frames += 1
        if self.done or self.label is None or index % self.every:
            return
        reactions = {r.face_id: r for r in self.recognizer.run(frame)}
        faces = [(t.face_id, t.detection.box) for t in self.recognizer.tracker.visible() if t.face_id in reactions]
        paths = self.writer.write(frame, faces, self.label, index)
        for (face_id, _), path in zip(faces, paths, strict=False):  # paths stop early when --max is reached
            guess = reactions[face_id]
            print(f"frame {index:6d}: wrote {path}  (model: {guess.valence.name.lower()} {guess.confidence:.2f})",
                  flush=True)

    def report(self) -> str:
        counts = ", ".join(f"{label} {self.writer.counts[label]}" for label in LABELS if self.writer.counts[label])
        return f"{self.writer.written} crop(s) from {self.frames} frame(s) in {self.writer.root}/: {counts or 'none'}"


class CaptureNode(Node):
    """Feeds camera frames to a :class:`CaptureSession`; ``finished`` is set when it is done."""

    def __init__(self, session: CaptureSession, compressed: bool = False, **kwargs) -> None:
        super().__init__("capture", **kwargs)
        self.session = session
        self.finished = threading.Event()
        self._compressed = compressed
        self.create_subscription(CompressedImage if compressed else Image,
                                 "image/compressed" if compressed else "image", self._on_image, qos_profile_sensor_data)

    def _on_image(self, msg: Image | CompressedImage) -> None:
        if self.finished.is_set():
            return
        try:
            frame = compressed_to_bgr8(msg) if self._compressed else image_to_bgr8(msg)
        except ImageConversionError as err:
            self.get_logger().warning(f"frame dropped: {err}", throttle_duration_sec=5.0)
            return
        self.session.on_frame(frame)
        if self.session.done:
            self.finished.set()


def run_on_video(session: CaptureSession, source: VideoSource, paced: bool) -> None:
    """Feed a video's frames to ``session`` (at the video's rate when ``paced``, for labelling by key)."""
    period = 1.0 / source.fps if paced and source.fps else 0.0
    next_time = time.monotonic()
    for frame in source:
        session.on_frame(frame.image)
        if session.done:
            return
        next_time += period
        time.sleep(max(0.0, next_time - time.monotonic()))


def get_args_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="capture", description=__doc__.split("\n\n")[0], epilog=__doc__.split(
        "\n\n", 1)[1], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--video", default=None, help="read this video file or image folder instead of the camera")
    parser.add_argument("--start", type=float, default=0.0, help="with --video: start this many seconds in")
    parser.add_argument("--end", type=float, default=None, help="with --video: stop this many seconds in")
    parser.add_argument("--out", type=Path, default=Path("out/capture"), help="root of the ImageFolder tree")
    labelling = parser.add_mutually_exclusive_group()
    labelling.add_argument("--label", choices=LABELS[:3], default=None, help="write every crop under this label")
    labelling.add_argument("--keys", action="store_true", help="label by key press (keys below)")
    parser.add_argument("--every", type=int, default=5, help="crop every N-th frame (default 5)")
    parser.add_argument("--max", type=int, default=0, help="stop after writing N crops (default 0: no limit)")
    parser.add_argument("--model", default=None, help="valence model whose input spec to crop for (default: shipped)")
    parser.add_argument("--compressed", action="store_true", help="subscribe sensor_msgs/CompressedImage")
    parser.add_argument("--prefix", default=None, help="file name prefix (default: the start time)")
    return parser


def main(args: list[str] | None = None) -> int:
    """Entry point of ``ros2 run emotion_perception capture``."""
    parsed = get_args_parser().parse_args(remove_ros_args(args if args is not None else sys.argv)[1:])
    if parsed.every < 1 or parsed.max < 0:
        print("capture: --every must be >= 1 and --max >= 0", file=sys.stderr)
        return 2
    recognizer = EmotionRecognizer(parsed.model)
    writer = CropWriter(parsed.out, recognizer.classifier.spec, parsed.max, parsed.prefix)
    label = None if parsed.keys else (parsed.label or UNLABELLED)
    with KeyReader() as keys:
        if parsed.keys and not keys.interactive:
            print("capture: --keys needs a terminal on stdin", file=sys.stderr)
            return 2
        if parsed.keys:
            print("keys: p positive, n neutral, g negative, u unlabelled, space pause, q quit", flush=True)
        session = CaptureSession(recognizer, writer, label, parsed.every, keys if parsed.keys else None)
        try:
            if parsed.video:
                with VideoSource(parsed.video, parsed.start, parsed.end) as source:
                    run_on_video(session, source, paced=parsed.keys)
            else:
                _run_on_camera(session, parsed.compressed, args)
        except VideoSourceError as err:
            print(f"capture: {err}", file=sys.stderr)
            return 1
        except KeyboardInterrupt:
            pass
    print(session.report(), flush=True)
    return 0


def _run_on_camera(session: CaptureSession, compressed: bool, args: list[str] | None) -> None:
    rclpy.init(args=args)
    node = None
    try:
        node = CaptureNode(session, compressed)
        node.get_logger().info(f"capturing from {node.resolve_topic_name('image')}; Ctrl-C to stop")
        while rclpy.ok() and not node.finished.is_set():
            rclpy.spin_once(node, timeout_sec=0.1)
    except ExternalShutdownException:
        pass
    finally:
        if node is not None:
            node.destroy_node()
        rclpy.try_shutdown()


if __name__ == "__main__":
    sys.exit(main())
