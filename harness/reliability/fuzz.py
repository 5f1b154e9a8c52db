# Copyright 2026 The emotion_perception Authors
# SPDX-License-Identifier: Apache-2.0
"""Fuzzed camera frames over real DDS into a perception node in its own process, with real faces between.

Every generated message gets an expected outcome from the same rules the node applies (size
limit, :mod:`emotion_perception.ros.image_conversion`, ``min_face_size``): ``too_large``,
``conversion``, ``too_small`` or ``processed``. Frames expected to be processed are sent one at a
time (the next one only once the node answered), the others ``gap_s`` apart, so that the node
keeps up. The camera topic is made reliable on both sides (the node's ``qos_overrides``
parameters), and the counts made apart (frames sent by the driver, frames received, drops counted
by the node's diagnostics, answers received by stamp) must agree exactly:

    received = dropped(conversion + too_large + too_small + processing + backlog) + answered
               + answers lost
    (sent - received) + answers lost = face copies never answered <= face copies sent again

A reliable writer can still lose a sample sent before the reader has matched it (discovery is not
symmetric), on the way in (a frame) or on the way out (the node's answer): only a face copy left
unanswered for 5 s, and so sent again, may be missing either way.

Every ``face_every`` fuzzed frames a real face frame is sent (``FACE_REPEATS`` times in a row), and
its answer must equal the answer to the same frame before any fuzz (same faces, valence and
probabilities within ``PROBABILITY_TOLERANCE``).
"""

from __future__ import annotations

import math
import random
import struct
import threading
import time
import zlib
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
from rclpy.qos import QoSProfile, ReliabilityPolicy
from sensor_msgs.msg import CompressedImage, Image

from emotion_msgs.msg import EmotionReactionArray
from emotion_perception.ros.image_conversion import (
    DEFAULT_MAX_PIXELS,
    SUPPORTED_ENCODINGS,
    ImageConversionError,
    ImageTooLargeError,
    bgr8_to_compressed,
    compressed_to_bgr8,
    image_to_bgr8,
    numpy_to_image,
)
from harness.reliability.common import (
    OUT_DIR,
    DiagnosticsRecorder,
    RssSampler,
    ScenarioResult,
    Stamper,
    check_alone,
    driver,
    load_face_frames,
    stamp,
    stamp_ns,
    start_perception_node,
    wait_for,
)

MIN_FACE_SIZE = 24  # px, the node's min_face_size (set explicitly on the node under test)
BAD_ENCODINGS = ("", "bgr", "BGR8", "rgb16", "32FC1", "64FC4", "16SC3", "bayer_rggb8", "jpeg", "yuv420", "nv12",
                 "8UC4", "mono32", "bgr8 ", "rgb8; jpeg compressed bgr8")
_SAMPLE = {"bgr8": (1, 3), "rgb8": (1, 3), "bgra8": (1, 4), "rgba8": (1, 4), "mono8": (1, 1), "8UC1": (1, 1),
           "8UC3": (1, 3), "mono16": (2, 1), "16UC1": (2, 1), "yuv422_yuy2": (1, 2), "yuv422": (1, 2)}
#: A face frame is sent this many times in a row before its answer is compared: the node reuses a face's
#: box (``detect_every``) and probabilities (``classify_every``) for a few frames, so the answer to the
#: last copy depends on that frame alone.
FACE_REPEATS = 6
#: Two answers to the same frame agree when each probability is within this (inference is not bit-exact
#: across calls: TorchScript re-optimises its graph after the first runs) and, unless the reference
#: is a near tie (top two within twice this), the valence is the same.
PROBABILITY_TOLERANCE = 0.01
#: The camera topic, reliable on both sides (the node's side by ``qos_overrides``): no frame is lost in transport.
CAMERA_QOS = QoSProfile(depth=100, reliability=ReliabilityPolicy.RELIABLE)


def _image(encoding: str, width: int, height: int, data: bytes, step: int | None = None,
           bigendian: bool = False) -> Image:
    size, channels = _SAMPLE.get(encoding, (1, 3))
    msg = Image(width=width, height=height, encoding=encoding, is_bigendian=int(bigendian))
    msg.step = step if step is not None else width * size * channels
    msg.data = data
    return msg


