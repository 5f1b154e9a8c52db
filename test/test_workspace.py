# Copyright 2026 The emotion_perception Authors
# SPDX-License-Identifier: Apache-2.0
"""The README's "Building in your ROS 2 workspace" lines, run as a ROS user runs them, on an installed package.

A ``git clone`` of this repository into a fresh workspace's ``src/`` (with the working tree's uncommitted
changes laid over it, so a developer tests what is on disk), the README's ``colcon build`` line (no
``--symlink-install``: the code is copied to ``site-packages``, the data files to ``share/``), then, with only
ROS 2 and that workspace sourced (``activate-ros --underlay``, as ``/opt/ros/<distro>/setup.bash`` would
be), ``ros2 launch emotion_perception perception.launch.py use_video:=true`` from another directory: its
reactions arrive on ``/human/reaction`` and Ctrl-C ends it with status 0 and no process left. Last, the
README's ``colcon test`` line in that workspace, on the tests that exercise the installed package.
Skipped, with one reason, where the ``ros2`` CLI or launch_ros is not built.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import rclpy
from helpers import ROOT, wait_for
from rclpy.context import Context
from rclpy.executors import SingleThreadedExecutor
from readme_lines import ROSDEP_OFFLINE, offline_rosdep, workspace_line

from emotion_msgs.msg import EmotionReaction
from emotion_perception.ros.spin_thread import SpinThread

#: A marker, not a module-level skip: launch_testing's pytest plugin would skip every file collected beside it.
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        importlib.util.find_spec("launch_ros") is None or not (Path(sys.prefix) / "activate-ros").is_file(),
        reason="the workspace test needs the ros2 CLI and launch_ros built into the venv by `make setup`"),
]

#: What `colcon test` runs in the workspace: the tests that exercise the installed package and its launch file.
WORKSPACE_TESTS = ("test/test_package_files.py", "test/test_launch_file.py", "test/test_fastdds_profile.py")
BUILD_TIMEOUT_S = 600.0
REACTION_TIMEOUT_S = 180.0  # the nodes load their models on a loaded 2-core machine


def _clone(workspace: Path) -> Path:
    """``git clone`` of this repository into ``workspace/src``, with the working tree's changes laid over it."""
    source = workspace / "src" / "emotion_perception"
    subprocess.run(["git", "clone", "--quiet", "--no-hardlinks", str(ROOT), str(source)], check=True, timeout=120)
    changed = subprocess.run(["git", "ls-files", "-z", "--modified", "--others", "--exclude-standard"], cwd=ROOT,
                             check=True, capture_output=True, timeout=60).stdout.decode().split("\0")
    deleted = subprocess.run(["git", "ls-files", "-z", "--deleted"], cwd=ROOT, check=True, capture_output=True,
                             timeout=60).stdout.decode().split("\0")
    for name in filter(None, changed):
        if (ROOT / name).is_file():
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            (source / name).write_bytes((ROOT / name).read_bytes())
    for name in filter(None, deleted):
        (source / name).unlink(missing_ok=True)
    return source


def _ros_env(workspace: Path) -> dict[str, str]:
    """A user's environment: nothing of this repository's own build, this run's DDS domain kept on this host."""
    keep = ("HOME", "LANG", "LC_ALL", "TMPDIR", "ROS_DOMAIN_ID", "ROS_AUTOMATIC_DISCOVERY_RANGE")
    env = {name: os.environ[name] for name in keep if name in os.environ}
    env["PATH"] = "/usr/local/bin:/usr/bin:/bin"
    env["EMOTION_PERCEPTION_WORKSPACE"] = str(workspace)
    return env


def _in_workspace(workspace: Path, command: str, sourced: bool = True) -> str:
    """``command`` in bash with ROS 2 (and the workspace, once built) sourced, as a user's shell has them."""
    setup = f"source {shlex.quote(str(Path(sys.prefix) / 'activate-ros'))} --underlay"
    if sourced:
        setup += f" && source {shlex.quote(str(workspace / 'install' / 'setup.bash'))}"
    return f"{setup} && {command}"


def _run(workspace: Path, command: str, cwd: Path, timeout: float, sourced: bool = True) -> str:
    """Run ``command`` to the end; its output, or a failure that shows it."""
    try:
        done = subprocess.run(["bash", "-c", _in_workspace(workspace, command, sourced)], cwd=cwd,
                              env=_ros_env(workspace), capture_output=True, text=True, timeout=timeout,
                              start_new_session=True)
    except subprocess.TimeoutExpired as exc:
        raise AssertionError(f"{command!r} still running after {timeout:g} s:\n{exc.stdout}\n{exc.stderr}") from exc
    output = done.stdout + done.stderr
    assert done.returncode == 0, f"{command!r} exited {done.returncode}:\n{output[-8000:]}"
    return output


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A fresh workspace with this repository cloned into ``src/`` and built by the README's colcon line."""
    ws = tmp_path_factory.mktemp("ros2_ws")
    _clone(ws)
    if ROSDEP_OFFLINE.is_file() and shutil.which("rosdep"):  # test_rosdep.py says why when it cannot run
        distro = os.environ.get("ROS_DISTRO", "kilted")
        line = f"{workspace_line('rosdep install')} --simulate --os=ubuntu:noble"
        done = subprocess.run(offline_rosdep(distro, line, ws / "rosdep_state"), cwd=ws, capture_output=True,
                              text=True, timeout=120)
        assert done.returncode == 0 and "ERROR" not in done.stderr, done.stdout + done.stderr
    build = workspace_line("colcon build")
    assert "--symlink-install" not in build
    _run(ws, build, ws, BUILD_TIMEOUT_S, sourced=False)
    yield ws


