# Copyright 2026 The emotion_perception Authors
# SPDX-License-Identifier: Apache-2.0
"""The PostgreSQL backend of the verdict store: one database for a fleet of robots (psycopg 3, no ROS).

Start: the server must answer (else :class:`StatsStoreError`, one line); the schema is created or migrated
under an advisory lock, so robots starting together do not race. While running, each verdict is committed
before :meth:`PostgresStore.record` returns. If the server goes away, verdicts are queued in a bounded
:class:`~emotion_perception.feedback.outbox.Outbox` on local disk instead, and a background thread
reconnects every ``retry_period`` seconds and writes them in order; a verdict already in the database
(same robot and action id) is ignored, so a replay never duplicates. Credentials come from libpq's
environment (``PGPASSWORD``, ``PGSERVICE``…), its service file or its password file (``~/.pgpass``), never
from the URL: a URL with a password is refused, because ROS parameters are readable by anyone on the graph.
"""

from __future__ import annotations

import os
import threading
import time

import psycopg
from psycopg.conninfo import conninfo_to_dict

from emotion_perception.feedback.outbox import Outbox
from emotion_perception.feedback.rule import ActionVerdict
from emotion_perception.feedback.stats_store import (
    ActionStatsRow,
    DatabaseUnavailableError,
    StatsStoreError,
    StoreHealth,
    one_line,
    stats_rows,
)
from emotion_perception.feedback.store_schema import (
    POSTGRES,
    SCHEMA_VERSION,
    action_ids_statement,
    insert_statement,
    migration,
    stats_statement,
    verdict_row,
)
from emotion_perception.feedback.store_url import DEFAULT_OUTBOX_CAPACITY, DEFAULT_RETRY_PERIOD

#: pg_advisory_xact_lock key held while the schema is checked or migrated ("EPAF").
_MIGRATION_LOCK = 0x45504146
#: A server host that vanishes (Wi-Fi gone, no TCP reset) is noticed in about 10 s, not the kernel's minutes.
_TCP_LIVENESS = {"keepalives": 1, "keepalives_idle": 5, "keepalives_interval": 2, "keepalives_count": 3,
                 "tcp_user_timeout": 10_000}
#: Rows written per transaction when the outbox is drained.
_DRAIN_BATCH = 500


def check_url(url: str) -> None:
    """Raise :class:`StatsStoreError` for a URL libpq cannot parse or one that carries a password."""
    try:
        params = conninfo_to_dict(url)
    except psycopg.ProgrammingError as e:
        raise StatsStoreError(f"invalid PostgreSQL URL {url!r}: {one_line(e)}") from e
    if params.get("password"):
        raise StatsStoreError(
            "the PostgreSQL URL carries a password; give it through PGPASSWORD, a libpq service file or ~/.pgpass"
        )


