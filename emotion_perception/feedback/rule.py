# Copyright 2026 The emotion_perception Authors
# SPDX-License-Identifier: Apache-2.0
"""Pairing people's reactions with the robot's actions, and the verdict rule (no ROS).

The rule, for an action that starts at t (all times are message stamps):

- baseline window: [t - baseline_window, t); response window: [t + response_delay, t_end], where
  t_end = t + response_end, or, for an action with a duration, t + max(response_end, duration +
  duration_margin) capped at t + max_response_window.
- Per face id, the confidence-weighted mean valence_score in each window (b_f, r_f). Only faces
  seen in the response window count; people who left before it are ignored.
- No face in the response window → UNKNOWN.
- Each face scores its change in thresholds: s_f = (r_f - b_f) / delta_threshold, or, for a face
  with no baseline, s_f = r_f / level_threshold. The action's score is the mean of s_f weighted by
  each face's summed response confidence, rounded to SCORE_DECIMALS: ≥ 1 → WELL_RECEIVED, ≤ -1 →
  BADLY_RECEIVED, else NEUTRAL. (One person: delta ≥ delta_threshold is well received, delta ≤
  -delta_threshold badly.) The rounding makes a change of exactly a threshold reach it although the
  valences travel as float32 (0.5 → 0.7 arrives as a change of +0.19999999) and sums of many reactions
  land a hair either side of the exact value.
- delta is the same weighted mean of the per-face deltas (faces seen in both windows; NaN if none);
  baseline_valence / response_valence pool the reactions of the faces seen in the response window.
- The verdict is made once the node clock passes t_end + lateness_grace; reactions that arrive late
  or out of order count while that has not happened. A reaction may count for several
  (overlapping) actions; each action is judged on its own windows.
"""

from __future__ import annotations

import bisect
import math
from collections import Counter, OrderedDict
from dataclasses import dataclass, field
from enum import Enum, IntEnum

from emotion_perception.reaction import Valence

NS_PER_S = 1_000_000_000
#: Decimals of an action's score (in thresholds) compared with ±1: 1/10,000 of a threshold (0.00002 valence at
#: the default 0.2) is finer than anything a face shows and coarser than the float32 error of a valence change
#: (≤ 6e-8) at the smallest threshold allowed (0.01).
SCORE_DECIMALS = 4
_VALENCES = frozenset(int(v) for v in Valence)


def seconds_to_ns(seconds: float) -> int:
    return round(seconds * NS_PER_S)


class Verdict(IntEnum):
    """How an action was received; the values are emotion_msgs/ActionFeedback's constants."""

    WELL_RECEIVED = 1
    NEUTRAL = 0
    BADLY_RECEIVED = -1
    UNKNOWN = 2


class DropReason(str, Enum):
    """Why an input message was not used (the key of the drop counters)."""

    EMPTY_ACTION_ID = "empty_action_id"
    EMPTY_ACTION_NAME = "empty_action_name"
    DUPLICATE_ACTION_ID = "duplicate_action_id"
    BAD_DURATION = "bad_duration"
    FUTURE_STAMP = "future_stamp"
    STALE_STAMP = "stale_stamp"
    NON_FINITE = "non_finite"
    OUT_OF_RANGE = "out_of_range"
    UNKNOWN_VALENCE = "unknown_valence"
    PENDING_OVERFLOW = "pending_overflow"
    HISTORY_OVERFLOW = "history_overflow"


@dataclass(frozen=True)
class Action:
    """One execution of a robot action: ``stamp_ns`` is its start, ``duration`` in seconds (0 = unknown)."""

    action_id: str
    name: str
    stamp_ns: int
    duration: float = 0.0


@dataclass(frozen=True)
class TimedReaction:
    """One face's valence at one frame stamp (the fields of EmotionReaction the pairing needs)."""

    stamp_ns: int
    face_id: str
    valence: int
    valence_score: float
    confidence: float


@dataclass(frozen=True)
class ActionVerdict:
    """The verdict on one action; NaN valences/delta where a window is empty (see the module rule)."""

    action: Action
    verdict: Verdict
    baseline_valence: float
    response_valence: float
    delta: float
    confidence: float
    n_baseline: int
    n_response: int
    face_ids: tuple[str, ...]
    decided_ns: int


