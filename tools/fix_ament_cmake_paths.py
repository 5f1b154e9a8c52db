# Copyright 2026 The emotion_perception Authors
# SPDX-License-Identifier: Apache-2.0
"""Point the CMake export files of the ROS 2 PyPI wheels at this interpreter's headers.

The ``ros-*`` wheels were built in a manylinux container, and their ``*Export.cmake`` files
still name that container's Python and numpy include directories. Rewriting those two paths
to this environment's is all ``colcon build`` of an interface package needs. Idempotent.
"""

from __future__ import annotations

import sys
import sysconfig
from pathlib import Path

import numpy

BUILDER_PYTHON_INCLUDE = "/opt/python/cp311-cp311/include/python3.11"
BUILDER_NUMPY_INCLUDE = "/opt/python/cp311-cp311/lib/python3.11/site-packages/numpy/_core/include"


def main() -> int:
    prefix = Path(sys.prefix)
    replacements = {
        BUILDER_NUMPY_INCLUDE: numpy.get_include(),
        BUILDER_PYTHON_INCLUDE: sysconfig.get_paths()["include"],
    }
    changed = 0
    for path in sorted((prefix / "share").glob("*/cmake/*Export.cmake")):
        text = path.read_text()
        fixed = text
        for old, new in replacements.items():
            fixed = fixed.replace(old, new)
        if fixed != text:
            path.write_text(fixed)
            changed += 1
    print(f"fix_ament_cmake_paths: rewrote {changed} CMake export file(s) under {prefix / 'share'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