def test_the_build_is_a_copy_not_a_link_to_the_clone(workspace: Path) -> None:
    lib = workspace / "install" / "emotion_perception" / "lib"
    (package,) = lib.glob("python3*/site-packages/emotion_perception")
    assert package.is_dir() and not package.is_symlink()
    assert not (package / "package_files.py").is_symlink()
    share = workspace / "install" / "emotion_perception" / "share" / "emotion_perception"
    found = _run(workspace, "python3 -c 'from emotion_perception.vision.model_card import DEFAULT_MODEL_PATH as m;"
                 " from emotion_perception.vision.detection import DEFAULT_DETECTOR_PATH as d; print(m); print(d)'",
                 workspace.parent, 60).split()
    assert found == [str(share / "models" / "valence_model.pt"),
                     str(share / "models" / "face_detection_yunet_2023mar.onnx")]


class ReactionProbe:
    """This test's own node on ``/human/reaction``."""

    def __init__(self) -> None:
        self.context = Context()
        rclpy.init(context=self.context)
        self.node = rclpy.create_node("workspace_probe", context=self.context)
        self.reactions: list[EmotionReaction] = []
        self.node.create_subscription(EmotionReaction, "/human/reaction", self.reactions.append, 100)
        self.executor = SingleThreadedExecutor(context=self.context)
        self.executor.add_node(self.node)
        self._spinner = SpinThread(self.executor)

    def close(self) -> None:
        self._spinner.stop()
        self.executor.shutdown()
        self.node.destroy_node()
        self.context.try_shutdown()


def test_launch_from_the_installed_package_publishes_reactions_and_stops_on_ctrl_c(workspace: Path,
                                                                                   tmp_path: Path) -> None:
    elsewhere = tmp_path / "another_directory"
    elsewhere.mkdir()
    command = workspace_line("ros2 launch emotion_perception perception.launch.py use_video:=true")
    launch = subprocess.Popen(["bash", "-c", _in_workspace(workspace, f"exec {command}")], cwd=elsewhere,
                              env=_ros_env(workspace), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                              start_new_session=True)
    lines: list[str] = []
    reader = subprocess_reader(launch, lines)
    probe = ReactionProbe()
    try:
        arrived = wait_for(lambda: probe.reactions or "FATAL" in "".join(lines) or launch.poll() is not None,
                           REACTION_TIMEOUT_S)
        output = "".join(lines)
        assert arrived and probe.reactions, f"no reaction on /human/reaction:\n{output[-6000:]}"
        assert "FATAL" not in output, output[-6000:]
        assert re.search(r"Fast DDS: FAST\w+_PROFILES_FILE=\S+/install/emotion_perception/share/emotion_perception/"
                         r"config/fastdds_shm\.xml", output), output[-6000:]
        os.killpg(launch.pid, signal.SIGINT)  # Ctrl-C in the launch's terminal
        status = launch.wait(timeout=30)
        reader.join(timeout=5)
        assert status == 0, "".join(lines)[-6000:]
        assert wait_for(lambda: not _group_alive(launch.pid), 10), f"processes left in group {launch.pid}"
    finally:
        probe.close()
        if _group_alive(launch.pid):
            os.killpg(launch.pid, signal.SIGKILL)
        launch.wait(timeout=10)


def test_colcon_test_passes_in_the_workspace(workspace: Path) -> None:
    command = workspace_line("colcon test ")
    tests = " ".join(WORKSPACE_TESTS)
    output = _run(workspace, f"{command} --event-handlers console_direct+ --pytest-args {tests}", workspace,
                  BUILD_TIMEOUT_S)
    result = _run(workspace, workspace_line("colcon test-result"), workspace, 60)
    assert re.search(r"Summary: [1-9]\d* tests, 0 errors, 0 failures", result), output[-6000:] + result


def subprocess_reader(process: subprocess.Popen, lines: list[str]) -> threading.Thread:
    """A thread collecting ``process``'s output lines into ``lines``."""
    thread = threading.Thread(target=lambda: lines.extend(process.stdout), daemon=True)
    thread.start()
    return thread


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True

