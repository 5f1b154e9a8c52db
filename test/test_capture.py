# Copyright 2026 The emotion_perception Authors
# SPDX-License-Identifier: Apache-2.0
"""capture: real faces of the Pexels clip become an ImageFolder tree that training reads."""

from __future__ import annotations

import os
import pty
import select
from pathlib import Path

import cv2
import pytest
from helpers import PROCESS_TEST_TIMEOUT_S, ROOT, wait_for
from rclpy.executors import Executor
from rclpy.parameter import Parameter

from emotion_perception.tools.capture import CaptureNode, CaptureSession, main
from emotion_perception.tools.crop_dataset import CropWriter
from emotion_perception.tools.terminal_keys import KeyReader
from emotion_perception.tools.video_publisher import VideoPublisher
from emotion_perception.vision.recognizer import EmotionRecognizer
from training.datasets import read_image_folder
from training.relabel import ValenceMap

pytestmark = pytest.mark.timeout(PROCESS_TEST_TIMEOUT_S)

CLIP = ROOT / "media" / "WolfgangLanger_Pexels.mp4"


@pytest.fixture(scope="module")
def recognizer() -> EmotionRecognizer:
    return EmotionRecognizer()


def _crops(root: Path) -> dict[str, list[Path]]:
    return {d.name: sorted(d.glob("*.png")) for d in sorted(root.iterdir()) if d.is_dir()}


def test_labelled_video_capture_is_an_image_folder_training_reads(
    tmp_path: Path, recognizer: EmotionRecognizer, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["capture", "--video", str(CLIP), "--start", "12", "--end", "14", "--label", "positive",
                 "--every", "6", "--max", "5", "--out", str(tmp_path), "--prefix", "t"])
    assert code == 0
    crops = _crops(tmp_path)
    assert list(crops) == ["positive"] and len(crops["positive"]) == 5
    out = capsys.readouterr().out
    assert out.count("wrote ") == 5 and "5 crop(s)" in out
    spec = recognizer.classifier.spec
    for path in crops["positive"]:
        image = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
        assert image.shape[:2] == (spec.size, spec.size)
        assert (image.ndim == 2) == spec.grayscale
    faces = read_image_folder(tmp_path, ValenceMap.load())
    assert faces.class_counts() == {"negative": 0, "neutral": 0, "positive": 5}
    # The crop is what the classifier sees: it still reads this (laughing) face as positive.
    assert sum(recognizer.run_on_face(img).valence.name == "POSITIVE" for img in faces.images) >= 4


def test_unlabelled_by_default_and_bad_input_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["capture", "--video", str(CLIP), "--end", "1", "--every", "12", "--out", str(tmp_path)]) == 0
    crops = _crops(tmp_path)
    assert list(crops) == ["unlabelled"] and len(crops["unlabelled"]) == 2  # frames 0 and 12 of 24
    assert main(["capture", "--video", str(tmp_path / "missing.mp4"), "--out", str(tmp_path)]) == 1
    assert "no such video file" in capsys.readouterr().err


def test_keys_switch_label_pause_and_quit(tmp_path: Path, recognizer: EmotionRecognizer) -> None:
    master, slave = pty.openpty()  # a real terminal, typed into through its master side

    def press(key: bytes) -> None:
        os.write(master, key)
        assert select.select([slave], [], [], 2.0)[0]

    try:
        with os.fdopen(slave, "r", closefd=False) as stream, KeyReader(stream) as keys:
            assert keys.interactive
            writer = CropWriter(tmp_path, recognizer.classifier.spec, prefix="k")
            session = CaptureSession(recognizer, writer, None, every=1, keys=keys)
            frame = cv2.imread(str(ROOT / "test" / "data" / "pexels_happy_330.jpg"))
            session.on_frame(frame)  # no key pressed yet: nothing is written
            for key in (b"p", b"n", b" "):
                press(key)
                session.on_frame(frame)
            assert writer.written == 2 and not session.done
            press(b"q")
            session.on_frame(frame)
            assert session.done and writer.written == 2
    finally:
        os.close(master)
        os.close(slave)
    assert {label: len(files) for label, files in _crops(tmp_path).items()} == {"neutral": 1, "positive": 1}


def test_capture_node_crops_camera_frames_over_dds(
    executor: Executor, ros_context, tmp_path: Path, recognizer: EmotionRecognizer
) -> None:
    recognizer.reset()
    writer = CropWriter(tmp_path, recognizer.classifier.spec, max_crops=3, prefix="ros")
    node = CaptureNode(CaptureSession(recognizer, writer, "negative", every=2), context=ros_context)
    camera = VideoPublisher(context=ros_context, parameter_overrides=[
        Parameter("source", value=str(CLIP)), Parameter("start_time", value=2.0), Parameter("max_frames", value=40),
        Parameter("rate", value=20.0), Parameter("reliability", value="reliable")])
    executor.add_node(node)
    assert wait_for(lambda: camera.count_subscribers("/image") > 0)
    executor.add_node(camera)
    assert wait_for(node.finished.is_set, timeout=30.0)
    assert writer.counts["negative"] == 3
    assert len(_crops(tmp_path)["negative"]) == 3
