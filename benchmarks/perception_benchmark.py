# Copyright 2026 The emotion_perception Authors
# SPDX-License-Identifier: Apache-2.0
"""Perception speed figures: compute per frame (fps, stages, RSS), the fer package as a peer, and CPU per camera.

Usage (``make benchmark`` runs it with the defaults):

    python benchmarks/perception_benchmark.py [--frames 300] [--threads 1 2] [--seconds 15] [--skip-fer]

Scenes are real 640x480 bgr8 frames (:mod:`benchmarks.scenes`: the clip, five people moving, the static fixtures).

Two kinds of figure, in ``out/benchmark_perception.json``:

- ``pipeline``: **compute** per frame, in this process: conversion, recognizer and publishing to a subscriber of
  this process, frames back to back, no transport between processes (fps, p50 / p95, mean ms per stage);
- ``cpu_per_camera``: what a camera **costs the robot**: ``perception_node`` in its own process fed a 15 or 30 Hz
  camera of 1 or 5 faces from another process over DDS (SHM profile), its whole process's CPU (user + system
  from ``/proc``, % of one core), frames answered and latency stamp → array in a third process, with the node's
  defaults and with ``threads: 1`` (:mod:`benchmarks.node_cpu`).

Not a test: the figures depend on the machine and its load (the JSON notes the load average).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # `make benchmark` runs this file as a script: its sibling modules are benchmarks.*

from benchmarks.dds_environment import keep_dds_on_this_host  # noqa: E402

keep_dds_on_this_host()  # before rclpy is imported

import cv2  # noqa: E402
import numpy as np  # noqa: E402
import rclpy  # noqa: E402
from rclpy.executors import SingleThreadedExecutor  # noqa: E402
from rclpy.qos import QoSProfile, ReliabilityPolicy  # noqa: E402
from sensor_msgs.msg import Image  # noqa: E402
from std_msgs.msg import Header  # noqa: E402

from benchmarks import node_cpu  # noqa: E402
from benchmarks.scenes import MOVING, scenes  # noqa: E402
from emotion_msgs.msg import EmotionReaction, EmotionReactionArray  # noqa: E402
from emotion_perception.ros.image_conversion import image_to_bgr8, numpy_to_image  # noqa: E402
from emotion_perception.ros.messages import reaction_to_msg  # noqa: E402
from emotion_perception.ros.perception_node import CONFIG_KEYS, PARAMETERS  # noqa: E402
from emotion_perception.ros.spin_thread import SpinThread  # noqa: E402
from emotion_perception.vision.classifier import PRECISIONS, ValenceClassifier  # noqa: E402
from emotion_perception.vision.recognizer import EmotionRecognizer, RecognizerConfig  # noqa: E402

FER_PYTHON = ROOT / ".venv-fer" / "bin" / "python"
RELIABLE_10 = QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE)
TARGETS = {"fps_1_face": 100.0, "p95_ms_1_face": 12.0, "fps_5_faces": 60.0, "rss_mb": 600.0, "fer_ratio": 6.0,
           **node_cpu.GOALS}


def node_config() -> RecognizerConfig:
    """The perception node's defaults (config/emotion_perception.yaml)."""
    return RecognizerConfig(**{k: PARAMETERS[k][0] for k in CONFIG_KEYS})


