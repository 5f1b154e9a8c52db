# Copyright 2026 The emotion_perception Authors
# SPDX-License-Identifier: Apache-2.0
"""An annotated copy of a video: face boxes with valence, robot-action and verdict banners (no ROS).

Frames and reactions arrive separately (reactions later, and only for the frames the recognizer
processed), so frames wait in a short buffer until reactions at or after their time are known;
each frame is then drawn with the latest reactions not newer than itself.
"""

from __future__ import annotations

import bisect
from collections import deque
from collections.abc import Callable, Sequence
from pathlib import Path

import cv2
import numpy as np

from emotion_perception.reaction import FaceReaction
from emotion_perception.tools.timeline_plot import ActionMark, VerdictMark
from emotion_perception.vision.drawing import draw_reactions

#: How long (s of video) a banner stays on screen.
ACTION_BANNER_S = 2.0
VERDICT_BANNER_S = 4.0
#: Reactions older than this (s) are not drawn on a frame (the face may have moved).
MAX_REACTION_AGE_S = 1.0
#: Frames kept waiting for their reactions before being written with what is known.
MAX_BUFFERED_FRAMES = 96
#: Banner colour (BGR) per verdict name.
VERDICT_BGR: dict[str, tuple[int, int, int]] = {
    "WELL_RECEIVED": (60, 170, 40),
    "NEUTRAL": (120, 120, 120),
    "BADLY_RECEIVED": (40, 40, 200),
    "UNKNOWN": (150, 60, 150),
}

Annotator = Callable[[np.ndarray, list[FaceReaction]], np.ndarray]


def _banner(canvas: np.ndarray, text: str, row: int, colour: tuple[int, int, int]) -> None:
    """A filled strip with ``text`` across the bottom of ``canvas`` (above the footer), ``row`` strips up."""
    scale = max(0.5, canvas.shape[1] / 1100.0)
    thickness = max(1, round(2 * scale))
    (_, th), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, thickness)
    height = th + base + 10
    top = canvas.shape[0] - round(28 * scale) - (row + 1) * height
    overlay = canvas.copy()
    cv2.rectangle(overlay, (0, top), (canvas.shape[1], top + height), colour, cv2.FILLED)
    cv2.addWeighted(overlay, 0.75, canvas, 0.25, 0, dst=canvas)
    cv2.putText(canvas, text, (8, top + th + 5), cv2.FONT_HERSHEY_SIMPLEX, scale, (255, 255, 255), thickness,
                cv2.LINE_AA)


def _footer(canvas: np.ndarray, text: str) -> None:
    scale = max(0.4, canvas.shape[1] / 1600.0)
    cv2.putText(canvas, text, (8, canvas.shape[0] - 8), cv2.FONT_HERSHEY_SIMPLEX, scale, (235, 235, 235), 1,
                cv2.LINE_AA)


def _valence_gauge(canvas: np.ndarray, reaction: FaceReaction) -> None:
    """A vertical bar beside the face box, from -1 (bottom) to +1 (top), filled from its middle to the valence score."""
    x, y, w, h = reaction.box
    left = x + w + 4 if x + w + 14 <= canvas.shape[1] else max(x - 14, 0)
    mid = y + h // 2
    end = mid - round(reaction.valence_score * h / 2)
    cv2.rectangle(canvas, (left, y), (left + 8, y + h), (40, 40, 40), cv2.FILLED)
    colour = (60, 200, 60) if reaction.valence_score >= 0 else (60, 60, 230)
    cv2.rectangle(canvas, (left, min(mid, end)), (left + 8, max(mid, end)), colour, cv2.FILLED)
    cv2.line(canvas, (left - 2, mid), (left + 10, mid), (255, 255, 255), 1)


