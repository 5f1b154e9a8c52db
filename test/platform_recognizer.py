# Copyright 2026 The emotion_perception Authors
# SPDX-License-Identifier: Apache-2.0
"""The recognizer on given frames, in whichever Python runs this (no ROS, no pytest), as JSON.

test_platform_libraries.py runs it in .venv-platform (Ubuntu 24.04's numpy and OpenCV) and in the
main venv on the same frames, and compares the two. Usage:

    python test/platform_recognizer.py FRAMES.npz OUT.json

``FRAMES.npz`` holds ``api_*`` frames (each run through ``EmotionRecognizer().run``) and ``node_*``
frames (consecutive frames run as the perception node runs them: its parameter file's recognizer
settings, then its annotated debug image).
"""

from __future__ import annotations

import ast
import dataclasses
import functools
import json
import sys
from pathlib import Path

import cv2
import numpy as np
import onnxruntime
import yaml

from emotion_perception import EmotionRecognizer
from emotion_perception.vision.recognizer import RecognizerConfig

ROOT = Path(__file__).resolve().parents[1]


def cv2_names_used(package: Path) -> list[str]:
    """Every dotted ``cv2.<name>...`` the package's modules refer to."""
    names = set()
    for path in package.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            chain = []
            while isinstance(node, ast.Attribute):
                chain.append(node.attr)
                node = node.value
            if isinstance(node, ast.Name) and node.id == "cv2" and chain:
                names.add(".".join(reversed(chain)))
    return sorted(names)


def missing_cv2(names: list[str]) -> list[str]:
    """The ``names`` this OpenCV lacks."""
    def exists(name: str) -> bool:
        try:
            functools.reduce(getattr, name.split("."), cv2)
        except AttributeError:
            return False
        return True

    return [name for name in names if not exists(name)]


def node_settings() -> tuple[RecognizerConfig, dict]:
    """The perception node's recognizer settings and its constructor options, from its parameter file."""
    params = yaml.safe_load((ROOT / "config" / "emotion_perception.yaml").read_text())["/**/perception_node"]
    params = params["ros__parameters"]
    fields = {f.name for f in dataclasses.fields(RecognizerConfig)}
    config = RecognizerConfig(**{k: v for k, v in params.items() if k in fields})
    return config, {"threads": params["threads"], "precision": params["precision"]}


def reactions(recognizer: EmotionRecognizer, frames: list[np.ndarray], annotate: bool = False) -> list[list[dict]]:
    """Each frame's reactions (box, valence, probabilities), in the recognizer's order."""
    result = []
    for frame in frames:
        found = recognizer.run(frame)
        if annotate and recognizer.annotate(frame, found).shape != frame.shape:
            raise RuntimeError("the annotated frame changed shape")
        result.append([{"box": list(r.box), "valence": r.valence.name, "probabilities": list(r.probabilities)}
                       for r in found])
    return result


def main(frames_path: str, out_path: str) -> int:
    with np.load(frames_path) as data:
        api = [data[name] for name in sorted(data.files) if name.startswith("api_")]
        node = [data[name] for name in sorted(data.files) if name.startswith("node_")]
    config, options = node_settings()
    result = {
        "versions": {"python": sys.version.split()[0], "numpy": np.__version__, "opencv": cv2.__version__,
                     "onnxruntime": onnxruntime.__version__},
        "missing_cv2": missing_cv2(cv2_names_used(ROOT / "emotion_perception")),
        "api": reactions(EmotionRecognizer(), api),
        "node": reactions(EmotionRecognizer(config=config, **options), node, annotate=True),
    }
    Path(out_path).write_text(json.dumps(result))
    print(json.dumps(result["versions"]))
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
