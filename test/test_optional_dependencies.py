# Copyright 2026 The emotion_perception Authors
# SPDX-License-Identifier: Apache-2.0
"""Python packages without a rosdep key: their absence costs only their feature, announced in one line.

Each case runs in a fresh interpreter where the package cannot be imported (``sys.modules[name] = None``),
as on a robot set up by ``rosdep install`` alone.
"""

from __future__ import annotations

import subprocess
import sys

import pytest


def _without(module: str, code: str) -> subprocess.CompletedProcess:
    script = f"import sys\nsys.modules[{module!r}] = None\n{code}"
    return subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("script, module, pip", [
    ("dashboard", "starlette", "pip install starlette"),
    ("demo", "starlette", "pip install starlette"),
    ("record", "mcap", "pip install mcap mcap-ros2-support"),
    ("replay", "mcap", "pip install mcap mcap-ros2-support"),
    ("report", "mcap_ros2", "pip install mcap mcap-ros2-support"),
])
def test_a_script_without_its_package_refuses_in_one_line(script: str, module: str, pip: str) -> None:
    done = _without(module, f"from emotion_perception.entry_points import {script}\nsys.exit({script}())")
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    (line,) = done.stderr.strip().splitlines()
    assert line.startswith(f"[FATAL] [{script}]: cannot start: the Python package '{module}'") and line.endswith(pip)


def test_another_missing_module_is_not_hidden() -> None:
    done = _without("yaml", "from emotion_perception.entry_points import record\nsys.exit(record())")
    assert done.returncode == 1 and "ModuleNotFoundError" in done.stderr and "yaml" in done.stderr


def test_the_feedback_node_runs_without_psycopg_until_a_postgresql_store_is_asked_for(tmp_path) -> None:
    code = (
        "import emotion_perception.ros.action_feedback_node\n"
        "from emotion_perception.feedback.store_url import open_store\n"
        "from emotion_perception.feedback.stats_store import StatsStoreError\n"
        f"open_store('sqlite:///{tmp_path}/verdicts.db', 'robot').close()\n"
        "try:\n"
        "    open_store('postgresql://fleet/verdicts', 'robot')\n"
        "except StatsStoreError as exc:\n"
        "    print(exc)\n"
    )
    done = _without("psycopg", code)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == ("a PostgreSQL store needs psycopg 3, which has no rosdep key: "
                                   "pip install 'psycopg[binary]'")
