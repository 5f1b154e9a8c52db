# Copyright 2026 The emotion_perception Authors
# SPDX-License-Identifier: Apache-2.0
"""wait_until_steady: how the demo waits for the last reactions in flight."""

from __future__ import annotations

import itertools
import time

from emotion_perception.tools.polling import wait_until_steady


def test_a_value_that_stops_changing_is_steady_after_the_quiet_time() -> None:
    started = time.monotonic()
    readings = itertools.chain([1, 2, 3], itertools.repeat(3))
    assert wait_until_steady(lambda: next(readings), quiet=0.2, timeout=5.0, period=0.01)
    assert 0.2 <= time.monotonic() - started < 5.0


def test_a_value_that_keeps_changing_times_out() -> None:
    counter = itertools.count()
    started = time.monotonic()
    assert not wait_until_steady(lambda: next(counter), quiet=0.2, timeout=0.5, period=0.01)
    assert time.monotonic() - started >= 0.5
