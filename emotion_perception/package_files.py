# Copyright 2026 The emotion_perception Authors
# SPDX-License-Identifier: Apache-2.0
"""Where the package's data files are: the repository checkout, else the installed share directory (no ROS)."""

from __future__ import annotations

from pathlib import Path

try:  # present wherever ROS 2 is; the core also runs without it
    from ament_index_python.packages import PackageNotFoundError, get_package_share_directory
except ImportError:
    get_package_share_directory = None
    PackageNotFoundError = LookupError

PACKAGE = "emotion_perception"
REPOSITORY_ROOT = Path(__file__).resolve().parents[2]


def package_file(*parts: str) -> Path:
    """``config/…``, ``media/…``: the checkout's file when it exists, else the one under the package's share."""
    in_repo = REPOSITORY_ROOT.joinpath(*parts)
    if in_repo.exists() or get_package_share_directory is None:
        return in_repo
    try:
        return Path(get_package_share_directory(PACKAGE)).joinpath(*parts)
    except PackageNotFoundError:
        return in_repo
