# Copyright 2026 The emotion_perception Authors
# SPDX-License-Identifier: Apache-2.0
"""Every rosdep key of both package.xml files resolves on the platforms the README names, with the README's line.

Checked offline against the rosdistro snapshot beside the repository (``../shared/vendor/rosdistro``): the
README's ``rosdep install`` line, simulated for Ubuntu 24.04 (``ubuntu:noble``, Jazzy's and Kilted's
platform), over a workspace laid out as a clone makes it; skipped, with the reason, without the snapshot.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from helpers import ROOT
from readme_lines import NO_SNAPSHOT, ROSDEP_OFFLINE, offline_rosdep, workspace_line

pytestmark = [
    pytest.mark.skipif(not ROSDEP_OFFLINE.is_file(), reason=NO_SNAPSHOT),
    pytest.mark.skipif(shutil.which("rosdep") is None, reason="rosdep is not installed (make setup installs it)"),
]

PLATFORM = "ubuntu:noble"


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A workspace with this repository's two package.xml files where a clone in ``src/`` has them."""
    ws = tmp_path_factory.mktemp("rosdep_ws")
    for manifest in ("package.xml", "emotion_msgs/package.xml"):
        (ws / "src" / "emotion_perception" / manifest).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / manifest, ws / "src" / "emotion_perception" / manifest)
    return ws


@pytest.fixture(scope="module")
def state(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """rosdep's cache, one ``rosdep update`` per distribution for the module."""
    return tmp_path_factory.mktemp("rosdep_state")


def _rosdep(distro: str, line: str, ws: Path, state: Path) -> subprocess.CompletedProcess:
    return subprocess.run(offline_rosdep(distro, line, state / distro), cwd=ws, capture_output=True, text=True,
                          timeout=120)


@pytest.mark.parametrize("distro", ["jazzy", "kilted"])
def test_the_readme_rosdep_line_resolves_every_key(distro: str, workspace: Path, state: Path) -> None:
    line = workspace_line("rosdep install")
    done = _rosdep(distro, f"{line} --simulate --os={PLATFORM}", workspace, state)
    output = done.stdout + done.stderr
    assert done.returncode == 0 and "ERROR" not in output, output


@pytest.mark.parametrize("distro", ["jazzy", "kilted"])
def test_every_key_has_a_rule_on_the_platform(distro: str, workspace: Path, state: Path) -> None:
    paths = workspace_line("rosdep install").split("--from-paths", 1)[1].split("--", 1)[0]
    keys = _rosdep(distro, f"rosdep keys --from-paths {paths} --ignore-src", workspace, state)
    assert keys.returncode == 0, keys.stderr
    names = set(keys.stdout.split())
    assert "emotion_msgs" not in names  # found as a source package in the workspace, not looked up as a key
    assert {"rclpy", "python3-opencv", "python3-onnxruntime-pip"} <= names
    assert ("hri_msgs" in names) == (distro == "jazzy")  # no hri_msgs rule on Kilted: built from source there
    resolved = _rosdep(distro, f"rosdep resolve {' '.join(sorted(names))} --os={PLATFORM}", workspace, state)
    assert resolved.returncode == 0, resolved.stderr


def test_the_old_single_path_misses_the_nested_interface_package(workspace: Path, state: Path) -> None:
    done = _rosdep("kilted", f"rosdep install --from-paths src --ignore-src -y --simulate --os={PLATFORM}", workspace,
                   state)
    assert "Cannot locate rosdep definition for [emotion_msgs]" in done.stderr + done.stdout