def rss_mb() -> tuple[float, float]:
    """(current, peak) resident set size of this process in MB."""
    status = Path("/proc/self/status").read_text()
    current = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS"))
    return current / 1024, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def pipeline(
    messages: list[Image], threads: int, count: int, node: rclpy.node.Node, config: RecognizerConfig,
    classifier: ValenceClassifier,
) -> dict:
    """Time convert -> detect -> classify -> publish on ``count`` frames in order, as the node does per frame.

    A subscriber of this process takes every message, so publishing serialises and delivers for real.
    """
    recognizer = EmotionRecognizer(config=config, threads=threads, classifier=classifier)
    reaction_pub = node.create_publisher(EmotionReaction, "/human/reaction", RELIABLE_10)
    array_pub = node.create_publisher(EmotionReactionArray, "/human/reactions", RELIABLE_10)
    delivered = {"reactions": 0, "arrays": 0}

    def count_into(key: str) -> object:
        return lambda _msg: delivered.__setitem__(key, delivered[key] + 1)

    subscriptions = [node.create_subscription(EmotionReaction, "/human/reaction", count_into("reactions"), 1000),
                     node.create_subscription(EmotionReactionArray, "/human/reactions", count_into("arrays"), 1000)]
    deadline = time.monotonic() + 10.0
    while min(reaction_pub.get_subscription_count(), array_pub.get_subscription_count()) == 0:
        if time.monotonic() > deadline:
            raise RuntimeError("the benchmark's own subscriber did not match its publishers")
        time.sleep(0.01)
    for msg in messages[:10]:  # warm-up
        recognizer.run(image_to_bgr8(msg))
    recognizer.reset()
    stages = {k: [] for k in ("convert", "detect", "classify", "publish", "total")}
    faces = 0
    start, cpu_start = time.perf_counter(), time.process_time()
    for i in range(count):
        msg = messages[i % len(messages)]
        t0 = time.perf_counter()
        frame = image_to_bgr8(msg)
        t1 = time.perf_counter()
        reactions = recognizer.run(frame)
        t2 = time.perf_counter()
        reaction_msgs = [reaction_to_msg(reaction, msg.header) for reaction in reactions]
        for reaction_msg in reaction_msgs:
            reaction_pub.publish(reaction_msg)
        array_pub.publish(EmotionReactionArray(header=msg.header, reactions=reaction_msgs))
        t3 = time.perf_counter()
        faces += len(reactions)
        for key, value in (("convert", t1 - t0), ("detect", recognizer.times.detect_ms / 1e3),
                           ("classify", recognizer.times.classify_ms / 1e3), ("publish", t3 - t2), ("total", t3 - t0)):
            stages[key].append(1e3 * value)
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    deadline = time.monotonic() + 10.0
    while delivered["arrays"] < count and time.monotonic() < deadline:
        time.sleep(0.01)
    for subscription in subscriptions:
        node.destroy_subscription(subscription)
    node.destroy_publisher(reaction_pub)
    node.destroy_publisher(array_pub)
    total = np.asarray(stages["total"])
    return {
        "threads": threads,
        "frames": count,
        "faces_per_frame": faces / count,
        "fps": count / elapsed,
        "process_cpu_ms_per_frame": 1e3 * cpu / count,
        "compute_p50_ms": float(np.percentile(total, 50)),
        "compute_p95_ms": float(np.percentile(total, 95)),
        "stage_mean_ms": {k: float(np.mean(v)) for k, v in stages.items()},
        "stage_p95_ms": {k: float(np.percentile(v, 95)) for k, v in stages.items()},
        "arrays_delivered_to_subscriber": delivered["arrays"],
        "reactions_delivered_to_subscriber": delivered["reactions"],
    }


