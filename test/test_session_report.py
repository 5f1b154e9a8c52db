# Copyright 2026 The emotion_perception Authors
# SPDX-License-Identifier: Apache-2.0
"""report (no DDS): re-judging a session offline, its outputs, and one clear error for each kind of bad file."""

from __future__ import annotations

import csv
import math
import re
import shutil
import sys
from collections import Counter
from pathlib import Path

import cv2
import numpy as np
import pytest
import yaml
from mcap.writer import Writer
from rclpy.serialization import serialize_message
from session_helpers import ACTIONS, EXPECTED, FRAME_NS, START_NS, stamp, write_session
from std_msgs.msg import Header

from emotion_msgs.msg import ActionFeedback, EmotionReaction, RobotAction
from emotion_perception.feedback.rule import Action, FeedbackConfig, TimedReaction
from emotion_perception.tools.session import replay
from emotion_perception.tools.session.message_definitions import SEPARATOR, message_definition
from emotion_perception.tools.session.report import (
    RecordedVerdict,
    Session,
    load_session,
    main,
    rejudge,
    timeline,
    verdict_rows,
    write_report,
)
from emotion_perception.tools.session.session_file import SessionWriter
from emotion_perception.tools.timeline_plot import ActionMark, ValencePoint, VerdictMark, plot_timeline


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_session(tmp_path_factory.mktemp("session") / "session.mcap")


