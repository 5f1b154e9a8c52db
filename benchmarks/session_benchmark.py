# Copyright 2026 The emotion_perception Authors
# SPDX-License-Identifier: Apache-2.0
"""Session figures: what `record` keeps of a reaction flood (+ camera frames), file size, `report` time.

`record` runs in its own process (as deployed); this process publishes reactions at --rate with an action
every second and, with --images, real 640x360 frames at 30 Hz, then stops the recorder with SIGINT and
re-judges the file with `report`. Prints the figures and writes out/benchmark_session.json.
Run: source .venv/activate-ros && ROS_DOMAIN_ID=42 python -m benchmarks.session_benchmark [--images]
"""

from __future__ import annotations

import argparse
import json
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import cv2
import rclpy
from builtin_interfaces.msg import Time
from rclpy.qos import qos_profile_sensor_data
from sensor_msgs.msg import Image
from std_msgs.msg import Header

from emotion_msgs.msg import EmotionReaction, RobotAction
from emotion_perception.ros.image_conversion import numpy_to_image
from emotion_perception.tools.session import report
from emotion_perception.tools.session.session_file import SessionReader
from harness.reliability.common import DATA_DIR, RELIABLE_DEEP, ROOT, node_environment, rss_mb, wait_for

NS_PER_S = 1_000_000_000


def get_args_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="how long to publish")
    parser.add_argument("--rate", type=float, default=300.0, help="reactions per s (30 fps x 10 faces)")
    parser.add_argument("--images", action="store_true", help="also publish and record 640x360 frames at 30 Hz")
    parser.add_argument("--output", type=Path, default=ROOT / "out" / "benchmark_session.json", help="JSON file")
    return parser


def _stamp(ns: int) -> Time:
    return Time(sec=ns // NS_PER_S, nanosec=ns % NS_PER_S)


def main(args: argparse.Namespace) -> dict:
    out_dir = args.output.parent / "session_benchmark"
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "bench.mcap"
    command = [sys.executable, "-m", "emotion_perception.tools.session.record", "-o", str(path)]
    recorder = subprocess.Popen(command + (["--images"] if args.images else []), env=node_environment(),
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT)
    rclpy.init()
    node = rclpy.create_node("session_benchmark")
    reactions = node.create_publisher(EmotionReaction, "/human/reaction", RELIABLE_DEEP)
    actions = node.create_publisher(RobotAction, "/robot/action", RELIABLE_DEEP)
    camera = node.create_publisher(Image, "/camera/image_raw", qos_profile_sensor_data)
    frame = cv2.imread(str(DATA_DIR / "pexels_happy_330.jpg"))
    sent: Counter[str] = Counter()
    peak_rss = 0.0
    try:
        publishers = [reactions, actions] + ([camera] if args.images else [])
        if not wait_for(lambda: all(p.get_subscription_count() > 0 for p in publishers), 60.0):
            raise RuntimeError("the recorder never subscribed")
        start = time.monotonic()
        t0 = time.time_ns()
        i = 0
        while (elapsed := time.monotonic() - start) < args.seconds:
            stamp = _stamp(t0 + round(elapsed * NS_PER_S))
            while sent["/human/reaction"] < elapsed * args.rate:
                reactions.publish(EmotionReaction(header=Header(stamp=stamp), face_id=f"face_{i % 10}",
                                                  valence_score=((i % 200) - 100) / 100, confidence=0.8))
                sent["/human/reaction"] += 1
                i += 1
            if sent["/robot/action"] < elapsed:
                actions.publish(RobotAction(header=Header(stamp=stamp), action_id=f"a{sent['/robot/action']}",
                                            name="wave"))
                sent["/robot/action"] += 1
            if args.images and sent["/camera/image_raw"] < elapsed * 30:
                camera.publish(numpy_to_image(frame, "bgr8", Header(stamp=stamp, frame_id="cam")))
                sent["/camera/image_raw"] += 1
            peak_rss = max(peak_rss, rss_mb(recorder.pid) or 0.0)
            time.sleep(0.002)
        time.sleep(2.0)  # reliable messages in flight
    finally:
        recorder.send_signal(signal.SIGINT)
        recorder.wait(timeout=30)
        node.destroy_node()
        rclpy.try_shutdown()
    reader = SessionReader(path)
    recorded = Counter(m.topic for m, _ in reader.messages())
    started = time.monotonic()
    report.main([str(path), "-o", str(out_dir / "report")])
    figures = {
        "seconds": args.seconds,
        "reaction_rate": args.rate,
        "sent": dict(sent),
        "recorded": {t: recorded[t] for t in sent},
        "file_complete": reader.complete,
        "file_mb": round(path.stat().st_size / 1e6, 3),
        "bytes_per_reaction": round(path.stat().st_size / max(recorded["/human/reaction"], 1), 1)
        if not args.images else None,
        "recorder_peak_rss_mb": round(peak_rss, 1),
        "report_s": round(time.monotonic() - started, 2),
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(figures, indent=2) + "\n")
    print(json.dumps(figures, indent=2))
    return figures


if __name__ == "__main__":
    main(get_args_parser().parse_args())
