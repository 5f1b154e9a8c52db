"""Test harness: keep DDS on this host, on a domain of this run's own, and share ROS fixtures."""

from __future__ import annotations

import os
import random
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# Set before anything imports rclpy: tests never multicast off this machine, and a run never
# talks to the nodes of another run (or of a user's robot) on the same host.
os.environ["ROS_AUTOMATIC_DISCOVERY_RANGE"] = "LOCALHOST"
os.environ.setdefault("ROS_DOMAIN_ID", str(random.Random(os.getpid()).randint(10, 99)))
os.environ.setdefault("FASTDDS_DEFAULT_PROFILES_FILE", str(ROOT / "config" / "fastdds_shm.xml"))  # Fast DDS 3 (Kilted)
if os.environ.get("ROS_DISTRO") in ("humble", "iron", "jazzy"):  # Fast DDS 2 reads only this name; 3 warns on it
    os.environ.setdefault("FASTRTPS_DEFAULT_PROFILES_FILE", os.environ["FASTDDS_DEFAULT_PROFILES_FILE"])

import rclpy  # noqa: E402  (after the environment above)
from rclpy.context import Context  # noqa: E402
from rclpy.executors import MultiThreadedExecutor  # noqa: E402

from benchmarks.reliability.common import wait_for  # noqa: E402  (re-exported for the tests)

__all__ = ["wait_for"]


@pytest.fixture
def ros_context() -> Iterator[Context]:
    """A fresh rclpy context for one test, shut down afterwards."""
    context = Context()
    rclpy.init(context=context)
    try:
        yield context
    finally:
        context.try_shutdown()


@pytest.fixture
def executor(ros_context: Context) -> Iterator[MultiThreadedExecutor]:
    """A multi-threaded executor spinning in a background thread; add nodes to it."""
    exe = MultiThreadedExecutor(num_threads=4, context=ros_context)
    thread = threading.Thread(target=exe.spin, daemon=True)
    thread.start()
    try:
        yield exe
    finally:
        for node in list(exe.get_nodes()):
            exe.remove_node(node)
            node.destroy_node()
        exe.shutdown(timeout_sec=5.0)
        thread.join(timeout=5.0)