class RawFuzzer:
    """Seeded ``sensor_msgs/Image`` cases: ``(kind, message)``."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.np = np.random.default_rng(seed)

    def _noise(self, n: int) -> bytes:
        return self.np.integers(0, 256, n, dtype=np.uint8).tobytes()

    def _size(self, big: float = 0.1) -> tuple[int, int]:
        top = 2500 if self.rng.random() < big else 700
        return self.rng.randint(1, top), self.rng.randint(1, top)

    def _valid(self, fill: Callable[[int], bytes]) -> Image:
        encoding = self.rng.choice(SUPPORTED_ENCODINGS)
        size, channels = _SAMPLE[encoding]
        width, height = self._size()
        if channels == 2:
            width += width % 2
        pad = self.rng.choice((0, 0, 0, size * self.rng.randint(1, 32)))
        step = width * size * channels + pad
        return _image(encoding, width, height, fill(step * height), step, bool(size > 1 and self.rng.random() < 0.5))

    def case(self) -> tuple[str, Image]:
        r, rng = self.rng.random(), self.rng
        enc = rng.choice(SUPPORTED_ENCODINGS)
        w, h = rng.randint(1, 64), rng.randint(1, 64)
        if r < 0.08:
            return "bad_encoding", _image(rng.choice(BAD_ENCODINGS), w, h, self._noise(w * h * 3))
        if r < 0.13:
            w, h = rng.choice(((0, 0), (0, h), (w, 0)))
            return "zero_size", _image(enc, w, h, self._noise(rng.randint(0, 64)))
        if r < 0.20:
            return "short_step", _image(enc, w, h, self._noise(w * h * 4), step=rng.randint(0, max(w - 1, 0)))
        if r < 0.24:
            enc16 = rng.choice(("mono16", "16UC1"))
            step = 2 * w + 2 * rng.randint(0, 4) + 1
            return "odd_step", _image(enc16, w, h, self._noise(step * h), step=step)
        if r < 0.34:
            msg = _image(enc, w, h, b"")
            n = msg.step * h
            msg.data = self._noise(max(0, n + rng.choice((-1, 1)) * rng.randint(1, n)))
            return "data_length_mismatch", msg
        if r < 0.38:
            w = 2 * rng.randint(1, 300) + 1
            return "odd_width_yuv", _image(rng.choice(("yuv422", "yuv422_yuy2")), w, h, self._noise(w * h * 2))
        if r < 0.44:
            w, h = rng.choice(((8000, 8000), (7681, 4321), (2**32 - 1, 2**32 - 1), (100_000, 1), (1, 2**31)))
            return "huge_header", _image("bgr8", w, h, self._noise(rng.randint(0, 4096)))
        if r < 0.54:
            value = rng.choice((0, 255))
            return "extreme_constant", self._valid(lambda n: bytes([value]) * n)
        if r < 0.60:
            stripes = b"\x00" * 7 + b"\xff" * 9
            return "extreme_stripes", self._valid(lambda n: (stripes * (n // 16 + 1))[:n])
        if r < 0.70:
            long_side = rng.randint(1, 20_000)
            short_side = rng.randint(1, MIN_FACE_SIZE - 1)
            w, h = (long_side, short_side) if rng.random() < 0.5 else (short_side, long_side)
            return "thin", _image("mono8", w, h, self._noise(w * h))
        return "noise", self._valid(self._noise)

    def giant(self) -> Image:
        """An 8000x8000 bgr8 frame (192 MB), above the 8K limit."""
        return _image("bgr8", 8000, 8000, self._noise(8000 * 8000 * 3))


def _png_header(width: int, height: int) -> bytes:
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 13) + b"IHDR" + ihdr
            + struct.pack(">I", zlib.crc32(b"IHDR" + ihdr)))


def _patch_sof(jpeg: bytes, width: int, height: int) -> bytes:
    """``jpeg`` with its SOF marker claiming ``width`` x ``height``."""
    data = bytearray(jpeg)
    pos = 2
    while pos + 9 <= len(data) and data[pos] == 0xFF:
        marker = data[pos + 1]
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            data[pos + 5 : pos + 9] = struct.pack(">HH", height, width)
            break
        pos += 2 + int.from_bytes(data[pos + 2 : pos + 4], "big")
    return bytes(data)


class CompressedFuzzer:
    """Seeded ``sensor_msgs/CompressedImage`` cases: ``(kind, message)``."""

    def __init__(self, seed: int, faces: list[np.ndarray]) -> None:
        self.rng = random.Random(seed)
        self.np = np.random.default_rng(seed)
        self.jpegs = [bytes(bgr8_to_compressed(f, "jpeg").data) for f in faces]
        self.pngs = [bytes(bgr8_to_compressed(f[::2, ::2].copy(), "png").data) for f in faces]

    def _noise(self, n: int) -> bytes:
        return self.np.integers(0, 256, n, dtype=np.uint8).tobytes()

    def case(self) -> tuple[str, CompressedImage]:
        r, rng = self.rng.random(), self.rng
        fmt = rng.choice(("jpeg", "png", "", "bgr8; jpeg compressed bgr8", "rgb8; png compressed", "tiff", "??"))
        jpeg, png = rng.choice(self.jpegs), rng.choice(self.pngs)
        if r < 0.04:
            return "empty", CompressedImage(format=fmt, data=b"")
        if r < 0.14:
            return "garbage", CompressedImage(format=fmt, data=self._noise(rng.randint(1, 5000)))
        if r < 0.22:
            magic = rng.choice((b"\xff\xd8\xff\xe0", b"\x89PNG\r\n\x1a\n", b"GIF89a", b"BM", b"RIFF"))
            return "magic_then_garbage", CompressedImage(format=fmt, data=magic + self._noise(rng.randint(0, 5000)))
        if r < 0.36:
            data = jpeg if rng.random() < 0.6 else png
            return "truncated", CompressedImage(format=fmt, data=data[: rng.randint(1, len(data) - 1)])
        if r < 0.50:
            data = bytearray(jpeg if rng.random() < 0.6 else png)
            for _ in range(rng.randint(1, 20)):
                data[rng.randrange(len(data))] = rng.randrange(256)
            return "bit_flips", CompressedImage(format=fmt, data=bytes(data))
        if r < 0.56:
            w, h = rng.choice(((100_000, 100_000), (8000, 8000), (2**31 - 1, 1), (0, 0)))
            return "png_huge_header", CompressedImage(format="png", data=_png_header(w, h) + self._noise(64))
        if r < 0.62:
            w, h = rng.choice(((65_535, 65_535), (8000, 8000), (0, 0), (1, 65_535)))
            return "jpeg_huge_sof", CompressedImage(format="jpeg", data=_patch_sof(jpeg, w, h))
        if r < 0.70:
            return "wrong_format_valid_data", CompressedImage(format=fmt, data=jpeg)
        if r < 0.78:
            side = rng.randint(1, MIN_FACE_SIZE - 1)
            tiny = self.np.integers(0, 256, (side, rng.randint(1, 64), 3), dtype=np.uint8)
            return "tiny", bgr8_to_compressed(tiny, rng.choice(("jpeg", "png")))
        w, h = rng.randint(1, 900), rng.randint(1, 900)
        image = self.np.integers(0, 256, (h, w, 3), dtype=np.uint8)
        if rng.random() < 0.3:
            image[:] = rng.choice((0, 255))
        return "noise", bgr8_to_compressed(image, rng.choice(("jpeg", "png")), quality=rng.randint(1, 100))


def expected_outcome(msg: Image | CompressedImage, max_pixels: int = DEFAULT_MAX_PIXELS) -> str:
    """What the node must do with ``msg``, by the node's own rules (those of ``image_conversion``)."""
    try:
        convert = compressed_to_bgr8 if isinstance(msg, CompressedImage) else image_to_bgr8
        frame = convert(msg, max_pixels)
    except ImageTooLargeError:
        return "too_large"
    except ImageConversionError:
        return "conversion"
    return "too_small" if min(frame.shape[:2]) < MIN_FACE_SIZE else "processed"


