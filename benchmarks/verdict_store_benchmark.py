# Copyright 2026 The emotion_perception Authors
# SPDX-License-Identifier: Apache-2.0
"""Verdict write latency of the stores: sqlite (WAL, synchronous=FULL), PostgreSQL, and the outage outbox.

Each figure is the time ``record()`` takes to return, i.e. until the verdict is committed (durable) and the
node may publish it. PostgreSQL is a throw-away local server on a unix socket (fsync on, as shipped) unless
``--url`` names one. Writes JSON (default ``out/verdict_store_benchmark.json``) and prints a table.

    python -m benchmarks.verdict_store_benchmark [--count 1000] [--url postgresql://host/db]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path

from emotion_perception.feedback.postgres_store import PostgresStore
from emotion_perception.feedback.rule import Action, ActionVerdict, Verdict
from emotion_perception.feedback.stats_store import StatsStore
from harness.postgres_server import PostgresServer
from harness.reliability.common import wait_for

ROOT = Path(__file__).resolve().parents[1]


def get_args_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=1000, help="verdicts written per store")
    parser.add_argument("--url", default="", help="PostgreSQL URL to measure (default: a temp local server)")
    parser.add_argument("--output", type=Path, default=ROOT / "out" / "verdict_store_benchmark.json",
                        help="JSON file of the figures")
    return parser


def sample_verdict(i: int) -> ActionVerdict:
    now = time.time_ns()
    return ActionVerdict(
        action=Action(f"bench_{uuid.uuid4().hex}", f"action_{i % 8}", now, 1.0), verdict=Verdict(i % 3 - 1),
        baseline_valence=0.1, response_valence=0.4, delta=0.3, confidence=0.9, n_baseline=10, n_response=20,
        face_ids=("face_1",), decided_ns=now,
    )


def latencies_ms(record: Callable[[ActionVerdict], bool], count: int) -> dict[str, float]:
    """p50 / p95 / max / mean of ``count`` calls, in ms (ten warm-up writes not counted)."""
    for i in range(10):
        record(sample_verdict(i))
    times = []
    for i in range(count):
        verdict = sample_verdict(i)
        start = time.perf_counter()
        record(verdict)
        times.append((time.perf_counter() - start) * 1e3)
    cuts = statistics.quantiles(times, n=100)
    return {"p50_ms": round(cuts[49], 3), "p95_ms": round(cuts[94], 3), "max_ms": round(max(times), 3),
            "mean_ms": round(statistics.fmean(times), 3), "count": count}


def main(args: argparse.Namespace) -> dict:
    results: dict[str, dict] = {}
    with ExitStack() as stack:
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="verdict_bench_")))
        sqlite = StatsStore(folder / "stats.db", "bench")
        stack.callback(sqlite.close)
        results["sqlite"] = latencies_ms(sqlite.record, args.count)

        server = None if args.url else stack.enter_context(PostgresServer())
        url = args.url or server.url
        pg = PostgresStore(url, f"bench_{uuid.uuid4().hex[:8]}", folder / "outbox.db")
        stack.callback(pg.close)
        where = f"temp local {server.version()}, unix socket" if server else "given by --url"
        results["postgresql"] = {**latencies_ms(pg.record, args.count), "server": where}
        if server:
            server.stop()  # an outage: the same writes go to the local outbox
            results["postgresql_outage_outbox"] = latencies_ms(pg.record, args.count)
            server.start()
            started = time.perf_counter()
            if not wait_for(lambda: pg.health().queued == 0, timeout=300.0, period=0.05):
                raise RuntimeError("the outbox did not drain in 300 s")
            results["postgresql_outage_outbox"]["drain_s"] = round(time.perf_counter() - started, 2)
    figures = {"machine": f"{platform.machine()} {platform.system()}, {os.cpu_count()} CPUs",
               "python": platform.python_version(), **results}
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(figures, indent=2) + "\n")
    for name, r in results.items():
        print(f"{name:26s} p50 {r['p50_ms']:7.2f} ms   p95 {r['p95_ms']:7.2f} ms   max {r['max_ms']:7.2f} ms")
    print(f"written {args.output}")
    return figures


if __name__ == "__main__":
    main(get_args_parser().parse_args())
