# Copyright 2026 The emotion_perception Authors
# SPDX-License-Identifier: Apache-2.0
"""The harness that runs nodes as processes ends what it starts and fails fast with the node's own words.

A node that dies at start fails the wait for it within seconds, with its FATAL line; ending a process ends its
whole group; a test that hangs is failed by its timeout, its report carries the node's last lines, and its
processes are ended; and a test process killed outright takes its nodes with it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from helpers import PROCESS_TEST_TIMEOUT_S, ROOT, wait_for
from node_process import PARENT_DEATH, NodeFailedError, NodeProcess

pytestmark = pytest.mark.timeout(PROCESS_TEST_TIMEOUT_S)
TEST_DIR = Path(__file__).parent


def running(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie, ended but not yet reaped, does not)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_a_node_that_cannot_start_fails_the_wait_within_seconds_with_its_fatal_line(tmp_path: Path) -> None:
    missing = tmp_path / "no_such_model.pt"
    node = NodeProcess.module("emotion_perception.ros.perception_node", "-p", f"model_path:={missing}")
    started = time.monotonic()
    with pytest.raises(NodeFailedError) as failed:
        node.expect("publishing /human/reaction", timeout=120.0)
    took = time.monotonic() - started
    message = str(failed.value)
    assert "[FATAL]" in message and f"cannot start: model file {missing} does not exist" in message, message
    assert took < 30.0, took  # its own start, not the wait's limit


def test_kill_ends_the_whole_process_group(tmp_path: Path) -> None:
    pids = tmp_path / "pids"
    with NodeProcess(["bash", "-c", f"sleep 300 & echo $! >> {pids}; sleep 300 & echo $! >> {pids}; echo up; wait"]
                     ) as shell:
        shell.expect("up", timeout=30.0)
        children = [int(p) for p in pids.read_text().split()]
        assert len(children) == 2 and all(running(pid) for pid in children)
    assert not shell.group_alive() and not any(running(pid) for pid in children)


def test_a_hanging_test_is_failed_by_its_timeout_with_the_nodes_last_lines_and_its_node_ended(tmp_path: Path) -> None:
    """A test run of its own (this conftest, this pytest.ini) whose test starts a node and then hangs."""
    pid_file = tmp_path / "pid"
    (tmp_path / "test_hangs.py").write_text(f"""
import sys, time
import pytest
from node_process import NodeProcess

@pytest.mark.timeout(5)
def test_hangs():
    node = NodeProcess([sys.executable, "-c", "import time; print('node: up, now stuck', flush=True); time.sleep(600)"])
    open({str(pid_file)!r}, "w").write(str(node.process.pid))
    node.expect("node: up", 60)
    time.sleep(600)
""")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(TEST_DIR), os.environ.get("PYTHONPATH", "")])}
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-c", str(ROOT / "pytest.ini"), "--rootdir", str(ROOT), "-p", "conftest",
         "-p", "no:cacheprovider", str(tmp_path / "test_hangs.py")],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    took = time.monotonic() - started
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Timeout (>5.0s)" in result.stdout, result.stdout
    assert "node: up, now stuck" in result.stdout  # the report's section: the node's last lines
    assert not running(int(pid_file.read_text()))
    assert took < 90.0, took


@pytest.mark.skipif(not PARENT_DEATH, reason="util-linux's setpriv is not installed: a killed pytest leaves its nodes")
def test_a_test_process_killed_outright_takes_its_nodes_with_it() -> None:
    parent = subprocess.run(
        [sys.executable, "-c", "import os, sys; from node_process import NodeProcess; "
         "node = NodeProcess(['sleep', '300']); print(node.process.pid, flush=True); os._exit(9)"],
        env={**os.environ, "PYTHONPATH": str(TEST_DIR)}, capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert parent.returncode == 9, parent.stderr
    orphan = int(parent.stdout.split()[-1])
    assert wait_for(lambda: not running(orphan), 10.0), f"pid {orphan} outlived the process that started it"
