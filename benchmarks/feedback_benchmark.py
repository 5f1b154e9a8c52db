# Copyright 2026 The emotion_perception Authors
# SPDX-License-Identifier: Apache-2.0
"""Action-feedback core figures: reaction intake rate, judging cost, memory bound, sqlite commit time.

Prints the figures and writes them to out/benchmark_feedback.json. Pure Python, no ROS; a few seconds.
Run: source .venv/activate-ros && python benchmarks/feedback_benchmark.py
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from emotion_perception.feedback.rule import NS_PER_S, Action, FeedbackConfig, FeedbackTracker, TimedReaction
from emotion_perception.feedback.stats_store import StatsStore

ROOT = Path(__file__).resolve().parents[1]


def get_args_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reactions", type=int, default=100_000, help="reactions fed to the tracker")
    parser.add_argument("--rate", type=float, default=300.0, help="reactions per s of stamp time (30 fps x 10 faces)")
    parser.add_argument("--verdicts", type=int, default=200, help="verdicts written to sqlite")
    parser.add_argument("--output", type=Path, default=ROOT / "out" / "benchmark_feedback.json", help="JSON file")
    return parser


def main(args: argparse.Namespace) -> dict:
    rng = random.Random(0)
    config = FeedbackConfig()
    tracker = FeedbackTracker(config)
    t0 = 1_700_000_000 * NS_PER_S
    step = round(NS_PER_S / args.rate)
    reactions = [
        TimedReaction(t0 + i * step + rng.randint(-step, step), f"face_{i % 10}", 0, rng.uniform(-1, 1), rng.random())
        for i in range(args.reactions)
    ]
    judge_ms, peak_history, peak_pending = [], 0, 0
    start = time.perf_counter()
    for i, r in enumerate(reactions):
        now = t0 + i * step
        tracker.add_reaction(r, now)
        if i % int(args.rate) == 0:  # one action per second of stamp time
            tracker.add_action(Action(f"a{i}", "wave", now), now)
        if i % int(args.rate / 20) == 0:  # the node's 20 Hz check
            tick = time.perf_counter()
            tracker.due(now)
            judge_ms.append((time.perf_counter() - tick) * 1e3)
        peak_history = max(peak_history, tracker.history_size)
        peak_pending = max(peak_pending, tracker.pending_count)
    elapsed = time.perf_counter() - start

    with tempfile.TemporaryDirectory() as folder:
        store = StatsStore(Path(folder) / "stats.db")
        template = tracker.due(t0 + args.reactions * step + 60 * NS_PER_S)[0]
        record_ms = []
        for i in range(args.verdicts):
            verdict = replace(template, action=replace(template.action, action_id=f"bench_{i}"))
            tick = time.perf_counter()
            store.record(verdict)
            record_ms.append((time.perf_counter() - tick) * 1e3)
        store.close()

    figures = {
        "reactions": args.reactions,
        "stamp_rate_hz": args.rate,
        "intake_reactions_per_s": round(args.reactions / elapsed),
        "due_check_ms_p50": round(statistics.median(judge_ms), 3),
        "due_check_ms_max": round(max(judge_ms), 3),
        "peak_reactions_held": peak_history,
        "history_count_bound": config.history_max_reactions,
        "history_seconds_x_rate": round(config.history_seconds * args.rate),
        "peak_pending_actions": peak_pending,
        "sqlite_record_ms_p50": round(statistics.median(record_ms), 3),
        "sqlite_record_ms_p95": round(sorted(record_ms)[int(0.95 * len(record_ms))], 3),
    }
    for key, value in figures.items():
        print(f"{key:>24}: {value}")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(figures, indent=2) + "\n")
    return figures


if __name__ == "__main__":
    main(get_args_parser().parse_args())
