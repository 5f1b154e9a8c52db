# Copyright 2026 The emotion_perception Authors
# SPDX-License-Identifier: Apache-2.0
"""Shared pieces of the reliability scenarios: node subprocesses, RSS sampling, a DDS driver node, figures."""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
import rclpy
from builtin_interfaces.msg import Time
from diagnostic_msgs.msg import DiagnosticArray
from rclpy.context import Context
from rclpy.executors import SingleThreadedExecutor
from rclpy.publisher import Publisher
from rclpy.qos import QoSProfile, ReliabilityPolicy
from rclpy.subscription import Subscription

from emotion_msgs.msg import EmotionReaction
from emotion_perception.ros.fastdds_profile import profile_variable
from emotion_perception.ros.spin_thread import SpinThread
from emotion_perception.tools.polling import wait_for
from emotion_perception.tools.strict_json import finite_or_none

ROOT = Path(__file__).resolve().parents[2]
OUT_DIR = ROOT / "out" / "reliability"
DATA_DIR = ROOT / "test" / "data"
PARAMS_FILE = ROOT / "config" / "emotion_perception.yaml"
SHM_PROFILE = ROOT / "config" / "fastdds_shm.xml"
NS_PER_S = 1_000_000_000
START_TIMEOUT_S = 120.0  #: a node may take this long to start on a loaded 2-core machine
RELIABLE_DEEP = QoSProfile(depth=1000, reliability=ReliabilityPolicy.RELIABLE)
#: Real-face fixtures (Video by Wolfgang Langer, Pexels) and the valence they show.
FACE_FRAMES: dict[str, int] = {
    "pexels_sad_030.jpg": EmotionReaction.NEGATIVE,
    "pexels_sad_045.jpg": EmotionReaction.NEGATIVE,
    "pexels_happy_330.jpg": EmotionReaction.POSITIVE,
    "pexels_happy_360.jpg": EmotionReaction.POSITIVE,
}


def check_environment() -> None:
    """Refuse to start DDS unless it stays on this host, on a domain of this run's own, with the SHM profile.

    Without the profile (read by Fast DDS when this process creates its first participant) camera
    frames between processes fall back to fragmented UDP and most are lost.
    """
    if os.environ.get("ROS_AUTOMATIC_DISCOVERY_RANGE") != "LOCALHOST" or not os.environ.get("ROS_DOMAIN_ID"):
        raise RuntimeError("set ROS_AUTOMATIC_DISCOVERY_RANGE=LOCALHOST and a ROS_DOMAIN_ID of this run's own")
    variable = profile_variable()
    if not Path(os.environ.get(variable, "")).is_file():
        raise RuntimeError(f"set {variable}={SHM_PROFILE} before this process starts DDS")


def node_environment() -> dict[str, str]:
    """The environment of a node under test: this process's, plus the shared-memory Fast DDS profile."""
    check_environment()
    return {**os.environ, profile_variable(): str(SHM_PROFILE), "PYTHONUNBUFFERED": "1",
            "RCUTILS_LOGGING_BUFFERED_STREAM": "0"}


def _param_text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def rss_mb(pid: int) -> float | None:
    """Resident set size of process ``pid`` in MB (from /proc), None once it has exited."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024.0
    except (FileNotFoundError, ProcessLookupError):
        return None
    return None


class NodeProcess:
    """One node of this package in its own process (as deployed), started with the parameter YAML.

    ``params`` are ``-p name:=value`` overrides; empty strings and None are left to the YAML. Output goes to
    ``log_dir/<label>.log``.
    """

    def __init__(self, module: str, label: str, log_dir: Path, params: dict[str, object] | None = None) -> None:
        log_dir.mkdir(parents=True, exist_ok=True)
        self.label = label
        self.log_path = log_dir / f"{label}.log"
        given = {k: v for k, v in (params or {}).items() if v not in ("", None)}
        overrides = [a for k, v in given.items() for a in ("-p", f"{k}:={_param_text(v)}")]
        self.command = [sys.executable, "-m", f"emotion_perception.ros.{module}",
                        "--ros-args", "--params-file", str(PARAMS_FILE), *overrides]
        self.started = time.monotonic()
        with self.log_path.open("w") as log:
            self.proc = subprocess.Popen(self.command, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT,
                                         env=node_environment())

    @property
    def pid(self) -> int:
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc.poll() is None

    def rss_mb(self) -> float | None:
        return rss_mb(self.pid) if self.alive() else None

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_exit(self, timeout: float) -> int | None:
        """The exit status once the process ends by itself within ``timeout`` s, else None (still running)."""
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs, as in a power cut or an OOM kill."""
        if self.alive():
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=10.0)

    def stop(self, timeout: float = 15.0) -> int:
        """SIGINT (Ctrl-C) and wait; SIGKILL after ``timeout`` s. Returns the exit status."""
        if self.alive():
            self.proc.send_signal(signal.SIGINT)
            if self.wait_exit(timeout) is None:
                self.kill()
        return self.proc.returncode

    def __enter__(self) -> NodeProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


