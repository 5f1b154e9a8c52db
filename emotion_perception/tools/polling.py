# Copyright 2026 The emotion_perception Authors
# SPDX-License-Identifier: Apache-2.0
"""Waiting for a condition with a timeout (never a fixed sleep): the demo, the tests and the benchmarks use it."""

from __future__ import annotations

import time
from collections.abc import Callable


def wait_for(predicate: Callable[[], bool], timeout: float = 10.0, period: float = 0.02) -> bool:
    """Poll ``predicate`` every ``period`` s until it is true (True) or ``timeout`` s have passed (its last value)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(period)
    return bool(predicate())


def wait_until_steady(value: Callable[[], object], quiet: float = 1.0, timeout: float = 10.0,
                      period: float = 0.05) -> bool:
    """Poll ``value`` until it has not changed for ``quiet`` s (True) or ``timeout`` s have passed (False)."""
    deadline = time.monotonic() + timeout
    last, since = value(), time.monotonic()
    while time.monotonic() - since < quiet:
        if time.monotonic() >= deadline:
            return False
        time.sleep(period)
        now = value()
        if now != last:
            last, since = now, time.monotonic()
    return True
