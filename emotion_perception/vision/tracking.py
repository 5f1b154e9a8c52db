# Copyright 2026 The emotion_perception Authors
# SPDX-License-Identifier: Apache-2.0
"""Face identities across frames and per-face smoothing of class probabilities (no ROS)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from emotion_perception.vision.detection import Detection

Box = tuple[float, float, float, float]


def iou(a: Box, b: Box) -> float:
    """Intersection over union of two ``(x, y, width, height)`` boxes."""
    ix = max(0.0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = a[2] * a[3] + b[2] * b[3] - inter
    return inter / union if union > 0 else 0.0


def centre_distance(a: Box, b: Box) -> float:
    """Distance between the centres of two boxes, in units of ``a``'s larger side."""
    dx = (a[0] + a[2] / 2) - (b[0] + b[2] / 2)
    dy = (a[1] + a[3] / 2) - (b[1] + b[3] / 2)
    return float(np.hypot(dx, dy)) / max(a[2], a[3], 1e-6)


@dataclass
class Track:
    """One face followed across frames."""

    face_id: str
    detection: Detection
    missed: int = 0
    probabilities: np.ndarray | None = field(default=None, repr=False)
    #: Frames since ``probabilities`` were last updated (see :meth:`FaceTracker.age`).
    stale: int = 0

    def smooth(self, probabilities: np.ndarray, smoothing: float) -> np.ndarray:
        """Blend ``probabilities`` into this track's running estimate and return it.

        Exponential moving average: ``p = smoothing * p_previous + (1 - smoothing) * p_new``;
        ``smoothing`` 0 returns the new probabilities unchanged.
        """
        new = np.asarray(probabilities, dtype=np.float64)
        if self.probabilities is None or smoothing <= 0.0:
            self.probabilities = new.copy()
        else:
            blended = smoothing * self.probabilities + (1.0 - smoothing) * new
            self.probabilities = blended / blended.sum()
        self.stale = 0
        return self.probabilities.copy()


class FaceTracker:
    """Greedy IoU / centre-distance association of detections to tracks.

    A detection joins the track it overlaps most (IoU >= ``iou_threshold``), or failing that the
    nearest track whose centre is within ``max_centre_distance`` of its size; otherwise it
    starts a new track with a fresh id (``face_1``, ``face_2``, ... never reused). A track not
    matched for more than ``max_missed`` consecutive updates is dropped.
    """

    def __init__(
        self,
        iou_threshold: float = 0.3,
        max_centre_distance: float = 0.5,
        max_missed: int = 5,
        id_prefix: str = "face_",
    ) -> None:
        if not 0.0 < iou_threshold <= 1.0:
            raise ValueError(f"iou_threshold must be in (0, 1], got {iou_threshold}")
        if max_centre_distance < 0.0:
            raise ValueError(f"max_centre_distance must be >= 0, got {max_centre_distance}")
        if max_missed < 0:
            raise ValueError(f"max_missed must be >= 0, got {max_missed}")
        self.iou_threshold = iou_threshold
        self.max_centre_distance = max_centre_distance
        self.max_missed = max_missed
        self.id_prefix = id_prefix
        self._tracks: list[Track] = []
        self._next_id = 1

    @property
    def tracks(self) -> list[Track]:
        """Live tracks, including those missed in the last few updates."""
        return list(self._tracks)

    def visible(self) -> list[Track]:
        """Tracks matched in the last update (the faces currently in view)."""
        return [t for t in self._tracks if t.missed == 0]

    def age(self) -> None:
        """Count one more frame since each track's probabilities were updated."""
        for track in self._tracks:
            track.stale += 1

    def reset(self) -> None:
        """Forget every track (ids keep counting up)."""
        self._tracks.clear()

    def update(self, detections: Sequence[Detection]) -> list[Track]:
        """Associate ``detections`` with tracks; returns the track of each detection, in order."""
        pairs = []
        for ti, track in enumerate(self._tracks):
            for di, det in enumerate(detections):
                overlap = iou(track.detection.box, det.box)
                distance = centre_distance(track.detection.box, det.box)
                if overlap >= self.iou_threshold or distance <= self.max_centre_distance:
                    pairs.append((-overlap, distance, ti, di))
        pairs.sort()
        assigned: list[Track | None] = [None] * len(detections)
        used_tracks: set[int] = set()
        for _, _, ti, di in pairs:
            if ti in used_tracks or assigned[di] is not None:
                continue
            used_tracks.add(ti)
            track = self._tracks[ti]
            track.detection, track.missed = detections[di], 0
            assigned[di] = track
        for ti, track in enumerate(self._tracks):
            if ti not in used_tracks:
                track.missed += 1
        self._tracks = [t for t in self._tracks if t.missed <= self.max_missed]
        for di, det in enumerate(detections):
            if assigned[di] is None:
                track = Track(face_id=f"{self.id_prefix}{self._next_id}", detection=det)
                self._next_id += 1
                self._tracks.append(track)
                assigned[di] = track
        return [t for t in assigned if t is not None]
