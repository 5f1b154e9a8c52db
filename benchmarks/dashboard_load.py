# Copyright 2026 The emotion_perception Authors
# SPDX-License-Identifier: Apache-2.0
"""Does the live dashboard slow perception down? Perception throughput with 0 pages, 10 reading pages and
10 stalled pages (sockets that never read), all in one process as in ``make demo`` (the worst case: the web
server shares the interpreter with perception).

    python -m benchmarks.dashboard_load [--seconds 20] [--rate 60]   # -> out/benchmark_dashboard.json

The video publisher plays the packaged clip faster than perception can follow, so ``processed_fps`` is
perception's capacity; ``process_cpu_percent`` is the CPU this process used (100 = one core). Pages run in a
child process, so their own reading is not counted there (but does compete for the same cores).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import rclpy
from diagnostic_msgs.msg import DiagnosticArray
from rclpy.executors import SingleThreadedExecutor
from rclpy.node import Node
from rclpy.parameter import Parameter
from rclpy.qos import QoSProfile, ReliabilityPolicy

from emotion_perception.ros.dashboard_node import DashboardNode
from emotion_perception.ros.perception_node import PerceptionNode
from emotion_perception.ros.spin_thread import SpinThread
from emotion_perception.tools.video_publisher import VideoPublisher
from emotion_perception.tools.video_source import default_clip_path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "out" / "benchmark_dashboard.json"
#: scenario -> what the child's pages do (None: no pages).
SCENARIOS = {"no pages": None, "10 reading pages, camera view hidden": "read-no-camera",
             "10 reading pages": "read", "10 stalled pages": "stall"}


def run_pages(port: int, mode: str, count: int, seconds: float) -> None:
    """Child process: ``count`` pages that read everything (``read``; ``read-no-camera`` as a hidden browser
    tab, which asks for no camera view) or never read after the handshake (``stall``)."""
    from websockets.sync.client import connect

    stop = time.monotonic() + seconds
    if mode.startswith("read"):
        def reader() -> None:
            with connect(f"ws://127.0.0.1:{port}/ws", max_size=None) as ws:
                ws.send(json.dumps({"camera": mode == "read"}))
                while time.monotonic() < stop:
                    try:
                        ws.recv(timeout=1.0)
                    except TimeoutError:
                        continue
        threads = [threading.Thread(target=reader, daemon=True) for _ in range(count)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return
    sockets = []
    for _ in range(count):
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.connect(("127.0.0.1", port))
        sock.sendall((f"GET /ws HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
        sockets.append(sock)
    time.sleep(max(stop - time.monotonic(), 0))  # hold the sockets open, unread, for the scenario


def _cpu_seconds() -> float:
    """CPU time (user + system) this process has used: perception, the dashboard and its web server."""
    times = os.times()
    return times.user + times.system


class DiagnosticsProbe(Node):
    """Collects perception's 1 Hz figures."""

    def __init__(self, **kwargs) -> None:
        super().__init__("dashboard_load_probe", **kwargs)
        self.samples: list[dict[str, float]] = []
        self.create_subscription(DiagnosticArray, "/diagnostics", self._on_diagnostics,
                                 QoSProfile(depth=50, reliability=ReliabilityPolicy.RELIABLE))

    def _on_diagnostics(self, msg: DiagnosticArray) -> None:
        for status in msg.status:
            values = {kv.key: kv.value for kv in status.values}
            if "processed_fps" in values:
                self.samples.append({k: float(values[k]) for k in ("processed_fps", "latency_p95_ms")})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="length of each scenario (s)")
    parser.add_argument("--rate", type=float, default=60.0, help="frames per second the video is played at")
    parser.add_argument("--pages-child", nargs=4, metavar=("PORT", "MODE", "COUNT", "SECONDS"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.pages_child:
        port, mode, count, seconds = args.pages_child
        run_pages(int(port), mode, int(count), float(seconds))
        return 0
    if os.environ.get("ROS_AUTOMATIC_DISCOVERY_RANGE") != "LOCALHOST" or not os.environ.get("ROS_DOMAIN_ID"):
        print("set ROS_AUTOMATIC_DISCOVERY_RANGE=LOCALHOST and a ROS_DOMAIN_ID of this run's own", file=sys.stderr)
        return 2

    rclpy.init()
    remap = ["--ros-args", "-r", "image:=/camera/image_raw"]
    nodes = [
        VideoPublisher(cli_args=remap, parameter_overrides=[
            Parameter("source", value=str(default_clip_path())), Parameter("rate", value=args.rate),
            # start_time > 0: to loop, VideoSource seeks back to start_time but skips the seek for 0 (the loop ends).
            Parameter("loop", value=True), Parameter("start_time", value=0.5)]),
        PerceptionNode(cli_args=remap),
        DashboardNode(parameter_overrides=[Parameter("port", value=0), Parameter("send_timeout", value=2.0)]),
        DiagnosticsProbe(),
    ]
    dashboard, probe = nodes[2], nodes[3]
    executor = SingleThreadedExecutor()  # not multi-threaded: see tools/demo.py
    for node in nodes:
        executor.add_node(node)
    spinner = SpinThread(executor)
    results = []
    try:
        time.sleep(5.0)  # warm up: model loaded, first frames through
        for scenario, mode in SCENARIOS.items():
            child = None
            if mode is not None:
                child = subprocess.Popen([sys.executable, "-m", "benchmarks.dashboard_load", "--pages-child",
                                          str(dashboard.server.port), mode, "10", str(args.seconds + 8)], cwd=ROOT)
            time.sleep(3.0)  # pages connected, the camera view (un)subscribed
            start, cpu_start, wall_start = len(probe.samples), _cpu_seconds(), time.monotonic()
            time.sleep(args.seconds / 2)
            pages_open, camera_subscribed = dashboard.hub.pages, dashboard.camera_subscribed  # mid-window
            time.sleep(args.seconds / 2)
            cpu_percent = 100 * (_cpu_seconds() - cpu_start) / (time.monotonic() - wall_start)
            samples = probe.samples[start:]
            result = {
                "scenario": scenario,
                "pages_open": pages_open,
                "processed_fps": round(statistics.mean(s["processed_fps"] for s in samples), 1),
                "latency_p95_ms": round(statistics.median(s["latency_p95_ms"] for s in samples), 1),
                "process_cpu_percent": round(cpu_percent),
                "camera_subscribed": camera_subscribed,
                "camera_frames_sent": dashboard.hub.counts["frames_sent"],
                "pages_closed_too_slow": dashboard.hub.counts["closed_too_slow"],
                "max_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
            }
            results.append(result)
            print(json.dumps(result), flush=True)
            if child is not None:
                child.wait(timeout=30)
    finally:
        spinner.stop()
        for node in nodes:
            node.destroy_node()
        rclpy.try_shutdown()
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps({"seconds": args.seconds, "video_rate": args.rate, "results": results}, indent=2) + "\n")
    print(f"wrote {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
