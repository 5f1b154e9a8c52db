# Copyright 2026 The emotion_perception Authors
# SPDX-License-Identifier: Apache-2.0
"""report: re-judge a recorded session's actions offline and compare with the verdicts recorded (no DDS).

    ros2 run emotion_perception report session.mcap [--params new.yaml] [-o report_dir]

Reads the reactions (``EmotionReaction``, else ``EmotionReactionArray``), the actions (``RobotAction``) and
the verdicts (``ActionFeedback``) by type, whatever their topic names. Every action is judged again by the
node's own code (:class:`~emotion_perception.feedback.rule.FeedbackTracker`), fed in stamp order with its
clock following the stamps, with the ``action_feedback_node`` parameters of ``--params`` (default: the
package's YAML). Writes ``timeline.png``, ``reactions.csv``, ``verdicts.csv``, ``summary.md`` and
``summary.html`` into the output folder.
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import html
import math
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from emotion_perception.feedback.rule import (
    NS_PER_S,
    Action,
    ActionVerdict,
    FeedbackConfig,
    FeedbackTracker,
    TimedReaction,
    Verdict,
)
from emotion_perception.package_files import package_file
from emotion_perception.ros.messages import action_from_msg, timed_reaction_from_msg
from emotion_perception.ros.parameter_file import ParameterFileError, load_node_parameters
from emotion_perception.tools.session.session_file import SessionFileError, SessionReader
from emotion_perception.tools.timeline_plot import ActionMark, Timeline, ValencePoint, VerdictMark, plot_timeline

REACTION_TYPE = "emotion_msgs/msg/EmotionReaction"
ARRAY_TYPE = "emotion_msgs/msg/EmotionReactionArray"
ACTION_TYPE = "emotion_msgs/msg/RobotAction"
FEEDBACK_TYPE = "emotion_msgs/msg/ActionFeedback"
FEEDBACK_NODE = "action_feedback_node"


@dataclass(frozen=True)
class RecordedVerdict:
    """The verdict the node published on an action."""

    verdict: str
    delta: float
    confidence: float


@dataclass
class Session:
    """What a session file holds for the report."""

    path: Path
    complete: bool
    reactions: list[TimedReaction] = field(default_factory=list)
    actions: list[Action] = field(default_factory=list)
    verdicts: dict[str, RecordedVerdict] = field(default_factory=dict)
    reaction_topics: list[str] = field(default_factory=list)

    @property
    def start_ns(self) -> int:
        stamps = [r.stamp_ns for r in self.reactions] + [a.stamp_ns for a in self.actions]
        return min(stamps, default=0)


def load_session(path: str | Path) -> Session:
    """Read the reactions, actions and recorded verdicts (raises :class:`SessionFileError`)."""
    reader = SessionReader(path)
    decoded: dict[str, list[tuple[str, Any]]] = {}
    for message, schema in reader.messages():
        if message.type_name in (REACTION_TYPE, ARRAY_TYPE, ACTION_TYPE, FEEDBACK_TYPE):
            decoded.setdefault(message.type_name, []).append((message.topic, reader.decode(message, schema)))
    types = set(reader.topics.values())
    reaction_type = REACTION_TYPE if REACTION_TYPE in types else ARRAY_TYPE
    missing = [t for t in (reaction_type, ACTION_TYPE) if t not in types]
    if missing:
        cut = "" if reader.complete else " (the file was cut short before them)"
        raise SessionFileError(
            f"{reader.path}: no topic of type {' or '.join(missing)}{cut}; it has "
            + (", ".join(f"{t} [{n}]" for t, n in reader.topics.items()) or "no topics")
        )
    session = Session(Path(path), reader.complete)
    session.reaction_topics = sorted(t for t, n in reader.topics.items() if n == reaction_type)
    for _, msg in decoded.get(reaction_type, []):
        for reaction in (msg.reactions if reaction_type == ARRAY_TYPE else [msg]):
            session.reactions.append(timed_reaction_from_msg(reaction))
    session.actions = [action_from_msg(msg) for _, msg in decoded.get(ACTION_TYPE, [])]
    for _, msg in decoded.get(FEEDBACK_TYPE, []):
        session.verdicts[msg.action_id] = RecordedVerdict(Verdict(msg.verdict).name, msg.delta, msg.confidence)
    return session


def feedback_config(params: str | Path | None = None) -> FeedbackConfig:
    """The verdict rule's settings from the ``action_feedback_node`` section of a parameter YAML."""
    path = Path(params) if params is not None else package_file("config", "emotion_perception.yaml")
    values = load_node_parameters(path, FEEDBACK_NODE)
    names = {f.name for f in dataclasses.fields(FeedbackConfig)}
    config = FeedbackConfig(**{k: v for k, v in values.items() if k in names})
    wrong = [f"{k}={v!r}" for k, v in values.items() if k in names and not isinstance(v, int | float)]
    problems = ([f"not a number: {', '.join(wrong)}"] if wrong else []) or config.problems()
    if problems:
        raise ParameterFileError(f"{path}: invalid {FEEDBACK_NODE} parameters: " + "; ".join(problems))
    return config


