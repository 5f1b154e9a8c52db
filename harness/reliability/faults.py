# Copyright 2026 The emotion_perception Authors
# SPDX-License-Identifier: Apache-2.0
"""Fault scenarios: broken model files, broken statistics databases, SIGKILL + restart, a silent camera.

- model faults: the perception node must exit non-zero within seconds with a one-line reason that
  names the file (no traceback) for a missing, truncated, garbage or wrong-architecture model.
- database faults: the action-feedback node must exit non-zero naming the file and leave it
  byte-for-byte untouched for a garbage, truncated, foreign or unreachable database.
- kill/restart: SIGKILL the action-feedback node at seeded random moments of a stream; every
  verdict published before a kill must be in the database after the restart, which opens cleanly.
- silent camera: frames stop for ``gap_s`` and come back; the node answers again and its
  diagnostics show the gap ("no input frames").
"""

from __future__ import annotations

import hashlib
import random
import shutil
import sqlite3
import tempfile
import time
from pathlib import Path

import torch
from rclpy.qos import qos_profile_sensor_data
from sensor_msgs.msg import Image

from emotion_msgs.msg import EmotionReactionArray
from emotion_perception.feedback.rule import Action, ActionVerdict, Verdict
from emotion_perception.feedback.stats_store import StatsStore
from emotion_perception.ros.image_conversion import numpy_to_image
from emotion_perception.vision.model import DEFAULT_MODEL_PATH, card_path
from harness.reliability.common import (
    OUT_DIR,
    START_TIMEOUT_S,
    DiagnosticsRecorder,
    NodeProcess,
    Recorder,
    ScenarioResult,
    Stamper,
    driver,
    load_face_frames,
    stamp,
    start_perception_node,
    wait_for,
)
from harness.reliability.feedback_driver import SHORT_WINDOWS, Planner, database_ids, integrity


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _expect_clean_refusal(result: ScenarioResult, case: str, process: NodeProcess, must_name: str,
                          words: tuple[str, ...]) -> dict[str, object]:
    """Wait for the node to exit by itself; it must fail with a one-line reason, not a traceback."""
    code = process.wait_exit(START_TIMEOUT_S)
    seconds = time.monotonic() - process.started
    if code is None:
        process.kill()
    output = process.output()
    fatal = next((line for line in output.splitlines() if "cannot start" in line), "")
    result.expect(code not in (None, 0), f"{case}: exit status {code} (expected non-zero)")
    result.expect("Traceback" not in output, f"{case}: a traceback instead of a clear error")
    result.expect(must_name in fatal, f"{case}: the error does not name {must_name}: {fatal or output[-300:]!r}")
    result.expect(any(w in fatal.lower() for w in words), f"{case}: the error does not say {words}: {fatal!r}")
    figures = {"exit_code": code, "seconds_to_exit": round(seconds, 1), "error": fatal.split("cannot start: ")[-1]}
    if code != 1:  # the documented status of a node that cannot start: keep what it printed after the error
        figures["output_tail"] = output[-600:]
    return figures


