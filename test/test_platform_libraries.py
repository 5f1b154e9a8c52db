# Copyright 2026 The emotion_perception Authors
# SPDX-License-Identifier: Apache-2.0
"""The plain API and the perception node's processing on Ubuntu 24.04's libraries (numpy 1.26, OpenCV 4.6).

``tools/setup_platform_env.sh`` (run by ``make test``) makes ``.venv-platform`` with those versions;
``platform_recognizer.py`` runs the recognizer there and in this venv on the same real frames of the
clip and the fixtures, and the two must find the same faces. Skipped, with the reason, only where that
venv could not be made.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from helpers import PROCESS_TEST_TIMEOUT_S, ROOT, load

from emotion_perception.tools.video_source import VideoSource, default_clip_path

pytestmark = pytest.mark.timeout(PROCESS_TEST_TIMEOUT_S)

PLATFORM = ROOT / ".venv-platform"
PLATFORM_PYTHON = PLATFORM / "bin" / "python"
#: What Ubuntu 24.04 (noble) ships as python3-numpy and python3-opencv.
PLATFORM_VERSIONS = {"numpy": "1.26.4", "opencv": "4.6.0"}
#: Every 8th frame of the clip for the plain API; a consecutive stretch (crying turning to laughing) for the node.
API_STEP = 8
NODE_FRAMES = range(240, 336)
FIXTURES = ["pexels_sad_030.jpg", "pexels_happy_330.jpg", "pexels_five_faces.jpg", "pexels_no_face.jpg"]


@pytest.fixture(scope="module")
def platform_python() -> Path:
    """The platform venv's Python, or a skip saying why there is none."""
    unavailable = PLATFORM / ".unavailable"
    if unavailable.is_file():
        pytest.skip(f"no .venv-platform: {unavailable.read_text().strip()}")
    if not (PLATFORM / ".requirements.sha").is_file():
        pytest.skip("no .venv-platform: tools/setup_platform_env.sh makes it (needs PyPI)")
    return PLATFORM_PYTHON


def clean_env() -> dict[str, str]:
    """This environment without the ROS / venv paths, with the checkout on PYTHONPATH."""
    dropped = ("PYTHON", "AMENT_", "COLCON_", "CMAKE_", "VIRTUAL_ENV", "LD_LIBRARY_PATH")
    env = {k: v for k, v in os.environ.items() if not k.startswith(dropped)}
    return env | {"PYTHONPATH": str(ROOT), "PYTHONDONTWRITEBYTECODE": "1"}


def run_probe(python: Path, frames: Path, out: Path) -> dict:
    """platform_recognizer.py's JSON, run by ``python``."""
    result = subprocess.run([str(python), str(ROOT / "test" / "platform_recognizer.py"), str(frames), str(out)],
                            capture_output=True, text=True, timeout=120, cwd=ROOT, env=clean_env())
    assert result.returncode == 0, f"{python} failed:\n{result.stdout}\n{result.stderr}"
    return json.loads(out.read_text())


def iou(a: list[int], b: list[int]) -> float:
    """Intersection over union of two ``(x, y, w, h)`` boxes."""
    width = max(0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]))
    height = max(0, min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]))
    inter = width * height
    return inter / (a[2] * a[3] + b[2] * b[3] - inter)


@pytest.fixture(scope="module")
def frames(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The clip's and the fixtures' frames, as the main venv's OpenCV decodes them."""
    api, node = {}, {}
    with VideoSource(default_clip_path()) as clip:
        for frame in clip:
            if frame.index % API_STEP == 0:
                api[f"api_clip_{frame.index:03d}"] = frame.image
            if frame.index in NODE_FRAMES:
                node[f"node_{frame.index:03d}"] = frame.image
    api |= {f"api_z{i}_{name}": load(name) for i, name in enumerate(FIXTURES)}  # after the clip, in order
    path = tmp_path_factory.mktemp("platform") / "frames.npz"
    np.savez(path, **api, **node)
    return path


def test_the_recognizer_finds_the_same_faces_on_the_platform_libraries(
    platform_python: Path, frames: Path, tmp_path: Path,
) -> None:
    platform = run_probe(platform_python, frames, tmp_path / "platform.json")
    pinned = run_probe(Path(sys.executable), frames, tmp_path / "pinned.json")
    print(f"platform: {platform['versions']}\npinned:   {pinned['versions']}")
    assert {k: platform["versions"][k] for k in PLATFORM_VERSIONS} == PLATFORM_VERSIONS
    assert platform["missing_cv2"] == [], "the package uses OpenCV names that OpenCV 4.6 lacks"
    for path in ("api", "node"):
        counts = [len(faces) for faces in platform[path]]
        assert counts == [len(faces) for faces in pinned[path]], f"{path}: faces per frame differ"
        frames = zip(platform[path], pinned[path], strict=True)
        pairs = [pair for faces, pinned_faces in frames for pair in zip(faces, pinned_faces, strict=True)]
        worst = min(iou(a["box"], b["box"]) for a, b in pairs)
        same = np.mean([a["valence"] == b["valence"] for a, b in pairs])
        print(f"{path}: {len(counts)} frames, {sum(counts)} faces, box IoU >= {worst:.3f}, same valence {same:.1%}")
        assert worst > 0.95, f"{path}: boxes differ"
        assert same >= 0.95, f"{path}: {same:.0%} of the faces have the same valence"
    clip_counts = [len(faces) for faces in platform["api"][: -len(FIXTURES)]]
    assert clip_counts == [1] * len(clip_counts), "the clip's face is missed on the platform libraries"
    assert [len(faces) for faces in platform["api"][-len(FIXTURES):]] == [1, 1, 5, 0]
    assert [len(faces) for faces in platform["node"]] == [1] * len(NODE_FRAMES)
