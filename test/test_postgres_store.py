# Copyright 2026 The emotion_perception Authors
# SPDX-License-Identifier: Apache-2.0
"""The PostgreSQL verdict store against a real server: schema, robots and fleet, outages, the outbox, refusals."""

from __future__ import annotations

import math
import threading
import uuid
from pathlib import Path

import psycopg
import pytest
from helpers import wait_for
from test_stats_store import SAMPLE, verdict

from emotion_perception.feedback.outbox import Outbox
from emotion_perception.feedback.postgres_store import PostgresStore
from emotion_perception.feedback.rule import Verdict
from emotion_perception.feedback.stats_store import DatabaseUnavailableError, StatsStoreError
from emotion_perception.feedback.store_schema import SCHEMA_VERSION, verdict_row
from emotion_perception.feedback.store_url import open_store
from harness.postgres_server import PostgresServer


def store(url: str, tmp_path: Path, robot: str = "robot_a", **kwargs) -> PostgresStore:
    return PostgresStore(url, robot, tmp_path / f"outbox_{robot}.db", retry_period=0.2, **kwargs)


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
    queued = [verdict(f"q{i}", "wave", Verdict.NEUTRAL, 0.0) for i in range(20)]
    assert [s.record(v) for v in queued] == [False] * 20  # published by the node all the same
    health = s.health()
    assert not health.connected and health.queued == 20 and health.outages == 1 and health.last_error
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


def test_a_password_in_the_url_is_refused(tmp_path: Path) -> None:
    with pytest.raises(StatsStoreError, match="carries a password; give it through PGPASSWORD"):
        open_store("postgresql://fleet:s3cret@db.example/verdicts", "robot_a", str(tmp_path / "o.db"))
    with pytest.raises(StatsStoreError, match="carries a password"):
        open_store("postgresql://db.example/verdicts?password=s3cret", "robot_a", str(tmp_path / "o.db"))
    with pytest.raises(StatsStoreError, match="unsupported stats database URL"):
        open_store("mysql://db/verdicts", "robot_a")


def test_a_foreign_or_newer_database_is_refused_untouched(server: PostgresServer, url: str, tmp_path: Path) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE TABLE verdicts (x INTEGER)")
    with pytest.raises(StatsStoreError, match="not emotion_perception's"):
        store(url, tmp_path)
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
