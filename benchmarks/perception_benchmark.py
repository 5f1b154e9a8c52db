# Copyright 2026 The emotion_perception Authors
# SPDX-License-Identifier: Apache-2.0
"""Perception speed figures: per-stage times, fps, compute time and RSS; the fer package as a peer; cross-process.

Usage (``make benchmark`` runs it with the defaults):

    python benchmarks/perception_benchmark.py [--frames 300] [--threads 1 2] [--seconds 10] [--skip-fer]

Scenes are real ("Video by Wolfgang Langer, Pexels"), 640x480 bgr8:

- ``clip``: consecutive frames of the packaged clip (media/), one face moving and changing expression;
- ``5_people``: five real faces from the same clip, each playing its own part of the clip while it drifts
  across a dark frame (consecutive frames, so the tracker sees real motion);
- ``static_1_face`` / ``static_5_faces``: the test fixtures repeated, the best case for reusing tracked boxes.

In-process figures (``pipeline``) are compute times per frame: conversion, recognizer and publishing to a
subscriber of this process, no transport between processes. ``cross_process`` measures what a planner
sees: frame stamp → ``/human/reactions`` array received in another process. Writes
``out/benchmark_perception.json``. Not a test: the figures depend on the machine and its load.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from emotion_perception.ros.fastdds_profile import use_profile

ROOT = Path(__file__).resolve().parents[1]
# Before rclpy is imported: DDS stays on this host, on a domain of this run's own, with the SHM profile.
os.environ.setdefault("ROS_AUTOMATIC_DISCOVERY_RANGE", "LOCALHOST")
os.environ.setdefault("ROS_DOMAIN_ID", str(os.getpid() % 90 + 10))
use_profile(ROOT / "config" / "fastdds_shm.xml")  # the variable the installed Fast DDS reads

import cv2  # noqa: E402
import numpy as np  # noqa: E402
import rclpy  # noqa: E402
from rclpy.executors import SingleThreadedExecutor  # noqa: E402
from rclpy.qos import QoSProfile, ReliabilityPolicy, qos_profile_sensor_data  # noqa: E402
from sensor_msgs.msg import Image  # noqa: E402
from std_msgs.msg import Header  # noqa: E402

from emotion_msgs.msg import EmotionReaction, EmotionReactionArray  # noqa: E402
from emotion_perception.ros.image_conversion import image_to_bgr8, numpy_to_image  # noqa: E402
from emotion_perception.ros.messages import reaction_to_msg, reactions_to_array  # noqa: E402
from emotion_perception.ros.perception_node import CONFIG_KEYS, PARAMETERS  # noqa: E402
from emotion_perception.ros.spin_thread import SpinThread  # noqa: E402
from emotion_perception.tools.video_source import default_clip_path  # noqa: E402
from emotion_perception.vision.classifier import PRECISIONS, ValenceClassifier  # noqa: E402
from emotion_perception.vision.recognizer import EmotionRecognizer, RecognizerConfig  # noqa: E402

DATA = ROOT / "test" / "data"
ONE_FACE = ["pexels_sad_030.jpg", "pexels_sad_045.jpg", "pexels_happy_330.jpg", "pexels_happy_360.jpg"]
FIVE_FACES = "pexels_five_faces.jpg"
CLIP_FRAMES = 472
#: (x, y, w, h) of the head in the clip's 640x360 frames (YuNet's boxes stay inside it), and its size as a "person".
HEAD = (280, 0, 330, 360)
PERSON_SIZE = (120, 131)
PERSON_OFFSET = 90  #: frames between the parts of the clip two neighbouring "persons" show
FER_PYTHON = ROOT / ".venv-fer" / "bin" / "python"
RELIABLE_10 = QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE)
TARGETS = {"fps_1_face": 100.0, "p95_ms_1_face": 12.0, "fps_5_faces": 60.0, "rss_mb": 600.0, "fer_ratio": 6.0,
           "cross_answer_rate_30hz": 0.9, "cross_p95_ms_30hz": 40.0}


def letterbox(frame: np.ndarray, size: tuple[int, int] = (640, 480)) -> np.ndarray:
    """``frame`` scaled to fit ``size`` and centred on black (the clip is 640x360)."""
    scale = min(size[0] / frame.shape[1], size[1] / frame.shape[0])
    resized = cv2.resize(frame, (round(frame.shape[1] * scale), round(frame.shape[0] * scale)))
    canvas = np.zeros((size[1], size[0], 3), np.uint8)
    top, left = (size[1] - resized.shape[0]) // 2, (size[0] - resized.shape[1]) // 2
    canvas[top : top + resized.shape[0], left : left + resized.shape[1]] = resized
    return canvas


def clip_frames(count: int) -> list[np.ndarray]:
    """The first ``count`` frames of the packaged clip (472 frames at 24 fps; looped if more), letterboxed."""
    capture = cv2.VideoCapture(str(default_clip_path()))
    frames: list[np.ndarray] = []
    try:
        while len(frames) < count:
            ok, frame = capture.read()
            if not ok:
                if not frames:
                    raise RuntimeError(f"cannot read {default_clip_path()}")
                capture.set(cv2.CAP_PROP_POS_FRAMES, 0)
                continue
            frames.append(frame)
    finally:
        capture.release()
    return frames


def five_people(count: int) -> list[np.ndarray]:
    """Five real faces moving: each shows the clip from its own start frame, cut to the head and scaled to
    ``PERSON_SIZE``, drifting about a dark 640x480 frame."""
    source = clip_frames(min(count + 4 * PERSON_OFFSET, CLIP_FRAMES))
    x0, y0, w0, h0 = HEAD
    heads = [cv2.resize(frame[y0 : y0 + h0, x0 : x0 + w0], PERSON_SIZE, interpolation=cv2.INTER_AREA)
             for frame in source]
    w, h = PERSON_SIZE
    frames = []
    for i in range(count):
        canvas = np.full((480, 640, 3), 20, np.uint8)
        for person in range(5):
            x = round(15 + person * 122 + 10 * np.sin(0.05 * i + person))  # left edge 5..513 of 640
            y = round(170 + 100 * np.sin(0.03 * i + 1.7 * person))
            canvas[y : y + h, x : x + w] = heads[(i + person * PERSON_OFFSET) % len(heads)]
        frames.append(canvas)
    return frames


def scenes(count: int) -> dict[str, Callable[[], list[np.ndarray]]]:
    """Every scene's 640x480 frames (``count`` of each video scene), made when called (they take memory)."""
    return {
        "clip": lambda: [letterbox(frame) for frame in clip_frames(count)],
        "5_people": lambda: five_people(count),
        "static_1_face": lambda: [letterbox(cv2.imread(str(DATA / name))) for name in ONE_FACE],
        "static_5_faces": lambda: [letterbox(cv2.imread(str(DATA / FIVE_FACES)))],
    }


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
        for reaction in reactions:
            reaction_pub.publish(reaction_to_msg(reaction, msg.header))
        array_pub.publish(reactions_to_array(reactions, msg.header))
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