def model_faults(model_path: str = "", log_dir: Path = OUT_DIR / "logs") -> ScenarioResult:
    """Start the perception node with broken model files; each start must fail cleanly."""
    source = Path(model_path) if model_path else DEFAULT_MODEL_PATH
    result = ScenarioResult("model_faults", {"model": str(source)})
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        cases: dict[str, tuple[dict[str, object], str, tuple[str, ...]]] = {}
        missing = folder / "missing" / "valence_model.pt"
        cases["missing_model"] = ({"model_path": str(missing)}, str(missing), ("does not exist", "missing"))
        if source.is_file() and card_path(source).is_file():
            truncated = folder / "truncated" / "valence_model.pt"
            truncated.parent.mkdir()
            truncated.write_bytes(source.read_bytes()[: source.stat().st_size // 2])
            shutil.copy(card_path(source), card_path(truncated))
            cases["truncated_model"] = ({"model_path": str(truncated)}, str(truncated), ("corrupt", "truncated"))
            garbage = folder / "garbage" / "valence_model.pt"
            garbage.parent.mkdir()
            garbage.write_bytes(random.Random(0).randbytes(4096))
            shutil.copy(card_path(source), card_path(garbage))
            cases["garbage_model"] = ({"model_path": str(garbage)}, str(garbage), ("corrupt", "truncated"))
            wrong = folder / "wrong_architecture" / "valence_model.pt"
            wrong.parent.mkdir()
            torch.save(torch.nn.Sequential(torch.nn.Conv2d(1, 8, 3), torch.nn.Linear(8, 3)).state_dict(), wrong)
            shutil.copy(card_path(source), card_path(wrong))
            cases["wrong_architecture"] = ({"model_path": str(wrong)}, str(wrong), ("does not fit", "architecture"))
            no_card = folder / "no_card" / "valence_model.pt"
            no_card.parent.mkdir()
            shutil.copy(source, no_card)
            cases["missing_card"] = ({"model_path": str(no_card)}, str(card_path(no_card)), ("card",))
        else:
            result.problems.append(f"no model at {source} to break: only the missing-file case ran")
        truncated_detector = folder / "detector" / "yunet.onnx"
        truncated_detector.parent.mkdir()
        truncated_detector.write_bytes(b"\x08\x07" + random.Random(1).randbytes(1000))
        cases["garbage_detector"] = ({"model_path": model_path, "detector_model_path": str(truncated_detector)},
                                     str(truncated_detector), ("detector", "onnx", "cannot", "corrupt", "load"))
        processes = {case: NodeProcess("perception_node", f"model_fault_{case}", log_dir, params)
                     for case, (params, _, _) in cases.items()}
        for case, (_, name, words) in cases.items():
            result.figures[case] = _expect_clean_refusal(result, case, processes[case], name, words)
    return result


def _sample_verdict(i: int) -> ActionVerdict:
    action = Action(f"old-{i}", "wave", 1_700_000_000_000_000_000 + i, 0.0)
    return ActionVerdict(action, Verdict.NEUTRAL, 0.0, 0.1, 0.1, 0.5, 3, 4, ("face_1",), action.stamp_ns + 1)


def database_faults(log_dir: Path = OUT_DIR / "logs") -> ScenarioResult:
    """Start the action-feedback node on broken databases; each start must fail and leave the file as it was."""
    result = ScenarioResult("database_faults", {})
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        garbage = folder / "garbage.db"
        garbage.write_bytes(random.Random(2).randbytes(8192))
        healthy = folder / "healthy.db"
        store = StatsStore(healthy)
        for i in range(200):
            store.record(_sample_verdict(i))
        store.close()
        truncated = folder / "truncated.db"
        truncated.write_bytes(healthy.read_bytes()[: healthy.stat().st_size * 2 // 3])
        flipped = folder / "flipped.db"
        data = bytearray(healthy.read_bytes())
        for offset in range(4096, len(data), 997):  # every page but the header page damaged
            data[offset] ^= 0xFF
        flipped.write_bytes(bytes(data))
        foreign = folder / "foreign.db"
        conn = sqlite3.connect(foreign)
        conn.execute("CREATE TABLE notes (text TEXT)")
        conn.execute("INSERT INTO notes VALUES ('someone else''s data')")
        conn.commit()
        conn.close()
        blocker = folder / "a_file"
        blocker.write_text("a file where the database folder should be")
        cases = {
            "garbage_file": (garbage, garbage, ("not an sqlite database",)),
            "truncated_database": (truncated, truncated, ("corrupt", "integrity", "malformed")),
            "damaged_pages": (flipped, flipped, ("corrupt", "integrity", "malformed")),
            "foreign_database": (foreign, foreign, ("not an emotion_perception stats database",)),
            "folder_is_a_file": (blocker / "stats.db", blocker, ("cannot create the folder",)),
        }
        before = {case: _digest(watched) for case, (_, watched, _) in cases.items()}
        processes = {case: NodeProcess("action_feedback_node", f"db_fault_{case}", log_dir,
                                       {"stats_db_path": str(path)}) for case, (path, _, _) in cases.items()}
        for case, (path, watched, words) in cases.items():
            figures = _expect_clean_refusal(result, case, processes[case], str(path), words)
            figures["file_untouched"] = _digest(watched) == before[case]
            result.expect(figures["file_untouched"], f"{case}: {watched} was modified")
            figures["sidecar_files_left"] = sorted(p.name for p in path.parent.glob(f"{path.name}-*"))
            result.figures[case] = figures
    return result


def kill_restart(rounds: int = 10, seed: int = 0, min_kill_s: float = 0.5, max_kill_s: float = 4.0,
                 reaction_rate: float = 200.0, action_rate: float = 10.0,
                 log_dir: Path = OUT_DIR / "logs") -> ScenarioResult:
    """SIGKILL the action-feedback node at seeded random moments of a stream, restart it on the same database."""
    params = {"rounds": rounds, "seed": seed, "kill_window_s": [min_kill_s, max_kill_s],
              "reaction_rate": reaction_rate, "action_rate": action_rate, "windows": SHORT_WINDOWS}
    result = ScenarioResult("kill_restart", params)
    rng = random.Random(seed)
    per_round = []
    with tempfile.TemporaryDirectory() as tmp, driver("kill_restart_driver") as d:
        db = Path(tmp) / "stats.db"
        planner = Planner(d, seed)
        node_params = {"stats_db_path": str(db), **SHORT_WINDOWS}
        published_before_kills: set[str] = set()
        for r in range(rounds):
            process = planner.start_node(log_dir, f"kill_restart_{r}", node_params)
            if r:  # the restart opened the database the previous process was killed on
                missing = published_before_kills - set(database_ids(db))
                result.expect(not missing, f"round {r}: {len(missing)} published verdicts missing after restart")
            kill_after = rng.uniform(min_kill_s, max_kill_s)
            planner.stream(kill_after, reaction_rate, action_rate, f"r{r}")
            process.kill()
            killed_at = time.monotonic()
            time.sleep(0.5)  # verdicts already on the wire arrive; nothing new can be published
            published = {msg.action_id for t, msg in planner.verdicts.snapshot() if t <= killed_at + 0.5}
            new = published - published_before_kills
            published_before_kills |= published
            check = integrity(db)
            result.expect(check == "ok", f"round {r}: integrity check after SIGKILL says {check}")
            recorded = set(database_ids(db))
            per_round.append({"kill_after_s": round(kill_after, 2), "verdicts_published": len(new),
                              "recorded_not_published": len(recorded - published_before_kills),
                              "integrity": check})
        final = planner.start_node(log_dir, "kill_restart_final", node_params)
        final_ids = database_ids(db)
        exit_code = final.stop()
        store = StatsStore(db)  # opens as the node does: a clean, writable store of this schema
        store_count = sum(row.count for row in store.stats())
        store.close()
    missing = published_before_kills - set(final_ids)
    actions = len(planner.actions_sent)
    result.figures = {
        "rounds": rounds, "actions_sent": actions, "verdicts_published_before_kills": len(published_before_kills),
        "verdicts_in_database": len(final_ids), "verdicts_lost": len(missing),
        "recorded_but_not_published": len(set(final_ids) - published_before_kills),
        "pending_at_kill_never_judged": actions - len(set(final_ids)), "duplicate_rows": len(final_ids) -
        len(set(final_ids)), "final_exit_code": exit_code, "rounds_detail": per_round,
    }
    result.expect(not missing, f"{len(missing)} verdicts published before a kill are not in the database")
    result.expect(len(final_ids) == len(set(final_ids)) == store_count, "duplicate or unreadable rows")
    result.expect(exit_code == 0, f"the last node exited with {exit_code} on SIGINT")
    result.expect(len(published_before_kills) > 0, "no verdict was published at all")
    return result


def silent_camera(before_s: float = 3.0, gap_s: float = 5.0, after_s: float = 3.0, rate: float = 10.0,
                  model_path: str = "", threads: int | None = None, log_dir: Path = OUT_DIR / "logs") -> ScenarioResult:
    """Face frames, then silence for ``gap_s``, then frames again: the node recovers and reports the gap."""
    params = {"before_s": before_s, "gap_s": gap_s, "after_s": after_s, "rate": rate}
    result = ScenarioResult("silent_camera", params)
    name, image, _ = load_face_frames()[2]
    msg = numpy_to_image(image, "bgr8")
    with driver("silent_camera_driver") as d:
        pub = d.node.create_publisher(Image, "image", qos_profile_sensor_data)
        arrays = Recorder(d.node, EmotionReactionArray, "/human/reactions")
        diagnostics = DiagnosticsRecorder(d.node, "perception_node")
        process = start_perception_node(result, "silent_camera", log_dir,
                                        {"model_path": model_path, "threads": threads}, pub, arrays.subscription)
        if process is None:
            return result
        try:
            stamper = Stamper()

            def stream(seconds: float) -> None:
                t0 = time.monotonic()
                while time.monotonic() - t0 < seconds:
                    msg.header.stamp = stamp(stamper.next_ns())
                    pub.publish(msg)
                    time.sleep(1.0 / rate)

            stream(before_s)
            gap_start = time.monotonic()
            time.sleep(gap_s)  # the camera's silence is the scenario
            resumed = time.monotonic()
            answered_before = sum(t < gap_start + 1.0 for t, _ in arrays.snapshot())
            stream(after_s)
            # The diagnostics window that holds the return, and the answers, reach this process.
            wait_for(lambda: (any(t >= resumed for t, _ in arrays.snapshot())
                     and any(float(s[3]["input_fps"]) > 0 for s in diagnostics.statuses(resumed + 1.5)))
                     or not process.alive(), 10.0)
            crashed = not process.alive()
        finally:
            exit_code = process.stop()
    statuses = diagnostics.statuses()
    silent = [s for s in statuses if gap_start + 1.0 <= s[0] <= resumed + 0.5]
    after = [s for s in statuses if s[0] > resumed + 1.5]
    answered_after = [t for t, _ in arrays.snapshot() if t >= resumed]
    result.figures = {
        "frame": name, "answered_before_gap": answered_before, "answered_after_gap": len(answered_after),
        "recovery_s": round(answered_after[0] - resumed, 2) if answered_after else None,
        "diagnostics_during_gap": len(silent),
        "gap_windows_reporting_no_input": sum(s[2].startswith("no input frames") and float(s[3]["input_fps"]) == 0
                                              for s in silent),
        "levels_during_gap": sorted({s[1] for s in silent}),
        "input_fps_after_gap": [float(s[3]["input_fps"]) for s in after],
        "crashed": crashed, "exit_code": exit_code,
    }
    result.expect(not crashed and exit_code == 0, f"the node died or exited with {exit_code}")
    result.expect(answered_before > 0, "no frame was answered before the gap")
    result.expect(len(answered_after) > 0, "no frame was answered after the camera came back")
    result.expect(result.figures["gap_windows_reporting_no_input"] >= max(1, int(gap_s) - 2),
                  f"diagnostics did not show the gap: {[(s[1], s[2]) for s in silent]}")
    result.expect(any(v > 0 for v in result.figures["input_fps_after_gap"]), "diagnostics did not show the return")
    return result
