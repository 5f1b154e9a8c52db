# Copyright 2026 The emotion_perception Authors
# SPDX-License-Identifier: Apache-2.0
"""The sqlite verdict store: WAL, persistence across reopen, derived stats, refusal of bad files."""

from __future__ import annotations

import math
import os
import pwd
import shutil
import socket
import sqlite3
import sys
import tempfile
import threading
import traceback
from collections.abc import Callable
from pathlib import Path

import pytest

from emotion_perception.feedback.rule import Action, ActionVerdict, Verdict
from emotion_perception.feedback.stats_store import (
    APPLICATION_ID,
    StatsStore,
    StatsStoreError,
    StoreHealth,
    default_robot_id,
    one_line,
)
from emotion_perception.feedback.store_url import default_outbox, open_store, sqlite_path


def verdict(action_id: str, name: str, kind: Verdict, delta: float = math.nan) -> ActionVerdict:
    return ActionVerdict(
        action=Action(action_id, name, 1_700_000_000_000_000_000, 1.5),
        verdict=kind,
        baseline_valence=0.1 if math.isfinite(delta) else math.nan,
        response_valence=math.nan if kind is Verdict.UNKNOWN else 0.1 + (delta if math.isfinite(delta) else 0.0),
        delta=delta,
        confidence=0.8,
        n_baseline=4,
        n_response=7,
        face_ids=("face_1", "face_2"),
        decided_ns=1_700_000_003_000_000_000,
    )


SAMPLE = [
    verdict("w1", "wave", Verdict.WELL_RECEIVED, 0.5),
    verdict("w2", "wave", Verdict.BADLY_RECEIVED, -0.3),
    verdict("w3", "wave", Verdict.UNKNOWN),
    verdict("j1", "joke", Verdict.NEUTRAL, 0.0),
    verdict("j2", "joke", Verdict.WELL_RECEIVED),  # judged on level: no delta
]


def test_wal_persistence_and_stats_across_reopen(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "stats.db"
    store = StatsStore(path)
    assert store.journal_mode == "wal"
    for v in SAMPLE:
        store.record(v)
    store.close()

    store = StatsStore(path)
    joke, wave = store.stats()
    assert (wave.name, wave.count, wave.well_received, wave.neutral, wave.badly_received, wave.unknown) == (
        "wave", 3, 1, 0, 1, 1,
    )
    assert wave.mean_delta == pytest.approx(0.1)
    assert (joke.name, joke.count, joke.well_received, joke.neutral) == ("joke", 2, 1, 1)
    assert joke.mean_delta == pytest.approx(0.0)
    assert store.stats("wave") == [wave]
    assert store.stats("nothing") == []
    assert store.action_ids() == [v.action.action_id for v in SAMPLE]
    store.close()


def test_rows_keep_every_field_nan_as_null(tmp_path: Path) -> None:
    path = tmp_path / "stats.db"
    store = StatsStore(path)
    store.record(SAMPLE[0])
    store.record(SAMPLE[2])
    store.close()
    with sqlite3.connect(path) as conn:
        rows = conn.execute(
            "SELECT action_id, name, verdict, baseline_valence, response_valence, delta, n_response, face_ids,"
            " action_stamp_ns, duration FROM verdicts ORDER BY id"
        ).fetchall()
    assert rows[0][:3] == ("w1", "wave", 1) and rows[0][5] == pytest.approx(0.5)
    assert rows[0][6:] == (7, '["face_1", "face_2"]', 1_700_000_000_000_000_000, 1.5)
    assert rows[1][2:6] == (2, None, None, None)


def test_a_committed_verdict_is_visible_to_another_connection_at_once(tmp_path: Path) -> None:
    path = tmp_path / "stats.db"
    store = StatsStore(path)
    store.record(SAMPLE[0])
    with sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True) as reader:
        assert reader.execute("SELECT COUNT(*) FROM verdicts").fetchone() == (1,)
    store.close()


def test_tilde_is_expanded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    store = StatsStore("~/.ros/emotion_perception/action_stats.db")
    assert store.path == tmp_path / ".ros" / "emotion_perception" / "action_stats.db"
    assert store.path.is_file()
    store.close()


def test_a_relative_path_works_and_recovers_after_a_crash_left_its_wal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    store = StatsStore("stats.db")
    assert store.path == tmp_path / "stats.db"
    store.record(SAMPLE[0])
    # A copy taken while the store is open is what a crash leaves: the database plus its -wal file.
    crashed = tmp_path / "crashed"
    crashed.mkdir()
    for suffix in ("", "-wal"):
        (crashed / f"stats.db{suffix}").write_bytes((tmp_path / f"stats.db{suffix}").read_bytes())
    store.close()
    recovered = StatsStore(crashed / "stats.db")
    assert recovered.action_ids() == ["w1"]
    recovered.close()