def rejudge(session: Session, config: FeedbackConfig) -> tuple[list[ActionVerdict], Counter]:
    """Judge every recorded action again, as the node would on ideal delivery; returns verdicts and drops.

    The clock follows the stamps; after the last one it runs on to the time each action still pending is due, so
    an action near the end of the recording is judged, at the moment the node would have judged it.
    """
    tracker = FeedbackTracker(config)
    events = sorted([(r.stamp_ns, 0, r) for r in session.reactions] + [(a.stamp_ns, 1, a) for a in session.actions],
                    key=lambda e: (e[0], e[1]))
    verdicts: list[ActionVerdict] = []
    now = session.start_ns
    for stamp, kind, item in events:
        now = max(now, stamp)
        verdicts += tracker.due(now)
        if kind:
            tracker.add_action(item, now)
        else:
            tracker.add_reaction(item, now)
    for due_ns in sorted({config.due_ns(a) for a in session.actions if config.due_ns(a) > now}):
        verdicts += tracker.due(due_ns)
    return sorted(verdicts, key=lambda v: (v.action.stamp_ns, v.action.action_id)), tracker.drops


def _seconds(ns: int, start_ns: int) -> float:
    return (ns - start_ns) / NS_PER_S


def _num(value: float, fmt: str = "+.2f") -> str:
    return "" if value is None or math.isnan(value) else format(value, fmt)


def timeline(session: Session, verdicts: list[ActionVerdict], config: FeedbackConfig) -> Timeline:
    """The session on one time axis (s since its first stamp), with the re-judged verdicts."""
    start = session.start_ns
    result = Timeline(points=[ValencePoint(_seconds(r.stamp_ns, start), r.face_id, r.valence_score, r.confidence)
                              for r in session.reactions])
    for action in session.actions:
        t = _seconds(action.stamp_ns, start)
        response = config.response_window_ns(action)
        result.actions.append(ActionMark(action.action_id, action.name, t, (t - config.baseline_window, t),
                                         (_seconds(response[0], start), _seconds(response[1], start))))
    result.verdicts = [VerdictMark(v.action.action_id, v.action.name, v.verdict.name, _seconds(v.decided_ns, start),
                                   v.baseline_valence, v.response_valence, v.delta, v.confidence) for v in verdicts]
    return result


def verdict_rows(session: Session, verdicts: list[ActionVerdict]) -> list[dict[str, str]]:
    """One row per action: recorded and re-judged verdicts side by side."""
    rows = []
    for v in verdicts:
        recorded = session.verdicts.get(v.action.action_id)
        rows.append({
            "action_id": v.action.action_id,
            "name": v.action.name,
            "time_s": f"{_seconds(v.action.stamp_ns, session.start_ns):.2f}",
            "recorded_verdict": recorded.verdict if recorded else "",
            "recorded_delta": _num(recorded.delta) if recorded else "",
            "recorded_confidence": _num(recorded.confidence, ".2f") if recorded else "",
            "rejudged_verdict": v.verdict.name,
            "rejudged_delta": _num(v.delta),
            "rejudged_confidence": _num(v.confidence, ".2f"),
            "n_baseline": str(v.n_baseline),
            "n_response": str(v.n_response),
            "changed": "" if recorded is None else ("yes" if recorded.verdict != v.verdict.name else "no"),
        })
    return rows


def _write_csv(path: Path, rows: list[dict[str, str]], header: list[str]) -> None:
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=header)
        writer.writeheader()
        writer.writerows(rows)


