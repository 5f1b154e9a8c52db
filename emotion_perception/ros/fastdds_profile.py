# Copyright 2026 The emotion_perception Authors
# SPDX-License-Identifier: Apache-2.0
"""Which environment variable the installed Fast DDS reads its XML profile from.

Fast DDS 3 (Kilted) reads ``FASTDDS_DEFAULT_PROFILES_FILE`` and warns from every node when the old name is
set too; Fast DDS 2.x (Jazzy, Humble) reads only ``FASTRTPS_DEFAULT_PROFILES_FILE``. Setting the wrong one
silently leaves the default transports, with which camera-sized frames rarely cross processes.
"""

from __future__ import annotations

import os
from collections.abc import MutableMapping
from pathlib import Path

from ament_index_python.packages import PackageNotFoundError, get_package_prefix

FASTDDS_VARIABLE = "FASTDDS_DEFAULT_PROFILES_FILE"
FASTRTPS_VARIABLE = "FASTRTPS_DEFAULT_PROFILES_FILE"


def profile_variable() -> str:
    """The variable the installed Fast DDS reads (Fast DDS 2 installs ``share/fastrtps``, 3 ``share/fastdds``)."""
    try:
        share = Path(get_package_prefix("rmw_fastrtps_cpp")) / "share"
    except PackageNotFoundError:
        return FASTDDS_VARIABLE
    return FASTRTPS_VARIABLE if (share / "fastrtps").is_dir() and not (share / "fastdds").is_dir() else FASTDDS_VARIABLE


def use_profile(path: str | Path, environ: MutableMapping[str, str] = os.environ) -> str:
    """Point the installed Fast DDS at ``path`` unless the user already chose a profile; returns the variable."""
    variable = profile_variable()
    environ.setdefault(variable, str(path))
    return variable
