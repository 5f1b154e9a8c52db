# Copyright 2026 The emotion_perception Authors
# SPDX-License-Identifier: Apache-2.0
"""A bounded first-in-first-out queue of verdict rows on local disk, for while the database is unreachable (no ROS).

The queue is a small sqlite file (WAL, synchronous=FULL): :meth:`Outbox.put` returns once the row is on
disk, so a verdict queued and then published survives a SIGKILL or a power cut. Rows are removed only
after the database has committed them; a crash in between replays them, which the database ignores
(unique on robot id + action id), so nothing is lost or written twice.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from pathlib import Path

from emotion_perception.feedback.stats_store import StatsStoreError


class Outbox:
    """At most ``capacity`` rows at ``path`` (``~`` expanded, folders created); thread-safe."""

    def __init__(self, path: str | os.PathLike, capacity: int) -> None:
        if capacity < 1:
            raise ValueError(f"outbox capacity must be at least 1, got {capacity}")
        self.path = Path(path).expanduser().absolute()
        self.capacity = capacity
        self._lock = threading.Lock()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=FULL")
            self._conn.execute("CREATE TABLE IF NOT EXISTS outbox (seq INTEGER PRIMARY KEY AUTOINCREMENT, row TEXT)")
            self._size = self._conn.execute("SELECT COUNT(*) FROM outbox").fetchone()[0]
        except (OSError, sqlite3.Error) as e:
            raise StatsStoreError(f"cannot open the verdict outbox {self.path}: {e}") from e

    def __len__(self) -> int:
        return self._size

    def put(self, row: tuple) -> None:
        """Append one row, on disk before returning; raises :class:`StatsStoreError` when full or unwritable."""
        with self._lock:
            if self._size >= self.capacity:
                raise StatsStoreError(
                    f"verdict outbox {self.path} is full ({self.capacity} verdicts wait for the database)"
                )
            try:
                self._conn.execute("INSERT INTO outbox (row) VALUES (?)", (json.dumps(row),))
            except sqlite3.Error as e:
                raise StatsStoreError(f"cannot queue a verdict in {self.path}: {e}") from e
            self._size += 1

    def peek(self, limit: int) -> list[tuple[int, tuple]]:
        """The oldest ``limit`` rows as ``(sequence number, row)``, oldest first."""
        with self._lock:
            try:
                rows = self._conn.execute("SELECT seq, row FROM outbox ORDER BY seq LIMIT ?", (limit,)).fetchall()
            except sqlite3.Error as e:
                raise StatsStoreError(f"cannot read the verdict outbox {self.path}: {e}") from e
        return [(seq, tuple(json.loads(text))) for seq, text in rows]

    def remove_through(self, seq: int) -> None:
        """Forget every row up to and including sequence number ``seq`` (they are in the database)."""
        with self._lock:
            try:
                self._conn.execute("DELETE FROM outbox WHERE seq <= ?", (seq,))
                self._size = self._conn.execute("SELECT COUNT(*) FROM outbox").fetchone()[0]
            except sqlite3.Error as e:
                raise StatsStoreError(f"cannot update the verdict outbox {self.path}: {e}") from e

    def close(self) -> None:
        with self._lock:
            self._conn.close()
