# Copyright 2026 The emotion_perception Authors
# SPDX-License-Identifier: Apache-2.0
"""Soak: the real-face clip on a loop through both nodes (each in its own process) with scripted actions.

The perception node's reactions go straight to the action-feedback node over DDS, as on the
robot. Figures: RSS of both nodes with a fitted slope (after a warm-up), end-to-end frame latency
per minute with its slope, and verdicts vs actions (published and in the database).
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import cv2
import numpy as np
from rclpy.qos import qos_profile_sensor_data
from sensor_msgs.msg import Image

from emotion_perception.feedback.rule import FeedbackConfig
from emotion_perception.ros.image_conversion import numpy_to_image
from emotion_perception.tools.video_source import default_clip_path
from harness.reliability.common import (
    OUT_DIR,
    RssSampler,
    ScenarioResult,
    check_alone,
    driver,
    percentiles,
    slope_per_minute,
    stamp,
    start_perception_node,
    wait_for,
)
from harness.reliability.feedback_driver import Planner, database_ids
from harness.reliability.fuzz import Answers

#: Projected growth over 30 min above which a trend counts as a leak / a drift.
RSS_TREND_LIMIT_MB_PER_30_MIN = 50.0
LATENCY_TREND_LIMIT_MS_PER_30_MIN = 100.0


class LoopingClip:
    """Frames of a video file as ``sensor_msgs/Image`` (bgr8), starting over at its end."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.capture = cv2.VideoCapture(str(path))
        self.loops = 0

    def next(self) -> Image:
        ok, frame = self.capture.read()
        if not ok:
            self.capture.release()
            self.capture = cv2.VideoCapture(str(self.path))
            self.loops += 1
            ok, frame = self.capture.read()
            if not ok:
                raise RuntimeError(f"cannot read {self.path}")
        msg = numpy_to_image(frame, "bgr8")
        msg.header.frame_id = "camera_optical_frame"
        return msg


def soak(minutes: float = 30.0, rate: float = 10.0, action_period_s: float = 4.0, warmup_s: float = 30.0,
         model_path: str = "", threads: int | None = None, log_dir: Path = OUT_DIR / "logs") -> ScenarioResult:
    """Run the loop for ``minutes``; trends are fitted on the samples after ``warmup_s``."""
    params = {"minutes": minutes, "rate_hz": rate, "action_period_s": action_period_s, "warmup_s": warmup_s,
              "threads": threads}
    result = ScenarioResult("soak", params)
    config = FeedbackConfig()
    clip = LoopingClip(default_clip_path())
    with tempfile.TemporaryDirectory() as tmp, driver("soak_driver") as d:
        db = Path(tmp) / "stats.db"
        pub = d.node.create_publisher(Image, "image", qos_profile_sensor_data)
        answers = Answers(d.node)
        planner = Planner(d)
        feedback = planner.start_node(log_dir, "soak_feedback", {"stats_db_path": str(db)})
        perception = start_perception_node(result, "soak_perception", log_dir,
                                           {"model_path": model_path, "threads": threads}, pub, answers.subscription)
        if perception is None:
            feedback.stop()
            return result
        try:
            check_alone([pub.get_subscription_count(), answers.subscription.get_publisher_count()])
            samplers = {"perception": RssSampler(perception.pid, 2.0), "feedback": RssSampler(feedback.pid, 2.0)}
            sent_at: dict[int, float] = {}
            t0 = time.monotonic()
            frames = actions = 0
            while (now := time.monotonic()) - t0 < 60.0 * minutes and perception.alive() and feedback.alive():
                msg = clip.next()
                ns = planner.stamper.next_ns()
                msg.header.stamp = stamp(ns)
                sent_at[ns] = time.monotonic()
                pub.publish(msg)
                frames += 1
                if now - t0 >= actions * action_period_s + 2.0:  # the first action after 2 s of baseline
                    planner.publish_action(f"soak-{actions}")
                    actions += 1
                time.sleep(max(0.0, t0 + frames / rate - time.monotonic()))
            stream_s = time.monotonic() - t0
            due = config.response_end + config.lateness_grace
            wait_for(lambda: len(planner.verdicts) >= actions, due + 10.0, period=0.1)
            for sampler in samplers.values():
                sampler.stop()
            crashed = [name for name, p in (("perception", perception), ("feedback", feedback)) if not p.alive()]
        finally:
            exit_codes = {"perception": perception.stop(), "feedback": feedback.stop()}
        recorded = database_ids(db) if db.exists() else []
    latencies = [(t - t0, 1e3 * (t - sent_at[ns])) for t, ns in answers.timed() if ns in sent_at]
    after_warmup = [(t, v) for t, v in latencies if t >= warmup_s] or latencies
    lat_slope = slope_per_minute([t for t, _ in after_warmup], [v for _, v in after_warmup])
    per_minute: dict[int, list[float]] = {}
    for t, v in latencies:
        per_minute.setdefault(int(t // 60), []).append(v)
    verdict_ids = planner.verdict_ids()
    result.figures = {
        "minutes": round(stream_s / 60.0, 2), "frames_sent": frames, "clip_loops": clip.loops,
        "frames_answered": len(latencies), "actions": actions, "verdicts_published": len(verdict_ids),
        "verdicts_in_database": len(recorded),
        **percentiles([v for _, v in latencies], "latency"),
        "latency_p50_per_minute_ms": [round(float(np.median(v)), 1) for _, v in sorted(per_minute.items())],
        "latency_slope_ms_per_min": round(lat_slope, 2),
        **{f"{name}_{k}": v for name, s in samplers.items() for k, v in s.figures(skip_s=warmup_s).items()},
        "crashed": crashed, "exit_codes": exit_codes,
    }
    result.expect(not crashed, f"node(s) died: {crashed}")
    result.expect(all(code == 0 for code in exit_codes.values()), f"exit codes on SIGINT: {exit_codes}")
    result.expect(sorted(verdict_ids) == sorted(f"soak-{i}" for i in range(actions)),
                  f"{len(verdict_ids)} verdicts for {actions} actions")
    result.expect(sorted(recorded) == sorted(verdict_ids), "the database does not hold exactly the published verdicts")
    for name in samplers:
        slope = result.figures[f"{name}_rss_slope_mb_per_min"] or 0.0
        result.expect_speed(slope * 30.0 < RSS_TREND_LIMIT_MB_PER_30_MIN, f"{name} RSS trend {slope:.2f} MB/min")
    result.expect_speed(lat_slope * 30.0 < LATENCY_TREND_LIMIT_MS_PER_30_MIN, f"latency trend {lat_slope:.1f} ms/min")
    return result