def write_report(session: Session, verdicts: list[ActionVerdict], drops: Counter, config: FeedbackConfig,
                 params_label: str, out: Path) -> dict[str, Path]:
    """Write the plot, the two CSVs and the summaries into ``out``; returns their paths by name."""
    out.mkdir(parents=True, exist_ok=True)
    paths = {name: out / name for name in
             ("timeline.png", "reactions.csv", "verdicts.csv", "summary.md", "summary.html")}
    plot_timeline(timeline(session, verdicts, config), paths["timeline.png"],
                  title=f"{session.path.name}: valence, actions and re-judged verdicts ({params_label})",
                  xlabel="time since the session's first stamp (s)")
    start = session.start_ns
    _write_csv(paths["reactions.csv"], [
        {"time_s": f"{_seconds(r.stamp_ns, start):.3f}", "stamp_ns": str(r.stamp_ns), "face_id": r.face_id,
         "valence": str(r.valence), "valence_score": f"{r.valence_score:.4f}", "confidence": f"{r.confidence:.4f}"}
        for r in sorted(session.reactions, key=lambda r: r.stamp_ns)
    ], ["time_s", "stamp_ns", "face_id", "valence", "valence_score", "confidence"])
    rows = verdict_rows(session, verdicts)
    header = list(rows[0]) if rows else ["action_id", "name", "time_s", "recorded_verdict", "rejudged_verdict"]
    _write_csv(paths["verdicts.csv"], rows, header)
    compared = [r for r in rows if r["recorded_verdict"]]
    changed = [r for r in compared if r["changed"] == "yes"]
    facts = [
        ("session", f"{session.path.name}" + ("" if session.complete else " (cut short: read up to its last chunk)")),
        ("span", f"{_seconds(max([r.stamp_ns for r in session.reactions] + [start]), start):.1f} s"),
        ("reactions", f"{len(session.reactions)} from {len({r.face_id for r in session.reactions})} face id(s) "
                      f"on {', '.join(session.reaction_topics)}"),
        ("actions", str(len(session.actions))),
        ("parameters", params_label),
        ("recorded verdicts compared", f"{len(compared)}: {len(compared) - len(changed)} unchanged, "
                                       f"{len(changed)} changed"),
        ("re-judged", ", ".join(f"{n} {k}" for k, n in Counter(v.verdict.name for v in verdicts).items()) or "none"),
        ("inputs dropped by the rule", ", ".join(f"{n} {k}" for k, n in sorted(drops.items())) or "none"),
    ]
    columns = ["name", "time_s", "recorded_verdict", "recorded_delta", "rejudged_verdict", "rejudged_delta",
               "rejudged_confidence", "changed"]
    markdown = [f"# Session report: {session.path.name}", ""]
    markdown += [f"- **{k}**: {v}" for k, v in facts]
    markdown += ["", "![timeline](timeline.png)", "", "| " + " | ".join(columns) + " |",
                 "|" + "---|" * len(columns)]
    markdown += ["| " + " | ".join(r[c] for c in columns) + " |" for r in rows]
    paths["summary.md"].write_text("\n".join(markdown) + "\n")
    esc = html.escape
    page = [f"<!doctype html><html><head><meta charset='utf-8'><title>{esc(session.path.name)}</title></head><body>",
            f"<h1>Session report: {esc(session.path.name)}</h1><ul>"]
    page += [f"<li><b>{esc(k)}</b>: {esc(v)}</li>" for k, v in facts]
    page += ["</ul><img src='timeline.png' alt='timeline'><table border='1' cellpadding='4'><tr>"
             + "".join(f"<th>{esc(c)}</th>" for c in columns) + "</tr>"]
    page += ["<tr>" + "".join(f"<td>{esc(r[c])}</td>" for c in columns) + "</tr>" for r in rows]
    page += ["</table></body></html>"]
    paths["summary.html"].write_text("\n".join(page) + "\n")
    return paths


def get_args_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="report", description=__doc__.split("\n\n")[0])
    parser.add_argument("session", type=Path, help="session file (.mcap)")
    parser.add_argument("--params", type=Path, help="parameter YAML whose action_feedback_node section re-judges "
                                                    "(default: the package's config/emotion_perception.yaml)")
    parser.add_argument("-o", "--out", type=Path, help="output folder (default: <session>_report next to it)")
    return parser


def main(args: list[str] | None = None) -> int:
    """Write the report; 1 with one line on stderr for an unusable file or parameter YAML."""
    options = get_args_parser().parse_args(args)
    out = options.out or options.session.with_name(f"{options.session.stem}_report")
    try:
        config = feedback_config(options.params)
        session = load_session(options.session)
    except (SessionFileError, ParameterFileError) as exc:
        print(f"report: {exc}", file=sys.stderr)
        return 1
    if not session.complete:
        print(f"report: {options.session} was cut short (recorder killed?): read up to its last complete chunk",
              file=sys.stderr)
    verdicts, drops = rejudge(session, config)
    label = str(options.params) if options.params else "package defaults"
    paths = write_report(session, verdicts, drops, config, label, out)
    changed = sum(1 for r in verdict_rows(session, verdicts) if r["changed"] == "yes")
    print(f"report: {len(session.actions)} actions re-judged, {changed} verdict(s) changed; "
          f"{', '.join(str(p) for p in paths.values())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
