# Copyright 2026 The emotion_perception Authors
# SPDX-License-Identifier: Apache-2.0
"""Console scripts whose feature needs a Python package that rosdep cannot install (no rosdep key).

Where such a package is missing, the script prints one FATAL line naming it and the ``pip install`` that
brings it, and exits with status 1, instead of an import traceback. The nodes whose dependencies all have
rosdep keys start from their own modules' ``main`` (setup.py's ``console_scripts``).
"""

from __future__ import annotations

import importlib
import sys

#: Importable name -> the pip command that installs it (none of them has a rosdep key).
PIP_ONLY: dict[str, str] = {
    "starlette": "pip install starlette",
    "mcap": "pip install mcap mcap-ros2-support",
    "mcap_ros2": "pip install mcap mcap-ros2-support",
}


def run(module: str, name: str) -> int:
    """Import ``module`` and return its ``main()``; 1 with one FATAL line when a :data:`PIP_ONLY` package is missing."""
    try:
        main = importlib.import_module(module).main
    except ModuleNotFoundError as exc:
        missing = (exc.name or "").partition(".")[0]
        if missing not in PIP_ONLY:
            raise
        print(f"[FATAL] [{name}]: cannot start: the Python package '{missing}' is not installed and has no"
              f" rosdep key: {PIP_ONLY[missing]}", file=sys.stderr)
        return 1
    return main()


def dashboard() -> int:
    """``ros2 run emotion_perception dashboard`` (needs starlette)."""
    return run("emotion_perception.ros.dashboard_node", "dashboard")


def demo() -> int:
    """``ros2 run emotion_perception demo`` (serves the dashboard and records the session)."""
    return run("emotion_perception.tools.demo", "demo")


def record() -> int:
    """``ros2 run emotion_perception record`` (needs mcap)."""
    return run("emotion_perception.tools.session.record", "record")


def replay() -> int:
    """``ros2 run emotion_perception replay`` (needs mcap)."""
    return run("emotion_perception.tools.session.replay", "replay")


def report() -> int:
    """``ros2 run emotion_perception report`` (needs mcap)."""
    return run("emotion_perception.tools.session.report", "report")