def run_report(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main([str(a) for a in args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open() as handle:
        return list(csv.DictReader(handle))


def test_schemas_embed_each_dependency_once_as_rosbag2_does() -> None:
    text = message_definition("emotion_msgs/msg/EmotionReactionArray")
    headers = [line for line in text.splitlines() if line.startswith("MSG: ")]
    assert sorted(headers) == ["MSG: builtin_interfaces/Time", "MSG: emotion_msgs/EmotionReaction",
                               "MSG: sensor_msgs/RegionOfInterest", "MSG: std_msgs/Header"]
    assert text.count(SEPARATOR) == 4 and text.startswith("# Every face found")


def test_report_rejudges_every_action_and_writes_the_plot_csvs_and_summaries(
    session: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run_report(capsys, session, "-o", tmp_path / "default")
    assert code == 0, err
    rows = read_csv(tmp_path / "default" / "verdicts.csv")
    assert {r["name"]: r["rejudged_verdict"] for r in rows} == EXPECTED
    assert [r["name"] for r in rows] == [name for _, name in ACTIONS]
    assert all(r["recorded_verdict"] == "" for r in rows)  # this file holds no verdicts of its own
    joke = next(r for r in rows if r["name"] == "tell_joke")
    assert float(joke["rejudged_delta"]) > 1.0 and int(joke["n_baseline"]) == 20
    reactions = read_csv(tmp_path / "default" / "reactions.csv")
    assert len(reactions) == 90 and len({r["face_id"] for r in reactions}) == 1  # one person, one id throughout
    assert float(reactions[0]["valence_score"]) < -0.3 < 0.3 < float(reactions[-1]["valence_score"])
    plot = cv2.imread(str(tmp_path / "default" / "timeline.png"))
    assert plot is not None and plot.shape[1] > 800
    summary = (tmp_path / "default" / "summary.md").read_text()
    assert "| tell_joke | 3.00 |  |  | WELL_RECEIVED |" in summary and "90 from 1 face id(s)" in summary
    assert "<td>WELL_RECEIVED</td>" in (tmp_path / "default" / "summary.html").read_text()
    assert "3 actions re-judged" in out


def test_a_session_with_only_the_per_frame_arrays_is_judged_the_same(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    arrays = write_session(tmp_path / "arrays.mcap", per_face=False)
    code, _, err = run_report(capsys, arrays, "-o", tmp_path / "arrays")
    assert code == 0, err
    assert {r["name"]: r["rejudged_verdict"] for r in read_csv(tmp_path / "arrays" / "verdicts.csv")} == EXPECTED
    assert "on /human/reactions" in (tmp_path / "arrays" / "summary.md").read_text()


def test_new_thresholds_change_the_verdicts_against_those_recorded(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A session whose recorded verdicts are the default rule's (as the node would have published them).
    recorded = write_session(tmp_path / "recorded.mcap", verdicts={"tell_joke": 1, "wave": 0, "offer_tissue": 2})
    code, out, _ = run_report(capsys, recorded, "-o", tmp_path / "same")
    assert code == 0 and "0 verdict(s) changed" in out
    assert {r["changed"] for r in read_csv(tmp_path / "same" / "verdicts.csv")} == {"no"}
    strict = tmp_path / "strict.yaml"
    strict.write_text(yaml.safe_dump({"action_feedback_node": {"ros__parameters": {"delta_threshold": 1.5}}}))
    code, out, err = run_report(capsys, recorded, "--params", strict, "-o", tmp_path / "strict")
    assert code == 0, err
    rows = {r["name"]: r for r in read_csv(tmp_path / "strict" / "verdicts.csv")}
    joke = rows["tell_joke"]
    assert (joke["recorded_verdict"], joke["rejudged_verdict"]) == ("WELL_RECEIVED", "NEUTRAL")
    assert [r["changed"] for r in rows.values()] == ["yes", "no", "no"]  # delta ≈ 1.3 < 1.5
    summary = (tmp_path / "strict" / "summary.md").read_text()
    assert str(strict) in summary and "3: 2 unchanged, 1 changed" in summary and "1 verdict(s) changed" in out


def test_actions_near_the_end_of_a_recording_are_judged_on_windows_their_duration_stretched(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The recording ends 1 s after an 8 s action (window to 10.5 s) and with a 60 s one (capped at 30 s):
    both are judged on what was recorded, as the node would have judged them, not dropped."""
    calm = [_reaction(frame) for frame in range(31)]  # 3 s of one calm face at 10 frames/s
    actions = [_action(20, "long_story", 8.0), _action(30, "dance", 60.0)]
    path = _recording(tmp_path / "ends_early.mcap", {"/human/reaction": REACTION, "/robot/action": ACTION},
                      calm + actions)
    code, out, err = run_report(capsys, path, "-o", tmp_path / "out")
    assert code == 0, err
    rows = {r["name"]: r for r in read_csv(tmp_path / "out" / "verdicts.csv")}
    assert rows.keys() == {"long_story", "dance"} and "2 actions re-judged" in out
    assert rows["long_story"]["rejudged_verdict"] == "NEUTRAL" and rows["long_story"]["n_response"] == "8"
    assert rows["dance"]["rejudged_verdict"] == "UNKNOWN"  # the last message: nobody recorded after it


def write_bad(path: Path, kind: str, session: Path) -> Path:
    if kind == "not_mcap":
        path.write_text("just some text, not a recording\n" * 10)
    elif kind == "empty":
        path.write_bytes(b"")
    elif kind == "truncated_header":
        path.write_bytes(session.read_bytes()[:60])
    elif kind == "missing_topics":
        writer = SessionWriter(path)
        writer.add_topic("/diagnostics", "diagnostic_msgs/msg/DiagnosticArray")
        writer.close()
    elif kind == "unknown_schema":
        with path.open("wb") as stream:
            writer = Writer(stream)
            writer.start(profile="ros2")
            schema = writer.register_schema("emotion_msgs/msg/RobotAction", "jsonschema", b"{}")
            channel = writer.register_channel("/robot/action", "json", schema)
            writer.add_message(channel, 1, b"{}", 1)
            writer.finish()
    return path


@pytest.mark.parametrize(("kind", "reason"), [
    ("missing_file", "no such file"),
    ("not_mcap", "not an MCAP file"),
    ("empty", "empty or not an MCAP file"),
    ("truncated_header", "cut short"),
    ("missing_topics", "no topic of type emotion_msgs/msg/EmotionReactionArray or emotion_msgs/msg/RobotAction"),
    ("unknown_schema", "'jsonschema' schema and 'json' messages"),
])
def test_a_bad_file_gives_one_clear_error(
    kind: str, reason: str, session: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / f"{kind}.mcap"
    if kind != "missing_file":
        write_bad(path, kind, session)
    code, out, err = run_report(capsys, path, "-o", tmp_path / "out")
    assert code == 1 and out == ""
    assert len(err.strip().splitlines()) == 1 and err.startswith(f"report: {path}") and reason in err, err
    assert not (tmp_path / "out").exists()


def test_replay_refuses_a_bad_file_with_one_line(tmp_path: Path, session: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    path = write_bad(tmp_path / "bad.mcap", "not_mcap", session)
    assert replay.main(["replay", str(path)]) == 1
    assert capsys.readouterr().err.startswith(f"replay: {path}: not an MCAP file")


def test_invalid_parameters_are_refused_with_the_reason(
    session: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump({"action_feedback_node": {"ros__parameters": {"response_delay": 5.0}}}))
    code, _, err = run_report(capsys, session, "--params", bad, "-o", tmp_path / "out")
    assert code == 1 and "response_delay (5.0) must be < response_end (3.0)" in err


def _session(reactions: list[TimedReaction], actions: list[Action],
             recorded: dict[str, RecordedVerdict] | None = None) -> Session:
    return Session(Path("made.mcap"), True, reactions, actions, recorded or {}, ["/human/reaction"])


def _calm(seconds: float, face_id: str = "f1", score: float = 0.05) -> list[TimedReaction]:
    return [TimedReaction(START_NS + i * 100_000_000, face_id, 0, score, 0.9) for i in range(int(seconds * 10) + 1)]


def test_the_timeline_holds_every_reaction_action_window_and_verdict_in_session_seconds() -> None:
    config = FeedbackConfig()
    action = Action("a-1", "wave", START_NS + 2_000_000_000, duration=4.0)
    session = _session(_calm(3.0) + _calm(3.0, "f2", -0.5), [action])
    verdicts, _ = rejudge(session, config)
    line = timeline(session, verdicts, config)
    assert line.points[0] == ValencePoint(0.0, "f1", 0.05, 0.9)
    assert {(p.face_id, p.valence_score, p.confidence) for p in line.points} == {("f1", 0.05, 0.9), ("f2", -0.5, 0.9)}
    assert line.actions == [ActionMark("a-1", "wave", 2.0, (0.0, 2.0), (2.3, 6.5))]  # 4 s + 0.5 s margin
    (mark,) = line.verdicts
    v = verdicts[0]
    assert mark == VerdictMark("a-1", "wave", v.verdict.name, (v.decided_ns - START_NS) / 1e9, v.baseline_valence,
                               v.response_valence, v.delta, v.confidence)
    assert mark.time_s == pytest.approx(6.8) and mark.confidence > 0


def test_verdict_rows_put_the_recorded_and_the_rejudged_verdict_side_by_side() -> None:
    actions = [Action("a-1", "wave", START_NS + 2_000_000_000), Action("a-2", "nod", START_NS + 5_000_000_000)]
    session = _session(_calm(8.0), actions, {"a-1": RecordedVerdict("WELL_RECEIVED", 0.5, 0.7)})
    verdicts, _ = rejudge(session, FeedbackConfig())
    first, second = verdict_rows(session, verdicts)
    assert first == {"action_id": "a-1", "name": "wave", "time_s": "2.00", "recorded_verdict": "WELL_RECEIVED",
                     "recorded_delta": "+0.50", "recorded_confidence": "0.70", "rejudged_verdict": "NEUTRAL",
                     "rejudged_delta": "+0.00", "rejudged_confidence": "0.90", "n_baseline": "20", "n_response": "28",
                     "changed": "yes"}
    assert second["action_id"] == "a-2"
    assert second["recorded_verdict"] == second["recorded_delta"] == second["recorded_confidence"] == ""
    assert second["changed"] == ""  # nothing recorded to compare with
    unknown = _session([], [Action("a-3", "nod", START_NS)], {"a-3": RecordedVerdict("UNKNOWN", math.nan, 0.0)})
    (row,) = verdict_rows(unknown, rejudge(unknown, FeedbackConfig())[0])
    assert row["recorded_delta"] == row["rejudged_delta"] == "" and row["changed"] == "no"  # NaN: no delta


def test_reactions_and_actions_sharing_a_stamp_are_judged_in_stamp_order_over_a_long_session() -> None:
    """Two faces in one frame share a stamp; an action 25 s before the end is judged on its own windows (fed out of
    stamp order, it would arrive older than max_stamp_age and be dropped)."""
    late = Action("late", "wave", START_NS + 30_000_000_000)
    early = Action("early", "nod", START_NS + 5_000_000_000)
    session = _session(_calm(35.0) + _calm(35.0, "f2"), [late, early])
    verdicts, drops = rejudge(session, FeedbackConfig())
    assert [v.action.action_id for v in verdicts] == ["early", "late"] and not drops
    assert all(v.n_response == 2 * 28 for v in verdicts)


def test_the_report_goes_into_a_new_nested_folder_and_again_into_the_same_one(
    session: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "studies" / "day 1" / "report"
    for _ in range(2):
        code, _, err = run_report(capsys, session, "-o", out)
        assert code == 0, err
    assert (out / "verdicts.csv").read_bytes().count(b"\r\n") == len(ACTIONS) + 1  # csv's own line ends, as written


def test_the_summaries_list_the_sessions_facts_and_the_csvs_keep_every_reaction_field(
    session: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "facts"
    assert run_report(capsys, session, "-o", out)[0] == 0
    facts = [
        ("session", "session.mcap"),
        ("span", "8.9 s"),
        ("reactions", "90 from 1 face id(s) on /human/reaction"),
        ("actions", "3"),
        ("parameters", "package defaults"),
        ("recorded verdicts compared", "0: 0 unchanged, 0 changed"),
        ("re-judged", "1 WELL_RECEIVED, 1 NEUTRAL, 1 UNKNOWN"),
        ("inputs dropped by the rule", "none"),
    ]
    markdown = (out / "summary.md").read_text().splitlines()
    assert markdown[:len(facts) + 2] == ["# Session report: session.mcap", ""] + [f"- **{k}**: {v}" for k, v in facts]
    assert "| name | time_s | recorded_verdict | recorded_delta | rejudged_verdict | rejudged_delta |" \
           " rejudged_confidence | changed |" in markdown
    assert "| wave | 6.50 |  |  | NEUTRAL | +0.00 | 1.00 |  |" in markdown
    page = (out / "summary.html").read_text()
    assert page.startswith("<!doctype html><html><head><meta charset='utf-8'><title>session.mcap</title>")
    assert all(f"<li><b>{k}</b>: {v}</li>" in page for k, v in facts)
    assert "<th>rejudged_confidence</th>" in page and page.rstrip().endswith("</table></body></html>")
    reactions = read_csv(out / "reactions.csv")
    assert list(reactions[0]) == ["time_s", "stamp_ns", "face_id", "valence", "valence_score", "confidence"]
    first = reactions[0]
    assert first["time_s"] == "0.000" and first["stamp_ns"] == str(START_NS) and first["valence"] == "-1"
    assert len(first["valence_score"].split(".")[1]) == 4 and len(first["confidence"].split(".")[1]) == 4
    assert [float(r["time_s"]) for r in reactions] == sorted(float(r["time_s"]) for r in reactions)
    verdicts = read_csv(out / "verdicts.csv")
    assert list(verdicts[0]) == ["action_id", "name", "time_s", "recorded_verdict", "recorded_delta",
                                 "recorded_confidence", "rejudged_verdict", "rejudged_delta", "rejudged_confidence",
                                 "n_baseline", "n_response", "changed"]
    assert verdicts[2]["rejudged_verdict"] == "UNKNOWN" and verdicts[2]["rejudged_delta"] == ""


def test_help_names_the_tool_its_purpose_and_each_argument(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "200")  # one line per argument
    with pytest.raises(SystemExit) as done:
        main(["--help"])
    assert done.value.code == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[:4] == ["usage: report [-h] [--params PARAMS] [-o OUT] session", "",
                         "report: re-judge a recorded session's actions offline and compare with the verdicts "
                         "recorded (no DDS).", ""]
    text = "\n".join(lines)
    assert re.search(r"^  session +session file \(\.mcap\)$", text, re.M)
    assert re.search(r"^  --params PARAMS +parameter YAML whose action_feedback_node section re-judges "
                     r"\(default: the package's config/emotion_perception\.yaml\)$", text, re.M)
    assert re.search(r"^  -o.*--out OUT +output folder \(default: <session>_report next to it\)$", text, re.M)


def test_by_default_the_report_goes_next_to_the_session_and_names_its_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    recording = write_session(tmp_path / "visit.mcap")
    monkeypatch.setattr(sys, "argv", ["report", str(recording)])  # as the console script calls it
    code = main()
    out, err = capsys.readouterr()
    assert code == 0 and err == ""  # a complete recording: no warning
    folder = tmp_path / "visit_report"
    names = ("timeline.png", "reactions.csv", "verdicts.csv", "summary.md", "summary.html")
    assert out == ("report: 3 actions re-judged, 0 verdict(s) changed; "
                   + ", ".join(str(folder / n) for n in names) + "\n")
    assert all((folder / n).is_file() for n in names)


def test_a_cut_short_session_without_actions_still_gets_a_well_formed_report(tmp_path: Path) -> None:
    session = Session(Path("cut.mcap"), False, _calm(2.0), [], {}, ["/human/reaction", "/robot_b/human/reaction"])
    verdicts, drops = rejudge(session, FeedbackConfig())
    paths = write_report(session, verdicts, drops + Counter(stale=2, late=1), FeedbackConfig(), "package defaults",
                         tmp_path / "cut")
    markdown = paths["summary.md"].read_text()
    assert markdown.endswith("|---|---|---|---|---|---|---|---|\n")  # the table has its header and no row
    lines = markdown.splitlines()
    assert lines[:3] == ["# Session report: cut.mcap", "",
                         "- **session**: cut.mcap (cut short: read up to its last chunk)"]
    assert "- **reactions**: 21 from 1 face id(s) on /human/reaction, /robot_b/human/reaction" in lines
    assert "- **re-judged**: none" in lines and "- **inputs dropped by the rule**: 1 late, 2 stale" in lines
    assert lines[-5:-2] == ["", "![timeline](timeline.png)", ""]
    page = paths["summary.html"].read_text()
    assert page.endswith("<th>changed</th></tr>\n</table></body></html>\n")
    assert ("</ul><img src='timeline.png' alt='timeline'><table border='1' cellpadding='4'><tr>"
            "<th>name</th><th>time_s</th>") in page
    assert "<li><b>session</b>: cut.mcap (cut short: read up to its last chunk)</li>\n<li>" in page
    assert read_csv(paths["verdicts.csv"]) == []
    assert paths["verdicts.csv"].read_text().splitlines() == [
        "action_id,name,time_s,recorded_verdict,rejudged_verdict"]


REACTION = "emotion_msgs/msg/EmotionReaction"
ACTION = "emotion_msgs/msg/RobotAction"
DIAGNOSTICS = "diagnostic_msgs/msg/DiagnosticArray"


def _recording(path: Path, topics: dict[str, str], messages: list[tuple[str, object, int]] = (),
               killed: bool = False) -> Path:
    """A session file of ``topics`` and ``messages`` (topic, message, log time); ``killed``: the file as a recorder
    killed after its last flush leaves it (no summary, no footer)."""
    recording = path.with_name(path.name + ".recording")
    writer = SessionWriter(recording)
    for topic, type_name in topics.items():
        writer.add_topic(topic, type_name)
    for topic, msg, t in messages:
        writer.write(topic, serialize_message(msg), t)
    writer.flush()
    if killed:
        shutil.copyfile(recording, path)
    writer.close()
    if not killed:
        recording.rename(path)
    return path


def _reaction(frame: int) -> tuple[str, EmotionReaction, int]:
    msg = EmotionReaction(header=Header(stamp=stamp(frame)), valence=0, confidence=0.9, valence_score=0.05,
                          face_id="face_1")
    return "/human/reaction", msg, START_NS + frame * FRAME_NS


def _action(frame: int, name: str, duration: float = 0.0) -> tuple[str, RobotAction, int]:
    msg = RobotAction(header=Header(stamp=stamp(frame)), action_id=name, name=name, duration=duration)
    return "/robot/action", msg, START_NS + frame * FRAME_NS + 1


@pytest.mark.parametrize(("topics", "killed", "says"), [
    ({"/diagnostics": DIAGNOSTICS}, False,
     f"no topic of type emotion_msgs/msg/EmotionReactionArray or {ACTION}; it has /diagnostics [{DIAGNOSTICS}]"),
    ({"/diagnostics": DIAGNOSTICS, "/human/reaction": REACTION}, False,
     f"no topic of type {ACTION}; it has /diagnostics [{DIAGNOSTICS}], /human/reaction [{REACTION}]"),
    ({}, False, f"no topic of type emotion_msgs/msg/EmotionReactionArray or {ACTION}; it has no topics"),
    ({"/human/reaction": REACTION}, True,
     f"no topic of type {ACTION} (the file was cut short before them); it has /human/reaction [{REACTION}]"),
])
def test_a_recording_without_reactions_or_actions_says_what_it_does_hold(
    topics: dict[str, str], killed: bool, says: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    messages = [_reaction(0)] if "/human/reaction" in topics else []
    path = _recording(tmp_path / "odd.mcap", topics, messages, killed=killed)
    assert run_report(capsys, path, "-o", tmp_path / "out") == (1, "", f"report: {path}: {says}\n")


def test_a_killed_recording_is_reported_up_to_its_last_flush_with_one_warning(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    messages = sorted([_reaction(frame) for frame in range(41)] + [_action(10, "wave")], key=lambda m: m[2])
    path = _recording(tmp_path / "killed.mcap", {"/human/reaction": REACTION, "/robot/action": ACTION}, messages,
                      killed=True)
    code, out, err = run_report(capsys, path, "-o", tmp_path / "out")
    assert code == 0
    assert err == f"report: {path} was cut short (recorder killed?): read up to its last complete chunk\n"
    assert out.startswith("report: 1 actions re-judged, 0 verdict(s) changed; ")
    summary = (tmp_path / "out" / "summary.md").read_text()
    assert "- **session**: killed.mcap (cut short: read up to its last chunk)" in summary


@pytest.mark.filterwarnings("error")  # a warning would reach the user's terminal
def test_topics_declared_without_a_message_give_an_empty_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _recording(tmp_path / "quiet.mcap", {"/human/reaction": REACTION, "/robot/action": ACTION})
    code, out, err = run_report(capsys, path, "-o", tmp_path / "out")
    assert (code, err) == (0, "") and out.startswith("report: 0 actions re-judged, 0 verdict(s) changed; ")
    assert read_csv(tmp_path / "out" / "reactions.csv") == read_csv(tmp_path / "out" / "verdicts.csv") == []


def test_one_action_with_its_recorded_verdict_delta_and_confidence(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    feedback = ActionFeedback(action_id="wave", name="wave", verdict=1, delta=0.42, confidence=0.8)
    messages = sorted([_reaction(frame) for frame in range(61)] + [_action(30, "wave")], key=lambda m: m[2])
    messages.append(("/human/action_feedback", feedback, START_NS + 70 * FRAME_NS))
    topics = {"/human/reaction": REACTION, "/robot/action": ACTION,
              "/human/action_feedback": "emotion_msgs/msg/ActionFeedback"}
    code, _, err = run_report(capsys, _recording(tmp_path / "one.mcap", topics, messages), "-o", tmp_path / "out")
    assert code == 0, err
    (row,) = read_csv(tmp_path / "out" / "verdicts.csv")
    assert (row["recorded_verdict"], row["recorded_delta"], row["recorded_confidence"]) == (
        "WELL_RECEIVED", "+0.42", "0.80")
    assert (row["rejudged_verdict"], row["rejudged_delta"], row["changed"]) == ("NEUTRAL", "+0.00", "yes")
    page = (tmp_path / "out" / "summary.html").read_text().splitlines()
    assert ("<tr><td>wave</td><td>3.00</td><td>WELL_RECEIVED</td><td>+0.42</td><td>NEUTRAL</td><td>+0.00</td>"
            "<td>0.90</td><td>yes</td></tr>") in page


@pytest.mark.parametrize(("values", "says"), [
    ({"delta_threshold": "high", "level_threshold": [1]},
     "not a number: delta_threshold='high', level_threshold=[1]"),
    ({"baseline_window": -1.0, "response_delay": 5.0},
     "baseline_window must be > 0; response_delay (5.0) must be < response_end (3.0)"),
])
def test_every_wrong_parameter_is_named_in_one_line(
    values: dict[str, object], says: str, session: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump({"action_feedback_node": {"ros__parameters": values}}))
    assert run_report(capsys, session, "--params", bad, "-o", tmp_path / "out") == (
        1, "", f"report: {bad}: invalid action_feedback_node parameters: {says}\n")


def test_a_missing_parameter_file_is_one_line(
    session: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "nowhere.yaml"
    code, out, err = run_report(capsys, session, "--params", missing, "-o", tmp_path / "out")
    assert (code, out) == (1, "") and err.startswith(f"report: {missing}: ") and "No such file" in err
    assert len(err.splitlines()) == 1


def test_the_timeline_is_the_sessions_titled_with_its_file_and_parameters(
    session: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_report(capsys, session, "-o", tmp_path / "out")[0] == 0
    recorded, config = load_session(session), FeedbackConfig()
    expected = plot_timeline(timeline(recorded, rejudge(recorded, config)[0], config), tmp_path / "expected.png",
                             title="session.mcap: valence, actions and re-judged verdicts (package defaults)",
                             xlabel="time since the session's first stamp (s)")
    drawn = cv2.imread(str(tmp_path / "out" / "timeline.png"))
    assert drawn is not None and np.array_equal(drawn, cv2.imread(str(expected)))