class PostgresStore:
    """Verdicts of ``robot_id`` in the PostgreSQL database at ``url``, queued in ``outbox_path`` during outages."""

    def __init__(
        self,
        url: str,
        robot_id: str,
        outbox_path: str | os.PathLike,
        outbox_capacity: int = DEFAULT_OUTBOX_CAPACITY,
        retry_period: float = DEFAULT_RETRY_PERIOD,
        connect_timeout: int = 5,
    ) -> None:
        check_url(url)
        self.location = url
        self.robot_id = robot_id
        self._retry_period = retry_period
        self._connect_timeout = connect_timeout
        self._lock = threading.Lock()
        self._outages = 0
        self._last_error = ""
        self._outbox = Outbox(outbox_path, outbox_capacity)
        try:
            self._conn: psycopg.Connection | None = self._connect()
        except StatsStoreError:
            self._outbox.close()
            raise
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._drainer = threading.Thread(target=self._drain_loop, name="verdict-outbox", daemon=True)
        self._drainer.start()
        if len(self._outbox):
            self._wake.set()  # verdicts queued by a previous run

    @property
    def outbox_path(self) -> str:
        return str(self._outbox.path)

    def _connect(self) -> psycopg.Connection:
        """A connection with the schema checked (and created or migrated) under the advisory lock."""
        try:
            conn = psycopg.connect(
                self.location, autocommit=True, connect_timeout=self._connect_timeout,
                application_name=f"emotion_perception {self.robot_id}"[:63], **_TCP_LIVENESS,
            )
        except psycopg.Error as e:
            raise StatsStoreError(f"cannot connect to PostgreSQL {self.location}: {one_line(e)}") from e
        try:
            with conn.transaction():
                conn.execute("SELECT pg_advisory_xact_lock(%s)", (_MIGRATION_LOCK,))
                version = self._version(conn)
                if version > SCHEMA_VERSION:
                    raise StatsStoreError(
                        f"PostgreSQL {self.location} has verdict schema {version}, newer than this "
                        f"emotion_perception's {SCHEMA_VERSION}; left untouched"
                    )
                try:
                    steps = migration(POSTGRES, version, self.robot_id, time.time_ns())
                except ValueError as e:
                    raise StatsStoreError(f"PostgreSQL {self.location}: {e}; left untouched") from e
                for statement, params in steps:
                    conn.execute(statement, params)
        except BaseException as e:
            conn.close()
            if isinstance(e, psycopg.Error):
                raise StatsStoreError(f"cannot set up the verdict schema in {self.location}: {one_line(e)}") from e
            raise
        return conn

    def _version(self, conn: psycopg.Connection) -> int:
        has_versions, has_verdicts = conn.execute(
            "SELECT to_regclass('schema_version') IS NOT NULL, to_regclass('verdicts') IS NOT NULL"
        ).fetchone()
        if has_versions:
            version = conn.execute("SELECT MAX(version) FROM schema_version").fetchone()[0]
            if not isinstance(version, int):  # empty, or another tool's table of that name
                raise StatsStoreError(
                    f"PostgreSQL {self.location} has a 'schema_version' table that is not emotion_perception's "
                    f"(latest version {version!r}); left untouched"
                )
            return version
        if has_verdicts:
            raise StatsStoreError(
                f"PostgreSQL {self.location} has a 'verdicts' table that is not emotion_perception's "
                "(no schema_version table); left untouched"
            )
        return 0

    def _lost(self, error: BaseException) -> None:
        """The connection broke: drop it, count the outage and let the drainer reconnect (lock held)."""
        if self._conn is not None:
            self._conn.close()
            self._conn = None
            self._outages += 1
        self._last_error = one_line(error)
        self._wake.set()

    @staticmethod
    def _is_outage(conn: psycopg.Connection, error: psycopg.Error) -> bool:
        return conn.closed or isinstance(error, (psycopg.OperationalError, psycopg.InterfaceError))

    def _write(self, conn: psycopg.Connection, rows: list[tuple]) -> None:
        with conn.transaction(), conn.cursor() as cursor:
            cursor.executemany(insert_statement(POSTGRES), rows)

    def record(self, verdict: ActionVerdict) -> bool:
        """Commit the verdict (True), or queue it on local disk while the server is away (False)."""
        row = verdict_row(verdict, self.robot_id)
        with self._lock:
            conn = self._conn
            if conn is not None and not len(self._outbox):
                try:
                    self._write(conn, [row])
                    return True
                except psycopg.Error as e:
                    if not self._is_outage(conn, e):
                        raise StatsStoreError(
                            f"cannot record verdict of action {verdict.action.action_id!r} in {self.location}: "
                            f"{one_line(e)}"
                        ) from e
                    self._lost(e)
            self._outbox.put(row)  # behind the rows already queued, in order
        self._wake.set()
        return False

    def _drain_loop(self) -> None:
        """Reconnect while the server is away; write queued verdicts, oldest first, as soon as it answers."""
        while not self._stop.is_set():
            self._wake.wait(self._retry_period)
            self._wake.clear()
            if self._stop.is_set():
                return
            if self._conn is None:
                try:
                    conn = self._connect()
                except StatsStoreError as e:
                    with self._lock:
                        self._last_error = str(e)
                    continue
                with self._lock:
                    self._conn = conn
            try:
                self._drain()
            except StatsStoreError as e:  # the outbox itself failed: keep its rows, say why, try again later
                with self._lock:
                    self._last_error = str(e)

    def _drain(self) -> None:
        while not self._stop.is_set():
            with self._lock:
                conn = self._conn
                if conn is None:
                    return
                batch = self._outbox.peek(_DRAIN_BATCH)
                if not batch:
                    return
                try:
                    self._write(conn, [row for _, row in batch])
                except psycopg.Error as e:
                    if self._is_outage(conn, e):
                        self._lost(e)
                        return
                    raise StatsStoreError(f"cannot write queued verdicts to {self.location}: {one_line(e)}") from e
                self._outbox.remove_through(batch[-1][0])

    def _query(self, statement: str, params: tuple) -> list[tuple]:
        with self._lock:
            conn = self._conn
            if conn is None:
                raise DatabaseUnavailableError(
                    f"PostgreSQL {self.location} is unreachable ({self._last_error}); "
                    f"{len(self._outbox)} verdicts queued in {self._outbox.path}"
                )
            try:
                return conn.execute(statement, params).fetchall()
            except psycopg.Error as e:
                if self._is_outage(conn, e):
                    self._lost(e)
                    raise DatabaseUnavailableError(f"PostgreSQL {self.location} went away: {one_line(e)}") from e
                raise StatsStoreError(f"cannot read {self.location}: {one_line(e)}") from e

    def stats(self, name: str = "", robot_id: str | None = None) -> list[ActionStatsRow]:
        """Statistics per action name, sorted by name; only ``name`` unless empty; one robot's, or all if None."""
        params = tuple(p for p in (name or None, robot_id) if p is not None)
        return stats_rows(self._query(stats_statement(POSTGRES, bool(name), robot_id is not None), params))

    def action_ids(self, robot_id: str | None = None) -> list[str]:
        """Every action id in the database in recording order, of one robot or all (not the queued ones)."""
        params = () if robot_id is None else (robot_id,)
        return [r[0] for r in self._query(action_ids_statement(POSTGRES, robot_id is not None), params)]

    def health(self) -> StoreHealth:
        with self._lock:
            return StoreHealth(
                connected=self._conn is not None, queued=len(self._outbox), outages=self._outages,
                last_error=self._last_error,
            )

    def close(self) -> None:
        """Stop reconnecting and close; verdicts still queued stay on disk for the next start."""
        self._stop.set()
        self._wake.set()
        self._drainer.join(timeout=self._connect_timeout + 5.0)
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None
            self._outbox.close()