class Answers:
    """The node's ``EmotionReactionArray`` answers by the stamp of their frame."""

    def __init__(self, node: object) -> None:
        self.by_stamp: dict[int, EmotionReactionArray] = {}
        self._received: list[tuple[float, int]] = []
        self._lock = threading.Lock()
        self.subscription = node.create_subscription(  # type: ignore[attr-defined]
            EmotionReactionArray, "/human/reactions", self._keep, 1000)

    def _keep(self, msg: EmotionReactionArray) -> None:
        with self._lock:
            ns = stamp_ns(msg.header.stamp)
            self.by_stamp[ns] = msg
            self._received.append((time.monotonic(), ns))

    def timed(self) -> list[tuple[float, int]]:
        """``(monotonic receipt time, frame stamp in ns)`` of every answer, in arrival order."""
        with self._lock:
            return list(self._received)

    def get(self, ns: int) -> EmotionReactionArray | None:
        with self._lock:
            return self.by_stamp.get(ns)

    def __len__(self) -> int:
        with self._lock:
            return len(self.by_stamp)


def _face_messages(compressed: bool) -> list[tuple[str, Image | CompressedImage, int]]:
    out = []
    for name, image, valence in load_face_frames():
        msg = bgr8_to_compressed(image, "jpeg") if compressed else numpy_to_image(image, "bgr8")
        msg.header.frame_id = "camera_optical_frame"
        out.append((name, msg, valence))
    return out


