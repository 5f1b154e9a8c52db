# Copyright 2026 The emotion_perception Authors
# SPDX-License-Identifier: Apache-2.0
"""The PostgreSQL verdict store against a real server: schema, robots and fleet, outages, the outbox, refusals."""

from __future__ import annotations

import math
import multiprocessing
import os
import socket
import sqlite3
import threading
import time
import uuid
from pathlib import Path

import psycopg
import pytest
from helpers import wait_for
from test_stats_store import SAMPLE, verdict

from emotion_perception.feedback.outbox import Outbox
from emotion_perception.feedback.postgres_store import PostgresStore
from emotion_perception.feedback.rule import Verdict
from emotion_perception.feedback.stats_store import DatabaseUnavailableError, StatsStoreError, StoreHealth
from emotion_perception.feedback.store_schema import SCHEMA_VERSION, verdict_row
from emotion_perception.feedback.store_url import DEFAULT_OUTBOX_CAPACITY, DEFAULT_RETRY_PERIOD, open_store
from emotion_perception.ros.action_feedback_node import PARAMETERS
from harness.postgres_server import PostgresServer


def store(url: str, tmp_path: Path, robot: str = "robot_a", **kwargs) -> PostgresStore:
    return PostgresStore(url, robot, tmp_path / f"outbox_{robot}.db", retry_period=0.2, **kwargs)


def sessions(url: str) -> list[tuple[str, str, str | None]]:
    """``(application_name, state, wait_event_type)`` of the other sessions on the database at ``url``."""
    with psycopg.connect(url) as conn:
        return conn.execute(
            "SELECT application_name, state, wait_event_type FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid() ORDER BY application_name"
        ).fetchall()


def terminate(url: str, robot: str = "robot_a") -> None:
    """What a DBA's pg_terminate_backend does to the store's connection (returns once the session is gone)."""
    with psycopg.connect(url, autocommit=True) as conn:
        ended = conn.execute(
            "SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity WHERE application_name = %s",
            (f"emotion_perception {robot}",),
        ).fetchall()
    assert ended == [(True,)]


def _open_and_leave(url: str, outbox: Path) -> None:
    """A program that opens a store and ends without closing it (its process must exit all the same)."""
    PostgresStore(url, "robot_b", outbox)


def drainers() -> int:
    return sum(t.name == "verdict-outbox" for t in threading.enumerate())


def test_rows_per_robot_and_fleet_stats_and_idempotent_writes(url: str, tmp_path: Path) -> None:
    a, b = store(url, tmp_path, "robot_a"), store(url, tmp_path, "robot_b")
    for v in SAMPLE:
        assert a.record(v)
    assert b.record(verdict("w1", "wave", Verdict.WELL_RECEIVED, 0.9))  # the same action id, another robot
    assert a.record(SAMPLE[0])  # a replay of robot_a's w1: stored once
    joke, wave = a.stats(robot_id="robot_a")
    assert (wave.count, wave.well_received, wave.badly_received, wave.unknown) == (3, 1, 1, 1)
    assert wave.mean_delta == pytest.approx(0.1) and (joke.count, joke.neutral) == (2, 1)
    fleet_wave = a.stats("wave")
    assert [(r.name, r.count, r.well_received) for r in fleet_wave] == [("wave", 4, 2)]
    assert fleet_wave[0].mean_delta == pytest.approx((0.5 - 0.3 + 0.9) / 3)
    assert [(r.name, r.count) for r in b.stats(robot_id="robot_b")] == [("wave", 1)]
    assert a.action_ids("robot_a") == [v.action.action_id for v in SAMPLE]
    assert a.action_ids() == [*(v.action.action_id for v in SAMPLE), "w1"]
    a.close()
    b.close()
    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT MAX(version) FROM schema_version").fetchone() == (SCHEMA_VERSION,)
        row = conn.execute(
            "SELECT robot_id, verdict, baseline_valence, response_valence, delta, face_ids FROM verdicts"
            " WHERE action_id = 'w3'"
        ).fetchone()
    assert row == ("robot_a", int(Verdict.UNKNOWN), None, None, None, '["face_1", "face_2"]')


