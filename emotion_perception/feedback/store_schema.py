# Copyright 2026 The emotion_perception Authors
# SPDX-License-Identifier: Apache-2.0
"""The one verdict-store schema, its migrations and queries, in the SQL both backends speak (no ROS, no driver).

Schema 2 (this one): ``verdicts`` carries ``robot_id`` and is unique on ``(robot_id, action_id)``, so a
verdict written twice (a retry after an outage, a replayed outbox) is stored once. ``schema_version``
holds one row per applied migration; the highest is the database's version. Schema 1 was the sqlite
store before fleets: the same columns without ``robot_id``; migrating gives its rows the opening robot's id.
Statements are written with ``?`` placeholders; :attr:`Dialect.sql` turns them into the driver's style.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

from emotion_perception.feedback.rule import ActionVerdict, Verdict

SCHEMA_VERSION = 2

#: The columns of one verdict row, in :func:`verdict_row` order.
COLUMNS = (
    "robot_id", "action_id", "name", "action_stamp_ns", "duration", "verdict", "baseline_valence",
    "response_valence", "delta", "confidence", "n_baseline", "n_response", "face_ids", "decided_ns",
)
_V1_COLUMNS = COLUMNS[1:]


@dataclass(frozen=True)
class Dialect:
    """What differs between the backends: the auto-increment key and the placeholder style."""

    name: str
    id_column: str
    placeholder: str

    def sql(self, statement: str) -> str:
        """``statement`` with its ``?`` placeholders in this driver's style."""
        return statement.replace("?", self.placeholder)


SQLITE = Dialect("sqlite", "id INTEGER PRIMARY KEY AUTOINCREMENT", "?")
POSTGRES = Dialect("postgresql", "id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY", "%s")

_CREATE_VERSION_TABLE = (
    "CREATE TABLE schema_version (version INTEGER NOT NULL PRIMARY KEY, migrated_ns BIGINT NOT NULL)"
)
_CREATE_VERDICTS = """CREATE TABLE {table} (
    {id_column},
    robot_id TEXT NOT NULL,
    action_id TEXT NOT NULL,
    name TEXT NOT NULL,
    action_stamp_ns BIGINT NOT NULL,
    duration DOUBLE PRECISION NOT NULL,
    verdict INTEGER NOT NULL,
    baseline_valence DOUBLE PRECISION,
    response_valence DOUBLE PRECISION,
    delta DOUBLE PRECISION,
    confidence DOUBLE PRECISION NOT NULL,
    n_baseline INTEGER NOT NULL,
    n_response INTEGER NOT NULL,
    face_ids TEXT NOT NULL,
    decided_ns BIGINT NOT NULL,
    UNIQUE (robot_id, action_id)
)"""
_INDEXES = (
    "CREATE INDEX verdicts_by_name ON verdicts (name)",
    "CREATE INDEX verdicts_by_robot_name ON verdicts (robot_id, name)",
)


def migration(dialect: Dialect, from_version: int, robot_id: str, now_ns: int) -> list[tuple[str, tuple]]:
    """The ``(statement, parameters)`` that bring a database at ``from_version`` (0 = empty) to this schema.

    Run them in one transaction. Raises ``ValueError`` for a version this code cannot migrate.
    """
    if from_version == SCHEMA_VERSION:
        return []
    if from_version not in (0, 1):
        raise ValueError(f"schema {from_version} cannot be migrated to {SCHEMA_VERSION}")
    steps: list[tuple[str, tuple]] = [(_CREATE_VERSION_TABLE, ())]
    if from_version == 1:  # the sqlite store before fleets: keep its rows, first of a duplicated action id wins
        steps += [
            ("DROP INDEX IF EXISTS verdicts_by_name", ()),
            ("ALTER TABLE verdicts RENAME TO verdicts_v1", ()),
        ]
    steps.append((_CREATE_VERDICTS.format(table="verdicts", id_column=dialect.id_column), ()))
    if from_version == 1:
        columns = ", ".join(_V1_COLUMNS)
        steps += [
            (f"INSERT INTO verdicts (robot_id, {columns}) SELECT ?, {columns} FROM verdicts_v1 WHERE true"
             " ORDER BY id ON CONFLICT (robot_id, action_id) DO NOTHING", (robot_id,)),
            ("DROP TABLE verdicts_v1", ()),
        ]
    steps += [(statement, ()) for statement in _INDEXES]
    steps.append(("INSERT INTO schema_version (version, migrated_ns) VALUES (?, ?)", (SCHEMA_VERSION, now_ns)))
    return [(dialect.sql(statement), params) for statement, params in steps]


def insert_statement(dialect: Dialect) -> str:
    """Insert one row; a row already there for the same robot and action id is kept and this one ignored."""
    return dialect.sql(
        f"INSERT INTO verdicts ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})"
        " ON CONFLICT (robot_id, action_id) DO NOTHING"
    )


def stats_statement(dialect: Dialect, by_name: bool, by_robot: bool) -> str:
    """Per-name counts of each verdict and the mean delta, sorted by name; parameters: name, then robot id."""
    counts = ", ".join(
        f"SUM(CASE WHEN verdict = {int(v)} THEN 1 ELSE 0 END)"
        for v in (Verdict.WELL_RECEIVED, Verdict.NEUTRAL, Verdict.BADLY_RECEIVED, Verdict.UNKNOWN)
    )
    where = [clause for clause, wanted in (("name = ?", by_name), ("robot_id = ?", by_robot)) if wanted]
    statement = (
        f"SELECT name, COUNT(*), {counts}, AVG(delta) FROM verdicts"
        f"{' WHERE ' + ' AND '.join(where) if where else ''} GROUP BY name ORDER BY name"
    )
    return dialect.sql(statement)


def action_ids_statement(dialect: Dialect, by_robot: bool) -> str:
    """Every recorded action id in recording order, of one robot or all."""
    return dialect.sql(f"SELECT action_id FROM verdicts{' WHERE robot_id = ?' if by_robot else ''} ORDER BY id")


def _nullable(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None


def verdict_row(verdict: ActionVerdict, robot_id: str) -> tuple:
    """One verdict as a row of :data:`COLUMNS` (NaN as NULL, face ids as a JSON list)."""
    a = verdict.action
    return (
        robot_id, a.action_id, a.name, int(a.stamp_ns), float(a.duration), int(verdict.verdict),
        _nullable(verdict.baseline_valence), _nullable(verdict.response_valence), _nullable(verdict.delta),
        float(verdict.confidence), int(verdict.n_baseline), int(verdict.n_response),
        json.dumps(list(verdict.face_ids)), int(verdict.decided_ns),
    )