class AnnotatedVideoWriter:
    """Write frames with their faces, actions and verdicts drawn on them to an mp4 (``mp4v``).

    Call :meth:`add_frame` for every frame, :meth:`add_reactions` for every processed frame (even
    with no face), :meth:`add_action`/:meth:`add_verdict` as they happen, then :meth:`close`.
    The snapshot (for a README) is the frame one second after the first WELL_RECEIVED verdict
    appears, else the last frame that showed a face.
    """

    def __init__(self, path: str | Path, fps: float, credit: str = "", annotate: Annotator = draw_reactions,
                 snapshot_path: str | Path | None = None) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.fps = fps
        self.frames_written = 0
        self._credit = credit
        self._annotate = annotate
        self._snapshot_path = Path(snapshot_path) if snapshot_path else None
        self._snapshot: np.ndarray | None = None
        self._snapshot_fixed = False
        self._writer: cv2.VideoWriter | None = None
        self._size: tuple[int, int] | None = None
        self._frames: deque[tuple[float, np.ndarray]] = deque()
        self._reaction_times: list[float] = []
        self._reactions: list[list[FaceReaction]] = []
        self._actions: list[ActionMark] = []
        self._verdicts: list[VerdictMark] = []

    def add_frame(self, time_s: float, image: np.ndarray) -> None:
        self._frames.append((time_s, np.ascontiguousarray(image).copy()))
        while len(self._frames) > MAX_BUFFERED_FRAMES:
            self._write(*self._frames.popleft())

    def add_reactions(self, time_s: float, reactions: Sequence[FaceReaction]) -> None:
        index = bisect.bisect_right(self._reaction_times, time_s)
        self._reaction_times.insert(index, time_s)
        self._reactions.insert(index, list(reactions))
        while self._frames and self._frames[0][0] <= time_s:
            self._write(*self._frames.popleft())

    def add_action(self, mark: ActionMark) -> None:
        """Show ``mark``; a mark with the same ``action_id`` as an earlier one replaces it."""
        self._actions = [a for a in self._actions if a.action_id != mark.action_id] + [mark]

    def add_verdict(self, mark: VerdictMark) -> None:
        self._verdicts.append(mark)

    def _reactions_at(self, time_s: float) -> list[FaceReaction]:
        index = bisect.bisect_right(self._reaction_times, time_s) - 1
        if index < 0 or time_s - self._reaction_times[index] > MAX_REACTION_AGE_S:
            return []
        return self._reactions[index]

    def render(self, time_s: float, image: np.ndarray) -> np.ndarray:
        """``image`` at ``time_s`` with what is known about that moment drawn on it."""
        reactions = self._reactions_at(time_s)
        canvas = self._annotate(image, reactions)
        for reaction in reactions:
            _valence_gauge(canvas, reaction)
        row = 0
        for action in self._actions:
            if action.time_s <= time_s < action.time_s + ACTION_BANNER_S:
                _banner(canvas, f"ROBOT ACTION: {action.name}", row, (160, 90, 20))
                row += 1
            elif action.time_s + ACTION_BANNER_S <= time_s <= action.response[1]:
                _banner(canvas, f"watching the reaction to {action.name}...", row, (110, 70, 30))
                row += 1
        for verdict in self._verdicts:
            if verdict.time_s <= time_s < verdict.time_s + VERDICT_BANNER_S:
                delta = "" if verdict.delta != verdict.delta else f"  (valence change {verdict.delta:+.2f})"
                _banner(canvas, f"{verdict.name}: {verdict.verdict}{delta}", row,
                        VERDICT_BGR.get(verdict.verdict, (0, 0, 0)))
                row += 1
                if verdict.verdict == "WELL_RECEIVED" and not self._snapshot_fixed and time_s >= verdict.time_s + 1.0:
                    self._snapshot, self._snapshot_fixed = canvas, True
        _footer(canvas, f"t = {time_s:5.1f} s   {self._credit}".rstrip())
        if reactions and not self._snapshot_fixed:
            self._snapshot = canvas
        return canvas

    def _write(self, time_s: float, image: np.ndarray) -> None:
        if self._writer is None:
            self._size = (image.shape[1], image.shape[0])
            self._writer = cv2.VideoWriter(str(self.path), cv2.VideoWriter_fourcc(*"mp4v"), self.fps, self._size)
            if not self._writer.isOpened():
                raise OSError(f"OpenCV cannot write an mp4v video to {self.path}")
        if (image.shape[1], image.shape[0]) != self._size:
            image = cv2.resize(image, self._size)
        self._writer.write(self.render(time_s, image))
        self.frames_written += 1

    def close(self) -> Path | None:
        """Write the frames still waiting, finish the file and the snapshot; returns the snapshot path."""
        while self._frames:
            self._write(*self._frames.popleft())
        if self._writer is not None:
            self._writer.release()
            self._writer = None
        if self._snapshot_path is not None and self._snapshot is not None:
            self._snapshot_path.parent.mkdir(parents=True, exist_ok=True)
            cv2.imwrite(str(self._snapshot_path), self._snapshot)
            return self._snapshot_path
        return None
