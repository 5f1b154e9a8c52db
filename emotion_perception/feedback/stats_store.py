# Copyright 2026 The emotion_perception Authors
# SPDX-License-Identifier: Apache-2.0
"""The verdict store: one interface, its sqlite backend (embedded, the default) and the shared types (no ROS).

A store records every verdict (committed before :meth:`VerdictStore.record` returns) with the robot's id
and answers per-action-name statistics for one robot or the whole fleet writing to the database. The
schema and its migrations are in :mod:`~emotion_perception.feedback.store_schema`; the PostgreSQL backend is
:mod:`~emotion_perception.feedback.postgres_store`; :func:`~emotion_perception.feedback.store_url.open_store`
picks one from a URL.

The sqlite store writes each verdict in its own transaction (WAL journal, synchronous=FULL), so a crash or
kill between verdicts loses none. A file that is not this store's database (corrupt, foreign, unreadable,
or of a newer schema) is refused without being modified: the caller gets a :class:`StatsStoreError` saying
why, never a silent reset. A database of schema 1 (before fleets) is migrated in place in one transaction.
"""

from __future__ import annotations

import math
import os
import socket
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from emotion_perception.feedback.rule import ActionVerdict
from emotion_perception.feedback.store_schema import (
    SCHEMA_VERSION,
    SQLITE,
    action_ids_statement,
    insert_statement,
    migration,
    stats_statement,
    verdict_row,
)

#: Marks a sqlite database as this store's (PRAGMA application_id, "EPAF"); user_version mirrors the schema.
APPLICATION_ID = 0x45504146
_SQLITE_MAGIC = b"SQLite format 3\x00"


class StatsStoreError(RuntimeError):
    """The database cannot be opened, read or written (the message says which and why, on one line)."""


class DatabaseUnavailableError(StatsStoreError):
    """The database server is unreachable right now; verdicts are being queued on local disk."""


@dataclass(frozen=True)
class ActionStatsRow:
    """Statistics of every recorded verdict for one action name; ``mean_delta`` is NaN when no delta is defined."""

    name: str
    count: int
    well_received: int
    neutral: int
    badly_received: int
    unknown: int
    mean_delta: float


@dataclass(frozen=True)
class StoreHealth:
    """The store's link to its database: ``queued`` verdicts wait on local disk while ``connected`` is false."""

    connected: bool
    queued: int = 0
    outages: int = 0
    last_error: str = ""


class VerdictStore(Protocol):
    """What the action-feedback node needs of a verdict database (thread-safe)."""

    robot_id: str
    location: str  # where the verdicts go, for logs (never a credential)

    def record(self, verdict: ActionVerdict) -> bool:
        """Write one verdict: True once committed to the database, False once queued durably on local disk."""

    def stats(self, name: str = "", robot_id: str | None = None) -> list[ActionStatsRow]:
        """Statistics per action name, sorted by name; only ``name`` unless empty; one robot's, or all if None."""

    def action_ids(self, robot_id: str | None = None) -> list[str]:
        """Every recorded action id in recording order, of one robot or all."""

    def health(self) -> StoreHealth:
        """The link to the database now."""

    def close(self) -> None:
        """Release the connection (idempotent)."""


def default_robot_id(namespace: str = "/") -> str:
    """The node's namespace without its leading slash, else (root namespace) the host name."""
    return namespace.strip("/") or socket.gethostname()


def stats_rows(rows: list[tuple]) -> list[ActionStatsRow]:
    """Rows of :func:`~emotion_perception.feedback.store_schema.stats_statement` as :class:`ActionStatsRow`."""
    return [
        ActionStatsRow(r[0], int(r[1]), int(r[2]), int(r[3]), int(r[4]), int(r[5]),
                       math.nan if r[6] is None else float(r[6]))
        for r in rows
    ]


def one_line(error: BaseException) -> str:
    """An exception's text on one line (drivers add hints on further lines)."""
    return " ".join(str(error).split()) or type(error).__name__


