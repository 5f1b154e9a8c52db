# Copyright 2026 The emotion_perception Authors
# SPDX-License-Identifier: Apache-2.0
"""The fast subset of the reliability suite (harness/reliability, scaled down): nodes in their own processes.

Behaviour only (crashes, counts, lost verdicts, memory bounds, clean refusals); the speed figures
of the same scenarios are printed and written by ``python -m benchmarks.reliability``.
"""

from __future__ import annotations

import pytest
from helpers import PROCESS_TEST_TIMEOUT_S

from harness.reliability import faults, flood, fuzz
from harness.reliability.common import ScenarioResult

pytestmark = [pytest.mark.slow, pytest.mark.timeout(PROCESS_TEST_TIMEOUT_S)]


def assert_behaved(result: ScenarioResult) -> None:
    assert result.problems == [], f"{result.name}: {result.problems}\nfigures: {result.figures}"


@pytest.mark.parametrize(("compressed", "frames"), [(False, 240), (True, 120)])
def test_fuzzed_frames_are_counted_and_real_faces_still_answered_alike(compressed: bool, frames: int) -> None:
    result = fuzz.fuzz(frames=frames, compressed=compressed, face_every=30, seed=7)
    assert_behaved(result)
    f = result.figures
    assert f["crashed"] is False and f["exit_code"] == 0
    # Three counts made apart: sent by the driver, dropped by the node's diagnostics, answered by stamp; a face
    # copy sent again because it went unanswered may have been lost on its way in or its answer on the way out.
    assert f["frames_sent"] == sum(f["dropped"].values()) + f["answered"] + f["face_copies_unanswered"]
    assert f["face_copies_unanswered"] <= f["face_copies_resent"]
    assert f["dropped"]["conversion"] > 0 and f["dropped"]["too_small"] > 0
    assert f["face_checks_after_fuzz"] >= frames // 30 and f["wrong_face_answers"] == 0
    assert f["answered_frames_expected_dropped"] == 0


def test_perception_flood_keeps_processing_with_bounded_memory() -> None:
    result = flood.perception_flood(seconds=5.0, rate=300.0, normal_frames=10)
    assert_behaved(result)
    f = result.figures
    assert f["processed"] > 0 and f["dropped_backlog"] > 0  # the newest frame won; older ones were dropped
    assert f["rss_growth_mb"] < flood.RSS_GROWTH_LIMIT_MB


def test_action_feedback_flood_publishes_and_records_every_verdict() -> None:
    result = flood.feedback_flood(seconds=5.0, reaction_rate=1000.0, action_rate=50.0)
    assert_behaved(result)
    f = result.figures
    assert f["verdicts_lost"] == 0 and f["verdicts_published"] == f["actions_sent"] == f["verdicts_in_database"]
    assert 0 < f["reactions_received_by_node"] <= f["reactions_sent"]


def test_sigkill_at_random_moments_loses_no_published_verdict() -> None:
    result = faults.kill_restart(rounds=3, seed=3, min_kill_s=0.5, max_kill_s=2.5)
    assert_behaved(result)
    assert result.figures["verdicts_lost"] == 0 and result.figures["verdicts_published_before_kills"] > 0
    assert all(r["integrity"] == "ok" for r in result.figures["rounds_detail"])


def test_broken_model_files_stop_the_perception_node_with_a_clear_error() -> None:
    result = faults.model_faults()
    assert_behaved(result)
    assert {"missing_model", "truncated_model", "wrong_architecture", "garbage_detector"} <= set(result.figures)
    assert all(case["exit_code"] == 1 for case in result.figures.values()), result.figures


def test_broken_databases_stop_the_action_feedback_node_and_stay_untouched() -> None:
    result = faults.database_faults()
    assert_behaved(result)
    assert all(case["exit_code"] == 1 and case["file_untouched"] for case in result.figures.values())


def test_a_silent_camera_is_reported_and_the_node_recovers() -> None:
    result = faults.silent_camera(before_s=2.0, gap_s=4.0, after_s=2.0)
    assert_behaved(result)
    assert result.figures["gap_windows_reporting_no_input"] >= 2 and result.figures["answered_after_gap"] > 0
