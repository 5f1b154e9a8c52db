# Copyright 2026 The emotion_perception Authors
# SPDX-License-Identifier: Apache-2.0
"""Keep freed camera-frame buffers inside the process instead of handing them back to the kernel (glibc only).

Every frame a node receives is allocated twice (rmw's message, then rclpy's Python copy), and a detector
adds a few frame-sized arrays of its own. glibc serves blocks of that size with ``mmap`` and returns them
with ``munmap`` (or trims its heap) when they are freed, so the next frame's buffers start as fresh pages
that the kernel must fault in and zero: at 30 Hz of 640x480 that alone took about 4 % of a core in a
node that did nothing else with the frames (issue 27). With the thresholds raised, the same blocks are
reused from the heap; the process keeps at most ``trim_threshold`` bytes of freed memory.
"""

from __future__ import annotations

import ctypes
import ctypes.util

#: mallopt(3) parameters.
M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
#: The largest mmap threshold glibc accepts on 64-bit (``DEFAULT_MMAP_THRESHOLD_MAX``): blocks up to 32 MB,
#: a 1920x1080 bgr8 frame five times over, come from the heap.
MAX_MMAP_THRESHOLD = 32 << 20


def keep_freed_buffers(mmap_threshold: int = MAX_MMAP_THRESHOLD, trim_threshold: int = 2 * MAX_MMAP_THRESHOLD) -> bool:
    """Serve blocks up to ``mmap_threshold`` bytes from the heap and keep up to ``trim_threshold`` bytes of freed
    heap in the process (process-wide). False, changing nothing, where the C library has no glibc ``mallopt``."""
    name = ctypes.util.find_library("c")
    if name is None:
        return False
    mallopt = getattr(ctypes.CDLL(name), "mallopt", None)
    if mallopt is None:
        return False
    # mallopt returns 1 on success; musl's stub returns 0 and changes nothing.
    return bool(mallopt(M_MMAP_THRESHOLD, mmap_threshold)) and bool(mallopt(M_TRIM_THRESHOLD, trim_threshold))