@pytest.mark.parametrize(
    ("content", "match"),
    [
        (os.urandom(4096), "not an SQLite database"),
        (b"SQLite format 3\x00" + b"\xff" * 200, "corrupt|integrity"),
    ],
)
def test_corrupt_file_is_a_clear_error_and_left_untouched(tmp_path: Path, content: bytes, match: str) -> None:
    path = tmp_path / "stats.db"
    path.write_bytes(content)
    with pytest.raises(StatsStoreError, match=match):
        StatsStore(path)
    assert path.read_bytes() == content
    assert sorted(p.name for p in tmp_path.iterdir()) == ["stats.db"]


def test_truncated_database_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "stats.db"
    store = StatsStore(path)
    for i in range(300):
        store.record(verdict(f"a{i}", f"name_{i % 7}", Verdict.NEUTRAL, 0.0))
    store.close()
    data = path.read_bytes()
    damaged = data[: len(data) // 2] + b"\x00" * 512 + data[len(data) // 2 + 512 :]
    path.write_bytes(damaged)
    with pytest.raises(StatsStoreError, match="left untouched"):
        StatsStore(path)
    assert path.read_bytes() == damaged


def test_a_foreign_sqlite_database_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE notes (text TEXT)")
    before = path.read_bytes()
    with pytest.raises(StatsStoreError, match="not an emotion_perception stats database"):
        StatsStore(path)
    assert path.read_bytes() == before


def test_an_empty_file_becomes_a_new_database(tmp_path: Path) -> None:
    path = tmp_path / "stats.db"
    path.touch()
    store = StatsStore(path)
    store.record(SAMPLE[0])
    assert store.stats()[0].count == 1
    store.close()


def test_unwritable_folder_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "not_a_folder"
    blocker.write_text("a file where the database folder should be")
    with pytest.raises(StatsStoreError, match="cannot create the folder"):
        StatsStore(blocker / "stats.db")
    assert blocker.read_text() == "a file where the database folder should be"


def test_a_folder_at_the_database_path_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "stats.db").mkdir()
    with pytest.raises(StatsStoreError, match="cannot read"):
        StatsStore(tmp_path / "stats.db")


def test_write_failure_is_a_store_error_and_the_store_stays_usable(tmp_path: Path) -> None:
    store = StatsStore(tmp_path / "stats.db")
    store.record(SAMPLE[0])
    with pytest.raises(StatsStoreError, match="cannot record"):
        store.record(verdict("x", None, Verdict.NEUTRAL))  # type: ignore[arg-type]  (NOT NULL name)
    store.record(SAMPLE[1])
    assert store.action_ids() == ["w1", "w2"]
    store.close()
    with pytest.raises(StatsStoreError, match="cannot read"):
        store.stats()


def test_rows_carry_the_robot_id_and_stats_answer_per_robot_or_fleet(tmp_path: Path) -> None:
    path = tmp_path / "stats.db"
    a, b = StatsStore(path, "robot_a"), StatsStore(path, "robot_b")
    for v in SAMPLE:
        a.record(v)
    b.record(SAMPLE[0])  # the same action id from another robot is another verdict
    a.record(SAMPLE[0])  # a replay of robot_a's: stored once
    assert [(r.name, r.count) for r in a.stats(robot_id="robot_a")] == [("joke", 2), ("wave", 3)]
    assert [(r.name, r.count) for r in a.stats(robot_id="robot_b")] == [("wave", 1)]
    assert [(r.name, r.count) for r in a.stats()] == [("joke", 2), ("wave", 4)]
    assert a.stats("wave", robot_id="nobody") == []
    assert a.action_ids("robot_b") == ["w1"] and len(a.action_ids()) == 6
    a.close()
    b.close()
    assert StatsStore(tmp_path / "other.db").robot_id == socket.gethostname()


V1_SCHEMA = """CREATE TABLE verdicts (
    id INTEGER PRIMARY KEY AUTOINCREMENT, action_id TEXT NOT NULL, name TEXT NOT NULL,
    action_stamp_ns INTEGER NOT NULL, duration REAL NOT NULL, verdict INTEGER NOT NULL, baseline_valence REAL,
    response_valence REAL, delta REAL, confidence REAL NOT NULL, n_baseline INTEGER NOT NULL,
    n_response INTEGER NOT NULL, face_ids TEXT NOT NULL, decided_ns INTEGER NOT NULL);
CREATE INDEX verdicts_by_name ON verdicts (name);
PRAGMA application_id = 1162887494;
PRAGMA user_version = 1;"""


