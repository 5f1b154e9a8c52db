# Copyright 2026 The emotion_perception Authors
# SPDX-License-Identifier: Apache-2.0
"""Where the package's data files (``config/``, ``models/``, ``media/``) are, wherever it runs (no ROS needed).

In a checkout (or a ``--symlink-install``, whose code resolves to the checkout) they are the repository's
own files. In an installed package (``colcon build`` without ``--symlink-install``, a wheel) the code sits
in ``site-packages`` and the files in the package's share directory, which the ament index names (else
``<sys.prefix>/share/emotion_perception``, where a pip install puts setup.py's data files).
"""

from __future__ import annotations

import re
import sys
from functools import cache
from pathlib import Path

try:  # present wherever ROS 2 is; the core also runs without it
    from ament_index_python.packages import PackageNotFoundError, get_package_share_directory
except ImportError:
    get_package_share_directory = None
    PackageNotFoundError = LookupError

PACKAGE = "emotion_perception"
#: The repository root when this file is in a checkout (``site-packages`` in an installed package).
CHECKOUT = Path(__file__).resolve().parents[1]


def _is_checkout(root: Path) -> bool:
    """True when ``root`` holds this package's own ``package.xml`` (a checkout, not a stray ``site-packages``)."""
    try:
        manifest = (root / "package.xml").read_text(encoding="utf-8")
    except OSError:
        return False
    return re.search(rf"<name>\s*{PACKAGE}\s*</name>", manifest) is not None


@cache
def data_root() -> Path:
    """The folder holding ``config/``, ``models/`` and ``media/``: the checkout, else the installed share."""
    if _is_checkout(CHECKOUT):
        return CHECKOUT
    if get_package_share_directory is not None:
        try:
            return Path(get_package_share_directory(PACKAGE))
        except (PackageNotFoundError, OSError):  # not in the index; no AMENT_PREFIX_PATH at all
            pass
    return Path(sys.prefix) / "share" / PACKAGE


def package_file(*parts: str) -> Path:
    """``package_file("models", "x.onnx")``: that data file of the package (it may not exist; callers say so)."""
    return data_root().joinpath(*parts)
