# Copyright 2026 The emotion_perception Authors
# SPDX-License-Identifier: Apache-2.0
"""The launch file and the tools load our Fast DDS profile only where the user chose no profile or transports."""

from __future__ import annotations

import importlib.util

import pytest
from helpers import ROOT

from emotion_perception.ros.fastdds_profile import (
    BUILTIN_TRANSPORTS_VARIABLE,
    FASTDDS_VARIABLE,
    FASTRTPS_VARIABLE,
    profile_variable,
    use_profile,
)

# launch.actions, not launch: with the checkout on sys.path, its launch/ folder imports as a namespace package.
pytest.importorskip("launch.actions", reason="launch is not built (no ros2 tools)")
from launch.actions import LogInfo, SetEnvironmentVariable
from launch.launch_context import LaunchContext
from launch.substitutions import TextSubstitution

PROFILE = str(ROOT / "config" / "fastdds_shm.xml")


@pytest.fixture
def no_choice(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in (FASTDDS_VARIABLE, FASTRTPS_VARIABLE, BUILTIN_TRANSPORTS_VARIABLE):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def _profile_actions() -> tuple[list[SetEnvironmentVariable], list[str]]:
    """What perception.launch.py's profile step does in the current environment: variables set, lines logged."""
    spec = importlib.util.spec_from_file_location("perception_launch", ROOT / "launch" / "perception.launch.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    context = LaunchContext()
    actions = module.fastdds_profile(context, TextSubstitution(text=PROFILE))
    logged = ["".join(s.perform(context) for s in a.msg) for a in actions if isinstance(a, LogInfo)]
    return [a for a in actions if isinstance(a, SetEnvironmentVariable)], logged


def _set(context: LaunchContext, action: SetEnvironmentVariable) -> tuple[str, str]:
    return ("".join(s.perform(context) for s in action.name), "".join(s.perform(context) for s in action.value))


def test_launch_sets_the_profile_under_the_name_this_fast_dds_reads(no_choice: pytest.MonkeyPatch) -> None:
    (set_profile,), logged = _profile_actions()
    assert _set(LaunchContext(), set_profile) == (profile_variable(), PROFILE)
    assert PROFILE in logged[0]


@pytest.mark.parametrize("variable, value", [
    (FASTDDS_VARIABLE, "/etc/team/discovery_server.xml"),
    (FASTRTPS_VARIABLE, "/etc/team/fastrtps.xml"),
    (BUILTIN_TRANSPORTS_VARIABLE, "LARGE_DATA"),
])
def test_launch_keeps_a_profile_or_transports_the_user_chose(no_choice: pytest.MonkeyPatch, variable: str,
                                                             value: str) -> None:
    no_choice.setenv(variable, value)
    setting, logged = _profile_actions()
    assert setting == []
    assert f"keeping your {variable}={value}" in logged[0]


def test_tools_keep_the_users_choice_too(no_choice: pytest.MonkeyPatch) -> None:
    environ = {BUILTIN_TRANSPORTS_VARIABLE: "LARGE_DATA"}
    assert use_profile(PROFILE, environ) is None and environ == {BUILTIN_TRANSPORTS_VARIABLE: "LARGE_DATA"}
    environ = {}
    assert use_profile(PROFILE, environ) == profile_variable() and environ == {profile_variable(): PROFILE}
