# Copyright 2026 The emotion_perception Authors
# SPDX-License-Identifier: Apache-2.0
"""Open the verdict store a URL names: ``sqlite:///path/file.db`` (embedded) or ``postgresql://host/db`` (a fleet)."""

from __future__ import annotations

import re
from pathlib import Path

from emotion_perception.feedback.stats_store import StatsStore, StatsStoreError, VerdictStore

SQLITE_SCHEME = "sqlite://"
POSTGRES_SCHEMES = ("postgresql://", "postgres://")
#: Where a PostgreSQL store queues verdicts during an outage unless told otherwise ({robot} = its id).
DEFAULT_OUTBOX = "~/.ros/emotion_perception/verdict_outbox_{robot}.db"
#: Most verdicts a PostgreSQL store queues on disk during an outage (the node's ``stats_outbox_capacity``).
DEFAULT_OUTBOX_CAPACITY = 100_000
#: Seconds between a PostgreSQL store's reconnection attempts (the node's ``stats_db_retry_period``).
DEFAULT_RETRY_PERIOD = 1.0


def sqlite_path(url: str) -> str:
    """The file of a ``sqlite://`` URL: ``sqlite:///abs/file.db``, ``sqlite://~/file.db``, ``sqlite://rel.db``."""
    path = url[len(SQLITE_SCHEME):]
    return path[1:] if path.startswith("/~") else path


def default_outbox(robot_id: str) -> Path:
    """The default outbox file of ``robot_id`` (characters other than letters, digits, ``._-`` become ``_``)."""
    return Path(DEFAULT_OUTBOX.format(robot=re.sub(r"[^A-Za-z0-9._-]", "_", robot_id))).expanduser()


def open_store(
    url: str,
    robot_id: str,
    outbox_path: str = "",
    outbox_capacity: int = DEFAULT_OUTBOX_CAPACITY,
    retry_period: float = DEFAULT_RETRY_PERIOD,
) -> VerdictStore:
    """The store at ``url``; raises :class:`StatsStoreError` (one line) when it cannot be used now."""
    if url.startswith(SQLITE_SCHEME):
        path = sqlite_path(url)
        if not path:
            raise StatsStoreError(f"the sqlite URL {url!r} names no file")
        return StatsStore(path, robot_id)
    if url.startswith(POSTGRES_SCHEMES):
        try:  # psycopg 3 has no rosdep key: only a PostgreSQL store needs it
            from emotion_perception.feedback.postgres_store import PostgresStore
        except ModuleNotFoundError as exc:
            if exc.name != "psycopg":
                raise
            raise StatsStoreError("a PostgreSQL store needs psycopg 3, which has no rosdep key:"
                                  " pip install 'psycopg[binary]'") from None
        return PostgresStore(url, robot_id, outbox_path or default_outbox(robot_id), outbox_capacity, retry_period)
    raise StatsStoreError(f"unsupported stats database URL {url!r}: use sqlite:///path or postgresql://host/db")