def test_robots_writing_concurrently_lose_nothing(url: str, tmp_path: Path) -> None:
    stores = [store(url, tmp_path, f"robot_{i}") for i in range(3)]

    def write(s: PostgresStore) -> None:
        for i in range(200):
            s.record(verdict(f"act_{i}", f"name_{i % 4}", Verdict(i % 3 - 1), 0.1 * (i % 3 - 1)))

    threads = [threading.Thread(target=write, args=(s,)) for s in stores]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120.0)
    fleet = stores[0].stats()
    assert sum(r.count for r in fleet) == 600 and [r.count for r in fleet] == [150] * 4
    for s in stores:
        assert s.action_ids(s.robot_id) == [f"act_{i}" for i in range(200)]
        s.close()


def test_an_outage_queues_on_disk_then_writes_everything_once(
    server: PostgresServer, url: str, tmp_path: Path
) -> None:
    s = store(url, tmp_path)
    s.record(SAMPLE[0])
    server.stop()
    with pytest.raises(DatabaseUnavailableError) as error:
        s.stats()  # a query notices first: the verdicts after it are queued all the same
    assert str(error.value) == f"PostgreSQL {url} went away: terminating connection due to administrator command"
    queued = [verdict(f"q{i}", "wave", Verdict.NEUTRAL, 0.0) for i in range(20)]
    assert [s.record(v) for v in queued] == [False] * 20  # published by the node all the same
    health = s.health()
    assert not health.connected and health.queued == 20 and health.outages == 1
    assert wait_for(lambda: s.health().last_error.startswith(f"cannot connect to PostgreSQL {url}: "))
    assert "No such file or directory" in s.health().last_error  # the reconnection attempt's own reason
    with pytest.raises(DatabaseUnavailableError, match="20 verdicts queued"):
        s.stats()
    server.start()
    assert wait_for(lambda: s.health().connected and s.health().queued == 0, timeout=30.0)
    s.record(SAMPLE[1])  # straight to the database again
    assert s.action_ids() == ["w1", *(v.action.action_id for v in queued), "w2"]
    assert s.health().outages == 1
    s.close()


def test_queued_verdicts_survive_a_restart_of_the_node(server: PostgresServer, url: str, tmp_path: Path) -> None:
    s = store(url, tmp_path)
    server.stop()
    for i in range(5):
        s.record(verdict(f"q{i}", "wave", Verdict.NEUTRAL, 0.0))
    s.close()  # the node stops while the server is away: the queue stays on disk
    assert len(Outbox(tmp_path / "outbox_robot_a.db", 10)) == 5
    server.start()
    s = store(url, tmp_path)
    assert wait_for(lambda: s.health().queued == 0, timeout=30.0)
    assert s.action_ids() == [f"q{i}" for i in range(5)]
    s.close()


def test_a_replayed_outbox_row_already_committed_is_not_duplicated(url: str, tmp_path: Path) -> None:
    s = store(url, tmp_path)
    s.record(SAMPLE[0])
    s.close()
    # What a crash between the database's commit and the outbox's delete leaves behind.
    outbox = Outbox(tmp_path / "outbox_robot_a.db", 10)
    outbox.put(verdict_row(SAMPLE[0], "robot_a"))
    outbox.put(verdict_row(SAMPLE[1], "robot_a"))
    outbox.close()
    s = store(url, tmp_path)
    assert wait_for(lambda: s.health().queued == 0, timeout=30.0)
    assert s.action_ids() == ["w1", "w2"]
    s.close()


def test_the_outbox_is_bounded(server: PostgresServer, url: str, tmp_path: Path) -> None:
    s = store(url, tmp_path, outbox_capacity=3)
    server.stop()
    for i in range(3):
        assert not s.record(verdict(f"q{i}", "wave", Verdict.NEUTRAL))
    with pytest.raises(StatsStoreError, match=r"outbox .* is full"):
        s.record(verdict("q3", "wave", Verdict.NEUTRAL))
    s.close()


