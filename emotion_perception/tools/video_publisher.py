# Copyright 2026 The emotion_perception Authors
# SPDX-License-Identifier: Apache-2.0
"""Publish a video file, an image folder or a webcam as ``sensor_msgs/Image`` (bgr8) on ``image``.

A stand-in for a camera driver: each frame is stamped with the node clock when it is read, at
the source's native rate or a given one, optionally looping, optionally stopping after a number
of frames. ``ros2 run emotion_perception video_publisher --ros-args -p source:=clip.mp4``.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable

from rcl_interfaces.msg import SetParametersResult
from rclpy.exceptions import InvalidParameterTypeException, InvalidParameterValueException
from rclpy.node import Node
from rclpy.parameter import Parameter
from rclpy.qos import QoSProfile, ReliabilityPolicy, qos_profile_sensor_data
from rclpy.qos_overriding_options import QoSOverridingOptions
from rclpy.task import Future
from sensor_msgs.msg import Image
from std_msgs.msg import Header

from emotion_perception.ros.image_conversion import numpy_to_image
from emotion_perception.ros.node_main import run_node
from emotion_perception.ros.parameter_table import ParameterSpec, parameter_descriptor
from emotion_perception.tools.video_source import VideoFrame, VideoSource, VideoSourceError, default_clip_path

#: Rate (Hz) used when neither the ``rate`` parameter nor the source gives one.
FALLBACK_RATE_HZ = 30.0
RELIABILITIES = ("best_effort", "reliable")
#: name -> (default, description, (min, max) or None, read-only). Defaults mirror config/emotion_perception.yaml.
PARAMETERS: dict[str, ParameterSpec] = {
    "source": ("", "video file, image folder or webcam device index (0); empty = the packaged demo clip", None, True),
    "rate": (0.0, f"Hz; 0 = the source's native rate ({FALLBACK_RATE_HZ:g} Hz when it has none)", (0.0, 1000.0), False),
    "loop": (False, "restart a file or folder when it ends", None, True),
    "max_frames": (0, "stop after publishing this many frames; 0 = no limit", (0, 2**31 - 1), True),
    "start_time": (0.0, "s into a file or folder to start at", (0.0, 86400.0), True),
    "end_time": (0.0, "s into a file or folder to stop at; 0 = at its end", (0.0, 86400.0), True),
    "frame_id": ("camera_optical_frame", "header.frame_id of the published images", None, True),
    "reliability": ("best_effort", "QoS reliability: best_effort (sensor data, like a camera driver) or reliable",
                    None, True),
    "shutdown_at_end": (False, "exit the process when the source ends or max_frames is reached", None, True),
}
CONSTRAINTS = {"reliability": " or ".join(RELIABILITIES), "source": "a path, or a device index such as 0 or '0'"}
STARTUP_ERRORS = (VideoSourceError, ValueError, InvalidParameterValueException, InvalidParameterTypeException)


class VideoPublisher(Node):
    """Reads frames from a :class:`VideoSource` on a timer and publishes them on ``image``.

    ``finished`` is set when the source ends or ``max_frames`` have been published; with
    ``shutdown_at_end``, ``exit_status`` is then done (0) and the node's ``main`` exits. ``on_frame``
    (in-process users such as the demo) is called with each frame's header and frame just before it is published.
    """

    def __init__(self, node_name: str = "video_publisher", *,
                 on_frame: Callable[[Header, VideoFrame], None] | None = None, **kwargs) -> None:
        super().__init__(node_name, **kwargs)
        self._on_frame = on_frame
        self._source: VideoSource | None = None
        for name, (default, *_) in PARAMETERS.items():
            descriptor = parameter_descriptor(name, PARAMETERS[name], CONSTRAINTS.get(name, ""))
            # A webcam index given as `source:=0` arrives as an integer: accept both types for source.
            descriptor.dynamic_typing = name == "source"
            self.declare_parameter(name, default, descriptor)
        reason = self._check([])
        if reason:
            raise ValueError(reason)
        self.add_on_set_parameters_callback(self._on_set_parameters)

        get = self.get_parameter
        source = str(get("source").value) or str(default_clip_path())
        end = get("end_time").value
        self._source = VideoSource(source, start_s=get("start_time").value, end_s=end or None,
                                   loop=get("loop").value)
        self._max_frames = get("max_frames").value
        self._frame_id = get("frame_id").value
        self.shutdown_at_end = get("shutdown_at_end").value
        self.finished = threading.Event()
        self.exit_status: Future | None = Future() if self.shutdown_at_end else None
        self.published = 0

        qos = qos_profile_sensor_data if get("reliability").value == "best_effort" else QoSProfile(
            depth=10, reliability=ReliabilityPolicy.RELIABLE)
        self._publisher = self.create_publisher(
            Image, "image", qos, qos_overriding_options=QoSOverridingOptions.with_default_policies())
        self._timer = self.create_timer(1.0 / self._rate(get("rate").value), self._publish_next)
        self.get_logger().info(
            f"publishing {self._source.kind} {source!r} at {self._rate(get('rate').value):.2f} Hz"
            f" on {self._publisher.topic_name} ({get('reliability').value})")

    def _rate(self, rate: float) -> float:
        return rate or self._source.fps or FALLBACK_RATE_HZ

    def _check(self, params: list[Parameter]) -> str:
        """Why the current values overridden by ``params`` are inconsistent, or "" when they are fine."""
        values = {n: self.get_parameter(n).value for n in ("reliability", "start_time", "end_time")}
        values.update({p.name: p.value for p in params})
        if values["reliability"] not in RELIABILITIES:
            return f"reliability must be one of {', '.join(RELIABILITIES)}, got {values['reliability']!r}"
        if values["end_time"] and values["end_time"] <= values["start_time"]:
            return f"end_time ({values['end_time']} s) must be 0 or after start_time ({values['start_time']} s)"
        return ""

    def _on_set_parameters(self, params: list[Parameter]) -> SetParametersResult:
        reason = self._check(params)
        if not reason:
            for param in params:
                if param.name == "rate":
                    self._timer.timer_period_ns = int(1e9 / self._rate(param.value))
        return SetParametersResult(successful=not reason, reason=reason)

    def _publish_next(self) -> None:
        if self.finished.is_set():
            return
        try:
            frame = self._source.read()
        except VideoSourceError as err:
            self.get_logger().error(f"stopping: {err}")
            frame = None
        if frame is None:
            self._finish("the source ended")
            return
        header = Header(stamp=self.get_clock().now().to_msg(), frame_id=self._frame_id)
        if self._on_frame is not None:
            self._on_frame(header, frame)
        self._publisher.publish(numpy_to_image(frame.image, "bgr8", header))
        self.published += 1
        if self._max_frames and self.published >= self._max_frames:
            self._finish(f"published max_frames={self._max_frames}")

    def _finish(self, why: str) -> None:
        self._timer.cancel()
        self._source.close()
        self.get_logger().info(f"{why}: {self.published} frame(s) published")
        self.finished.set()
        if self.exit_status is not None:
            self.exit_status.set_result(0)

    def destroy_node(self) -> None:
        if self._source is not None:
            self._source.close()
        super().destroy_node()


def main(args: list[str] | None = None) -> int:
    """Entry point of ``ros2 run emotion_perception video_publisher``: 1 when the source cannot be opened."""
    return run_node(VideoPublisher, "video_publisher", args, STARTUP_ERRORS)


if __name__ == "__main__":
    sys.exit(main())
