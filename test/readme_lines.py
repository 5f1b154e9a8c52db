# Copyright 2026 The emotion_perception Authors
# SPDX-License-Identifier: Apache-2.0
"""The README's workspace commands, read from the README itself (so the lines a user copies are the ones tested)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from helpers import ROOT

README = ROOT / "README.md"
#: The rosdistro snapshot and its offline rosdep wrapper (beside the repository; a user's clone has none).
ROSDISTRO = Path(os.environ.get("EMOTION_PERCEPTION_ROSDISTRO", ROOT.parent / "shared" / "vendor" / "rosdistro"))
ROSDEP_OFFLINE = ROSDISTRO / "rosdep-offline.sh"
NO_SNAPSHOT = f"no rosdistro snapshot at {ROSDISTRO} (set EMOTION_PERCEPTION_ROSDISTRO): rosdep needs its index"


def workspace_lines() -> list[str]:
    """The command lines of the README's "Building in your ROS 2 workspace" block, comments stripped."""
    section = README.read_text().split("## Building in your ROS 2 workspace", 1)[1].split("\n## ", 1)[0]
    block = section.split("```bash\n", 1)[1].split("```", 1)[0]
    return [line.split("  #", 1)[0].strip() for line in block.splitlines() if line.strip()]


def workspace_line(prefix: str) -> str:
    """The one README workspace line that starts with ``prefix``."""
    (line,) = [line for line in workspace_lines() if line.startswith(prefix)]
    return line


def offline_rosdep(distro: str, line: str, state: Path) -> list[str]:
    """``line`` (a ``rosdep ...`` command) run against the snapshot for ``distro`` with its cache in ``state``.

    In a fresh system's environment: with a sourced ROS 2 (``AMENT_PREFIX_PATH``), ``--ignore-src`` would also
    skip every key that environment already holds, and the check would prove nothing about a user's machine.
    """
    words = line.split()
    assert words[0] == "rosdep", line
    path = f"PATH={Path(sys.prefix) / 'bin'}:/usr/bin:/bin"
    return ["env", "-i", path, f"HOME={state}", f"ROSDEP_OFFLINE_HOME={state}", "bash", str(ROSDEP_OFFLINE), distro,
            *words[1:]]