# --- cross-process: camera publisher (subprocess) -> perception_node (subprocess) -> this process -------


def publish_frames(rate: float, seconds: float, warmup: float) -> None:
    """Subprocess mode: publish 640x480 bgr8 frames best effort at ``rate`` Hz, stamped with the wall clock."""
    rclpy.init()
    node = rclpy.create_node("benchmark_camera")
    pub = node.create_publisher(Image, "/camera/image_raw", qos_profile_sensor_data)
    messages = [numpy_to_image(letterbox(cv2.imread(str(DATA / name))), "bgr8") for name in ONE_FACE]
    deadline = time.monotonic() + 30.0
    while pub.get_subscription_count() == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    sent = {"warmup": 0, "camera": 0}
    start = time.monotonic()
    for phase, duration in (("warmup", warmup), ("camera", seconds)):
        phase_start = time.monotonic()
        i = 0
        while time.monotonic() - phase_start < duration:
            next_time = phase_start + i / rate
            time.sleep(max(0.0, next_time - time.monotonic()))
            msg = messages[i % len(messages)]
            msg.header.frame_id = phase
            msg.header.stamp = node.get_clock().now().to_msg()
            pub.publish(msg)
            sent[phase] += 1
            i += 1
    print(json.dumps({"sent": sent["camera"], "seconds": time.monotonic() - start}), flush=True)
    node.destroy_node()
    rclpy.shutdown()


