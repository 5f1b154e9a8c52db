# Copyright 2026 The emotion_perception Authors
# SPDX-License-Identifier: Apache-2.0
"""Which environment variable the installed Fast DDS reads its XML profile from, and whether the user chose one.

Fast DDS 3 (Kilted) reads ``FASTDDS_DEFAULT_PROFILES_FILE`` and warns from every node when the old name is
set too; Fast DDS 2.x (Jazzy, Humble) reads only ``FASTRTPS_DEFAULT_PROFILES_FILE``. Setting the wrong one
silently leaves the default transports, with which camera-sized frames rarely cross processes. A profile or
builtin-transport choice the user already made (a discovery server, their own transports) always wins.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, MutableMapping
from pathlib import Path

from ament_index_python.packages import PackageNotFoundError, get_package_prefix

FASTDDS_VARIABLE = "FASTDDS_DEFAULT_PROFILES_FILE"
FASTRTPS_VARIABLE = "FASTRTPS_DEFAULT_PROFILES_FILE"
#: Fast DDS's XML-free transport choice (e.g. ``LARGE_DATA``): a user who set it chose their transports.
BUILTIN_TRANSPORTS_VARIABLE = "FASTDDS_BUILTIN_TRANSPORTS"
USER_CHOICE_VARIABLES = (FASTDDS_VARIABLE, FASTRTPS_VARIABLE, BUILTIN_TRANSPORTS_VARIABLE)


def profile_variable() -> str:
    """The variable the installed Fast DDS reads (Fast DDS 2 installs ``share/fastrtps``, 3 ``share/fastdds``)."""
    try:
        share = Path(get_package_prefix("rmw_fastrtps_cpp")) / "share"
    except PackageNotFoundError:
        return FASTDDS_VARIABLE
    return FASTRTPS_VARIABLE if (share / "fastrtps").is_dir() and not (share / "fastdds").is_dir() else FASTDDS_VARIABLE


def user_transport_choice(environ: Mapping[str, str] = os.environ) -> str | None:
    """``NAME=value`` of the first Fast DDS profile or transport variable the user set, else None."""
    for name in USER_CHOICE_VARIABLES:
        if environ.get(name):
            return f"{name}={environ[name]}"
    return None


def use_profile(path: str | Path, environ: MutableMapping[str, str] = os.environ) -> str | None:
    """Point the installed Fast DDS at ``path`` unless the user already chose; returns the variable set, or None."""
    if user_transport_choice(environ) is not None:
        return None
    variable = profile_variable()
    environ[variable] = str(path)
    return variable
