# Copyright 2026 The emotion_perception Authors
# SPDX-License-Identifier: Apache-2.0
"""What the dashboard shows, in bounded, thread-safe buffers (written by ROS callbacks, read by the server).

Every item (a frame's face valences, an action, a verdict, a statistics refresh) gets a sequence number,
so the server pushes each page only what is new since its last push. Times are message stamps in
seconds (so sim time and bag replay line up); staleness is measured on the monotonic clock of receipt.
No face image is kept: only the newest JPEG of the camera view, in memory.
"""

from __future__ import annotations

import math
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field

#: diagnostic_msgs/DiagnosticStatus levels, and the one the dashboard adds for a status gone silent.
LEVEL_NAMES = {0: "OK", 1: "WARN", 2: "ERROR", 3: "STALE"}
#: A stamp this far (s) behind the newest one means time was reset (a bag or a video restarted).
TIME_RESET_S = 5.0


@dataclass(frozen=True)
class FacePoint:
    """One face's valence in one frame."""

    face_id: str
    valence_score: float
    confidence: float


@dataclass(frozen=True)
class ActionEvent:
    """A robot action as the page marks it; ``stamp`` is its start (s)."""

    action_id: str
    name: str
    stamp: float
    duration: float = 0.0


@dataclass(frozen=True)
class VerdictEvent:
    """The verdict on one action; valences and delta are NaN where undefined (sent as null)."""

    action_id: str
    name: str
    action_stamp: float
    verdict: str
    delta: float
    baseline_valence: float
    response_valence: float
    confidence: float
    n_baseline: int
    n_response: int
    face_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class HealthReport:
    """One ``DiagnosticStatus`` as received; ``received`` is on the state's monotonic clock."""

    name: str
    level: int
    message: str
    values: dict[str, str] = field(default_factory=dict)
    received: float = 0.0


@dataclass(frozen=True)
class Limits:
    """Bounds of every buffer, so no input rate and no run length grows the state without bound."""

    history_s: float = 60.0
    max_frames: int = 6000
    max_faces_per_frame: int = 20
    max_events: int = 100
    max_statuses: int = 50
    max_stats_rows: int = 500
    stale_after_s: float = 3.0

    def __post_init__(self) -> None:
        if self.history_s <= 0 or self.stale_after_s <= 0:
            raise ValueError("history_s and stale_after_s must be > 0")
        if min(self.max_frames, self.max_faces_per_frame, self.max_events, self.max_statuses,
               self.max_stats_rows) < 1:
            raise ValueError("every max_* limit must be >= 1")


def json_number(value: float) -> float | None:
    """``value`` for JSON: NaN and infinities become None."""
    return None if value is None or not math.isfinite(value) else float(value)


def _verdict_json(v: VerdictEvent) -> dict:
    data = asdict(v)
    for key in ("delta", "baseline_valence", "response_valence", "confidence"):
        data[key] = json_number(data[key])
    data["face_ids"] = list(v.face_ids)
    return data