def _cases(fuzzer: RawFuzzer | CompressedFuzzer, count: int) -> Iterator[tuple[str, Image | CompressedImage]]:
    for _ in range(count):
        yield fuzzer.case()


def fuzz(frames: int = 7000, compressed: bool = False, seed: int = 0, face_every: int = 40, giants: int = 0,
         gap_s: float = 0.01, model_path: str = "", threads: int | None = None,
         log_dir: Path = OUT_DIR / "logs") -> ScenarioResult:
    """``frames`` fuzzed messages (``giants`` more of 8000x8000 bgr8) with real faces between, into one node."""
    kind = "compressed" if compressed else "raw"
    params = {"frames": frames, "transport": kind, "seed": seed, "face_every": face_every, "giants": giants,
              "gap_s": gap_s}
    result = ScenarioResult(f"fuzz_{kind}", params)
    faces = _face_messages(compressed)
    fuzzer: RawFuzzer | CompressedFuzzer = (CompressedFuzzer(seed, [img for _, img, _ in load_face_frames()])
                                            if compressed else RawFuzzer(seed))
    expected: Counter[str] = Counter()
    kinds: Counter[str] = Counter()
    wrong_answers: list[str] = []
    expected_dropped: set[int] = set()
    face_diffs: list[float] = []
    unanswered_good: Counter[str] = Counter()
    topic = "image/compressed" if compressed else "image"
    with driver(f"fuzz_{kind}_driver") as d:
        pub = d.node.create_publisher(CompressedImage if compressed else Image, topic, CAMERA_QOS)
        answers = Answers(d.node)
        diagnostics = DiagnosticsRecorder(d.node, "perception_node")
        node_params = {"model_path": model_path, "compressed_input": compressed, "threads": threads,
                       "smoothing": 0.0, "min_confidence": 0.0, "min_face_size": MIN_FACE_SIZE,
                       "max_image_pixels": DEFAULT_MAX_PIXELS,
                       f"qos_overrides./{topic}.subscription.reliability": "reliable",
                       f"qos_overrides./{topic}.subscription.depth": CAMERA_QOS.depth}
        process = start_perception_node(result, f"fuzz_{kind}", log_dir, node_params, pub, answers.subscription)
        if process is None:
            return result
        stamper = Stamper()
        sent = resent = 0
        face_copies: list[int] = []  # stamps of the face frames sent

        def send(msg: Image | CompressedImage, wait: bool, timeout: float = 10.0,
                 face: bool = False) -> EmotionReactionArray | None:
            nonlocal sent
            ns = stamper.next_ns()
            msg.header.stamp = stamp(ns)
            pub.publish(msg)
            sent += 1
            if face:
                face_copies.append(ns)
            if not wait:
                expected_dropped.add(ns)
                time.sleep(gap_s + len(msg.data) / 2e9)
                return None
            wait_for(lambda: answers.get(ns) is not None or not process.alive(), timeout, period=0.001)
            return answers.get(ns)

        def send_face(i: int) -> EmotionReactionArray | None:
            """The answer to the last of ``FACE_REPEATS`` copies of one face frame, each sent once answered."""
            nonlocal resent
            _, msg, _ = faces[i % len(faces)]
            answer = None
            for _ in range(FACE_REPEATS):
                for attempt in range(3):  # not answered in 5 s (a loaded CPU, a lost copy): sent again, counted
                    resent += attempt > 0
                    answer = send(msg, True, 5.0, face=True)
                    if answer is not None or not process.alive():
                        break
            return answer

        try:
            check_alone([pub.get_subscription_count(), answers.subscription.get_publisher_count()])
            rss = RssSampler(process.pid)
            reference = [send_face(i) for i in range(len(faces))]
            for (name, _, _), ref in zip(faces, reference, strict=True):
                result.expect(ref is not None and len(ref.reactions) == 1,
                              f"{name} before the fuzz: {_describe(ref)} (expected one face)")
            labels_matched = sum(ref is not None and [r.valence for r in ref.reactions] == [valence]
                                 for (_, _, valence), ref in zip(faces, reference, strict=True))
            giant_rss = []
            if not compressed:
                for _ in range(giants):
                    send(fuzzer.giant(), False)  # type: ignore[union-attr]
                    expected["too_large"] += 1
                    kinds["giant_8000x8000"] += 1
                    send_face(0)  # answered only after the node has taken (and dropped) the giant
                    giant_rss.append(process.rss_mb())
            face_checks = 0
            for n, (case_kind, msg) in enumerate(_cases(fuzzer, frames)):
                if not process.alive():
                    break
                outcome = expected_outcome(msg)
                expected[outcome] += 1
                kinds[case_kind] += 1
                answer = send(msg, outcome == "processed")
                if outcome == "processed" and answer is None:
                    unanswered_good[case_kind] += 1
                if n % face_every == face_every - 1:
                    i = n // face_every
                    answer = send_face(i)
                    face_checks += 1
                    problem = _compare(answer, reference[i % len(faces)])
                    face_diffs.append(_probability_diff(answer, reference[i % len(faces)]))
                    if problem:
                        wrong_answers.append(f"{faces[i % len(faces)][0]} after {n + 1} fuzzed frames: {problem}")
            # Until the node's counters account for every frame it received, and it received what it could.
            def settled() -> bool:
                diag = diagnostics.latest()
                received = _received(diag)
                return received >= sent - resent and _accounted(diag, len(answers)) >= received

            wait_for(lambda: settled() or not process.alive(), 10.0, period=0.2)
            diag = diagnostics.wait_new(time.monotonic(), timeout=5.0) or {}
            rss.stop()
            crashed = not process.alive()
        finally:
            exit_code = process.stop()
    drops = {k.removeprefix("drops_"): int(float(v)) for k, v in diag.items() if k.startswith("drops_")}
    answered = len(answers)
    answered_bad = len(expected_dropped & set(answers.by_stamp))
    accounted = answered + sum(drops.values())
    received = _received(diag)
    lost = sent - received  # face copies only (see the module docstring)
    unanswered_copies = sum(answers.get(ns) is None for ns in face_copies)
    answers_lost = unanswered_copies - lost  # face copies the node received and answered into the void
    expected_answers = expected["processed"] + len(face_copies) - unanswered_copies
    result.figures = {
        "frames_sent": sent, "fuzzed": frames + giants, "face_frames": len(face_copies),
        "face_checks_after_fuzz": face_checks,
        "face_labels_matched_by_the_model": f"{labels_matched}/{len(faces)}", "kinds": dict(sorted(kinds.items())),
        "expected": dict(sorted(expected.items())), "dropped": drops, "answered": answered,
        "accounting": f"{sent} sent, {received} received = {sum(drops.values())} dropped + {answered} answered"
                      f" ({accounted})",
        "face_copies_resent": resent, "face_copies_unanswered": unanswered_copies, "lost_in_transport": lost,
        "answers_lost_in_transport": answers_lost,
        "unanswered_valid_frames": dict(unanswered_good), "wrong_face_answers": len(wrong_answers),
        "face_max_probability_diff": round(max((v for v in face_diffs if not math.isnan(v)), default=0.0), 4),
        "answered_frames_expected_dropped": answered_bad,
        "giant_rss_mb": giant_rss, **rss.figures(), "crashed": crashed, "exit_code": exit_code,
    }
    result.expect(not crashed, f"the node died (exit {exit_code}); see {process.log_path}")
    result.expect(exit_code == 0, f"the node exited with {exit_code} on SIGINT")
    result.expect(drops.get("processing", 0) == 0, f"{drops.get('processing')} frames failed inside processing")
    result.expect(accounted + answers_lost == received, f"{received} frames received but {accounted} accounted for"
                  f" (dropped + answered) and {answers_lost} answers to face copies lost")
    result.expect(lost >= 0 and answers_lost >= 0 and unanswered_copies <= resent,
                  f"{unanswered_copies} face copies unanswered ({lost} frames lost in transport, {answers_lost}"
                  f" answers), more than the {resent} sent again (the only ones a reliable writer may lose)")
    exact = drops.get("backlog", 0) == 0
    for outcome in ("conversion", "too_large", "too_small"):
        got, want = drops.get(outcome, 0), expected[outcome]
        result.expect(got == want if exact else got <= want, f"{got} frames dropped as {outcome}, expected {want}")
    result.expect(answered == expected_answers if exact else answered <= expected_answers,
                  f"{answered} frames answered, expected {expected_answers} (bad frames answered?)")
    result.expect(answered_bad == 0, f"{answered_bad} frames the node should have dropped were answered")
    result.expect(not wrong_answers, f"{len(wrong_answers)} wrong face answers, e.g. {wrong_answers[:3]}")
    return result