class RssSampler:
    """Samples a process's RSS every ``period`` s on a thread: ``samples`` are ``(seconds since start, MB)``."""

    def __init__(self, pid: int, period: float = 0.5) -> None:
        self.pid, self.period = pid, period
        self.samples: list[tuple[float, float]] = []
        self._stop = threading.Event()
        self._t0 = time.monotonic()
        self._thread = threading.Thread(target=self._run, name=f"rss_{pid}", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            value = rss_mb(self.pid)
            if value is not None:
                self.samples.append((time.monotonic() - self._t0, value))
            self._stop.wait(self.period)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5.0)

    def figures(self, skip_s: float = 0.0) -> dict[str, float | None]:
        """Start/end (median of the first/last 5 samples after ``skip_s``), max, growth and slope in MB."""
        kept = [(t, v) for t, v in self.samples if t >= skip_s] or self.samples
        if not kept:
            return {"rss_start_mb": None, "rss_end_mb": None, "rss_max_mb": None, "rss_growth_mb": None,
                    "rss_slope_mb_per_min": None, "rss_every_10s_mb": []}
        values = [v for _, v in kept]
        start, end = float(np.median(values[:5])), float(np.median(values[-5:]))
        series: dict[int, float] = {}
        for t, v in kept:
            series.setdefault(int(t // 10), v)
        return {"rss_start_mb": round(start, 1), "rss_end_mb": round(end, 1), "rss_max_mb": round(max(values), 1),
                "rss_growth_mb": round(end - start, 1),
                "rss_slope_mb_per_min": round(slope_per_minute([t for t, _ in kept], values), 3),
                "rss_every_10s_mb": [round(v, 1) for _, v in sorted(series.items())]}


def slope_per_minute(times_s: list[float], values: list[float]) -> float:
    """Least-squares slope of ``values`` per minute of ``times_s`` (0 with fewer than 3 points)."""
    if len(values) < 3 or max(times_s) - min(times_s) <= 0:
        return 0.0
    return float(np.polyfit(np.asarray(times_s) / 60.0, np.asarray(values), 1)[0])


def percentiles(values: list[float], prefix: str = "latency", unit: str = "ms") -> dict[str, float | None]:
    """p50, p95 and max of ``values`` (None when there are none), rounded to 0.1."""
    if not values:
        return {f"{prefix}_p50_{unit}": None, f"{prefix}_p95_{unit}": None, f"{prefix}_max_{unit}": None}
    p50, p95 = np.percentile(values, [50, 95])
    return {f"{prefix}_p50_{unit}": round(float(p50), 1), f"{prefix}_p95_{unit}": round(float(p95), 1),
            f"{prefix}_max_{unit}": round(float(max(values)), 1)}


@dataclass
class ScenarioResult:
    """What one scenario measured (``figures``) and every expectation it found broken (``problems``)."""

    name: str
    params: dict[str, object]
    figures: dict[str, object] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    speed_problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems and not self.speed_problems

    def expect(self, condition: bool, problem: str) -> None:
        """A behaviour expectation (a crash, a lost verdict, a miscount): the tests assert these."""
        if not condition:
            self.problems.append(problem)

    def expect_speed(self, condition: bool, problem: str) -> None:
        """A speed goal (rates, latencies): a benchmark figure only, as it depends on the machine's load."""
        if not condition:
            self.speed_problems.append(problem)

    def to_dict(self) -> dict[str, object]:
        return {"scenario": self.name, "ok": self.ok, "params": self.params, "figures": self.figures,
                "problems": self.problems, "speed_problems": self.speed_problems}


def write_result(result: ScenarioResult, out_dir: Path = OUT_DIR) -> Path:
    """Write ``out_dir/<name>.json`` (strict JSON) and return its path."""
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{result.name}.json"
    path.write_text(json.dumps(finite_or_none(result.to_dict()), indent=2, allow_nan=False) + "\n")
    return path


def print_result(result: ScenarioResult) -> None:
    print(f"== {result.name}: {'OK' if result.ok else 'FAILED'}")
    for key, value in result.figures.items():
        print(f"   {key}: {value}")
    for problem in result.problems:
        print(f"   PROBLEM: {problem}")
    for problem in result.speed_problems:
        print(f"   SPEED GOAL MISSED: {problem}")


def stamp(ns: int) -> Time:
    sec, nanosec = divmod(int(ns), NS_PER_S)
    return Time(sec=sec, nanosec=nanosec)


def stamp_ns(t: Time) -> int:
    return t.sec * NS_PER_S + t.nanosec


class Stamper:
    """Strictly increasing wall-clock stamps (nodes compare stamps with their clock), unique per message."""

    def __init__(self) -> None:
        self._last = 0
        self._lock = threading.Lock()

    def next_ns(self) -> int:
        with self._lock:
            self._last = max(self._last + 1, time.time_ns())
            return self._last


def load_face_frames() -> list[tuple[str, np.ndarray, int]]:
    """The real-face fixtures as ``(file name, BGR image, expected valence)``."""
    frames = []
    for name, valence in FACE_FRAMES.items():
        image = cv2.imread(str(DATA_DIR / name))
        if image is None:
            raise FileNotFoundError(DATA_DIR / name)
        frames.append((name, image, valence))
    return frames


def letterbox(image: np.ndarray, width: int, height: int) -> np.ndarray:
    """``image`` centred on a black ``width`` x ``height`` canvas (no scaling; it must fit)."""
    canvas = np.zeros((height, width, 3), np.uint8)
    y0, x0 = (height - image.shape[0]) // 2, (width - image.shape[1]) // 2
    canvas[y0 : y0 + image.shape[0], x0 : x0 + image.shape[1]] = image
    return canvas


class Recorder:
    """Keeps ``(monotonic receipt time, message)`` of every message received on one topic."""

    def __init__(self, node: rclpy.node.Node, msg_type: type, topic: str, qos: QoSProfile = RELIABLE_DEEP) -> None:
        self.items: list[tuple[float, object]] = []
        self._lock = threading.Lock()
        self.subscription = node.create_subscription(msg_type, topic, self._keep, qos)

    def _keep(self, msg: object) -> None:
        with self._lock:
            self.items.append((time.monotonic(), msg))

    def __len__(self) -> int:
        with self._lock:
            return len(self.items)

    def snapshot(self) -> list[tuple[float, object]]:
        with self._lock:
            return list(self.items)

    def last_received(self) -> float:
        """Monotonic time of the latest message (-inf before the first)."""
        with self._lock:
            return self.items[-1][0] if self.items else -math.inf


class DiagnosticsRecorder(Recorder):
    """The ``/diagnostics`` statuses of one node: ``(receipt time, level, message, {key: value})``."""

    def __init__(self, node: rclpy.node.Node, node_name: str) -> None:
        super().__init__(node, DiagnosticArray, "/diagnostics")
        self.node_name = node_name

    def statuses(self, since: float = 0.0) -> list[tuple[float, int, str, dict[str, str]]]:
        out = []
        for t, array in self.snapshot():
            for status in array.status:
                if t >= since and status.name.startswith(f"{self.node_name}:"):
                    level = int.from_bytes(status.level, "little") if isinstance(status.level, bytes) else status.level
                    out.append((t, level, status.message, {kv.key: kv.value for kv in status.values}))
        return out

    def latest(self, since: float = 0.0) -> dict[str, str] | None:
        statuses = self.statuses(since)
        return statuses[-1][3] if statuses else None

    def wait_new(self, since: float, timeout: float = 5.0) -> dict[str, str] | None:
        """The first status received after ``since`` (monotonic), waiting up to ``timeout`` s."""
        wait_for(lambda: bool(self.statuses(since)), timeout)
        statuses = self.statuses(since)
        return statuses[0][3] if statuses else None


class Driver:
    """A node in this process that feeds and watches the node under test over real DDS (spun on a thread)."""

    def __init__(self, name: str = "reliability_driver") -> None:
        check_environment()
        self.context = Context()
        rclpy.init(context=self.context)
        self.node = rclpy.create_node(name, context=self.context)
        self.executor = SingleThreadedExecutor(context=self.context)
        self.executor.add_node(self.node)
        self._spinner = SpinThread(self.executor, name="driver_spin")

    def close(self) -> None:
        self._spinner.stop()
        self.node.destroy_node()
        self.context.try_shutdown()


@contextmanager
def driver(name: str = "reliability_driver") -> Iterator[Driver]:
    d = Driver(name)
    try:
        yield d
    finally:
        d.close()


def wait_ready(process: NodeProcess, ready: Callable[[], bool], timeout: float) -> bool:
    """Wait until ``ready()`` while the process lives; False when it exits or the time is up."""
    return wait_for(lambda: ready() or not process.alive(), timeout, period=0.1) and process.alive() and ready()


def start_perception_node(result: ScenarioResult, label: str, log_dir: Path, params: dict[str, object],
                          camera: Publisher, answers: Subscription) -> NodeProcess | None:
    """perception_node in its own process, once matched to ``camera`` (its input) and ``answers`` (its output).

    None when it did not start within ``START_TIMEOUT_S``: it is stopped, and its last output is a problem of
    ``result``.
    """
    process = NodeProcess("perception_node", label, log_dir, params)
    if wait_ready(process, lambda: camera.get_subscription_count() > 0 and answers.get_publisher_count() > 0,
                  START_TIMEOUT_S):
        return process
    process.stop()
    result.problems.append(f"the perception node did not start: {process.output()[-1500:]}")
    return None


def check_alone(pub_counts: list[int]) -> None:
    """Refuse to measure when another node of the same kind shares this DDS domain (its traffic would mix in)."""
    if any(count > 1 for count in pub_counts):
        raise RuntimeError(f"another node uses this ROS_DOMAIN_ID={os.environ.get('ROS_DOMAIN_ID')} "
                           f"(endpoint counts {pub_counts}); pick another domain")