def test_a_schema_1_database_is_migrated_in_place_keeping_its_rows(tmp_path: Path) -> None:
    path = tmp_path / "stats.db"
    with sqlite3.connect(path) as conn:
        conn.executescript(V1_SCHEMA)
        for action_id, kind, delta in (("a1", 1, 0.5), ("a2", -1, -0.4), ("a1", 0, 0.0), ("a3", 2, None)):
            conn.execute(
                "INSERT INTO verdicts (action_id, name, action_stamp_ns, duration, verdict, delta, confidence,"
                " n_baseline, n_response, face_ids, decided_ns) VALUES (?, 'wave', 1, 0.0, ?, ?, 0.9, 1, 2, '[]', 3)",
                (action_id, kind, delta),
            )
    store = StatsStore(path, "old_robot")
    assert store.action_ids("old_robot") == ["a1", "a2", "a3"]  # a duplicated id of schema 1 keeps its first
    (wave,) = store.stats(robot_id="old_robot")
    assert (wave.count, wave.well_received, wave.badly_received, wave.unknown) == (3, 1, 1, 1)
    assert wave.mean_delta == pytest.approx(0.05)
    store.record(SAMPLE[0])
    store.close()
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT version FROM schema_version").fetchall() == [(2,)]
        assert conn.execute("PRAGMA user_version").fetchone() == (2,)
    reopened = StatsStore(path, "old_robot")  # already current: nothing to migrate
    assert reopened.action_ids() == ["a1", "a2", "a3", "w1"]
    reopened.close()


def test_a_database_of_a_newer_schema_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "stats.db"
    StatsStore(path).close()
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA user_version = 3")
    before = path.read_bytes()
    with pytest.raises(StatsStoreError, match="schema 3, newer than"):
        StatsStore(path)
    assert path.read_bytes() == before


def test_store_urls(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    assert sqlite_path("sqlite:///abs/file.db") == "/abs/file.db"
    assert sqlite_path("sqlite:///~/file.db") == sqlite_path("sqlite://~/file.db") == "~/file.db"
    store = open_store(f"sqlite://{tmp_path}/s.db", "r1")
    assert isinstance(store, StatsStore) and store.path == tmp_path / "s.db" and store.robot_id == "r1"
    store.close()
    assert default_outbox("Ward 3/robot-A.1") == tmp_path / ".ros/emotion_perception/verdict_outbox_Ward_3_robot-A.1.db"
    assert default_robot_id("/ward3/robot_a") == "ward3/robot_a" and default_robot_id("/") == socket.gethostname()
    with pytest.raises(StatsStoreError, match="names no file"):
        open_store("sqlite://", "r1")


def test_a_postgresql_url_without_psycopg_is_one_line_naming_the_pip_install(monkeypatch: pytest.MonkeyPatch) -> None:
    """psycopg has no rosdep key: a robot set up by rosdep alone learns what to install, and only when it asks for
    a PostgreSQL store."""
    monkeypatch.setitem(sys.modules, "psycopg", None)  # as if it were not installed
    monkeypatch.delitem(sys.modules, "emotion_perception.feedback.postgres_store", raising=False)
    with pytest.raises(StatsStoreError) as refused:
        open_store("postgresql://fleet/verdicts", "robot_a")
    assert str(refused.value) == ("a PostgreSQL store needs psycopg 3, which has no rosdep key: "
                                  "pip install 'psycopg[binary]'")
    assert refused.value.__suppress_context__  # one line, not the import's traceback


def test_another_module_missing_behind_a_postgresql_store_is_not_taken_for_psycopg(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "emotion_perception.feedback.outbox", None)
    monkeypatch.delitem(sys.modules, "emotion_perception.feedback.postgres_store", raising=False)
    with pytest.raises(ModuleNotFoundError) as missing:
        open_store("postgresql://fleet/verdicts", "robot_a")
    assert missing.value.name == "emotion_perception.feedback.outbox"


def test_badly_received_and_unknown_are_counted_apart(tmp_path: Path) -> None:
    store = StatsStore(tmp_path / "stats.db")
    for v in (verdict("b1", "bow", Verdict.BADLY_RECEIVED, -0.4), verdict("b2", "bow", Verdict.BADLY_RECEIVED, -0.2),
              verdict("b3", "bow", Verdict.UNKNOWN)):
        assert store.record(v) is True  # committed to the database itself
    (bow,) = store.stats()
    assert (bow.count, bow.well_received, bow.neutral, bow.badly_received, bow.unknown) == (3, 0, 0, 2, 1)
    assert bow.mean_delta == pytest.approx(-0.3)
    store.close()


def test_location_health_and_reads_of_a_closed_store(tmp_path: Path) -> None:
    store = StatsStore(tmp_path / "stats.db")
    assert store.location == str(tmp_path / "stats.db")
    assert store.health() == StoreHealth(connected=True, queued=0, outages=0, last_error="")
    store.close()
    with pytest.raises(StatsStoreError, match=f"^cannot read {tmp_path / 'stats.db'}: "):
        store.action_ids()


def test_the_store_is_used_from_other_threads(tmp_path: Path) -> None:
    """The node records from its executor's threads, not the one that opened the store."""
    store = StatsStore(tmp_path / "stats.db")
    errors: list[BaseException] = []

    def record(v: ActionVerdict) -> None:
        try:
            store.record(v)
        except BaseException as e:  # reported below
            errors.append(e)

    workers = [threading.Thread(target=record, args=(v,)) for v in SAMPLE]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=30)
    assert errors == [] and sorted(store.action_ids()) == sorted(v.action.action_id for v in SAMPLE)
    store.close()


