"""Persistent record of action verdicts and the per-action-name statistics derived from it (sqlite, no ROS).

Every verdict is one row, written in its own transaction (WAL journal, synchronous=FULL), so a
crash or kill between verdicts loses none; the statistics are computed from the rows on demand.
A file that is not this store's database (corrupt, foreign, unreadable) is refused without being
modified: the caller gets a :class:`StatsStoreError` saying why, never a silent reset.
"""

from __future__ import annotations

import json
import math
import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from emotion_perception.feedback.rule import ActionVerdict, Verdict

#: Marks a database as this store's (PRAGMA application_id, "EPAF") and its schema version.
APPLICATION_ID = 0x45504146
SCHEMA_VERSION = 1
_SQLITE_MAGIC = b"SQLite format 3\x00"

_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS verdicts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    action_id TEXT NOT NULL,
    name TEXT NOT NULL,
    action_stamp_ns INTEGER NOT NULL,
    duration REAL NOT NULL,
    verdict INTEGER NOT NULL,
    baseline_valence REAL,
    response_valence REAL,
    delta REAL,
    confidence REAL NOT NULL,
    n_baseline INTEGER NOT NULL,
    n_response INTEGER NOT NULL,
    face_ids TEXT NOT NULL,
    decided_ns INTEGER NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS verdicts_by_name ON verdicts (name)",
)


class StatsStoreError(RuntimeError):
    """The database cannot be opened, read or written (the message says which file and why)."""


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


def _nullable(value: float) -> float | None:
    return value if math.isfinite(value) else None


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
    if app_id != APPLICATION_ID or version != SCHEMA_VERSION:
        raise StatsStoreError(
            f"{path} is not an emotion_perception stats database of schema {SCHEMA_VERSION} "
            f"(application_id={app_id:#x}, user_version={version}); left untouched"
        )


class StatsStore:
    """The verdicts database at ``path`` (``~`` expanded, parent folders created); thread-safe."""

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path).expanduser().absolute()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise StatsStoreError(f"cannot create the folder of stats database {self.path}: {e}") from e
        if self.path.exists():
            _check_existing(self.path)
            if not os.access(self.path, os.W_OK):
                raise StatsStoreError(f"stats database {self.path} is not writable")
        if not os.access(self.path.parent, os.W_OK | os.X_OK):
            raise StatsStoreError(f"folder {self.path.parent} of stats database is not writable")
        self._lock = threading.Lock()
        try:
            self._conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
            mode = self._conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
            if mode != "wal":
                raise StatsStoreError(f"stats database {self.path} cannot use WAL journaling (got {mode!r})")
            self._conn.execute("PRAGMA synchronous=FULL")
            with self._transaction():
                for statement in _SCHEMA:
                    self._conn.execute(statement)
                self._conn.execute(f"PRAGMA application_id={APPLICATION_ID}")
                self._conn.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
        except sqlite3.Error as e:
            raise StatsStoreError(f"cannot open stats database {self.path}: {e}") from e

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

    def record(self, verdict: ActionVerdict) -> None:
        """Append one verdict, committed before returning."""
        a = verdict.action
        row = (
            a.action_id, a.name, a.stamp_ns, float(a.duration), int(verdict.verdict),
            _nullable(verdict.baseline_valence), _nullable(verdict.response_valence), _nullable(verdict.delta),
            float(verdict.confidence), verdict.n_baseline, verdict.n_response, json.dumps(list(verdict.face_ids)),
            verdict.decided_ns,
        )
        try:
            with self._lock, self._transaction():
                self._conn.execute(
                    "INSERT INTO verdicts (action_id, name, action_stamp_ns, duration, verdict, baseline_valence,"
                    " response_valence, delta, confidence, n_baseline, n_response, face_ids, decided_ns)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    row,
                )
        except sqlite3.Error as e:
            raise StatsStoreError(f"cannot record verdict of action {a.action_id!r} in {self.path}: {e}") from e

    def action_ids(self) -> list[str]:
        """Every recorded action id, in recording order."""
        try:
            with self._lock:
                return [r[0] for r in self._conn.execute("SELECT action_id FROM verdicts ORDER BY id")]
        except sqlite3.Error as e:
            raise StatsStoreError(f"cannot read {self.path}: {e}") from e

    def stats(self, name: str = "") -> list[ActionStatsRow]:
        """Statistics per action name, sorted by name; only ``name`` unless it is empty."""
        query = (
            "SELECT name, COUNT(*), SUM(verdict = ?), SUM(verdict = ?), SUM(verdict = ?), SUM(verdict = ?),"
            " AVG(delta) FROM verdicts {where} GROUP BY name ORDER BY name"
        )
        codes = (int(Verdict.WELL_RECEIVED), int(Verdict.NEUTRAL), int(Verdict.BADLY_RECEIVED), int(Verdict.UNKNOWN))
        try:
            with self._lock:
                if name:
                    rows = self._conn.execute(query.format(where="WHERE name = ?"), (*codes, name)).fetchall()
                else:
                    rows = self._conn.execute(query.format(where=""), codes).fetchall()
        except sqlite3.Error as e:
            raise StatsStoreError(f"cannot read statistics from {self.path}: {e}") from e
        return [ActionStatsRow(r[0], r[1], r[2], r[3], r[4], r[5], math.nan if r[6] is None else r[6]) for r in rows]

    def close(self) -> None:
        with self._lock:
            self._conn.close()

