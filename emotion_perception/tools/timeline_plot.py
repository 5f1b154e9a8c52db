# Copyright 2026 The emotion_perception Authors
# SPDX-License-Identifier: Apache-2.0
"""A run's valence timeline — per-face valence over time, robot actions and their verdicts — and its plot (no ROS).

Times are seconds on one axis (the demo uses seconds into the video). The plot is drawn with
matplotlib's Agg backend, so it needs no display.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

#: Colour (matplotlib) per verdict name, as in emotion_perception.feedback.rule.Verdict.
VERDICT_COLOURS: dict[str, str] = {
    "WELL_RECEIVED": "tab:green",
    "NEUTRAL": "tab:gray",
    "BADLY_RECEIVED": "tab:red",
    "UNKNOWN": "tab:purple",
}


@dataclass(frozen=True)
class ValencePoint:
    """One face's continuous valence (``valence_score`` in [-1, 1]) at ``time_s``."""

    time_s: float
    face_id: str
    valence_score: float
    confidence: float


@dataclass(frozen=True)
class ActionMark:
    """A robot action at ``time_s`` with the windows its verdict compares, as (start, end) seconds."""

    action_id: str
    name: str
    time_s: float
    baseline: tuple[float, float]
    response: tuple[float, float]


@dataclass(frozen=True)
class VerdictMark:
    """The verdict on one action, made at ``time_s``; valences/delta are NaN where a window was empty."""

    action_id: str
    name: str
    verdict: str
    time_s: float
    baseline_valence: float
    response_valence: float
    delta: float
    confidence: float


@dataclass
class Timeline:
    """Everything one run observed, in time order of arrival."""

    points: list[ValencePoint] = field(default_factory=list)
    actions: list[ActionMark] = field(default_factory=list)
    verdicts: list[VerdictMark] = field(default_factory=list)

    def verdict_for(self, action_id: str) -> VerdictMark | None:
        return next((v for v in self.verdicts if v.action_id == action_id), None)


def plot_timeline(timeline: Timeline, path: str | Path, title: str = "",
                  span_s: tuple[float, float] | None = None, xlabel: str = "time in the video (s)") -> Path:
    """Write a PNG of ``timeline``: valence per face, shaded baseline/response windows, verdict labels."""
    path = Path(path)
    fig, ax = plt.subplots(figsize=(11, 4.2), dpi=110)
    try:
        for i, action in enumerate(timeline.actions):
            labels = ("baseline window", "response window") if i == 0 else (None, None)
            ax.axvspan(*action.baseline, color="tab:blue", alpha=0.10, lw=0, label=labels[0])
            ax.axvspan(*action.response, color="tab:orange", alpha=0.16, lw=0, label=labels[1])
            ax.axvline(action.time_s, color="black", lw=1.2, ls="--")
            verdict = timeline.verdict_for(action.action_id)
            text = action.name if verdict is None else f"{action.name}\n{verdict.verdict}"
            if verdict is not None and verdict.delta == verdict.delta:  # not NaN
                text += f"\nΔ {verdict.delta:+.2f}"
            colour = "black" if verdict is None else VERDICT_COLOURS.get(verdict.verdict, "black")
            ax.annotate(text, (action.time_s, 1.02), xycoords=("data", "data"), ha="left", va="bottom",
                        fontsize=8, color=colour, fontweight="bold", xytext=(3, 0), textcoords="offset points")
        faces = sorted({p.face_id for p in timeline.points})
        for face in faces:
            pts = sorted((p for p in timeline.points if p.face_id == face), key=lambda p: p.time_s)
            ax.plot([p.time_s for p in pts], [p.valence_score for p in pts], marker=".", ms=3, lw=1.2,
                    label=f"valence {face or '(no id)'}")
        ax.axhline(0.0, color="gray", lw=0.6)
        ax.set_ylim(-1.1, 1.45)
        if span_s:
            ax.set_xlim(*span_s)
        ax.set_xlabel(xlabel)
        ax.set_ylabel("valence score  (p_pos − p_neg)")
        ax.set_title(title or "valence over time, robot actions and verdicts", fontsize=10)
        if ax.get_legend_handles_labels()[0]:  # an empty session has nothing to name
            ax.legend(loc="lower right", fontsize=7, ncol=2)
        ax.grid(alpha=0.25)
        fig.tight_layout()
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path)
    finally:
        plt.close(fig)
    return path