def fer_peer(frames: dict[str, list[np.ndarray]], images_per_scene: int, threads: int) -> dict | None:
    """The ``fer`` package's released pipeline (Haar cascade + mini-Xception) on the same frames."""
    if not FER_PYTHON.exists():
        setup = ROOT / "tools" / "setup_fer_peer.sh"
        if not setup.exists():
            print("fer peer: tools/setup_fer_peer.sh is missing; skipped")
            return None
        print("fer peer: creating .venv-fer (once)")
        subprocess.run(["bash", str(setup)], check=True, cwd=ROOT)
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for scene, images in frames.items():
            folder = Path(tmp) / scene
            folder.mkdir()
            for i in range(images_per_scene):
                cv2.imwrite(str(folder / f"{i:03d}.png"), images[i % len(images)])
            out = Path(tmp) / f"{scene}.json"
            subprocess.run(
                [str(FER_PYTHON), "-m", "benchmarks.fer_peer", "pipeline", "--images", str(folder),
                 "--threads", str(threads), "--json", str(out)],
                check=True, cwd=ROOT, timeout=600, stdout=subprocess.DEVNULL,
            )
            results[scene] = json.loads(out.read_text())
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=300, help="frames timed per scene and thread count")
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2], help="thread counts to time")
    parser.add_argument("--seconds", type=float, default=15.0, help="measured seconds of each CPU-per-camera run")
    parser.add_argument("--rates", type=float, nargs="+", default=[15.0, 30.0], help="CPU per camera: camera rates")
    parser.add_argument("--cpu-threads", type=int, nargs="+", default=[0, 1],
                        help="CPU per camera: the node's threads (0 = its default)")
    parser.add_argument("--faces", type=int, nargs="+", default=[1, 5], choices=sorted(MOVING),
                        help="CPU per camera: faces in view (0: the empty room)")
    parser.add_argument("--repeat", type=int, default=1, help="CPU per camera: runs of each (medians reported)")
    parser.add_argument("--fer-images", type=int, default=40, help="frames per scene for the fer peer")
    parser.add_argument("--skip-fer", action="store_true", help="do not run the fer peer")
    parser.add_argument("--skip-cross", action="store_true", help="do not measure CPU per camera (cross-process)")
    parser.add_argument("--set", nargs="+", default=[], metavar="NAME=INT",
                        help="override node defaults for the 'defaults' run, e.g. --set classify_every=3")
    parser.add_argument("--precision", default="auto", choices=PRECISIONS,
                        help="classifier precision (auto: the shipped int8 export)")
    parser.add_argument("--out", type=Path, default=ROOT / "out" / "benchmark_perception.json", help="JSON output")
    args = parser.parse_args(argv)

    rclpy.init()
    node = rclpy.create_node("perception_benchmark")
    planner = node_cpu.Planner()
    executor = SingleThreadedExecutor()
    executor.add_node(node)
    executor.add_node(planner)
    spinner = SpinThread(executor)
    overrides = {name: type(getattr(node_config(), name))(value) for name, value in (s.split("=") for s in args.set)}
    configs = {"defaults": replace(node_config(), **overrides),
               "every_frame": replace(node_config(), detect_every=1, classify_every=1)}
    report: dict = {"machine": {"cpus": os.cpu_count(), "load_average_1min_at_start": os.getloadavg()[0]},
                    "configs": {k: vars(v) for k, v in configs.items()}, "pipeline": {}, "targets": TARGETS,
                    "note": "pipeline: compute per frame in this process (convert, recognizer, publish to a subscriber "
                            "of this process), frames back to back; cpu_per_camera: perception_node in its own process "
                            "fed a camera over DDS, its whole process's CPU (user + system from /proc, % of one core), "
                            "frames answered and latency stamp -> array received in a third process"}
    classifiers = {threads: ValenceClassifier(threads=threads, precision=args.precision) for threads in args.threads}
    report["classifier_precision"] = classifiers[args.threads[0]].precision
    try:
        for scene, make in scenes(args.frames).items():
            messages = [numpy_to_image(image, "bgr8", Header(frame_id="camera")) for image in make()]
            for name, config in configs.items():
                for threads in args.threads:
                    result = pipeline(messages, threads, args.frames, node, config, classifiers[threads])
                    report["pipeline"][f"{name}_{scene}_{threads}_threads"] = result
                    stages = " ".join(f"{k} {v:.2f}" for k, v in result["stage_mean_ms"].items())
                    print(f"{name:11s} {scene:14s} {threads} thread(s): {result['fps']:6.1f} fps  "
                          f"{result['faces_per_frame']:.1f} faces  compute p50 {result['compute_p50_ms']:.2f} ms "
                          f"p95 {result['compute_p95_ms']:.2f} ms  cpu {result['process_cpu_ms_per_frame']:.2f} "
                          f"ms/frame  mean ms: {stages}")
        report["rss_mb"], report["peak_rss_mb"] = rss_mb()
        print(f"RSS {report['rss_mb']:.0f} MB (peak {report['peak_rss_mb']:.0f} MB, with one scene's frames in memory;"
              " the node's own: cpu_per_camera rss_mb)")
        if not args.skip_fer:
            peer = fer_peer({scene: make() for scene, make in scenes(args.fer_images).items()}, args.fer_images,
                            max(args.threads))
            if peer:
                report["fer_peer"] = peer
                best = max(args.threads)
                for scene, result in peer.items():
                    fps, ours = result["fps"], report["pipeline"][f"defaults_{scene}_{best}_threads"]["fps"]
                    every = report["pipeline"][f"every_frame_{scene}_{best}_threads"]["fps"]
                    report[f"fer_ratio_{scene}"] = ours / fps
                    report[f"fer_ratio_every_frame_{scene}"] = every / fps
                    print(f"fer peer {scene} ({best} threads, every frame): {fps:.1f} fps, {result['mean_faces']:.1f}"
                          f" faces/frame; ours every frame {every:.1f} fps = {every / fps:.1f}x, ours with the node's"
                          f" defaults {ours:.1f} fps = {ours / fps:.1f}x")
        if not args.skip_cross:
            report["cpu_per_camera"] = node_cpu.measure_all(planner, args.rates, args.faces,
                                                            args.cpu_threads, args.seconds, args.repeat)
            print(node_cpu.markdown_table(report["cpu_per_camera"]))
    finally:
        spinner.stop()
        planner.destroy_node()
        node.destroy_node()
        rclpy.try_shutdown()
    report["machine"]["load_average_1min_at_end"] = os.getloadavg()[0]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
