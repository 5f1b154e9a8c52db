# Copyright 2026 The emotion_perception Authors
# SPDX-License-Identifier: Apache-2.0
"""Camera-sized frames between two processes over Fast DDS: our XML profile against ``LARGE_DATA`` and the defaults.

Usage (with the venv of the distribution to measure sourced; ``make shell`` or ``make shell ROS_DISTRO=jazzy``):

    python benchmarks/transport_benchmark.py [--seconds 10] [--rate 30] [--json out/transport_<distro>.json]

Each setting runs a publisher of 640x480 bgr8 ``sensor_msgs/Image`` (best effort, depth 5: a camera driver's
sensor-data QoS) in this process and a subscriber with the same QoS in a child process, both with only that
setting's environment: ``default`` (no profile, no transport choice), ``shm_profile`` (config/fastdds_shm.xml
under the name this Fast DDS reads) and ``large_data`` (``FASTDDS_BUILTIN_TRANSPORTS=LARGE_DATA``, no XML).
It reports the frames delivered of those sent and the latency (publish stamp to receipt). Not a test.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from emotion_perception.ros.fastdds_profile import USER_CHOICE_VARIABLES, profile_variable

ROOT = Path(__file__).resolve().parents[1]
WIDTH, HEIGHT = 640, 480
SETTINGS = ("default", "shm_profile", "large_data")
DISCOVERY_S = 3.0  # the subscriber matched before the first frame counts


def setting_env(setting: str) -> dict[str, str]:
    """This process's environment with only ``setting``'s Fast DDS choice."""
    env = {k: v for k, v in os.environ.items() if k not in USER_CHOICE_VARIABLES}
    env.setdefault("ROS_AUTOMATIC_DISCOVERY_RANGE", "LOCALHOST")
    if setting == "shm_profile":
        env[profile_variable()] = str(ROOT / "config" / "fastdds_shm.xml")
    elif setting == "large_data":
        env["FASTDDS_BUILTIN_TRANSPORTS"] = "LARGE_DATA"
    return env


def subscribe(seconds: float) -> None:
    """Child: count frames for ``seconds`` and print their latencies (ms) as JSON."""
    import rclpy
    from rclpy.qos import qos_profile_sensor_data
    from sensor_msgs.msg import Image

    rclpy.init()
    node = rclpy.create_node("transport_benchmark_sub")
    latencies: list[float] = []

    def received(msg: Image) -> None:
        sent = msg.header.stamp.sec * 1e9 + msg.header.stamp.nanosec
        latencies.append((time.time_ns() - sent) / 1e6)

    node.create_subscription(Image, "transport_benchmark", received, qos_profile_sensor_data)
    print("ready", flush=True)
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        rclpy.spin_once(node, timeout_sec=0.05)
    print(json.dumps(latencies), flush=True)
    node.destroy_node()
    rclpy.shutdown()


def measure(setting: str, seconds: float, rate: float) -> dict:
    """Publish for ``seconds`` at ``rate`` under ``setting`` (this process re-executed with its environment)."""
    done = subprocess.run([sys.executable, __file__, "--publish", setting, "--seconds", str(seconds), "--rate",
                           str(rate)], env=setting_env(setting), capture_output=True, text=True,
                          timeout=seconds * 3 + 60)
    if done.returncode != 0:
        raise RuntimeError(f"{setting}: {done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def publish(setting: str, seconds: float, rate: float) -> None:
    """Re-executed with ``setting``'s environment: start the subscriber, publish, print the result as JSON."""
    import numpy as np
    import rclpy
    from rclpy.qos import qos_profile_sensor_data
    from sensor_msgs.msg import Image

    child = subprocess.Popen([sys.executable, __file__, "--subscribe", "--seconds", str(seconds + DISCOVERY_S + 2)],
                             stdout=subprocess.PIPE, text=True)
    assert child.stdout.readline().strip() == "ready"
    rclpy.init()
    node = rclpy.create_node("transport_benchmark_pub")
    publisher = node.create_publisher(Image, "transport_benchmark", qos_profile_sensor_data)
    frame = np.random.default_rng(0).integers(0, 255, (HEIGHT, WIDTH, 3), np.uint8).tobytes()
    deadline = time.monotonic() + DISCOVERY_S
    while publisher.get_subscription_count() == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(DISCOVERY_S)
    sent = 0
    start = time.monotonic()
    while time.monotonic() - start < seconds:
        msg = Image(height=HEIGHT, width=WIDTH, encoding="bgr8", step=WIDTH * 3, data=frame)
        now = time.time_ns()
        msg.header.stamp.sec, msg.header.stamp.nanosec = divmod(now, 1_000_000_000)
        publisher.publish(msg)
        sent += 1
        time.sleep(max(0.0, start + sent / rate - time.monotonic()))
    latencies = np.asarray(json.loads(child.communicate(timeout=seconds + 30)[0].strip().splitlines()[-1]))
    node.destroy_node()
    rclpy.shutdown()
    print(json.dumps({
        "setting": setting, "sent": sent, "delivered": int(latencies.size),
        "latency_ms_p50": round(float(np.percentile(latencies, 50)), 2) if latencies.size else None,
        "latency_ms_p95": round(float(np.percentile(latencies, 95)), 2) if latencies.size else None,
    }))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--rate", type=float, default=30.0, help="frames/s")
    parser.add_argument("--settings", nargs="+", choices=SETTINGS, default=list(SETTINGS))
    parser.add_argument("--json", type=Path, default=None, help="default out/transport_<ROS_DISTRO>.json")
    parser.add_argument("--publish", choices=SETTINGS, help=argparse.SUPPRESS)
    parser.add_argument("--subscribe", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.subscribe:
        return subscribe(args.seconds)
    if args.publish:
        return publish(args.publish, args.seconds, args.rate)
    distro = os.environ.get("ROS_DISTRO", "unknown")
    results = []
    for setting in args.settings:
        result = measure(setting, args.seconds, args.rate)
        print(f"{distro} {setting:12s} {result['delivered']:4d} / {result['sent']} frames, latency p50"
              f" {result['latency_ms_p50']} ms, p95 {result['latency_ms_p95']} ms", flush=True)
        results.append(result)
    path = args.json or ROOT / "out" / f"transport_{distro}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"distro": distro, "width": WIDTH, "height": HEIGHT, "rate_hz": args.rate,
                                "seconds": args.seconds, "results": results}, indent=2))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