def test_open_store_gives_a_postgresql_store_its_robot_outbox_and_settings(
    url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    store = open_store(url, "Robot 7")  # the node's defaults: outbox per robot, 100,000 verdicts, retry every 1 s
    try:
        assert isinstance(store, PostgresStore) and store.robot_id == "Robot 7" and store.location == url
        assert store.outbox_path == str(tmp_path / ".ros/emotion_perception/verdict_outbox_Robot_7.db")
        assert (store._outbox.capacity, store._retry_period) == (100_000, 1.0)
    finally:
        store.close()
    store = open_store(url, "robot_8", str(tmp_path / "mine.db"), outbox_capacity=3, retry_period=0.25)
    try:
        assert store.outbox_path == str(tmp_path / "mine.db") and store.robot_id == "robot_8"
        assert (store._outbox.capacity, store._retry_period) == (3, 0.25)
    finally:
        store.close()


def test_a_server_down_at_start_is_one_clear_line(tmp_path: Path) -> None:
    url = f"postgresql:///verdicts?host={tmp_path}&user=postgres"
    with pytest.raises(StatsStoreError) as error:
        open_store(url, "robot_a", str(tmp_path / "outbox.db"))
    message = str(error.value)
    assert message.startswith(f"cannot connect to PostgreSQL {url}: ") and "\n" not in message
    assert "No such file or directory" in message  # libpq's reason: no server socket


def test_a_password_in_the_url_is_refused(tmp_path: Path) -> None:
    with pytest.raises(StatsStoreError) as error:
        open_store("postgresql://fleet:s3cret@db.example/verdicts", "robot_a", str(tmp_path / "o.db"))
    assert str(error.value) == (
        "the PostgreSQL URL carries a password; give it through PGPASSWORD, a libpq service file or ~/.pgpass"
    )
    with pytest.raises(StatsStoreError, match="carries a password"):
        open_store("postgresql://db.example/verdicts?password=s3cret", "robot_a", str(tmp_path / "o.db"))
    with pytest.raises(StatsStoreError, match="unsupported stats database URL"):
        open_store("mysql://db/verdicts", "robot_a")


def test_a_foreign_or_newer_database_is_refused_untouched(server: PostgresServer, url: str, tmp_path: Path) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE TABLE verdicts (x INTEGER)")
    with pytest.raises(StatsStoreError) as error:
        store(url, tmp_path)
    assert str(error.value) == (
        f"PostgreSQL {url} has a 'verdicts' table that is not emotion_perception's (no schema_version table);"
        " left untouched"
    )
    newer = server.create_database(f"t_{uuid.uuid4().hex[:12]}")
    store(newer, tmp_path).close()
    with psycopg.connect(newer, autocommit=True) as conn:
        conn.execute("INSERT INTO schema_version VALUES (99, 0)")
    with pytest.raises(StatsStoreError, match="schema 99, newer than"):
        store(newer, tmp_path)
    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT to_regclass('schema_version')").fetchone() == (None,)


def test_nan_mean_delta_when_no_verdict_has_one(url: str, tmp_path: Path) -> None:
    s = store(url, tmp_path)
    s.record(SAMPLE[2])
    assert math.isnan(s.stats()[0].mean_delta)
    s.close()


def test_the_node_parameters_default_to_the_stores_defaults() -> None:
    assert PARAMETERS["stats_outbox_capacity"][0] == DEFAULT_OUTBOX_CAPACITY == 100_000
    assert PARAMETERS["stats_db_retry_period"][0] == DEFAULT_RETRY_PERIOD == 1.0


def test_a_url_libpq_cannot_parse_is_refused_with_its_reason(tmp_path: Path) -> None:
    url = "postgresql://db.example/verdicts?bogus=1"
    with pytest.raises(StatsStoreError) as error:
        open_store(url, "robot_a", str(tmp_path / "o.db"))
    assert str(error.value) == f"invalid PostgreSQL URL {url!r}: invalid URI query parameter: \"bogus\""


def test_a_fresh_store_is_healthy_and_named_in_pg_stat_activity(url: str, tmp_path: Path) -> None:
    s = store(url, tmp_path, "robot_a")
    assert s.health() == StoreHealth(connected=True, queued=0, outages=0, last_error="")
    assert s._conn.info.get_parameters()["connect_timeout"] == "5"  # libpq's own record of the connection
    assert sessions(url) == [("emotion_perception robot_a", "idle", "Client")]
    s.close()
    assert sessions(url) == [] and not s.health().connected


def test_each_verdict_is_committed_before_record_returns_even_after_a_query(url: str, tmp_path: Path) -> None:
    a, b = store(url, tmp_path, "robot_a"), store(url, tmp_path, "robot_b")
    assert a.stats() == []  # the planner asks first
    assert a.record(SAMPLE[0])
    assert b.action_ids() == ["w1"]  # another robot sees it at once
    assert [state for _, state, _ in sessions(url)] == ["idle", "idle"]  # no transaction left open
    a.close()
    b.close()


def test_a_connection_ended_by_the_server_is_an_outage_noticed_by_the_next_call(url: str, tmp_path: Path) -> None:
    s = store(url, tmp_path)
    terminate(url)
    assert not s.record(SAMPLE[0])  # queued, then written as soon as the drainer has reconnected
    assert wait_for(lambda: s.health().connected and s.health().queued == 0)
    reason = "terminating connection due to administrator command"
    assert s.health() == StoreHealth(connected=True, queued=0, outages=1, last_error=reason)
    terminate(url)
    with pytest.raises(DatabaseUnavailableError) as error:
        s.stats()
    assert str(error.value) == f"PostgreSQL {url} went away: {reason}"
    assert s.health() == StoreHealth(connected=False, queued=0, outages=2, last_error=reason)
    assert wait_for(lambda: s.health().connected)
    assert s.action_ids() == ["w1"]
    s.close()


def test_a_damaged_table_is_named_in_each_error_and_queued_verdicts_are_kept(url: str, tmp_path: Path) -> None:
    s = store(url, tmp_path)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DROP TABLE verdicts")
    missing = 'relation "verdicts" does not exist'
    with pytest.raises(StatsStoreError) as error:
        s.record(SAMPLE[0])
    assert type(error.value) is StatsStoreError
    assert str(error.value).startswith(f"cannot record verdict of action 'w1' in {url}: {missing}")
    with pytest.raises(StatsStoreError) as error:
        s.stats()
    assert type(error.value) is StatsStoreError and str(error.value).startswith(f"cannot read {url}: {missing}")
    assert s.health() == StoreHealth(connected=True, queued=0, outages=0, last_error="")
    terminate(url)
    assert not s.record(SAMPLE[1])  # the outage queues it; the drainer cannot write it after reconnecting
    assert wait_for(lambda: s.health().last_error.startswith(f"cannot write queued verdicts to {url}: {missing}"))
    assert s.health().connected and s.health().queued == 1
    s.close()


def test_a_write_or_read_that_times_out_on_a_lock_is_an_outage_and_loses_nothing(url: str, tmp_path: Path) -> None:
    impatient = url + "&options=-c%20lock_timeout%3D100"  # the server's lock_timeout for the store's session
    s = store(impatient, tmp_path)
    assert s.record(SAMPLE[0])
    reason = "canceling statement due to lock timeout"
    with psycopg.connect(url) as admin:
        admin.execute("LOCK TABLE verdicts IN ACCESS EXCLUSIVE MODE")  # a long migration or VACUUM FULL
        with pytest.raises(DatabaseUnavailableError, match=f"went away: {reason}"):
            s.stats()
        assert wait_for(lambda: s.health().connected)
        assert not s.record(SAMPLE[1])
        assert wait_for(lambda: s.health().outages >= 3)  # the drainer's writes time out too
        assert s.health().last_error.startswith(reason)
        admin.rollback()
    assert wait_for(lambda: s.health().connected and s.health().queued == 0)
    assert s.action_ids() == ["w1", "w2"]
    s.close()


def test_a_server_that_never_answers_fails_the_start_after_5_s(tmp_path: Path) -> None:
    with socket.create_server(("127.0.0.1", 0)) as silent:  # the kernel accepts; nothing ever answers
        port = silent.getsockname()[1]
        url = f"postgresql://postgres@127.0.0.1:{port}/verdicts"
        timers: list[tuple[str, float]] = []

        def client_timer() -> None:  # the kernel's timer on our idle socket ("02" = keepalive) and its seconds left
            rows = [line.split() for line in Path("/proc/net/tcp").read_text().splitlines()[1:]]
            timers.extend((r[5][:2], int(r[5][3:], 16) / os.sysconf("SC_CLK_TCK"))
                          for r in rows if r[2] == f"0100007F:{port:04X}" and r[3] == "01")

        probe = threading.Timer(1.0, client_timer)
        probe.start()
        start = time.monotonic()
        with pytest.raises(StatsStoreError) as error:
            PostgresStore(url, "robot_a", tmp_path / "o.db")
        elapsed = time.monotonic() - start
        probe.join()
    assert str(error.value) == f"cannot connect to PostgreSQL {url}: connection timeout expired"
    assert 4.5 < elapsed < 60.0  # the timeout, not at once and not hung (a loaded machine may add seconds)
    (kind, seconds_left), = timers  # the first TCP keepalive probe after 5 s idle, not libpq's default 2 h
    assert kind == "02" and 3.0 < seconds_left <= 5.0, timers


@pytest.mark.timeout(60)
def test_the_reconnecting_thread_ends_with_close_and_never_holds_a_process(url: str, tmp_path: Path) -> None:
    s = store(url + "&options=-c%20lock_timeout%3D1000", tmp_path)
    assert drainers() == 1
    with psycopg.connect(url) as admin:
        admin.execute("LOCK TABLE schema_version IN ACCESS EXCLUSIVE MODE")  # another robot migrating
        terminate(url)
        assert not s.record(SAMPLE[0])
        assert wait_for(lambda: ("emotion_perception robot_a", "active", "Lock") in sessions(url))
        s.close()  # waits for the reconnection attempt to end (here: at the lock timeout)
        assert drainers() == 0
        admin.rollback()
    child = multiprocessing.get_context("fork").Process(target=_open_and_leave, args=(url, tmp_path / "b.db"))
    child.start()
    child.join(15.0)
    hung = child.is_alive()
    if hung:
        child.kill()
        child.join()
    assert not hung and child.exitcode == 0


def test_the_outbox_refuses_with_its_file_named(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"^outbox capacity must be at least 1, got 0$"):
        Outbox(tmp_path / "o.db", 0)
    one = Outbox(tmp_path / "one.db", 1)
    one.put(("a",))
    with pytest.raises(StatsStoreError, match=r"is full \(1 verdicts wait"):
        one.put(("b",))
    assert one.peek(5) == [(1, ("a",))]
    one.close()
    (tmp_path / "file").write_text("")
    with pytest.raises(StatsStoreError) as error:
        Outbox(tmp_path / "file" / "o.db", 10)  # a file where its folder should be
    assert str(error.value).startswith(f"cannot open the verdict outbox {tmp_path / 'file' / 'o.db'}: ")
    path = tmp_path / "o.db"
    outbox = Outbox(path, 10_000)
    outbox.put(("a",))
    pages = outbox._conn.execute("PRAGMA page_count").fetchone()[0]
    outbox._conn.execute(f"PRAGMA max_page_count = {pages}")  # the disk is full
    with pytest.raises(StatsStoreError) as error:
        outbox.put(("x" * 100_000,))
    assert str(error.value) == f"cannot queue a verdict in {path}: database or disk is full"
    outbox._conn.execute("PRAGMA query_only = 1")  # the file became read-only
    with pytest.raises(StatsStoreError) as error:
        outbox.remove_through(1)
    assert str(error.value) == f"cannot update the verdict outbox {path}: attempt to write a readonly database"
    with sqlite3.connect(path) as other:
        other.execute("DROP TABLE outbox")  # someone else's tool
    with pytest.raises(StatsStoreError) as error:
        outbox.peek(1)
    assert str(error.value).startswith(f"cannot read the verdict outbox {path}: no such table")
    outbox.close()


def test_a_schema_version_this_code_cannot_migrate_is_refused_untouched(url: str, tmp_path: Path) -> None:
    store(url, tmp_path).close()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("UPDATE schema_version SET version = -1")
    with pytest.raises(StatsStoreError) as error:
        store(url, tmp_path)
    assert str(error.value) == f"PostgreSQL {url}: schema -1 cannot be migrated to {SCHEMA_VERSION}; left untouched"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("UPDATE schema_version SET version = 1")  # the sqlite schema before fleets: never PostgreSQL's
    with pytest.raises(StatsStoreError) as error:
        store(url, tmp_path)
    assert str(error.value) == (
        f'cannot set up the verdict schema in {url}: relation "schema_version" already exists'
    )
    assert sessions(url) == []


@pytest.mark.parametrize("table", ["schema_version (version INTEGER)", "schema_version (version TEXT)"])
def test_another_tools_schema_version_table_is_refused_untouched(table: str, url: str, tmp_path: Path) -> None:
    """A database with a schema_version table of its own (older Flyway calls its history so), empty or of text
    versions, is refused in one line, not with a TypeError from comparing its version."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"CREATE TABLE {table}")
        if "TEXT" in table:
            conn.execute("INSERT INTO schema_version VALUES ('1.0.3')")
    latest = "'1.0.3'" if "TEXT" in table else "None"
    with pytest.raises(StatsStoreError) as error:
        store(url, tmp_path)
    assert str(error.value) == (f"PostgreSQL {url} has a 'schema_version' table that is not emotion_perception's "
                                f"(latest version {latest}); left untouched")
    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT to_regclass('verdicts')").fetchone() == (None,)