def _check_existing(path: Path) -> None:
    """Refuse a non-empty file that is not a healthy database of this store; opens it read-only."""
    try:
        with path.open("rb") as f:
            head = f.read(len(_SQLITE_MAGIC))
    except OSError as e:
        raise StatsStoreError(f"cannot read stats database {path}: {e}") from e
    if not head:
        return
    if head != _SQLITE_MAGIC:
        raise StatsStoreError(f"{path} is not an SQLite database (corrupt or foreign file); left untouched")
    try:
        conn = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)
        try:
            check = conn.execute("PRAGMA quick_check").fetchone()[0]
            app_id = conn.execute("PRAGMA application_id").fetchone()[0]
            version = conn.execute("PRAGMA user_version").fetchone()[0]
        finally:
            conn.close()
    except sqlite3.DatabaseError as e:
        raise StatsStoreError(f"{path} is a corrupt SQLite database ({e}); left untouched") from e
    if check != "ok":
        raise StatsStoreError(f"{path} failed its integrity check ({check}); left untouched")
    if app_id != APPLICATION_ID or version < 1:
        raise StatsStoreError(
            f"{path} is not an emotion_perception stats database "
            f"(application_id={app_id:#x}, user_version={version}); left untouched"
        )
    if version > SCHEMA_VERSION:
        raise StatsStoreError(
            f"{path} has schema {version}, newer than this emotion_perception's {SCHEMA_VERSION}; left untouched"
        )


class StatsStore:
    """The sqlite verdicts database at ``path`` (``~`` expanded, parent folders created) of ``robot_id``."""

    def __init__(self, path: str | os.PathLike, robot_id: str = "") -> None:
        self.path = Path(path).expanduser().absolute()
        self.location = str(self.path)
        self.robot_id = robot_id or default_robot_id()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise StatsStoreError(f"cannot create the folder of stats database {self.path}: {e}") from e
        # Permissions first: reading a WAL database needs its folder writable, or SQLite calls it read-only.
        if self.path.exists() and not os.access(self.path, os.W_OK):
            raise StatsStoreError(f"stats database {self.path} is not writable")
        if not os.access(self.path.parent, os.W_OK | os.X_OK):
            raise StatsStoreError(f"folder {self.path.parent} of stats database is not writable")
        if self.path.exists():
            _check_existing(self.path)
        self._lock = threading.Lock()
        try:
            self._conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
            mode = self._conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
            if mode != "wal":
                raise StatsStoreError(f"stats database {self.path} cannot use WAL journaling (got {mode!r})")
            self._conn.execute("PRAGMA synchronous=FULL")
            with self._transaction():
                for statement, params in migration(SQLITE, self._version(), self.robot_id, time.time_ns()):
                    self._conn.execute(statement, params)
                self._conn.execute(f"PRAGMA application_id={APPLICATION_ID}")
                self._conn.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
        except sqlite3.Error as e:
            raise StatsStoreError(f"cannot open stats database {self.path}: {e}") from e

    def _version(self) -> int:
        """The schema of the open database: its schema_version table, else 1 with a verdicts table, else 0."""
        tables = {r[0] for r in self._conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if "schema_version" in tables:
            return self._conn.execute("SELECT MAX(version) FROM schema_version").fetchone()[0]
        return 1 if "verdicts" in tables else 0

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        """BEGIN IMMEDIATE … COMMIT, or ROLLBACK on error (the connection is in autocommit mode)."""
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._conn.execute("ROLLBACK")
            raise
        self._conn.execute("COMMIT")

    @property
    def journal_mode(self) -> str:
        with self._lock:
            return self._conn.execute("PRAGMA journal_mode").fetchone()[0]

    def record(self, verdict: ActionVerdict) -> bool:
        """Append one verdict, committed before returning (always True: the file is the database)."""
        try:
            with self._lock, self._transaction():
                self._conn.execute(insert_statement(SQLITE), verdict_row(verdict, self.robot_id))
        except sqlite3.Error as e:
            raise StatsStoreError(
                f"cannot record verdict of action {verdict.action.action_id!r} in {self.path}: {e}"
            ) from e
        return True

    def action_ids(self, robot_id: str | None = None) -> list[str]:
        """Every recorded action id, in recording order, of one robot or all."""
        params = () if robot_id is None else (robot_id,)
        try:
            with self._lock:
                return [r[0] for r in self._conn.execute(action_ids_statement(SQLITE, robot_id is not None), params)]
        except sqlite3.Error as e:
            raise StatsStoreError(f"cannot read {self.path}: {e}") from e

    def stats(self, name: str = "", robot_id: str | None = None) -> list[ActionStatsRow]:
        """Statistics per action name, sorted by name; only ``name`` unless empty; one robot's, or all if None."""
        query = stats_statement(SQLITE, by_name=bool(name), by_robot=robot_id is not None)
        params = tuple(p for p in (name or None, robot_id) if p is not None)
        try:
            with self._lock:
                rows = self._conn.execute(query, params).fetchall()
        except sqlite3.Error as e:
            raise StatsStoreError(f"cannot read statistics from {self.path}: {e}") from e
        return stats_rows(rows)

    def health(self) -> StoreHealth:
        return StoreHealth(connected=True)

    def close(self) -> None:
        with self._lock:
            self._conn.close()