def cross_process(rate: float, seconds: float, node: rclpy.node.Node) -> dict:
    """perception_node and a camera publisher in two processes; answers and latency seen from a third."""
    received: list[tuple[float, float]] = []
    lock = threading.Lock()

    def on_array(msg: EmotionReactionArray) -> None:
        now = time.time()
        if msg.header.frame_id == "camera":
            with lock:
                received.append((msg.header.stamp.sec + msg.header.stamp.nanosec * 1e-9, now))

    sub = node.create_subscription(EmotionReactionArray, "/human/reactions", on_array, RELIABLE_10)
    perception = subprocess.Popen(
        [sys.executable, "-m", "emotion_perception.ros.perception_node", "--ros-args",
         "--params-file", str(ROOT / "config" / "emotion_perception.yaml"), "-r", "image:=/camera/image_raw"],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )
    try:
        camera = subprocess.run(
            [sys.executable, __file__, "--publisher", str(rate), str(seconds)],
            cwd=ROOT, capture_output=True, text=True, timeout=seconds + 60, check=True,
        )
        time.sleep(0.5)
        status = Path(f"/proc/{perception.pid}/status").read_text()
        peak_kb = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM"))
    finally:
        perception.terminate()
        perception.wait(timeout=10)
        node.destroy_subscription(sub)
    sent = json.loads(camera.stdout.strip().splitlines()[-1])["sent"]
    with lock:
        latencies = np.asarray([1e3 * (got - stamp) for stamp, got in received])
    return {
        "rate_hz": rate,
        "frames_sent": sent,
        "arrays_received": len(received),
        "answer_rate": len({stamp for stamp, _ in received}) / max(sent, 1),
        "latency_p50_ms": float(np.percentile(latencies, 50)) if latencies.size else None,
        "latency_p95_ms": float(np.percentile(latencies, 95)) if latencies.size else None,
        "node_peak_rss_mb": peak_kb / 1024,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=300, help="frames timed per scene and thread count")
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2], help="thread counts to time")
    parser.add_argument("--seconds", type=float, default=10.0, help="cross-process run per rate (s)")
    parser.add_argument("--rates", type=float, nargs="+", default=[30.0, 60.0], help="cross-process camera rates (Hz)")
    parser.add_argument("--fer-images", type=int, default=40, help="frames per scene for the fer peer")
    parser.add_argument("--skip-fer", action="store_true", help="do not run the fer peer")
    parser.add_argument("--skip-cross", action="store_true", help="do not run the cross-process measurement")
    parser.add_argument("--set", nargs="+", default=[], metavar="NAME=INT",
                        help="override node defaults for the 'defaults' run, e.g. --set classify_every=3")
    parser.add_argument("--precision", default="auto", choices=PRECISIONS,
                        help="classifier precision (auto: the shipped int8 export)")
    parser.add_argument("--out", type=Path, default=ROOT / "out" / "benchmark_perception.json", help="JSON output")
    parser.add_argument("--publisher", nargs=2, type=float, metavar=("RATE", "SECONDS"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.publisher:
        publish_frames(args.publisher[0], args.publisher[1], warmup=3.0)
        return 0

    rclpy.init()
    node = rclpy.create_node("perception_benchmark")
    executor = SingleThreadedExecutor()
    executor.add_node(node)
    spinner = SpinThread(executor)
    overrides = {name: type(getattr(node_config(), name))(value) for name, value in (s.split("=") for s in args.set)}
    configs = {"defaults": replace(node_config(), **overrides),
               "every_frame": replace(node_config(), detect_every=1, classify_every=1)}
    report: dict = {"machine": {"cpus": os.cpu_count(), "load_average_1min_at_start": os.getloadavg()[0]},
                    "configs": {k: vars(v) for k, v in configs.items()}, "pipeline": {}, "targets": TARGETS,
                    "note": "pipeline figures are in-process compute time per frame (convert, recognizer, publish to "
                            "a subscriber of this process); cross_process is frame stamp -> array received"}
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
              " the node's own: cross_process node_peak_rss_mb)")
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
            report["cross_process"] = {}
            for rate in args.rates:
                result = cross_process(rate, args.seconds, node)
                report["cross_process"][f"{rate:g}hz"] = result
                print(f"cross-process {rate:g} Hz: answered {result['answer_rate']:.1%} of {result['frames_sent']}"
                      f" frames, p50 {result['latency_p50_ms']} ms, p95 {result['latency_p95_ms']} ms, "
                      f"node peak RSS {result['node_peak_rss_mb']:.0f} MB")
    finally:
        spinner.stop()
        node.destroy_node()
        rclpy.try_shutdown()
    report["machine"]["load_average_1min_at_end"] = os.getloadavg()[0]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