def test_a_database_of_another_application_is_refused_whatever_its_user_version(tmp_path: Path) -> None:
    for name, pragmas in (("theirs.db", "PRAGMA user_version = 1"),  # another app's schema 1
                          ("no_version.db", f"PRAGMA application_id = {APPLICATION_ID}")):  # ours, never written
        path = tmp_path / name
        with sqlite3.connect(path) as conn:
            conn.execute("CREATE TABLE notes (text TEXT)")
            conn.execute(pragmas)
        before = path.read_bytes()
        with pytest.raises(StatsStoreError, match="not an emotion_perception stats database"):
            StatsStore(path)
        assert path.read_bytes() == before, name


def test_default_robot_id_strips_only_slashes() -> None:
    assert default_robot_id("/XR1/") == "XR1"
    assert default_robot_id("X") == "X"


def test_one_line_joins_a_drivers_lines_and_names_a_silent_error() -> None:
    assert one_line(ConnectionError('connection refused\n\tIs the server running on host "db" (10.0.0.5)?')) == (
        'connection refused Is the server running on host "db" (10.0.0.5)?')
    assert one_line(TimeoutError()) == "TimeoutError"
    assert one_line(OSError("  \n ")) == "OSError"


def as_unprivileged(check: Callable[[], None]) -> None:
    """Run ``check`` where file permissions bind: here, or under root (whom they do not) in a child forked as
    ``nobody``; its failure fails the caller."""
    if os.geteuid() != 0:
        check()
        return
    nobody = pwd.getpwnam("nobody")
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            os.setgroups([])
            os.setgid(nobody.pw_gid)
            os.setuid(nobody.pw_uid)
            check()
            code = 0
        except BaseException:
            traceback.print_exc()
        finally:
            os._exit(code)
    assert os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) == 0, "the check failed as nobody (traceback above)"


def test_an_unwritable_database_or_folder_is_a_clear_error() -> None:
    folder = Path(tempfile.mkdtemp(prefix="ep_unwritable_"))  # not under tmp_path: nobody may enter this one
    try:
        folder.chmod(0o755)
        path = folder / "stats.db"
        StatsStore(path).close()
        path.chmod(0o444)
        locked = folder / "locked"
        locked.mkdir(mode=0o555)

        def check() -> None:
            with pytest.raises(StatsStoreError, match=f"^stats database {path} is not writable$"):
                StatsStore(path)
            with pytest.raises(StatsStoreError, match=f"^folder {locked} of stats database is not writable$"):
                StatsStore(locked / "stats.db")

        as_unprivileged(check)
    finally:
        shutil.rmtree(folder)


def test_a_filesystem_without_wal_support_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """SQLite keeps its old journal mode where the filesystem has no shared memory for WAL (here: its real
    ``unix-dotfile`` VFS, as some network mounts need): the store refuses rather than lose durability."""
    connect = sqlite3.connect
    monkeypatch.setattr(sqlite3, "connect", lambda path, **kw: connect(f"file:{path}?vfs=unix-dotfile", uri=True, **kw))
    path = tmp_path / "stats.db"
    with pytest.raises(StatsStoreError, match=f"^stats database {path} cannot use WAL journaling \\(got 'delete'\\)$"):
        StatsStore(path)


def test_a_database_another_process_keeps_locked_is_a_clear_error_and_stays_intact(tmp_path: Path) -> None:
    path = tmp_path / "stats.db"
    store = StatsStore(path)
    store.record(SAMPLE[0])
    store.close()
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")  # another writer holds it past sqlite's 5 s busy timeout
    try:
        with pytest.raises(StatsStoreError, match=f"^cannot open stats database {path}: database is locked$"):
            StatsStore(path)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    reopened = StatsStore(path)
    assert reopened.action_ids() == ["w1"]
    reopened.close()
