# Copyright 2026 The emotion_perception Authors
# SPDX-License-Identifier: Apache-2.0
"""The pairing of reactions with actions and the verdict rule, on synthetic timelines (no ROS)."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from emotion_perception.feedback.rule import (
    SCORE_DECIMALS,
    Action,
    DropReason,
    FeedbackConfig,
    FeedbackTracker,
    TimedReaction,
    Verdict,
    judge,
    seconds_to_ns,
)

T0 = 1_700_000_000 * 1_000_000_000  # the action's start, in ns
CONFIG = FeedbackConfig(baseline_window=2.0, response_delay=0.3, response_end=3.0, lateness_grace=0.3)


def at(seconds: float) -> int:
    """A stamp ``seconds`` after T0."""
    return T0 + seconds_to_ns(seconds)


def face(t: float, score: float, face_id: str = "face_1", confidence: float = 0.9, valence: int | None = None):
    if valence is None:
        valence = 1 if score > 0.3 else -1 if score < -0.3 else 0
    return TimedReaction(at(t), face_id, valence, score, confidence)


def timeline(before: float | None, after: float | None, face_id: str = "face_1", step: float = 0.1):
    """Reactions of one face at a constant score before the action (-2..0 s) and after it (0.3..3 s)."""
    out = []
    if before is not None:
        out += [face(-2.0 + i * step, before, face_id) for i in range(int(2.0 / step))]
    if after is not None:
        out += [face(0.3 + i * step, after, face_id) for i in range(int(2.7 / step) + 1)]
    return out


WAVE = Action("a1", "wave", T0)


def run(reactions, actions=(WAVE,), config=CONFIG, now: float = 3.3):
    """Feed everything, each reaction arriving at its own stamp, then judge at ``now`` seconds after T0."""
    tracker = FeedbackTracker(config)
    for action in actions:
        assert tracker.add_action(action, action.stamp_ns) is None
    for r in reactions:
        assert tracker.add_reaction(r, r.stamp_ns) is None
    return tracker, {v.action.action_id: v for v in tracker.due(at(now))}


def test_happy_after_the_action_is_well_received() -> None:
    _, verdicts = run(timeline(0.0, 0.8))
    v = verdicts["a1"]
    assert v.verdict is Verdict.WELL_RECEIVED
    assert v.baseline_valence == pytest.approx(0.0) and v.response_valence == pytest.approx(0.8)
    assert v.delta == pytest.approx(0.8)
    assert v.n_baseline == 20 and v.n_response == 28 and v.face_ids == ("face_1",)
    assert v.confidence == pytest.approx(0.9)
    assert v.decided_ns == at(3.3)  # when it was judged: the ActionFeedback's stamp


def test_sad_after_the_action_is_badly_received() -> None:
    v = run(timeline(0.2, -0.6))[1]["a1"]
    assert v.verdict is Verdict.BADLY_RECEIVED and v.delta == pytest.approx(-0.8)


def test_unchanged_is_neutral_even_when_happy_all_along() -> None:
    v = run(timeline(0.7, 0.75))[1]["a1"]
    assert v.verdict is Verdict.NEUTRAL and v.delta == pytest.approx(0.05)


def test_nobody_in_the_response_window_is_unknown() -> None:
    v = run(timeline(0.5, None))[1]["a1"]
    assert v.verdict is Verdict.UNKNOWN
    assert math.isnan(v.baseline_valence) and math.isnan(v.response_valence) and math.isnan(v.delta)
    assert v.n_baseline == 0 and v.n_response == 0 and v.face_ids == () and v.confidence == 0.0
    assert v.decided_ns == at(3.3)


@pytest.mark.parametrize(
    ("level", "expected"),
    [(0.5, Verdict.WELL_RECEIVED), (-0.5, Verdict.BADLY_RECEIVED), (0.1, Verdict.NEUTRAL)],
)
def test_without_a_baseline_the_response_level_decides(level: float, expected: Verdict) -> None:
    v = run(timeline(None, level))[1]["a1"]
    assert v.verdict is expected
    assert math.isnan(v.baseline_valence) and math.isnan(v.delta)
    assert v.response_valence == pytest.approx(level)


def wire(score: float) -> float:
    """``score`` as it arrives in an EmotionReaction: float32 (``0.7`` -> 0.699999988)."""
    return float(np.float32(score))


WELL, NEUTRAL, BADLY = Verdict.WELL_RECEIVED, Verdict.NEUTRAL, Verdict.BADLY_RECEIVED
#: One step of the score's rounding (SCORE_DECIMALS) in valence: 0.00002 for the 0.2 delta, 0.00003 for the 0.3 level.
DELTA_STEP = CONFIG.delta_threshold * 10.0 ** -SCORE_DECIMALS
LEVEL_STEP = CONFIG.level_threshold * 10.0 ** -SCORE_DECIMALS


@pytest.mark.parametrize(
    ("before", "after", "expected"),
    [
        (0.0, 0.2, WELL),  # exactly +delta_threshold (0.2 / 0.2 == 1.0)
        (0.0, -0.2, BADLY),
        (0.5, wire(0.7), WELL),  # 0.5 -> 0.7 off the wire: a change of +0.19999998807907104
        (0.5, wire(0.3), BADLY),  # -0.19999998807907104
        (0.0, 0.2 - 0.4 * DELTA_STEP, WELL),  # within half a step of the threshold: rounds onto it
        (0.0, -0.2 + 0.4 * DELTA_STEP, BADLY),
        (0.0, 0.2 - DELTA_STEP, NEUTRAL),  # a whole step short: does not reach it
        (0.0, -0.2 + DELTA_STEP, NEUTRAL),
        (0.0, 0.2 + DELTA_STEP, WELL),
        (0.0, -0.2 - DELTA_STEP, BADLY),
    ],
)
def test_a_change_of_exactly_the_delta_threshold_reaches_it(before: float, after: float, expected: Verdict) -> None:
    v = run(timeline(before, after))[1]["a1"]
    assert v.verdict is expected, (v.delta, v.delta / CONFIG.delta_threshold)
    assert v.delta == pytest.approx(after - before)


@pytest.mark.parametrize(
    ("level", "expected"),
    [
        (0.3, WELL),  # exactly +level_threshold: its 28 reactions at 0.9 average to 0.29999999999999993
        (-0.3, BADLY),
        (wire(0.3), WELL),  # 0.30000001192092896
        (wire(-0.3), BADLY),
        (0.3 - 0.4 * LEVEL_STEP, WELL),  # within half a step: rounds onto the threshold
        (-0.3 + 0.4 * LEVEL_STEP, BADLY),
        (0.3 - LEVEL_STEP, NEUTRAL),  # a whole step short
        (-0.3 + LEVEL_STEP, NEUTRAL),
    ],
)
def test_a_level_of_exactly_the_level_threshold_reaches_it(level: float, expected: Verdict) -> None:
    v = run(timeline(None, level))[1]["a1"]
    assert v.verdict is expected, (v.response_valence, v.response_valence / CONFIG.level_threshold)


def test_the_sum_of_many_reactions_a_hair_below_the_threshold_still_reaches_it() -> None:
    v = run(timeline(None, 0.3))[1]["a1"]
    assert v.response_valence < 0.3  # floating point: the weighted mean lands a hair below the exact level
    assert v.verdict is WELL


@pytest.mark.parametrize(
    ("bob", "expected"),
    [
        (0.1, WELL),  # scores 1.5 and 0.5 (0.3 / 0.2 == 1.4999999999999998): a mean of exactly 1
        (-0.1, NEUTRAL),
        (0.1 - 5 * DELTA_STEP, NEUTRAL),  # a mean 2.5 steps short
    ],
)
def test_two_people_whose_mean_score_is_exactly_one(bob: float, expected: Verdict) -> None:
    v = run(timeline(0.0, 0.3, "alice") + timeline(0.0, bob, "bob"))[1]["a1"]
    assert v.verdict is expected
    mirrored = run(timeline(0.0, -0.3, "alice") + timeline(0.0, -bob, "bob"))[1]["a1"]
    assert mirrored.verdict is Verdict(-expected)


def test_windows_edges_and_confidence_weighting() -> None:
    reactions = [
        face(-2.5, -1.0),  # before the baseline window
        face(-1.0, 0.0, confidence=0.5),
        face(0.0, -1.0),  # at the action's start: neither window
        face(0.2, -1.0),  # within response_delay: ignored
        face(1.0, 1.0, confidence=0.9),
        face(2.0, 0.0, confidence=0.1),
        face(3.0, 1.0, confidence=1.0),  # the window's end is included
        face(3.01, -1.0),  # after it
    ]
    v = run(reactions)[1]["a1"]
    assert v.n_baseline == 1 and v.n_response == 3
    assert v.response_valence == pytest.approx((0.9 + 1.0) / 2.0)
    assert v.verdict is Verdict.WELL_RECEIVED
    assert v.confidence == pytest.approx((0.5 + 0.9 + 0.1 + 1.0) / 4 * 3 / 5)


def test_duration_extends_the_response_window() -> None:
    config = FeedbackConfig(duration_margin=0.5, max_response_window=6.0)
    long_action = Action("long", "dance", T0, duration=5.0)
    capped = Action("capped", "dance", T0, duration=60.0)
    assert config.response_window_ns(long_action) == (at(0.3), at(5.5))
    assert config.response_window_ns(capped) == (at(0.3), at(6.0))
    assert config.due_ns(Action("short", "nod", T0, duration=1.0)) == at(3.3)
    assert config.due_ns(Action("unknown", "nod", T0, duration=0.0)) == at(3.3)
    assert FeedbackConfig(response_end=0.4, duration_margin=0.5).response_window_ns(WAVE) == (at(0.3), at(0.4))
    reactions = [*timeline(0.0, None), face(5.2, 0.9)]
    tracker, verdicts = run(reactions, actions=(long_action,), config=config, now=5.7)
    assert verdicts == {} and tracker.pending_count == 1
    assert tracker.due(at(5.8))[0].verdict is Verdict.WELL_RECEIVED


def test_not_judged_before_the_window_and_grace_have_passed() -> None:
    tracker, verdicts = run(timeline(0.0, 0.8), now=3.29)
    assert verdicts == {} and tracker.pending_count == 1
    assert [v.action.action_id for v in tracker.due(at(3.3))] == ["a1"]
    assert tracker.due(at(10.0)) == [] and tracker.pending_count == 0


def test_late_and_out_of_order_reactions_count_while_the_window_is_open() -> None:
    tracker = FeedbackTracker(CONFIG)
    tracker.add_action(Action("a1", "wave", T0), at(0.0))
    reactions = timeline(0.0, 0.8)
    for r in reversed(reactions):  # newest first, all arriving after the response window closed
        assert tracker.add_reaction(r, at(3.2)) is None
    assert tracker.due(at(3.25)) == []
    v = tracker.due(at(3.3))[0]
    assert v.verdict is Verdict.WELL_RECEIVED and v.n_baseline == 20 and v.n_response == 28
    tracker.add_reaction(face(2.9, -1.0), at(3.4))  # too late for a1: it has been judged already
    assert tracker.due(at(4.0)) == []


def test_late_action_is_judged_on_the_reactions_already_held() -> None:
    tracker = FeedbackTracker(CONFIG)
    for r in timeline(0.0, -0.7):
        tracker.add_reaction(r, at(3.0))
    tracker.add_action(Action("late", "joke", T0), at(4.0))
    assert tracker.due(at(4.0))[0].verdict is Verdict.BADLY_RECEIVED


def test_overlapping_actions_share_reactions() -> None:
    first = Action("a1", "wave", T0)
    second = Action("a2", "joke", at(1.0))
    reactions = [face(-1.0 + 0.1 * i, 0.0) for i in range(20)] + [face(1.3 + 0.1 * i, 0.9) for i in range(28)]
    _, verdicts = run(reactions, actions=(first, second), now=4.3)
    assert set(verdicts) == {"a1", "a2"}
    # a1's response window (0.3..3 s) holds the neutral faces of 0.3..1 s and the happy ones after.
    assert verdicts["a1"].verdict is Verdict.WELL_RECEIVED
    assert verdicts["a2"].verdict is Verdict.WELL_RECEIVED
    assert verdicts["a2"].baseline_valence == pytest.approx(0.0)
    shared = {r.stamp_ns for r in reactions if at(1.3) <= r.stamp_ns <= at(3.0)}
    assert len(shared) == 18  # counted in both response windows
    assert verdicts["a1"].n_response == 7 + 18 and verdicts["a2"].n_response == 28


def test_two_people_per_face_delta_then_weighted_mean() -> None:
    # Alice brightens a lot (delta +0.8), Bob stays as he was: per-face scores 4 and 0, equal weights → 2.
    reactions = timeline(-0.2, 0.6, "alice") + timeline(0.5, 0.5, "bob")
    v = run(reactions)[1]["a1"]
    assert v.verdict is Verdict.WELL_RECEIVED
    assert v.delta == pytest.approx(0.4)
    assert v.face_ids == ("alice", "bob") and v.n_baseline == 40 and v.n_response == 56
    assert v.baseline_valence == pytest.approx(0.15) and v.response_valence == pytest.approx(0.55)


def test_two_people_a_newcomer_is_judged_on_level() -> None:
    # Alice unchanged (score 0); Carol arrives sad (-0.9 / 0.3 = -3) with 3x Alice's weight → -2.25.
    reactions = timeline(0.1, 0.1, "alice") + [
        TimedReaction(r.stamp_ns, "carol", -1, -0.9, 0.9) for r in timeline(None, 0.0, "carol", step=0.1 / 3)
    ]
    v = run(reactions)[1]["a1"]
    assert v.verdict is Verdict.BADLY_RECEIVED
    assert v.delta == pytest.approx(0.0)  # only Alice has both windows
    assert v.face_ids == ("alice", "carol")


def test_a_face_that_left_before_the_response_does_not_count() -> None:
    reactions = timeline(-0.9, None, "dave") + timeline(0.0, 0.0, "erin")
    v = run(reactions)[1]["a1"]
    assert v.verdict is Verdict.NEUTRAL and v.face_ids == ("erin",) and v.n_baseline == 20


@pytest.mark.parametrize(
    ("reaction", "reason"),
    [
        (TimedReaction(at(0.5), "f", 1, math.nan, 0.9), DropReason.NON_FINITE),
        (TimedReaction(at(0.5), "f", 1, 0.5, math.inf), DropReason.NON_FINITE),
        (TimedReaction(at(0.5), "f", 7, 0.5, 0.9), DropReason.UNKNOWN_VALENCE),
        (TimedReaction(at(0.5), "f", 1, 1.5, 0.9), DropReason.OUT_OF_RANGE),
        (TimedReaction(at(0.5), "f", 1, -1.5, 0.9), DropReason.OUT_OF_RANGE),
        (TimedReaction(at(0.5), "f", 1, 0.5, -0.1), DropReason.OUT_OF_RANGE),
        (TimedReaction(at(0.5), "f", 1, 0.5, 1.5), DropReason.OUT_OF_RANGE),
        (TimedReaction(at(5.0), "f", 1, 0.5, 0.9), DropReason.FUTURE_STAMP),
        (TimedReaction(at(-20.0), "f", 1, 0.5, 0.9), DropReason.STALE_STAMP),
    ],
)
def test_bad_reactions_are_dropped_and_counted(reaction: TimedReaction, reason: DropReason) -> None:
    tracker = FeedbackTracker(CONFIG)
    assert tracker.add_reaction(reaction, at(0.0)) is reason
    assert tracker.drops == {reason.value: 1} and tracker.history_size == 0 and tracker.reactions_received == 1


def test_reactions_at_the_edges_of_their_ranges_and_of_the_stamp_limits_are_kept() -> None:
    tracker = FeedbackTracker(CONFIG)  # max_future_stamp 1 s, max_stamp_age 10 s
    kept = [TimedReaction(at(0.5), "f", -1, -1.0, 0.0), TimedReaction(at(0.6), "f", 1, 1.0, 1.0),
            TimedReaction(at(1.0), "f", 0, 0.0, 0.5), TimedReaction(at(-10.0), "f", 0, 0.0, 0.5)]
    assert [tracker.add_reaction(r, at(0.0)) for r in kept] == [None] * 4
    assert tracker.add_reaction(TimedReaction(at(1.0) + 1, "f", 0, 0.0, 0.5), at(0.0)) is DropReason.FUTURE_STAMP
    assert tracker.add_reaction(TimedReaction(at(-10.0) - 1, "f", 0, 0.0, 0.5), at(0.0)) is DropReason.STALE_STAMP
    assert tracker.reactions_received == 6 and tracker.history_size == 4


@pytest.mark.parametrize(
    ("action", "reason"),
    [
        (Action("", "wave", T0), DropReason.EMPTY_ACTION_ID),
        (Action("a2", "", T0), DropReason.EMPTY_ACTION_NAME),
        (Action("a1", "wave", T0), DropReason.DUPLICATE_ACTION_ID),
        (Action("a2", "wave", T0, duration=math.nan), DropReason.BAD_DURATION),
        (Action("a2", "wave", T0, duration=-1.0), DropReason.BAD_DURATION),
        (Action("a2", "wave", at(1.5)), DropReason.FUTURE_STAMP),
        (Action("a2", "wave", at(-10.5)), DropReason.STALE_STAMP),
    ],
)
def test_bad_actions_are_dropped_and_counted(action: Action, reason: DropReason) -> None:
    tracker = FeedbackTracker(CONFIG)
    assert tracker.add_action(Action("a1", "wave", T0), at(0.0)) is None
    assert tracker.add_action(action, at(0.0)) is reason
    assert tracker.drops == {reason.value: 1} and tracker.pending_count == 1 and tracker.actions_received == 2


def test_a_judged_action_id_stays_a_duplicate() -> None:
    tracker, verdicts = run(timeline(0.0, 0.5))
    assert "a1" in verdicts
    assert tracker.add_action(Action("a1", "wave", at(4.0)), at(4.0)) is DropReason.DUPLICATE_ACTION_ID


def test_the_oldest_remembered_action_id_is_forgotten_first() -> None:
    tracker = FeedbackTracker(FeedbackConfig(remembered_action_ids=2))
    assert [tracker.add_action(Action(i, "wave", at(0.1)), at(0.5)) for i in ("a1", "a2")] == [None, None]
    assert tracker.add_action(Action("a1", "wave", at(0.2)), at(0.5)) is DropReason.DUPLICATE_ACTION_ID
    assert tracker.add_action(Action("a3", "wave", at(0.3)), at(0.5)) is None  # a1 is forgotten
    assert tracker.add_action(Action("a3", "wave", at(0.3)), at(0.5)) is DropReason.DUPLICATE_ACTION_ID
    assert tracker.add_action(Action("a2", "wave", at(0.3)), at(0.5)) is DropReason.DUPLICATE_ACTION_ID
    assert tracker.add_action(Action("a1", "wave", at(0.4)), at(0.5)) is None
    assert tracker.actions_received == 7


def test_pending_actions_are_bounded_dropping_the_oldest() -> None:
    tracker = FeedbackTracker(FeedbackConfig(max_pending_actions=3))
    results = [tracker.add_action(Action(f"a{i}", "wave", at(0.1 * i)), at(0.5)) for i in range(5)]
    assert results == [None] * 3 + [DropReason.PENDING_OVERFLOW] * 2
    assert tracker.pending_count == 3 and tracker.drops == {"pending_overflow": 2}
    assert [v.action.action_id for v in tracker.due(at(10.0))] == ["a2", "a3", "a4"]


def test_history_is_bounded_by_count_and_by_time() -> None:
    config = FeedbackConfig(history_max_reactions=50, history_seconds=35.0, max_stamp_age=30.0)
    tracker = FeedbackTracker(config)
    results = [tracker.add_reaction(face(i * 0.01, 0.0), at(2.0)) for i in range(200)]
    assert results == [None] * 50 + [DropReason.HISTORY_OVERFLOW] * 150
    assert tracker.history_size == 50 and tracker.drops == {"history_overflow": 150}
    tracker.due(at(35.5))
    assert tracker.history_size == 50  # all within 35 s of now
    tracker.due(at(38.0))
    assert tracker.history_size == 0


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.floats(-3.0, 4.0), st.sampled_from(["a", "b", "c"]), st.floats(-1.0, 1.0), st.floats(0.0, 1.0)
        ),
        max_size=60,
    ),
    st.randoms(use_true_random=False),
)
def test_arrival_order_never_changes_the_verdict(samples, rng) -> None:
    reactions = [TimedReaction(at(t), f, 0, s, c) for t, f, s, c in samples]
    shuffled = list(reactions)
    rng.shuffle(shuffled)
    first = run(reactions)[1]["a1"]
    second = run(shuffled)[1]["a1"]
    assert first.verdict == second.verdict and first.n_response == second.n_response
    assert first.face_ids == second.face_ids
    assert (math.isnan(first.delta) and math.isnan(second.delta)) or first.delta == pytest.approx(second.delta)
    assert -2.0 <= first.delta <= 2.0 or math.isnan(first.delta)
    assert 0.0 <= first.confidence <= 1.0


def test_a_duration_stretches_even_a_short_response_window() -> None:
    config = FeedbackConfig(response_delay=0.1, response_end=0.4)
    assert config.response_window_ns(Action("a", "nod", T0, duration=0.5)) == (at(0.1), at(1.0))
    assert config.response_window_ns(Action("b", "nod", T0, duration=0.0)) == (at(0.1), at(0.4))


def test_the_verdicts_confidence_stays_within_0_and_1_whatever_judge_is_given() -> None:
    reactions = [TimedReaction(at(1.0), "f", 1, 0.9, 1.5), TimedReaction(at(1.1), "f", 1, 0.9, -0.5)]
    v = judge(WAVE, [], reactions, CONFIG, at(3.3))
    assert v.confidence == pytest.approx((1.0 + 0.0) / 2 * 2 / 5)


@pytest.mark.parametrize(
    ("changes", "problems"),
    [
        ({"response_delay": 0.0, "duration_margin": 0.0, "lateness_grace": 0.0, "max_stamp_age": 0.0,
          "max_future_stamp": 0.0}, []),
        ({"full_confidence_reactions": 1, "history_max_reactions": 1, "max_pending_actions": 1,
          "remembered_action_ids": 1}, []),
        ({"remembered_action_ids": 0}, ["remembered_action_ids must be >= 1"]),
        ({"lateness_grace": -0.1}, ["lateness_grace must be >= 0"]),
        ({"response_delay": 3.0}, ["response_delay (3.0) must be < response_end (3.0)"]),
        ({"max_response_window": 3.0}, []),
        ({"max_response_window": 2.5}, ["max_response_window (2.5) must be >= response_end (3.0)"]),
        # history must cover baseline_window + max(max_stamp_age, max_response_window + lateness_grace) = 32.5 s
        ({"lateness_grace": 0.5, "history_seconds": 32.5}, []),
        ({"lateness_grace": 0.5, "history_seconds": 32.25}, [
            "history_seconds (32.25) must cover baseline_window + max(max_stamp_age, max_response_window + "
            "lateness_grace) = 32.5"]),
    ],
)
def test_each_configuration_limit_is_checked_at_its_edge(changes: dict, problems: list[str]) -> None:
    assert replace(FeedbackConfig(), **changes).problems() == problems


def test_inconsistent_configuration_is_refused_with_every_reason() -> None:
    config = FeedbackConfig(response_delay=4.0, response_end=3.0, history_seconds=5.0, delta_threshold=0.0)
    problems = config.problems()
    assert any("response_delay" in p for p in problems)
    assert any("history_seconds" in p for p in problems)
    assert any("delta_threshold" in p for p in problems)
    with pytest.raises(ValueError) as refused:
        FeedbackTracker(config)
    assert str(refused.value) == "invalid feedback configuration: " + "; ".join(problems)
    assert FeedbackConfig().problems() == []