@dataclass(frozen=True)
class FeedbackConfig:
    """Windows (seconds), thresholds (valence units) and bounds of the pairing."""

    baseline_window: float = 2.0
    response_delay: float = 0.3
    response_end: float = 3.0
    duration_margin: float = 0.5
    max_response_window: float = 30.0
    lateness_grace: float = 0.3
    delta_threshold: float = 0.2
    level_threshold: float = 0.3
    full_confidence_reactions: int = 5
    history_seconds: float = 40.0
    history_max_reactions: int = 20_000
    max_pending_actions: int = 1000  # 300 actions/s for the default windows; a few hundred bytes each
    max_stamp_age: float = 10.0
    max_future_stamp: float = 1.0
    remembered_action_ids: int = 10_000

    def problems(self) -> list[str]:
        """Every inconsistency between the values (empty when the configuration is usable)."""
        positive = ("baseline_window", "response_end", "max_response_window", "delta_threshold", "level_threshold")
        out = [f"{name} must be > 0" for name in positive if not getattr(self, name) > 0]
        non_negative = ("response_delay", "duration_margin", "lateness_grace", "max_stamp_age", "max_future_stamp")
        out += [f"{name} must be >= 0" for name in non_negative if not getattr(self, name) >= 0]
        counts = ("full_confidence_reactions", "history_max_reactions", "max_pending_actions", "remembered_action_ids")
        out += [f"{name} must be >= 1" for name in counts if getattr(self, name) < 1]
        if self.response_delay >= self.response_end:
            out.append(f"response_delay ({self.response_delay}) must be < response_end ({self.response_end})")
        if self.max_response_window < self.response_end:
            out.append(
                f"max_response_window ({self.max_response_window}) must be >= response_end ({self.response_end})"
            )
        needed = self.baseline_window + max(self.max_stamp_age, self.max_response_window + self.lateness_grace)
        if self.history_seconds < needed:
            out.append(
                f"history_seconds ({self.history_seconds}) must cover baseline_window + "
                f"max(max_stamp_age, max_response_window + lateness_grace) = {needed:g}"
            )
        return out

    def response_window_ns(self, action: Action) -> tuple[int, int]:
        """The action's response window as [start, end] stamps in nanoseconds."""
        length = self.response_end
        if action.duration > 0:
            length = min(max(length, action.duration + self.duration_margin), self.max_response_window)
        return action.stamp_ns + seconds_to_ns(self.response_delay), action.stamp_ns + seconds_to_ns(length)

    def due_ns(self, action: Action) -> int:
        """The node-clock time at which the action is judged."""
        return self.response_window_ns(action)[1] + seconds_to_ns(self.lateness_grace)


def _weighted_mean(reactions: list[TimedReaction]) -> tuple[float, float]:
    """Confidence-weighted mean valence_score and the total weight (a zero-confidence reaction weighs 1e-6)."""
    weights = [max(r.confidence, 1e-6) for r in reactions]
    total = sum(weights)
    return sum(w * r.valence_score for w, r in zip(weights, reactions, strict=True)) / total, total


def judge(action: Action, baseline: list[TimedReaction], response: list[TimedReaction], config: FeedbackConfig,
          decided_ns: int) -> ActionVerdict:
    """Apply the module's rule to the reactions already cut to the action's two windows."""
    by_face: dict[str, tuple[list[TimedReaction], list[TimedReaction]]] = {}
    for r in response:
        by_face.setdefault(r.face_id, ([], []))[1].append(r)
    for r in baseline:
        if r.face_id in by_face:
            by_face[r.face_id][0].append(r)
    used_baseline = [r for before, _ in by_face.values() for r in before]
    nan = math.nan
    if not response:
        return ActionVerdict(action, Verdict.UNKNOWN, nan, nan, nan, 0.0, 0, 0, (), decided_ns)

    score_sum = weight_sum = delta_sum = delta_weight = 0.0
    for before, after in by_face.values():
        r_f, w_f = _weighted_mean(after)
        if before:
            d_f = r_f - _weighted_mean(before)[0]
            score = d_f / config.delta_threshold
            delta_sum += w_f * d_f
            delta_weight += w_f
        else:
            score = r_f / config.level_threshold
        score_sum += w_f * score
        weight_sum += w_f
    score = round(score_sum / weight_sum, SCORE_DECIMALS)
    if score >= 1.0:
        verdict = Verdict.WELL_RECEIVED
    elif score <= -1.0:
        verdict = Verdict.BADLY_RECEIVED
    else:
        verdict = Verdict.NEUTRAL

    used = used_baseline + response
    mean_confidence = sum(min(max(r.confidence, 0.0), 1.0) for r in used) / len(used)
    confidence = mean_confidence * min(1.0, len(response) / config.full_confidence_reactions)
    return ActionVerdict(
        action=action,
        verdict=verdict,
        baseline_valence=_weighted_mean(used_baseline)[0] if used_baseline else nan,
        response_valence=_weighted_mean(response)[0],
        delta=delta_sum / delta_weight if delta_weight else nan,
        confidence=confidence,
        n_baseline=len(used_baseline),
        n_response=len(response),
        face_ids=tuple(sorted(by_face)),
        decided_ns=decided_ns,
    )


