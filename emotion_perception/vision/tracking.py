# Copyright 2026 The emotion_perception Authors
# SPDX-License-Identifier: Apache-2.0
"""Face identities across frames and per-face smoothing of class probabilities (no ROS)."""

from __future__ import annotations

import secrets
import string
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from emotion_perception.vision.detection import Detection

Box = tuple[float, float, float, float]

#: Characters of a face id after its first, which is a letter (a ROS name token may not start with a digit).
ID_CHARACTERS = string.ascii_lowercase + string.digits
#: Length of a face id: 26 x 36**4 (about 44 million) ids, like ``hri_face_detect``'s five letters.
ID_LENGTH = 5
#: Ids a tracker remembers having issued, so that it never issues one of them again.
ISSUED_MEMORY = 100_000


def new_face_id() -> str:
    """A random face id (``k3x9q``): short, valid as a ROS topic-name token, unrelated to any earlier process.

    Random rather than counted, so that a restarted process or a second camera does not issue the ids again
    (a consumer that keeps a face per id would merge two people otherwise).
    """
    return secrets.choice(string.ascii_lowercase) + "".join(
        secrets.choice(ID_CHARACTERS) for _ in range(ID_LENGTH - 1))


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
    starts a new track with a fresh random id (:func:`new_face_id`; never one this tracker issued
    among its last :data:`ISSUED_MEMORY`). A track not matched for more than ``max_missed``
    consecutive updates is dropped.
    """

    def __init__(
        self,
        iou_threshold: float = 0.3,
        max_centre_distance: float = 0.5,
        max_missed: int = 5,
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
        self._tracks: list[Track] = []
        self._issued: OrderedDict[str, None] = OrderedDict()

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
        """Forget every track (their ids are not issued again)."""
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
                track = Track(face_id=self._new_id(), detection=det)
                self._tracks.append(track)
                assigned[di] = track
        return [t for t in assigned if t is not None]

    def _new_id(self) -> str:
        face_id = new_face_id()
        while face_id in self._issued:
            face_id = new_face_id()
        self._issued[face_id] = None
        if len(self._issued) > ISSUED_MEMORY:
            self._issued.popitem(last=False)
        return face_id


class TrackedFaces:
    """Which face ids a REP-155 ``tracked`` list names, with ``hri_face_detect``'s hysteresis (no ROS).

    An id is listed once it was present in ``min_frames`` consecutive frames, and stays listed through up
    to ``max_missed`` consecutive frames without it (a detector that misses a face once does not make it
    leave and come back); then it is dropped, and must be present ``min_frames`` frames again.
    """

    def __init__(self, min_frames: int = 3, max_missed: int = 4) -> None:
        if min_frames < 1:
            raise ValueError(f"min_frames must be >= 1, got {min_frames}")
        if max_missed < 0:
            raise ValueError(f"max_missed must be >= 0, got {max_missed}")
        self.min_frames = min_frames
        self.max_missed = max_missed
        self._seen: dict[str, int] = {}  # consecutive frames present, per id not listed yet
        self._listed: dict[str, int] = {}  # consecutive frames missed, per listed id (insertion order kept)

    @property
    def listed(self) -> list[str]:
        """The ids listed after the last :meth:`update`, oldest first."""
        return list(self._listed)

    def update(self, present: Sequence[str]) -> list[str]:
        """Count one frame in which the ids ``present`` were seen; returns the ids listed now."""
        here = set(present)
        self._seen = {i: self._seen.get(i, 0) + 1 for i in present if i not in self._listed}
        for face_id, count in list(self._seen.items()):
            if count >= self.min_frames:
                self._listed[face_id] = 0
                del self._seen[face_id]
        for face_id in list(self._listed):
            self._listed[face_id] = 0 if face_id in here else self._listed[face_id] + 1
            if self._listed[face_id] > self.max_missed:
                del self._listed[face_id]
        return self.listed

    def reset(self) -> None:
        """Forget every id: each must be present ``min_frames`` frames again to be listed."""
        self._seen.clear()
        self._listed.clear()
