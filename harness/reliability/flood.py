# Copyright 2026 The emotion_perception Authors
# SPDX-License-Identifier: Apache-2.0
"""Flood scenarios: far more input than a node can use, into a node in its own process.

- perception flood: 640x480 bgr8 frames at ``rate`` Hz; the node keeps only the newest frame, so
  its processed rate should stay at the level of an unloaded node, the latency of what it
  processes bounded, and its RSS flat.
- action-feedback flood: ``reaction_rate`` reactions/s and ``action_rate`` actions/s; every action
  gets its verdict, the database holds every verdict, and RSS stays flat.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from rclpy.qos import qos_profile_sensor_data
from sensor_msgs.msg import Image

from emotion_msgs.msg import EmotionReactionArray
from emotion_perception.feedback.rule import FeedbackConfig
from emotion_perception.ros.image_conversion import numpy_to_image
from harness.reliability.common import (
    OUT_DIR,
    DiagnosticsRecorder,
    Recorder,
    RssSampler,
    ScenarioResult,
    Stamper,
    driver,
    letterbox,
    load_face_frames,
    percentiles,
    slope_per_minute,
    stamp,
    stamp_ns,
    start_perception_node,
    wait_for,
)
from harness.reliability.feedback_driver import Planner, database_ids

RSS_GROWTH_LIMIT_MB = 50.0
PERCEPTION_NODE = "perception_node"


def feedback_flood(seconds: float = 60.0, reaction_rate: float = 1000.0, action_rate: float = 50.0,
                   max_pending_actions: int | None = None, log_dir: Path = OUT_DIR / "logs") -> ScenarioResult:
    """Reactions and actions far above a real robot's rates into the action-feedback node.

    ``max_pending_actions`` None keeps the YAML value; actions wait ``response_end + lateness_grace``
    for their verdict, so at ``action_rate`` about ``action_rate * 3.3`` are pending at once.
    """
    config = FeedbackConfig()
    params: dict[str, object] = {"seconds": seconds, "reaction_rate": reaction_rate, "action_rate": action_rate,
                                 "max_pending_actions": max_pending_actions or config.max_pending_actions}
    result = ScenarioResult("feedback_flood", params)
    with tempfile.TemporaryDirectory() as tmp, driver("feedback_flood_driver") as d:
        db = Path(tmp) / "stats.db"
        node_params: dict[str, object] = {"stats_db_path": str(db)}
        if max_pending_actions:
            node_params["max_pending_actions"] = max_pending_actions
        planner = Planner(d)
        process = planner.start_node(log_dir, "feedback_flood", node_params)
        rss = RssSampler(process.pid)
        t0 = time.monotonic()
        planner.stream(seconds, reaction_rate, action_rate, "flood")
        stream_s = time.monotonic() - t0
        due_s = config.response_end + config.lateness_grace
        sent = len(planner.actions_sent)
        wait_for(lambda: len(planner.verdicts) >= sent or not process.alive(), due_s + 15.0, period=0.1)
        diag = planner.diagnostics.wait_new(time.monotonic(), timeout=3.0) or {}
        rss.stop()
        crashed = not process.alive()
        exit_code = process.stop()
        ids = planner.verdict_ids()
        recorded = database_ids(db) if db.exists() else []
        lateness = [1e3 * (t - planner.actions_sent[msg.action_id] - due_s) for t, msg in planner.verdicts.snapshot()
                    if msg.action_id in planner.actions_sent]
    drops = {k: int(v) for k, v in diag.items() if k.startswith("dropped_") and v != "0"}
    result.figures = {
        "reactions_sent": planner.reactions_sent, "reaction_rate_achieved_hz": round(planner.reactions_sent / stream_s),
        "reactions_received_by_node": int(diag.get("reactions_received", -1)),
        "reactions_lost_before_the_node": planner.reactions_sent - int(diag.get("reactions_received", 0)),
        "actions_sent": sent, "actions_received_by_node": int(diag.get("actions_received", -1)),
        "verdicts_published": len(ids), "verdicts_in_database": len(recorded),
        "verdicts_lost": len(set(planner.actions_sent) - set(ids)), "node_drops": drops,
        **percentiles(lateness, "verdict_lateness"), **rss.figures(skip_s=1.0),
        "crashed": crashed, "exit_code": exit_code,
    }
    result.expect(not crashed, f"the node died during the flood (exit {exit_code})")
    result.expect(exit_code == 0, f"the node exited with {exit_code} on SIGINT")
    result.expect(len(ids) == len(set(ids)), "some action got more than one verdict")
    result.expect(set(ids) == set(planner.actions_sent),
                  f"{result.figures['verdicts_lost']} of {sent} actions got no verdict (drops: {drops})")
    result.expect(sorted(recorded) == sorted(ids), "the database does not hold exactly the published verdicts")
    lost = result.figures["reactions_lost_before_the_node"]
    result.expect_speed(lost == 0, f"{lost} reactions never reached the node (its reliable queue overflowed)")
    growth = result.figures["rss_growth_mb"]
    result.expect(growth is not None and growth < RSS_GROWTH_LIMIT_MB, f"RSS grew by {growth} MB")
    return result


def _flood_frames() -> list[Image]:
    """640x480 bgr8 camera frames (real faces, letterboxed), built once and re-stamped per publish."""
    return [numpy_to_image(letterbox(image, 640, 480), "bgr8") for _, image, _ in load_face_frames()[1:3]]


def perception_flood(seconds: float = 60.0, rate: float = 300.0, normal_frames: int = 30, model_path: str = "",
                     threads: int | None = None, log_dir: Path = OUT_DIR / "logs") -> ScenarioResult:
    """640x480 frames at ``rate`` Hz into the perception node, compared with its unloaded (lock-step) rate."""
    params: dict[str, object] = {"seconds": seconds, "rate": rate, "normal_frames": normal_frames, "threads": threads}
    result = ScenarioResult("perception_flood", params)
    frames = _flood_frames()
    with driver("perception_flood_driver") as d:
        pub = d.node.create_publisher(Image, "image", qos_profile_sensor_data)
        arrays = Recorder(d.node, EmotionReactionArray, "/human/reactions")
        diagnostics = DiagnosticsRecorder(d.node, PERCEPTION_NODE)
        process = start_perception_node(result, "perception_flood", log_dir,
                                        {"model_path": model_path, "threads": threads}, pub, arrays.subscription)
        if process is None:
            return result
        try:
            stamper = Stamper()
            sent_at: dict[int, float] = {}

            def publish(i: int) -> int:
                msg = frames[i % len(frames)]
                ns = stamper.next_ns()
                msg.header.stamp = stamp(ns)
                sent_at[ns] = time.monotonic()
                pub.publish(msg)
                return ns

            # The normal level: one frame at a time, each sent once the previous one is answered.
            answered = lambda ns: any(stamp_ns(m.header.stamp) == ns for _, m in arrays.snapshot()[-5:])  # noqa: E731
            for i in range(3):  # warm-up
                ns = publish(i)
                wait_for(lambda ns=ns: answered(ns), 10.0)
            t0, normal_ok = time.monotonic(), 0
            for i in range(normal_frames):
                ns = publish(i)
                normal_ok += wait_for(lambda ns=ns: answered(ns), 5.0, period=0.002)
            normal_s = time.monotonic() - t0
            normal_latency = [lat for _, lat in _latencies(arrays.snapshot(), sent_at, since=t0)]
            # The flood.
            before = len(arrays)
            rss = RssSampler(process.pid)
            diag_since = t0 = time.monotonic()
            sent = 0
            while (now := time.monotonic()) - t0 < seconds:
                while sent < rate * (now - t0):
                    publish(sent)
                    sent += 1
                time.sleep(max(0.0, 1.0 / rate - (time.monotonic() - now)))
            flood_s = time.monotonic() - t0
            # The node has answered the last frame it took in: no answer for half a second.
            wait_for(lambda: time.monotonic() - arrays.last_received() > 0.5 or not process.alive(), 10.0)
            diag = diagnostics.wait_new(time.monotonic(), timeout=3.0) or {}
            rss.stop()
            items = arrays.snapshot()
            processed = len(items) - before
            flood_latency = _latencies(items[before:], sent_at, since=0.0)
            node_p95 = [float(v["latency_p95_ms"]) for _, _, _, v in diagnostics.statuses(diag_since)
                        if v.get("latency_p95_ms") not in (None, "nan")]
            crashed = not process.alive()
        finally:
            exit_code = process.stop()
    drops = {k: int(float(v)) for k, v in diag.items() if k.startswith("drops_")}
    accounted = len(items) + sum(drops.values())  # every frame sent, lock-step ones included
    normal_fps = normal_frames / normal_s
    processed_fps = processed / flood_s
    result.figures = {
        "normal_fps": round(normal_fps, 1), **percentiles(normal_latency, "normal_latency"),
        "frames_sent": sent, "publish_rate_achieved_hz": round(sent / flood_s, 1), "processed": processed,
        "processed_fps": round(processed_fps, 1), "processed_vs_normal": round(processed_fps / normal_fps, 2),
        "dropped_backlog": drops.get("drops_backlog", 0), "other_drops": sum(drops.values()) -
        drops.get("drops_backlog", 0), "lost_in_transport": sent + normal_frames + 3 - accounted,
        **percentiles([lat for _, lat in flood_latency], "flood_latency"),
        "flood_latency_slope_ms_per_min": round(slope_per_minute(*zip(*flood_latency, strict=True)), 2)
        if len(flood_latency) > 2 else None,
        "node_latency_p95_ms_worst_window": max(node_p95) if node_p95 else None,
        **rss.figures(skip_s=1.0), "crashed": crashed, "exit_code": exit_code,
    }
    result.expect(not crashed, f"the node died during the flood (exit {exit_code})")
    result.expect(exit_code == 0, f"the node exited with {exit_code} on SIGINT")
    result.expect(processed > 0, "no frame was processed under the flood")
    result.expect_speed(normal_ok == normal_frames, f"{normal_ok} of {normal_frames} lock-step frames answered in 5 s")
    result.expect_speed(processed_fps >= 0.5 * normal_fps,
                  f"processed {processed_fps:.1f} fps under flood vs {normal_fps:.1f} fps unloaded")
    p95 = result.figures["flood_latency_p95_ms"]
    normal_p95 = result.figures["normal_latency_p95_ms"] or 0.0
    result.expect_speed(p95 is not None and p95 <= 3.0 * normal_p95 + 100.0,
                  f"latency p95 under flood {p95} ms vs {normal_p95} ms unloaded")
    growth = result.figures["rss_growth_mb"]
    result.expect(growth is not None and growth < RSS_GROWTH_LIMIT_MB, f"RSS grew by {growth} MB")
    return result


def _latencies(items: list[tuple[float, EmotionReactionArray]], sent_at: dict[int, float],
               since: float) -> list[tuple[float, float]]:
    """``(receipt time, ms from publish to answer)`` of the answered frames published after ``since``."""
    out = []
    for t, msg in items:
        sent = sent_at.get(stamp_ns(msg.header.stamp))
        if sent is not None and sent >= since:
            out.append((t, 1e3 * (t - sent)))
    return out
