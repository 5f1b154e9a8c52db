# Copyright 2026 The emotion_perception Authors
# SPDX-License-Identifier: Apache-2.0
"""``EmotionRecognizer``: frame in, one ``FaceReaction`` per face out — the plain Python API (no ROS).

It composes the face detector, the face tracker and the valence classifier::

    from emotion_perception import EmotionRecognizer
    recognizer = EmotionRecognizer()              # shipped YuNet detector and valence model
    reactions = recognizer.run(frame_bgr)         # list[FaceReaction], one per face
    cv2.imwrite("out.jpg", recognizer.annotate(frame_bgr, reactions))
"""

from __future__ import annotations

import dataclasses
import math
import time
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from emotion_perception.reaction import FaceReaction
from emotion_perception.vision.classifier import ValenceClassifier
from emotion_perception.vision.detection import Detection, FaceDetector, YuNetDetector
from emotion_perception.vision.drawing import draw_reactions
from emotion_perception.vision.tracking import FaceTracker, Track

#: The closed range of each setting of :class:`RecognizerConfig` (``detection_size`` may also be 0, the
#: full frame); the perception node's parameter ranges are taken from here.
CONFIG_RANGES: dict[str, tuple[float, float]] = {
    "detection_size": (64, 4096),
    "detect_every": (1, 30),
    "classify_every": (1, 30),
    "min_detection_confidence": (0.01, 1.0),
    "min_face_size": (4, 4096),
    "min_confidence": (0.0, 1.0),
    "smoothing": (0.0, 0.99),
    "max_faces": (1, 100),
    "max_missed": (0, 100),
}
#: The closed range of each of the three numbers of ``RecognizerConfig.class_prior``.
CLASS_PRIOR_RANGE = (-5.0, 5.0)
#: Faces at or below which a step (the detector: faces tracked so far; the classifier: faces it classifies now)
#: runs on one thread: so little work gains a millisecond at most from the pools, and waking their threads
#: for each layer cost a 30 Hz one-face camera about 12 % more CPU (issue 27).
SERIAL_MAX_FACES = 1


@dataclass(frozen=True)
class RecognizerConfig:
    """The tunable settings of :class:`EmotionRecognizer`; invalid values raise ``ValueError``.

    - ``detection_size``: longest side (px) of the downscaled copy the detector sees; 0 = full frame.
    - ``detect_every``: run the detector on every N-th frame; between, the tracked boxes are reused
      (a frame with no face in view, or of another size than the last, is always searched).
    - ``classify_every``: re-classify each face every N frames; between, its last (smoothed)
      probabilities are reported. New faces are classified at once; with both settings above 1,
      classification is moved off detection frames and spread over frames, so no frame does both.
    - ``min_detection_confidence``: detector score in [0, 1] below which a box is ignored.
    - ``min_face_size``: smallest face side (px of the source frame) that is classified.
    - ``min_confidence``: classifier probability below which the valence is reported NEUTRAL
      (``FaceReaction.from_probabilities(min_confidence=...)``); 0 = always the most likely class.
    - ``smoothing``: per-face EMA weight of the past probabilities in [0, 1); 0 = off.
    - ``max_faces``: at most this many faces (highest detector score first) per frame.
    - ``max_missed``: detector runs a face may be missed before its track (and id) is dropped.
    - ``class_prior``: log-prior (negative, neutral, positive) added to the model's calibrated logits,
      on top of its card's decision rule: the operating point. ``(0.35, 0, 0)`` reports more faces
      NEGATIVE (README, "Choosing the operating point"); ``(0, 0, 0)`` = the model's own rule.
    """

    detection_size: int = 320
    detect_every: int = 1
    classify_every: int = 1
    min_detection_confidence: float = 0.6
    min_face_size: int = 24
    min_confidence: float = 0.0
    smoothing: float = 0.0
    max_faces: int = 10
    max_missed: int = 5
    class_prior: tuple[float, float, float] = (0.0, 0.0, 0.0)

    def __post_init__(self) -> None:
        for name, (low, high) in CONFIG_RANGES.items():
            value = getattr(self, name)
            if not (low <= value <= high or (name == "detection_size" and value == 0)):
                either = "0 or " if name == "detection_size" else ""
                raise ValueError(f"{name} must be {either}in [{low}, {high}], got {value!r}")
        low, high = CLASS_PRIOR_RANGE
        try:
            prior = () if isinstance(self.class_prior, str | bytes) else tuple(float(v) for v in self.class_prior)
        except (TypeError, ValueError):
            prior = ()
        if len(prior) != 3 or not all(low <= v <= high for v in prior):
            given = list(prior) if prior else repr(self.class_prior)  # a list, also for ROS's array('d', ...)
            raise ValueError(f"class_prior must be 3 numbers (negative, neutral, positive) in [{low}, {high}], "
                             f"got {given}")
        object.__setattr__(self, "class_prior", prior)


