# Copyright 2026 The emotion_perception Authors
# SPDX-License-Identifier: Apache-2.0
"""Helpers the tests share: paths, the real-face fixtures and polling with a timeout (no ROS, no benchmarks)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

from emotion_perception.tools.polling import wait_for

__all__ = ["DATA", "PROCESS_TEST_TIMEOUT_S", "ROOT", "appender", "load", "wait_for"]

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "test" / "data"
#: s a test that starts processes or spins executors may take, its fixtures included (pytest-timeout): many times
#: the slowest such test on a loaded 2-core machine, so that only a hang reaches it.
PROCESS_TEST_TIMEOUT_S = 300


def load(name: str) -> np.ndarray:
    """The BGR image ``test/data/<name>`` (the real Pexels frames are described in test/data/README.md)."""
    image = cv2.imread(str(DATA / name), cv2.IMREAD_COLOR)
    assert image is not None, f"cannot read {DATA / name}"
    return image


def appender(into: list, lock: threading.Lock) -> Callable[[object], None]:
    """A subscription callback that appends each message to ``into`` under ``lock`` (the test reads it elsewhere)."""
    def callback(msg: object) -> None:
        with lock:
            into.append(msg)

    return callback
