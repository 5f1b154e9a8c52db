# Copyright 2026 The emotion_perception Authors
# SPDX-License-Identifier: Apache-2.0
"""Run the reliability scenarios: ``python -m benchmarks.reliability [--quick] [--soak-minutes N] [--only ...]``.

Each scenario prints its figures and writes ``out/reliability/<scenario>.json``; a summary table
goes to ``out/reliability/summary.md``. The exit status is 1 when any scenario broke an expectation.
"""

from __future__ import annotations

import os
from pathlib import Path

from benchmarks.dds_environment import keep_dds_on_this_host

keep_dds_on_this_host()  # before anything starts DDS

import argparse  # noqa: E402 (after the DDS environment)
import sys  # noqa: E402 (after the DDS environment)
import time  # noqa: E402 (after the DDS environment)
from collections.abc import Callable  # noqa: E402 (after the DDS environment)

from harness.reliability import faults, flood, fuzz, soak  # noqa: E402 (after the DDS environment)
from harness.reliability.common import OUT_DIR, ScenarioResult, print_result, write_result  # noqa: E402 (after the DDS environment)


def get_args_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="the scaled-down run of make test (a few minutes)")
    parser.add_argument("--soak-minutes", type=float, default=None, help="soak length (default 30, --quick 1)")
    parser.add_argument("--only", nargs="+", default=None, help="run only these scenarios (names below)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the fuzzer and of the kill moments")
    parser.add_argument("--model-path", default="", help="valence model of the perception node; '' = shipped")
    parser.add_argument("--threads", type=int, default=None, help="perception node CPU threads (default: the YAML's)")
    parser.add_argument("--out", type=Path, default=OUT_DIR, help="folder of the JSON files and logs")
    return parser


def scenarios(args: argparse.Namespace) -> dict[str, Callable[[], ScenarioResult]]:
    """Every scenario, scaled for ``--quick`` or the full run (same code, other parameters)."""
    q, logs, model = args.quick, args.out / "logs", args.model_path
    soak_minutes = args.soak_minutes if args.soak_minutes is not None else (1.0 if q else 30.0)
    perception = {"model_path": model, "threads": args.threads, "log_dir": logs}
    return {
        "model_faults": lambda: faults.model_faults(model, log_dir=logs),
        "database_faults": lambda: faults.database_faults(log_dir=logs),
        "kill_restart": lambda: faults.kill_restart(rounds=3 if q else 10, seed=args.seed, log_dir=logs),
        "feedback_flood": lambda: flood.feedback_flood(seconds=8 if q else 60, log_dir=logs),
        "fuzz_raw": lambda: fuzz.fuzz(frames=200 if q else 7000, giants=0 if q else 3, seed=args.seed,
                                      **perception),
        "fuzz_compressed": lambda: fuzz.fuzz(frames=100 if q else 3500, compressed=True, seed=args.seed,
                                             **perception),
        "perception_flood": lambda: flood.perception_flood(seconds=6 if q else 60, **perception),
        "silent_camera": lambda: faults.silent_camera(**perception),
        "soak": lambda: soak.soak(minutes=soak_minutes, warmup_s=min(30.0, 10.0 * soak_minutes), **perception),
    }


def summary_table(results: list[ScenarioResult]) -> str:
    """A markdown table of the headline figures of each scenario."""
    keys = ("frames_sent", "reactions_sent", "actions_sent", "actions", "dropped", "lost_in_transport",
            "verdicts_lost", "crashed", "rss_start_mb", "rss_end_mb", "rss_growth_mb", "latency_p50_ms",
            "latency_p95_ms", "flood_latency_p50_ms", "flood_latency_p95_ms")
    lines = ["| scenario | ok | figures |", "|---|---|---|"]
    for r in results:
        shown = {k: r.figures[k] for k in keys if k in r.figures}
        text = ", ".join(f"{k}={v}" for k, v in shown.items()) or "see JSON"
        verdict = "yes" if r.ok else "NO: " + "; ".join(r.problems + r.speed_problems)[:200]
        lines.append(f"| {r.name} | {verdict} | {text} |")
    return "\n".join(lines) + "\n"


def main(args: argparse.Namespace) -> int:
    available = scenarios(args)
    names = args.only or list(available)
    unknown = sorted(set(names) - set(available))
    if unknown:
        print(f"unknown scenario(s) {unknown}; choose from {list(available)}", file=sys.stderr)
        return 2
    print(f"ROS_DOMAIN_ID={os.environ['ROS_DOMAIN_ID']}; JSON and logs in {args.out}")
    results = []
    for name in names:
        t0 = time.monotonic()
        result = available[name]()
        result.figures["scenario_seconds"] = round(time.monotonic() - t0, 1)
        print_result(result)
        print(f"   -> {write_result(result, args.out)}")
        results.append(result)
    table = summary_table(results)
    (args.out / "summary.md").write_text(table)
    print(table)
    return 0 if all(r.ok for r in results) else 1


if __name__ == "__main__":
    sys.exit(main(get_args_parser().parse_args()))