def _received(diagnostics: dict[str, str] | None) -> int:
    """Frames the node received since start (its diagnostics counter)."""
    return int(float((diagnostics or {}).get("frames_received", 0)))


def _accounted(diagnostics: dict[str, str] | None, answered: int) -> int:
    """Frames the node dropped (its diagnostics counters) plus the ``answered`` ones."""
    drops = sum(int(float(v)) for k, v in (diagnostics or {}).items() if k.startswith("drops_"))
    return drops + answered


def _describe(answer: EmotionReactionArray | None) -> str:
    if answer is None:
        return "no answer"
    return f"{len(answer.reactions)} face(s), valences {[r.valence for r in answer.reactions]}"


def _compare(answer: EmotionReactionArray | None, reference: EmotionReactionArray | None) -> str:
    """Why ``answer`` differs from the answer to the same frame before the fuzz ("" when it does not)."""
    if answer is None or reference is None:
        return f"answer {_describe(answer)}, reference {_describe(reference)}"
    if len(answer.reactions) != len(reference.reactions):
        return f"{_describe(answer)} vs {_describe(reference)} before the fuzz"
    for got, want in zip(answer.reactions, reference.reactions, strict=True):
        diff = float(np.max(np.abs(np.asarray(got.probabilities) - np.asarray(want.probabilities))))
        top_two = sorted(want.probabilities)[-2:]
        near_tie = top_two[1] - top_two[0] < 2 * PROBABILITY_TOLERANCE
        if diff > PROBABILITY_TOLERANCE or (got.valence != want.valence and not near_tie):
            return f"valence {got.valence} vs {want.valence}, probabilities differ by {diff:.4f}"
    return ""


def _probability_diff(answer: EmotionReactionArray | None, reference: EmotionReactionArray | None) -> float:
    if answer is None or reference is None or len(answer.reactions) != len(reference.reactions):
        return math.nan
    return max((float(np.max(np.abs(np.asarray(a.probabilities) - np.asarray(b.probabilities))))
                for a, b in zip(answer.reactions, reference.reactions, strict=True)), default=0.0)


