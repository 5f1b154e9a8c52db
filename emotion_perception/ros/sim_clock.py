# Copyright 2026 The emotion_perception Authors
# SPDX-License-Identifier: Apache-2.0
"""``/clock`` as ``ros2 bag play --clock`` publishes it, for the tools that drive nodes on ``use_sim_time``."""

from __future__ import annotations

from builtin_interfaces.msg import Time
from rclpy.qos import QoSProfile, ReliabilityPolicy
from rosgraph_msgs.msg import Clock

CLOCK_TOPIC = "/clock"
CLOCK_QOS = QoSProfile(depth=1, reliability=ReliabilityPolicy.BEST_EFFORT)  # what rclpy's TimeSource subscribes with
NS_PER_S = 1_000_000_000


def clock_message(ns: int) -> Clock:
    """A ``rosgraph_msgs/Clock`` at ``ns`` nanoseconds."""
    sec, nanosec = divmod(int(ns), NS_PER_S)
    return Clock(clock=Time(sec=sec, nanosec=nanosec))
