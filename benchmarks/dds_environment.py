# Copyright 2026 The emotion_perception Authors
# SPDX-License-Identifier: Apache-2.0
"""The DDS environment every benchmark sets before it imports rclpy (as the Makefile and the tests do)."""

from __future__ import annotations

import os
from pathlib import Path

from emotion_perception.ros.fastdds_profile import use_profile

ROOT = Path(__file__).resolve().parents[1]


def keep_dds_on_this_host() -> None:
    """DDS stays on this host, on a domain of this run's own, with the SHM profile (unless the caller chose)."""
    os.environ.setdefault("ROS_AUTOMATIC_DISCOVERY_RANGE", "LOCALHOST")
    os.environ.setdefault("ROS_DOMAIN_ID", str(os.getpid() % 90 + 10))
    use_profile(ROOT / "config" / "fastdds_shm.xml")  # under the name the installed Fast DDS reads
