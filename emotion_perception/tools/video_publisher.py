# Copyright 2026 The emotion_perception Authors
# SPDX-License-Identifier: Apache-2.0
"""Publish a video file, an image folder or a webcam as ``sensor_msgs/Image`` (bgr8) on ``image``.

A stand-in for a camera driver: each frame is stamped with the node clock when it is read, at
the source's native rate or a given one, optionally looping, optionally stopping after a number
of frames. ``ros2 run emotion_perception video_publisher --ros-args -p source:=clip.mp4``.

With ``publish_clock`` it plays a recording the way ``ros2 bag play --clock`` does: it publishes
``/clock`` on the video's own timeline (one source frame interval per frame, from the system time
at start-up) and stamps each frame with it, so nodes on ``use_sim_time`` judge the video on its
own time however fast this machine gets through it. ``/clock`` keeps running after the source
ends, so that those nodes close their last windows.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable

from rcl_interfaces.msg import SetParametersResult
from rclpy.clock import Clock, ClockType
from rclpy.exceptions import InvalidParameterTypeException, InvalidParameterValueException
from rclpy.node import Node
from rclpy.parameter import Parameter
from rclpy.qos import QoSProfile, ReliabilityPolicy, qos_profile_sensor_data
from rclpy.task import Future
from rclpy.time import Time
from rosgraph_msgs.msg import Clock as ClockMsg
from sensor_msgs.msg import Image
from std_msgs.msg import Header

from emotion_perception.ros.image_conversion import numpy_to_image
from emotion_perception.ros.node_main import run_node
from emotion_perception.ros.parameter_table import ParameterSpec, parameter_descriptor
from emotion_perception.ros.qos import overridable_publisher
from emotion_perception.ros.sim_clock import CLOCK_QOS, CLOCK_TOPIC, clock_message
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
    "publish_clock": (False, "publish /clock on the video's timeline and stamp frames with it (a file or folder;"
                      " for nodes on use_sim_time)", None, True),
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
        self._publisher = overridable_publisher(self, Image, "image", qos)
        self._clock_pub = None
        if get("publish_clock").value:
            # The video's clock: one source frame interval per frame, from the system time now.
            self._clock_pub = self.create_publisher(ClockMsg, CLOCK_TOPIC, CLOCK_QOS)
            self._video_ns = Clock(clock_type=ClockType.SYSTEM_TIME).now().nanoseconds
            self._frame_interval_ns = round(1e9 / (self._source.fps or self._rate(get("rate").value)))
        # The playback pace is wall time: with publish_clock this node's own clock is not /clock.
        self._timer = self.create_timer(1.0 / self._rate(get("rate").value), self._publish_next,
                                        clock=Clock(clock_type=ClockType.STEADY_TIME))
        self.get_logger().info(
            f"publishing {self._source.kind} {source!r} at {self._rate(get('rate').value):.2f} Hz"
            f" on {self._publisher.topic_name} ({get('reliability').value})")

    def _rate(self, rate: float) -> float:
        return rate or self._source.fps or FALLBACK_RATE_HZ

    def _check(self, params: list[Parameter]) -> str:
        """Why the current values overridden by ``params`` are inconsistent, or "" when they are fine."""
        names = ("reliability", "start_time", "end_time", "publish_clock", "source", "use_sim_time")
        values = {n: self.get_parameter(n).value for n in names}
        values.update({p.name: p.value for p in params})
        if values["publish_clock"] and values["use_sim_time"]:
            return "publish_clock drives /clock: leave this node's use_sim_time false"
        if values["publish_clock"] and str(values["source"]).isdigit():
            return f"publish_clock needs a video file or image folder, not camera {values['source']}"
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

    def _stamp(self) -> Time:
        """Now on this node's clock, or with ``publish_clock``, the video's next tick, published on /clock."""
        if self._clock_pub is None:
            return self.get_clock().now()
        self._video_ns += self._frame_interval_ns
        self._clock_pub.publish(clock_message(self._video_ns))
        return Time(nanoseconds=self._video_ns)

    def _publish_next(self) -> None:
        if self.finished.is_set():
            if self._clock_pub is not None:
                self._stamp()
            return
        try:
            frame = self._source.read()
        except VideoSourceError as err:
            self.get_logger().error(f"stopping: {err}")
            frame = None
        if frame is None:
            self._finish("the source ended")
            return
        header = Header(stamp=self._stamp().to_msg(), frame_id=self._frame_id)
        if self._on_frame is not None:
            self._on_frame(header, frame)
        self._publisher.publish(numpy_to_image(frame.image, "bgr8", header))
        self.published += 1
        if self._max_frames and self.published >= self._max_frames:
            self._finish(f"published max_frames={self._max_frames}")

    def _finish(self, why: str) -> None:
        if self._clock_pub is None:
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
