# Copyright 2026 The emotion_perception Authors
# SPDX-License-Identifier: Apache-2.0
"""``make mutation``: mutation testing (mutmut) of the ROS-free core and the rules users rely on.

Each module in :data:`TARGETS` is mutated one small change at a time (a comparison flipped, a constant moved by
one, a call's argument dropped, ...) and the tests that cover it run against each mutant. A mutant that no test
fails on has survived: either a test is missing, or the change makes no difference a user could see, in which
case it is listed, with one line why, in ``test/mutation_equivalents.md``. Runs in ``out/mutation/`` (mutmut
works on a copy of the code there, never on this checkout), writes ``summary.md`` / ``summary.json`` there and
exits 1 when a surviving mutant is not listed.

    python test/mutation_run.py [--max-children 2] [--only rule tracking ...] [--keep]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / "out" / "mutation"
EQUIVALENTS = ROOT / "test" / "mutation_equivalents.md"
#: Mutated module -> the tests that cover it (ROS-free or in-process: a mutant's run forks from a warm process).
TARGETS: dict[str, tuple[str, ...]] = {
    "emotion_perception/feedback/rule.py": ("test_feedback.py", "test_session_report.py"),
    "emotion_perception/feedback/stats_store.py": ("test_stats_store.py",),
    "emotion_perception/feedback/store_schema.py": ("test_stats_store.py", "test_postgres_store.py"),
    "emotion_perception/feedback/store_url.py": ("test_stats_store.py", "test_postgres_store.py"),
    "emotion_perception/feedback/outbox.py": ("test_postgres_store.py",),
    "emotion_perception/feedback/postgres_store.py": ("test_postgres_store.py",),
    "emotion_perception/vision/tracking.py": ("test_tracking.py",),
    "emotion_perception/vision/preprocessing.py": ("test_preprocessing.py",),
    "emotion_perception/dashboard/access.py": ("test_dashboard.py",),
    "emotion_perception/tools/session/report.py": ("test_session_report.py",),
    "emotion_perception/ros/image_conversion.py": ("test_image_conversion.py", "test_image_conversion_properties.py"),
    "emotion_perception/ros/messages.py": ("test_messages.py",),
}
#: What a mutant's tests need besides the package and test/ (mutmut copies them into its work tree).
ALSO_COPY = ("config", "models", "media", "harness", "training", "package.xml", "pytest.ini")
#: launch_testing's plugins import every test module of the folder; a mutant's run needs only its own tests.
PYTEST_ARGS = ("-p", "no:cacheprovider", "-p", "no:launch_testing", "-p", "no:launch_pytest", "-p", "no:launch_ros")
DETECTED = {"killed", "timeout", "segfault", "suspicious"}


@dataclass(frozen=True)
class Mutant:
    """One mutant: ``function`` as ``module.name`` (``Class.method`` for a method), the line it changed."""

    name: str
    module: str
    function: str
    status: str
    before: str
    after: str

    @property
    def key(self) -> tuple[str, str, str]:
        return f"{self.module}.{self.function}", self.before, self.after


def write_config(modules: list[str]) -> None:
    """mutmut's configuration (setup.cfg of the work folder) for ``modules``. The tests are every target's whatever
    ``modules`` holds: mutmut discards every result it kept when the tests it runs change."""
    tests = sorted({f"test/{t}" for names in TARGETS.values() for t in names})
    lines = ["[mutmut]", "source_paths = emotion_perception", "only_mutate ="] + [f"    {m}" for m in modules]
    lines += ["also_copy ="] + [f"    {p}" for p in ALSO_COPY]
    lines += ["pytest_add_cli_args_test_selection ="] + [f"    {t}" for t in tests]
    lines += ["pytest_add_cli_args ="] + [f"    {a}" for a in PYTEST_ARGS]
    (WORK / "setup.cfg").write_text("\n".join(lines) + "\n")


def prepare(modules: list[str], keep: bool) -> None:
    """The work folder: links to the checkout's files and the configuration. Fresh, unless ``keep``: then the
    mutants of the last run are kept and those that were not killed are tested again (after new tests)."""
    if not keep:
        shutil.rmtree(WORK, ignore_errors=True)
    WORK.mkdir(parents=True, exist_ok=True)
    for name in ("emotion_perception", "test", *ALSO_COPY):
        link = WORK / name
        if not link.is_symlink():
            link.symlink_to(ROOT / name)
    write_config(modules)
    from mutmut.stats import status_by_exit_code

    for meta_path in (WORK / "mutants").glob("**/*.py.meta") if keep else ():
        meta = json.loads(meta_path.read_text())
        codes = meta["exit_code_by_key"]
        meta["exit_code_by_key"] = {k: c if status_by_exit_code[c] in DETECTED else None for k, c in codes.items()}
        meta_path.write_text(json.dumps(meta))


def run_mutmut(max_children: int) -> float:
    """``mutmut run``; its progress goes to mutmut.log. Returns the seconds it took."""
    env = {**os.environ, "ROS_AUTOMATIC_DISCOVERY_RANGE": "LOCALHOST"}
    env.setdefault("ROS_DOMAIN_ID", str(os.getpid() % 90 + 10))
    started = time.monotonic()
    with (WORK / "mutmut.log").open("w") as log:
        status = subprocess.run([sys.executable, "-m", "mutmut", "run", "--max-children", str(max_children)],
                                cwd=WORK, env=env, stdout=log, stderr=subprocess.STDOUT, check=False).returncode
    if status != 0:
        sys.exit(f"mutation: mutmut failed (exit {status}); see {WORK / 'mutmut.log'}")
    return time.monotonic() - started


def _function(mangled: str) -> str:
    """``judge`` of ``x_judge``, ``FeedbackConfig.problems`` of ``xǁFeedbackConfigǁproblems``."""
    if mangled.startswith("xǁ"):
        return ".".join(mangled[2:].split("ǁ"))
    return mangled.removeprefix("x_")


def _changed_lines(diff: str) -> tuple[str, str]:
    removed = " / ".join(line[1:].strip() for line in diff.splitlines()
                         if line.startswith("-") and not line.startswith("---"))
    added = " / ".join(line[1:].strip() for line in diff.splitlines()
                       if line.startswith("+") and not line.startswith("+++"))
    return removed, added


def collect(modules: list[str]) -> list[Mutant]:
    """Every mutant of ``modules`` with its status, and the line it changed (read with mutmut's own diff)."""
    os.chdir(WORK)
    from mutmut.mutation.diff_apply import get_diff_for_mutant
    from mutmut.stats import status_by_exit_code

    mutants = []
    for path in modules:
        meta = json.loads((WORK / "mutants" / f"{path}.meta").read_text())
        module = path.removesuffix(".py").replace("/", ".")
        for name, code in meta["exit_code_by_key"].items():
            status = status_by_exit_code[code]
            before = after = ""
            if status not in DETECTED:
                before, after = _changed_lines(get_diff_for_mutant(name, path=path))
            function = _function(name.removeprefix(module + ".").rsplit("__mutmut_", 1)[0])
            mutants.append(Mutant(name, module, function, status, before, after))
    return mutants


def read_equivalents() -> dict[tuple[str, str, str], str]:
    """The table of test/mutation_equivalents.md: (function, line before, line after) -> why it is equivalent."""
    found = {}
    for line in EQUIVALENTS.read_text().splitlines():
        cells = [c.strip().strip("`").replace("\\|", "|") for c in re.split(r"(?<!\\)\|", line)[1:-1]]
        if len(cells) == 4 and cells[0] not in ("function", "") and not set(cells[0]) <= {"-", ":"}:
            found[(cells[0], cells[1], cells[2])] = cells[3]
    return found


def _cell(text: str) -> str:
    return f"`{text.replace('|', chr(92) + '|')}`" if text else ""


def report(mutants: list[Mutant], seconds: float, modules: list[str]) -> int:
    """Write summary.md / summary.json; the number of surviving mutants not listed as equivalent."""
    equivalents = read_equivalents()
    rows = []
    unlisted = [m for m in mutants if m.status not in DETECTED and m.key not in equivalents]
    for path in modules:
        module = path.removesuffix(".py").replace("/", ".")
        mine = [m for m in mutants if m.module == module]
        counts = Counter(m.status for m in mine)
        detected = sum(counts[s] for s in DETECTED)
        equivalent = sum(1 for m in mine if m.status not in DETECTED and m.key in equivalents)
        rows.append({"module": path, "mutants": len(mine), "killed": detected, "equivalent": equivalent,
                     "survived": len(mine) - detected - equivalent, "statuses": dict(counts)})
    tested = {m.module for m in mutants}
    stale = sorted({k for k in equivalents if any(k[0].startswith(f"{module}.") for module in tested)}
                   - {m.key for m in mutants if m.status not in DETECTED})
    lines = [f"# Mutation testing ({len(mutants)} mutants, {seconds / 60:.1f} min)", "",
             "| module | mutants | killed | equivalent | survived |", "|---|---|---|---|---|"]
    lines += [f"| {r['module']} | {r['mutants']} | {r['killed']} | {r['equivalent']} | {r['survived']} |" for r in rows]
    if unlisted:
        lines += ["", "## Survivors: kill each with a test, or list it in test/mutation_equivalents.md", "",
                  "| function | before | after | status |", "|---|---|---|---|"]
        lines += [f"| {m.key[0]} | {_cell(m.before)} | {_cell(m.after)} | {m.status} ({m.name}) |" for m in unlisted]
    if stale:
        lines += ["", "## Listed as equivalent but no longer surviving (or gone): remove from the list", ""]
        lines += [f"- {k[0]}: `{k[1]}` -> `{k[2]}`" for k in stale]
    (WORK / "summary.md").write_text("\n".join(lines) + "\n")
    (WORK / "summary.json").write_text(json.dumps({"seconds": round(seconds), "modules": rows, "unlisted": [
        {"name": m.name, "function": m.key[0], "before": m.before, "after": m.after, "status": m.status}
        for m in unlisted]}, indent=2) + "\n")
    print("\n".join(lines))
    return len(unlisted)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="mutation", description=__doc__.split("\n\n")[0])
    parser.add_argument("--max-children", type=int, default=2, help="mutants tested at once (default 2)")
    parser.add_argument("--only", nargs="+", metavar="NAME", help="modules whose file name contains NAME")
    parser.add_argument("--keep", action="store_true",
                        help="reuse out/mutation: test again only the mutants not killed last time (and changed code)")
    args = parser.parse_args(argv)
    modules = [m for m in TARGETS if not args.only or any(n in m for n in args.only)]
    if not modules:
        parser.error(f"--only matches none of {', '.join(TARGETS)}")
    prepare(modules, args.keep)
    seconds = run_mutmut(args.max_children)
    unlisted = report(collect(modules), seconds, modules)
    print(f"mutation: {WORK / 'summary.md'}; {unlisted} surviving mutant(s) neither killed nor listed as equivalent")
    return 1 if unlisted else 0


if __name__ == "__main__":
    sys.exit(main())
