# Copyright 2026 The emotion_perception Authors
# SPDX-License-Identifier: Apache-2.0
"""record / replay command lines: what they subscribe to, and one clear line for a bad argument (no DDS)."""

from __future__ import annotations

from pathlib import Path

import pytest
from session_helpers import write_session

from emotion_perception.tools.session import record, replay


def test_record_topics_follow_the_options() -> None:
    assert set(record.session_topics()) == set(record.SESSION_TOPICS)
    assert record.session_topics(images=True)["/camera/image_raw"] == "sensor_msgs/msg/Image"
    compressed = record.session_topics(images=True, image_topic="/cam", compressed=True)
    assert compressed["/cam/compressed"] == "sensor_msgs/msg/CompressedImage" and "/cam" not in compressed
    extra = record.session_topics(extra=["/humans/faces/tracked:hri_msgs/msg/IdsList"])
    assert extra["/humans/faces/tracked"] == "hri_msgs/msg/IdsList"


@pytest.mark.parametrize(("topic", "reason"), [
    ("no_type_here", "--topic expects NAME:TYPE"),
    ("/x:nonexistent_msgs/msg/Nothing", "nonexistent_msgs/msg/Nothing is not installed"),
])
def test_record_refuses_a_bad_topic_before_starting(
    topic: str, reason: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert record.main(["record", "-o", str(tmp_path / "s.mcap"), "--topic", topic]) == 2
    err = capsys.readouterr().err
    assert err.startswith("record: ") and reason in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "s.mcap").exists()


def test_replay_refuses_a_topic_the_file_does_not_have(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    session = write_session(tmp_path / "s.mcap")
    assert replay.main(["replay", str(session), "--topics", "/robot/action", "/nope"]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"replay: {session}: no topic /nope (it has /human/reaction, ") and len(err.splitlines()) == 1


def test_record_refuses_a_file_it_cannot_write(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "a_file").write_text("")
    assert record.main(["record", "-o", str(tmp_path / "a_file" / "s.mcap")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("record: ") and "a_file" in err and len(err.strip().splitlines()) == 1
