# Copyright 2026 The emotion_perception Authors
# SPDX-License-Identifier: Apache-2.0
"""What each node costs while the demo loop runs: CPU and memory of every node in its own process.

    python -m benchmarks.demo_nodes [--seconds 20] [--page websocket|chromium]   # -> out/benchmark_demo_nodes.json

The nodes start as ``ros2 launch emotion_perception perception.launch.py use_video:=true dashboard:=true``
starts them, one process each with the parameter YAML and the SHM profile: the video publisher playing the
packaged clip (24 fps, looped), perception, action feedback and the dashboard; this process is the planner,
sending a robot action every 4 s. Each node's CPU (user + system from ``/proc``, % of one core) is measured
over the same ``--seconds``, first with no dashboard page open, then with one page open that shows the camera
view (a websocket client asking what the page asks for, or the real page in headless Chromium), which also
makes perception draw its debug image. RSS is the resident memory at the end of each window, peak RSS the
process's high-water mark. Not a test: the figures depend on the machine's load (noted in the JSON).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from benchmarks.dds_environment import keep_dds_on_this_host

ROOT = Path(__file__).resolve().parents[1]
keep_dds_on_this_host()  # before rclpy is imported

import rclpy  # noqa: E402
from rclpy.qos import DurabilityPolicy, HistoryPolicy, QoSProfile, ReliabilityPolicy  # noqa: E402

from benchmarks.process_stats import CpuWindow, memory_mb  # noqa: E402
from emotion_msgs.msg import RobotAction  # noqa: E402
from emotion_perception.tools.polling import wait_for  # noqa: E402

OUT = ROOT / "out" / "benchmark_demo_nodes.json"
PARAMS_FILE = ROOT / "config" / "emotion_perception.yaml"
ACTION_QOS = QoSProfile(history=HistoryPolicy.KEEP_ALL, reliability=ReliabilityPolicy.RELIABLE,
                        durability=DurabilityPolicy.VOLATILE)
ACTIONS = ("greet", "joke", "offer_tissue", "wave")
ACTION_PERIOD_S = 4.0
START_TIMEOUT_S = 120.0


def free_port() -> int:
    """A TCP port nobody listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def node_commands(port: int, db_path: Path) -> dict[str, list[str]]:
    """Each node's command line, with the YAML and the launch file's camera remapping."""
    def node(module: str, *params: str) -> list[str]:
        return [sys.executable, "-m", module, "--ros-args", "--params-file", str(PARAMS_FILE),
                "-r", "image:=camera/image_raw", *(arg for param in params for arg in ("-p", param))]

    return {
        # start_time > 0: VideoSource seeks back to it to loop (dashboard_load does the same).
        "video_publisher": node("emotion_perception.tools.video_publisher", "loop:=true", "start_time:=0.5"),
        "perception_node": node("emotion_perception.ros.perception_node"),
        "action_feedback_node": node("emotion_perception.ros.action_feedback_node", f"stats_db_path:={db_path}"),
        "dashboard": node("emotion_perception.ros.dashboard_node", f"port:={port}"),
    }


@contextmanager
def nodes_running(commands: dict[str, list[str]], log_dir: Path) -> Iterator[dict[str, subprocess.Popen]]:
    """Every node started, each logging to ``log_dir/<name>.log``; all stopped (SIGINT, then SIGKILL) at the end."""
    log_dir.mkdir(parents=True, exist_ok=True)
    processes: dict[str, subprocess.Popen] = {}
    try:
        for name, command in commands.items():
            with (log_dir / f"{name}.log").open("w") as log:
                processes[name] = subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
        yield processes
    finally:
        for process in processes.values():
            process.send_signal(signal.SIGINT)
        for process in processes.values():
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


@contextmanager
def page_open(port: int, kind: str, seconds: float) -> Iterator[None]:
    """One dashboard page showing the camera view for about ``seconds``: a websocket client or headless Chromium."""
    if kind == "websocket":
        child = subprocess.Popen([sys.executable, "-m", "benchmarks.dashboard_load", "--pages-child", str(port),
                                  "read", "1", str(seconds + 10)], cwd=ROOT)
        try:
            yield
        finally:
            child.kill()
            child.wait(timeout=10)
        return
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    try:
        driver.get(f"http://127.0.0.1:{port}/")
        yield
    finally:
        driver.quit()


def window(processes: dict[str, subprocess.Popen], seconds: float, act: object) -> dict[str, dict[str, float]]:
    """Each process's CPU over ``seconds`` (robot actions sent meanwhile) and its memory at the end."""
    load = os.getloadavg()[0]
    cpu = CpuWindow({name: process.pid for name, process in processes.items()})
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        act()
        time.sleep(min(ACTION_PERIOD_S, left))
    percent = cpu.percent()
    return {name: {"cpu_percent": percent[name], **memory_mb(process.pid), "load_average_1min_at_start": load}
            for name, process in processes.items()}


def markdown_table(phases: dict[str, dict[str, dict[str, float]]]) -> str:
    """Per node and phase: CPU (% of one core) and RSS."""
    names = list(next(iter(phases.values())))
    lines = ["| node (own process), demo clip at 24 fps | " + " | ".join(f"{phase}: CPU, RSS" for phase in phases)
             + " |", "|---" * (len(phases) + 1) + "|"]
    lines += [f"| {name} | " + " | ".join(f"{figures[name]['cpu_percent']:.1f} %, {figures[name]['rss_mb']:.0f} MB"
                                          for figures in phases.values()) + " |" for name in names]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="length of each window (s)")
    parser.add_argument("--warmup", type=float, default=10.0, help="s after every node is up before measuring")
    parser.add_argument("--page", choices=("websocket", "chromium"), default="websocket",
                        help="what holds the dashboard page open in the second window")
    parser.add_argument("--out", type=Path, default=OUT, help="JSON output")
    args = parser.parse_args(argv)
    port = free_port()
    rclpy.init()
    planner = rclpy.create_node("demo_nodes_planner")
    actions = planner.create_publisher(RobotAction, "robot/action", ACTION_QOS)
    sent = {"count": 0}

    def act() -> None:
        name = ACTIONS[sent["count"] % len(ACTIONS)]
        action = RobotAction(action_id=f"{name}-{sent['count']}", name=name, duration=0.0)
        action.header.stamp = planner.get_clock().now().to_msg()
        actions.publish(action)
        sent["count"] += 1

    phases: dict[str, dict[str, dict[str, float]]] = {}
    try:
        with tempfile.TemporaryDirectory() as tmp, \
                nodes_running(node_commands(port, Path(tmp) / "stats.db"), ROOT / "out" / "demo_nodes") as processes:
            def dashboard_up() -> bool:
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=1.0):
                        return True
                except OSError:
                    return False

            if not wait_for(dashboard_up, START_TIMEOUT_S, period=0.5):
                raise RuntimeError("the dashboard did not answer; see out/demo_nodes/dashboard.log")
            time.sleep(args.warmup)
            phases["no page open"] = window(processes, args.seconds, act)
            with page_open(port, args.page, args.seconds + 5):
                time.sleep(5.0)  # the page connected, the camera view subscribed
                phases[f"one page open ({args.page}, camera view)"] = window(processes, args.seconds, act)
            if any(process.poll() is not None for process in processes.values()):
                raise RuntimeError("a node ended during the measurement; see out/demo_nodes/*.log")
    finally:
        planner.destroy_node()
        rclpy.try_shutdown()
    print(markdown_table(phases))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"seconds": args.seconds, "cpus": os.cpu_count(), "actions_sent": sent["count"],
                                    "phases": phases}, indent=2) + "\n")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