@dataclass
class StageTimes:
    """Wall time (ms) of each stage of the last :meth:`EmotionRecognizer.run`."""

    detect_ms: float = 0.0
    classify_ms: float = 0.0
    detected: bool = False


class EmotionRecognizer:
    """Detect, track and classify every face of a BGR frame.

    ``model_path`` / ``detector_path`` default to the shipped models; ``detector`` replaces YuNet with
    any :class:`FaceDetector`; ``classifier`` shares an already loaded ``ValenceClassifier``. ``threads``
    is the onnxruntime intra-op thread count of the detector and the classifier (their pools sleep between
    jobs); with more than one, each model this opens is also opened on one thread, for the steps of at most
    :data:`SERIAL_MAX_FACES` faces (the same results, less CPU). ``opencv_threads`` is OpenCV's (process-wide:
    ``cv2.setNumThreads``), 1 by default because what OpenCV does here per frame (a resize, the face crops)
    gains nothing from a pool whose threads spin after each job. ``precision`` is the classifier's (``auto``:
    the int8 export when the model has one). Not thread-safe: call it from one thread at a time.
    """

    def __init__(
        self,
        model_path: str | Path | None = None,
        detector_path: str | Path | None = None,
        detector: FaceDetector | None = None,
        config: RecognizerConfig | None = None,
        threads: int = 2,
        classifier: ValenceClassifier | None = None,
        precision: str = "auto",
        opencv_threads: int = 1,
    ) -> None:
        if opencv_threads < 1:
            raise ValueError(f"opencv_threads must be >= 1, got {opencv_threads}")
        self.config = config or RecognizerConfig()
        cv2.setNumThreads(opencv_threads)
        self.classifier = classifier or ValenceClassifier(model_path, threads=threads, precision=precision)
        self.detector = detector or self._yunet(detector_path, threads)
        pooled = threads > 1
        self._serial_classifier = (ValenceClassifier(model_path, threads=1, precision=precision)
                                   if pooled and classifier is None else self.classifier)
        self._serial_detector = self._yunet(detector_path, 1) if pooled and detector is None else self.detector
        self.tracker = FaceTracker(max_missed=self.config.max_missed)
        self.times = StageTimes()
        self._frames = 0
        self._shape: tuple[int, ...] = ()

    def _yunet(self, path: str | Path | None, threads: int) -> YuNetDetector:
        return YuNetDetector(path, input_size=self.config.detection_size,
                             score_threshold=self.config.min_detection_confidence, threads=threads)

    def configure(self, **changes: float) -> None:
        """Change settings of :class:`RecognizerConfig` in place (validated first)."""
        self.config = dataclasses.replace(self.config, **changes)
        for detector in (self.detector, self._serial_detector):
            if isinstance(detector, YuNetDetector):
                detector.input_size = self.config.detection_size
                detector.score_threshold = self.config.min_detection_confidence
        self.tracker.max_missed = self.config.max_missed

    def reset(self) -> None:
        """Forget the tracked faces (e.g. when the video source changes)."""
        self.tracker.reset()
        self._frames = 0

    def detect(self, frame_bgr: np.ndarray, detector: FaceDetector | None = None) -> list[Detection]:
        """Faces of ``frame_bgr`` that pass the confidence and size thresholds, best first (found by ``detector``,
        by default :attr:`detector`)."""
        cfg = self.config
        faces = [
            d
            for d in (detector or self.detector).detect(frame_bgr)
            if d.score >= cfg.min_detection_confidence and min(d.box[2], d.box[3]) >= cfg.min_face_size
        ]
        faces.sort(key=lambda d: d.score, reverse=True)
        return faces[: cfg.max_faces]

    def run(self, frame_bgr: np.ndarray) -> list[FaceReaction]:
        """One reaction per face of ``frame_bgr`` (H, W, 3 uint8 BGR), with stable ``face_id``s."""
        cfg = self.config
        start = time.perf_counter()
        tracks = self.tracker.visible()
        resized, self._shape = frame_bgr.shape != self._shape, frame_bgr.shape
        detected = not tracks or resized or self._frames % cfg.detect_every == 0
        if detected:
            serial = len(tracks) <= SERIAL_MAX_FACES
            tracks = self.tracker.update(self.detect(frame_bgr, self._serial_detector if serial else self.detector))
        self._frames += 1
        self.tracker.age()
        middle = time.perf_counter()
        due = self._due(tracks, detected)
        if due:
            classifier = self._serial_classifier if len(due) <= SERIAL_MAX_FACES else self.classifier
            probabilities = classifier.predict(frame_bgr, [t.detection.box for t in due],
                                               [t.detection.landmarks for t in due], cfg.class_prior)
            for track, probs in zip(due, probabilities, strict=True):
                track.smooth(probs, cfg.smoothing)
        reactions = [
            FaceReaction.from_probabilities(
                _clip_box(track.detection.box, frame_bgr.shape),
                track.probabilities,
                detection_confidence=track.detection.score,
                face_id=track.face_id,
                min_confidence=cfg.min_confidence,
                landmarks=track.detection.landmarks,
            )
            for track in tracks
        ]
        end = time.perf_counter()
        self.times = StageTimes(1e3 * (middle - start), 1e3 * (end - middle), detected)
        return reactions

    def _due(self, tracks: list[Track], detected: bool) -> list[Track]:
        """The tracks to classify in this frame (all of them unless ``classify_every`` > 1)."""
        cfg = self.config
        if cfg.classify_every == 1:
            return tracks
        new = [t for t in tracks if t.probabilities is None]
        if detected and cfg.detect_every > 1:
            return new
        # Frames free to classify per period, so that each face is still re-classified about every N frames.
        slots = cfg.classify_every * ((cfg.detect_every - 1) / cfg.detect_every if cfg.detect_every > 1 else 1.0)
        stale = sorted((t for t in tracks if t.probabilities is not None and t.stale >= cfg.classify_every),
                       key=lambda t: -t.stale)
        return new + stale[: math.ceil(len(tracks) / slots)]

    def run_on_face(self, face_crop: np.ndarray) -> FaceReaction:
        """The reaction of an already cropped face (BGR or gray); its box is the whole crop.

        ``detection_confidence`` is 1 (the caller vouches that it is a face) and ``face_id`` is empty.
        """
        probs = self.classifier.predict_crop(face_crop, self.config.class_prior)
        height, width = face_crop.shape[:2]
        return FaceReaction.from_probabilities(
            (0, 0, width, height), probs, detection_confidence=1.0, min_confidence=self.config.min_confidence
        )

    annotate = staticmethod(draw_reactions)  #: a copy of the frame with each face's box, id and valence


def _clip_box(box: tuple[float, float, float, float], shape: tuple[int, ...]) -> tuple[int, int, int, int]:
    """``box`` rounded to whole pixels and clipped to a frame of ``shape``."""
    height, width = shape[:2]
    x0, y0 = min(max(round(box[0]), 0), width), min(max(round(box[1]), 0), height)
    x1, y1 = min(max(round(box[0] + box[2]), 0), width), min(max(round(box[1] + box[3]), 0), height)
    return x0, y0, x1 - x0, y1 - y0
