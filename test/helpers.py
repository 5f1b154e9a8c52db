"""Helpers the tests share: paths, the real-face fixtures and polling with a timeout (no ROS, no benchmarks)."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "test" / "data"


def wait_for(predicate: Callable[[], bool], timeout: float = 10.0, period: float = 0.02) -> bool:
    """Poll ``predicate`` until it is true (True) or ``timeout`` seconds have passed (its last value)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(period)
    return predicate()


def load(name: str) -> np.ndarray:
    """The BGR image ``test/data/<name>`` (the real Pexels frames are described in test/data/README.md)."""
    image = cv2.imread(str(DATA / name), cv2.IMREAD_COLOR)
    assert image is not None, f"cannot read {DATA / name}"
    return image
