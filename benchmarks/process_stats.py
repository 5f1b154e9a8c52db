# Copyright 2026 The emotion_perception Authors
# SPDX-License-Identifier: Apache-2.0
"""CPU time and memory of another process, read from /proc (Linux): what the benchmarks charge a node."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

TICKS_PER_S = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds process ``pid`` has used (all its threads; children not included)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / TICKS_PER_S  # utime, stime: fields 14 and 15 of stat(5)


def memory_mb(pid: int) -> dict[str, float]:
    """``rss_mb`` (resident now) and ``peak_rss_mb`` (high-water mark) of process ``pid``."""
    kb = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            kb[key] = int(value.split()[0])
    return {"rss_mb": round(kb["VmRSS"] / 1024, 1), "peak_rss_mb": round(kb["VmHWM"] / 1024, 1)}


@dataclass
class CpuWindow:
    """CPU use of some processes over a window of wall time: start it, then read :meth:`percent` at its end."""

    pids: dict[str, int]

    def __post_init__(self) -> None:
        self._start = time.monotonic()
        self._cpu = {name: cpu_seconds(pid) for name, pid in self.pids.items()}

    def percent(self) -> dict[str, float]:
        """Each process's CPU since the start, in % of one core (100 = one core busy all the time)."""
        elapsed = time.monotonic() - self._start
        return {name: round(100 * (cpu_seconds(pid) - self._cpu[name]) / elapsed, 1)
                for name, pid in self.pids.items()}
