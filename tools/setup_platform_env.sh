#!/usr/bin/env bash
# Copyright 2026 The emotion_perception Authors
# SPDX-License-Identifier: Apache-2.0
# Idempotent setup of .venv-platform: the plain API's inference libraries at Ubuntu 24.04's versions
# (python3-numpy 1.26.4, python3-opencv 4.6, python3-yaml 6.0.1, onnxruntime from pip as rosdep's
# python3-onnxruntime-pip gives it), with this checkout on its path. test/test_platform_libraries.py
# runs the recognizer there. No torch: the shipped model runs on onnxruntime. Reinstalls only when
# this script or the Python changed. Where the venv cannot be made (no PyPI), it says so in one line,
# leaves the reason in .venv-platform/.unavailable for the test's skip, and exits 0.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
venv="$root/.venv-platform"
packages=(numpy==1.26.4 opencv-python-headless==4.6.0.66 onnxruntime==1.32.0 pyyaml==6.0.1)

unavailable() {
  rm -rf "$venv"
  mkdir -p "$venv"
  echo "$1" > "$venv/.unavailable"
  echo "setup_platform_env: cannot make $venv ($1): test_platform_libraries will be skipped"
  exit 0
}

# Ubuntu 24.04's Python 3.12 where it runs, else the one setup.sh uses.
python=
for candidate in ${PYTHON_PLATFORM:-} python3.12 python3.11 python3; do
  if "$candidate" -c 'import venv' >/dev/null 2>&1; then python=$candidate; break; fi
done
[ -n "$python" ] || unavailable "no Python with venv found"

req_hash=$( (cat tools/setup_platform_env.sh; "$python" --version) | sha256sum | cut -d' ' -f1)
if [ "$(cat "$venv/.requirements.sha" 2>/dev/null)" = "$req_hash" ]; then
  exit 0
fi
echo "setup_platform_env: making $venv with $("$python" --version) (${packages[*]})"
rm -rf "$venv"
"$python" -m venv "$venv" || unavailable "$python -m venv failed"
log="$venv/pip.log"
if ! "$venv/bin/python" -m pip install -q --disable-pip-version-check --retries 2 --timeout 30 "${packages[@]}" >"$log" 2>&1; then
  unavailable "pip install failed: $(grep -m1 '^ERROR' "$log" || tail -n1 "$log")"
fi
site=$("$venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
echo "$root" > "$site/emotion_perception_checkout.pth"
"$venv/bin/python" -c 'import cv2, numpy, onnxruntime; print(f"setup_platform_env: ready: numpy {numpy.__version__},"
                       f" OpenCV {cv2.__version__}, onnxruntime {onnxruntime.__version__}")'
echo "$req_hash" > "$venv/.requirements.sha"
