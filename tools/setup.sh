#!/usr/bin/env bash
# Idempotent setup: .venv with pinned ROS 2 Kilted wheels, colcon, torch and the rest, the CMake
# path fix-up, and a colcon build of emotion_msgs and emotion_perception. Each step runs only
# when its inputs changed, so a second run with nothing changed takes a few seconds.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
venv="$root/.venv"
python=${PYTHON:-python3.11}
command -v "$python" >/dev/null || python=python3

hash_of() { cat "$@" | sha256sum | cut -d' ' -f1; }

if [ ! -x "$venv/bin/python" ]; then
  echo "setup: creating $venv"
  "$python" -m venv "$venv"
fi

req_hash=$(hash_of requirements.txt constraints.txt tools/fix_ament_cmake_paths.py)
if [ "$(cat "$venv/.requirements.sha" 2>/dev/null)" != "$req_hash" ]; then
  echo "setup: installing pinned requirements into .venv (first run: a few minutes)"
  "$venv/bin/python" -m pip install -qq --disable-pip-version-check -c constraints.txt setuptools
  "$venv/bin/python" -m pip install -qq --disable-pip-version-check -c constraints.txt -r requirements.txt
  "$venv/bin/python" tools/fix_ament_cmake_paths.py
  echo "$req_hash" > "$venv/.requirements.sha"
fi
cp tools/activate-ros.bash "$venv/activate-ros"

build_inputs() {
  { find emotion_msgs setup.py setup.cfg package.xml resource launch config models media -type f 2>/dev/null || true; } | sort
}
build_hash=$( (build_inputs | tr '\n' '\0' | xargs -0 sha256sum; echo "$req_hash") | sha256sum | cut -d' ' -f1)
if [ "$(cat "$root/install/.build.sha" 2>/dev/null)" != "$build_hash" ]; then
  echo "setup: colcon build (emotion_msgs, emotion_perception)"
  mkdir -p log
  (
    export VIRTUAL_ENV="$venv" PATH="$venv/bin:$PATH"
    export AMENT_PREFIX_PATH="$venv" CMAKE_PREFIX_PATH="$venv"
    export PYTHONWARNINGS="ignore::DeprecationWarning,ignore::UserWarning"
    colcon --log-base log build --base-paths . emotion_msgs --symlink-install \
      --event-handlers console_cohesion- summary+ \
      --cmake-args -DBUILD_TESTING=OFF -DPython3_EXECUTABLE="$venv/bin/python" >log/colcon-build.txt 2>&1 \
      || { cat log/colcon-build.txt; exit 1; }
  )
  echo "$build_hash" > "$root/install/.build.sha"
fi
echo "setup: ready (source .venv/activate-ros for a shell)"