class DashboardState:
    """The dashboard's data; every method is thread-safe and O(size of the answer) at most."""

    def __init__(self, limits: Limits | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        self.limits = limits or Limits()
        self._clock = clock
        self._lock = threading.Lock()
        self._seq = 0
        self.epoch = 0  # bumped when time jumps back: every page then needs a fresh snapshot
        self._frames: deque[tuple[int, float, list[list]]] = deque(maxlen=self.limits.max_frames)
        self._actions: deque[tuple[int, ActionEvent]] = deque(maxlen=self.limits.max_events)
        self._verdicts: deque[tuple[int, VerdictEvent]] = deque(maxlen=self.limits.max_events)
        self._stats: tuple[int, dict] = (0, {"ok": False, "message": "waiting for the statistics service", "rows": []})
        self._statuses: dict[str, HealthReport] = {}
        self._last_reactions = -math.inf
        self._perception_state: str | None = None
        self._newest_stamp = -math.inf
        self._frame: tuple[int, bytes] = (0, b"")
        self.dropped: Counter[str] = Counter()

    def _next(self) -> int:
        self._seq += 1
        return self._seq

    def _prune(self) -> None:
        horizon = self._newest_stamp - self.limits.history_s
        while self._frames and self._frames[0][1] < horizon:
            self._frames.popleft()

    def _observe_stamp(self, stamp: float) -> None:
        """Track the newest frame stamp; a jump back by more than TIME_RESET_S clears the timeline (new epoch)."""
        if stamp < self._newest_stamp - TIME_RESET_S:
            self._frames.clear()
            self._actions.clear()
            self._verdicts.clear()
            self._newest_stamp = stamp
            self.epoch += 1
            self.dropped["time_reset"] += 1
        self._newest_stamp = max(self._newest_stamp, stamp)

    def add_frame(self, stamp: float, faces: Sequence[FacePoint]) -> None:
        """The faces of one processed frame (possibly none: it still proves perception is alive)."""
        with self._lock:
            self._last_reactions = self._clock()
            if not faces:
                return
            self._observe_stamp(stamp)
            kept = faces[: self.limits.max_faces_per_frame]
            self.dropped["faces_over_limit"] += len(faces) - len(kept)
            row = [[f.face_id, round(float(f.valence_score), 4), round(float(f.confidence), 3)] for f in kept]
            self._frames.append((self._next(), stamp, row))
            self._prune()

    def add_action(self, action: ActionEvent) -> None:
        with self._lock:
            self._actions.append((self._next(), action))

    def add_verdict(self, verdict: VerdictEvent) -> None:
        with self._lock:
            self._verdicts.append((self._next(), verdict))

    def set_stats(self, rows: Iterable[dict], ok: bool, message: str) -> None:
        """The per-action statistics table (rows as ``GetActionStats`` gives them), or why it could not be
        refreshed (``ok`` False: the last rows stay, marked by the message)."""
        rows = list(rows)
        with self._lock:
            kept = rows[: self.limits.max_stats_rows] if ok else self._stats[1]["rows"]
            table = {"ok": ok, "message": message, "rows": kept}
            if table != self._stats[1]:
                self._stats = (self._next(), table)

    def add_diagnostics(self, reports: Iterable[HealthReport]) -> None:
        with self._lock:
            now = self._clock()
            for report in reports:
                if report.name not in self._statuses and len(self._statuses) >= self.limits.max_statuses:
                    self.dropped["statuses_over_limit"] += 1
                    continue
                self._statuses[report.name] = HealthReport(report.name, report.level, report.message,
                                                           dict(report.values), now)

    def set_perception_state(self, label: str | None) -> None:
        """perception_node's lifecycle state (``active``, ``inactive``, ...); None: unknown (nobody answers)."""
        with self._lock:
            self._perception_state = label

    def set_camera_frame(self, jpeg: bytes) -> None:
        """The newest annotated camera view (JPEG); replaces the previous one."""
        with self._lock:
            self._frame = (self._frame[0] + 1, jpeg)

    def camera_frame(self) -> tuple[int, bytes]:
        """``(number, JPEG)`` of the newest camera view; number 0 = none yet."""
        with self._lock:
            return self._frame

    @property
    def seq(self) -> int:
        with self._lock:
            return self._seq

    def snapshot(self) -> dict:
        """Everything a page needs to draw from scratch; ``seq`` tells which later changes are new to it."""
        with self._lock:
            return {
                "type": "snapshot", "seq": self._seq, "epoch": self.epoch, "history_s": self.limits.history_s,
                "frames": [[s, t, row] for s, t, row in self._frames],
                "actions": [{"seq": s, **asdict(a)} for s, a in self._actions],
                "verdicts": [{"seq": s, **_verdict_json(v)} for s, v in self._verdicts],
                "stats": self._stats[1],
                "health": self._health_locked(),
            }

    def changes_since(self, cursor: int) -> tuple[dict | None, int]:
        """``(update, new cursor)``: the items numbered above ``cursor`` (None when there are none)."""
        with self._lock:
            if self._seq <= cursor:
                return None, self._seq
            update: dict = {"type": "update", "seq": self._seq}
            frames = _newer(self._frames, cursor)
            if frames:
                update["frames"] = [[s, t, row] for s, t, row in frames]
            actions = _newer(self._actions, cursor)
            if actions:
                update["actions"] = [{"seq": s, **asdict(a)} for s, a in actions]
            verdicts = _newer(self._verdicts, cursor)
            if verdicts:
                update["verdicts"] = [{"seq": s, **_verdict_json(v)} for s, v in verdicts]
            if self._stats[0] > cursor:
                update["stats"] = self._stats[1]
            return update, self._seq

    def health(self) -> dict:
        """Indicators (perception, its lifecycle state once known, camera, action feedback) and every status,
        with silence turned into STALE."""
        with self._lock:
            return self._health_locked()

    def _health_locked(self) -> dict:
        now, stale = self._clock(), self.limits.stale_after_s
        statuses = []
        for report in sorted(self._statuses.values(), key=lambda r: r.name):
            age = now - report.received
            level = 3 if age > stale else report.level
            statuses.append({"name": report.name, "level": LEVEL_NAMES.get(level, "ERROR"),
                             "message": report.message if age <= stale else f"silent for {age:.0f} s",
                             "values": report.values, "age_s": round(age)})
        fresh = [r for r in self._statuses.values() if now - r.received <= stale]
        pipeline = next((r for r in fresh if "input_fps" in r.values), None)
        feedback = next((r for r in fresh if "verdicts_published" in r.values), None)
        silent_for = now - self._last_reactions
        indicators = [
            _indicator("perception", silent_for <= stale,
                       "reactions arriving" if silent_for <= stale else
                       "no reactions yet" if math.isinf(silent_for) else f"no reactions for {silent_for:.0f} s"),
            _camera_indicator(pipeline),
            _indicator("action feedback", feedback is not None and feedback.level < 2,
                       "no diagnostics from action_feedback_node" if feedback is None else feedback.message),
        ]
        if self._perception_state is not None:
            indicators.insert(1, _lifecycle_indicator(self._perception_state))
        return {"indicators": indicators, "statuses": statuses}


def _indicator(name: str, ok: bool, text: str) -> dict:
    return {"name": name, "ok": ok, "text": text}


def _lifecycle_indicator(label: str) -> dict:
    """Green only while active; inactive is the privacy pause (no frame processed), anything else is down."""
    text = "inactive: paused, no frame is processed" if label == "inactive" else label
    return _indicator("lifecycle", label == "active", text)


def _camera_indicator(pipeline: HealthReport | None) -> dict:
    if pipeline is None:
        return _indicator("camera", False, "no diagnostics from the perception node")
    try:
        fps = float(pipeline.values["input_fps"])
    except ValueError:
        fps = math.nan
    if not fps > 0:
        return _indicator("camera", False, f"camera silent: {pipeline.message}")
    p95 = pipeline.values.get("latency_p95_ms", "?")
    return _indicator("camera", True, f"{fps:.1f} fps in, {pipeline.values.get('processed_fps', '?')} processed,"
                                      f" p95 {p95} ms")


def _newer(items: deque, cursor: int) -> list:
    """The items of ``items`` (ordered by their first field, a sequence number) numbered above ``cursor``."""
    newer = []
    for item in reversed(items):
        if item[0] <= cursor:
            break
        newer.append(item)
    newer.reverse()
    return newer
