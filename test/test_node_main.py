# Copyright 2026 The emotion_perception Authors
# SPDX-License-Identifier: Apache-2.0
"""run_node's bounded clean-up: a node whose teardown never returns still ends its process, with its stack."""

from __future__ import annotations

import signal
import sys
import time

import pytest
from helpers import PROCESS_TEST_TIMEOUT_S
from node_process import NodeProcess

pytestmark = pytest.mark.timeout(PROCESS_TEST_TIMEOUT_S)

#: A node whose destroy_node blocks in C with the GIL held (libc pause() called through PyDLL), so no
#: Python-level timer or signal handler could ever run again in the process.
STUCK_NODE = """
import ctypes, sys
from rclpy.node import Node
from emotion_perception.ros.node_main import run_node

class StuckTeardown(Node):
    def __init__(self):
        super().__init__("stuck_teardown")
        self.get_logger().info("spinning")

    def destroy_node(self):
        ctypes.PyDLL(None).pause()

sys.exit(run_node(StuckTeardown, "stuck_teardown", teardown_limit_s=LIMIT))
"""
LIMIT_S = 1.0


def test_a_clean_up_that_hangs_ends_the_process_with_status_1_and_every_threads_stack() -> None:
    process = NodeProcess([sys.executable, "-c", STUCK_NODE.replace("LIMIT", str(LIMIT_S))])
    try:
        assert process.wait_for_output("spinning"), process.output
        started = time.monotonic()
        status = process.stop(signal.SIGINT, timeout=30.0)
        took = time.monotonic() - started
    finally:
        process.kill()
    assert status == 1, process.output
    assert LIMIT_S <= took < 20.0, (took, process.output)
    assert "Timeout (0:00:01)!" in process.output, process.output
    assert "in destroy_node" in process.output and "in run_node" in process.output, process.output