@dataclass
class FeedbackTracker:
    """Holds recent reactions and pending actions, and judges each action once its windows have closed.

    Reactions are kept sorted by stamp, bounded by ``history_seconds`` and ``history_max_reactions``;
    pending actions are bounded by ``max_pending_actions`` (the oldest is dropped). Every dropped input
    is counted in ``drops`` by :class:`DropReason`; ``add_*`` return the reason, or None when nothing
    was dropped (with an ``*_OVERFLOW`` reason the new input was kept and the oldest one dropped).
    """

    config: FeedbackConfig = field(default_factory=FeedbackConfig)
    drops: Counter = field(default_factory=Counter, init=False)
    reactions_received: int = field(default=0, init=False)
    actions_received: int = field(default=0, init=False)
    _reactions: list[TimedReaction] = field(default_factory=list, init=False, repr=False)
    _pending: dict[str, Action] = field(default_factory=dict, init=False, repr=False)
    _seen_ids: OrderedDict = field(default_factory=OrderedDict, init=False, repr=False)

    def __post_init__(self) -> None:
        problems = self.config.problems()
        if problems:
            raise ValueError("invalid feedback configuration: " + "; ".join(problems))

    @property
    def pending_count(self) -> int:
        return len(self._pending)

    @property
    def history_size(self) -> int:
        return len(self._reactions)

    def _drop(self, reason: DropReason) -> DropReason:
        self.drops[reason.value] += 1
        return reason

    def _stamp_problem(self, stamp_ns: int, now_ns: int) -> DropReason | None:
        if stamp_ns > now_ns + seconds_to_ns(self.config.max_future_stamp):
            return DropReason.FUTURE_STAMP
        if stamp_ns < now_ns - seconds_to_ns(self.config.max_stamp_age):
            return DropReason.STALE_STAMP
        return None

    def add_action(self, action: Action, now_ns: int) -> DropReason | None:
        """Start tracking an action; returns why it or the oldest pending one was dropped, or None."""
        self.actions_received += 1
        if not action.action_id:
            return self._drop(DropReason.EMPTY_ACTION_ID)
        if not action.name:
            return self._drop(DropReason.EMPTY_ACTION_NAME)
        if not (math.isfinite(action.duration) and action.duration >= 0):
            return self._drop(DropReason.BAD_DURATION)
        if action.action_id in self._seen_ids:
            return self._drop(DropReason.DUPLICATE_ACTION_ID)
        problem = self._stamp_problem(action.stamp_ns, now_ns)
        if problem:
            return self._drop(problem)
        self._seen_ids[action.action_id] = None
        while len(self._seen_ids) > self.config.remembered_action_ids:
            self._seen_ids.popitem(last=False)
        self._pending[action.action_id] = action
        if len(self._pending) > self.config.max_pending_actions:
            oldest = min(self._pending.values(), key=lambda a: (a.stamp_ns, a.action_id))
            del self._pending[oldest.action_id]
            return self._drop(DropReason.PENDING_OVERFLOW)
        return None

    def add_reaction(self, reaction: TimedReaction, now_ns: int) -> DropReason | None:
        """Remember a reaction (in stamp order); returns why it or the oldest one was dropped, or None."""
        self.reactions_received += 1
        if not (math.isfinite(reaction.valence_score) and math.isfinite(reaction.confidence)):
            return self._drop(DropReason.NON_FINITE)
        if reaction.valence not in _VALENCES:
            return self._drop(DropReason.UNKNOWN_VALENCE)
        if not (-1.0 <= reaction.valence_score <= 1.0 and 0.0 <= reaction.confidence <= 1.0):
            return self._drop(DropReason.OUT_OF_RANGE)
        problem = self._stamp_problem(reaction.stamp_ns, now_ns)
        if problem:
            return self._drop(problem)
        bisect.insort(self._reactions, reaction, key=lambda r: r.stamp_ns)
        excess = len(self._reactions) - self.config.history_max_reactions
        if excess > 0:
            del self._reactions[:excess]
            self.drops[DropReason.HISTORY_OVERFLOW.value] += excess
            return DropReason.HISTORY_OVERFLOW
        return None

    def _between(self, start_ns: int, end_ns: int, inclusive_end: bool) -> list[TimedReaction]:
        lo = bisect.bisect_left(self._reactions, start_ns, key=lambda r: r.stamp_ns)
        find_end = bisect.bisect_right if inclusive_end else bisect.bisect_left
        hi = find_end(self._reactions, end_ns, key=lambda r: r.stamp_ns)
        return self._reactions[lo:hi]

    def evaluate(self, action: Action, decided_ns: int) -> ActionVerdict:
        """Judge one action on the reactions held now (whether or not its windows have closed)."""
        start, end = self.config.response_window_ns(action)
        baseline = self._between(action.stamp_ns - seconds_to_ns(self.config.baseline_window), action.stamp_ns, False)
        return judge(action, baseline, self._between(start, end, True), self.config, decided_ns)

    def due(self, now_ns: int) -> list[ActionVerdict]:
        """Judge and forget every pending action whose windows (plus grace) have closed; oldest first."""
        ready = sorted((a for a in self._pending.values() if self.config.due_ns(a) <= now_ns),
                       key=lambda a: (a.stamp_ns, a.action_id))
        verdicts = []
        for action in ready:
            del self._pending[action.action_id]
            verdicts.append(self.evaluate(action, now_ns))
        cutoff = now_ns - seconds_to_ns(self.config.history_seconds)
        del self._reactions[:bisect.bisect_left(self._reactions, cutoff, key=lambda r: r.stamp_ns)]
        return verdicts
