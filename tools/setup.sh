#!/usr/bin/env bash
# Copyright 2026 The emotion_perception Authors
# SPDX-License-Identifier: Apache-2.0
# Idempotent setup of one ROS 2 distribution's environment (ROS_DISTRO=kilted, the default, or jazzy):
# a venv with the pinned ROS 2 wheels, colcon, torch and the rest, the CMake path fix-up, the
# vendored ros2 CLI / launch / hri_msgs as a colcon overlay inside the venv, and a colcon build of
# emotion_msgs and emotion_perception. Each step runs only when its inputs changed, so a second run
# with nothing changed takes a few seconds.
#   kilted: .venv        build/        install/
#   jazzy:  .venv-jazzy  build-jazzy/  install-jazzy/
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
distro=${ROS_DISTRO:-kilted}
case "$distro" in
  kilted) suffix="" ;;
  jazzy) suffix="-jazzy" ;;
  *) echo "setup: ROS_DISTRO=$distro is not supported: use kilted (default) or jazzy" >&2; exit 2 ;;
esac
venv="$root/.venv$suffix"
build_base="build$suffix"
install_base="$root/install$suffix"
python=${PYTHON:-python3.11}
command -v "$python" >/dev/null || python=python3
vendor_dir=${EMOTION_PERCEPTION_VENDOR_DIR:-$root/../shared/vendor/ros2-tools}

hash_of() { cat "$@" | sha256sum | cut -d' ' -f1; }

if [ ! -x "$venv/bin/python" ]; then
  echo "setup: creating $venv (ROS 2 $distro)"
  "$python" -m venv "$venv"
fi

# Jazzy's pins override the same packages' pins in constraints.txt; everything else is shared.
constraints="$venv/constraints.txt"
if [ "$distro" = kilted ]; then
  cp constraints.txt "$constraints"
else
  awk 'function key(line) { line = tolower(line); sub(/[=<>!~ ].*/, "", line); gsub(/_/, "-", line); return line }
       /^#/ || NF == 0 { next }
       NR == FNR { override[key($0)] = 1; print; next }
       !(key($0) in override) { print }' "constraints-$distro.txt" constraints.txt > "$constraints"
fi
req_hash=$(hash_of requirements.txt "requirements-$distro.txt" requirements-nodeps.txt "$constraints" \
  tools/fix_ament_cmake_paths.py)
if [ "$(cat "$venv/.requirements.sha" 2>/dev/null)" != "$req_hash" ]; then
  echo "setup: installing pinned requirements into $venv (first run: a few minutes)"
  pip=("$venv/bin/python" -m pip install -qq --disable-pip-version-check -c "$constraints")
  "${pip[@]}" setuptools
  "${pip[@]}" -r requirements.txt -r "requirements-$distro.txt"
  "${pip[@]}" --no-deps -r requirements-nodeps.txt
  "$venv/bin/python" tools/fix_ament_cmake_paths.py
  echo "$req_hash" > "$venv/.requirements.sha"
fi
tools/install_browser.sh  # Chromium for the dashboard's browser test (skipped with a reason where it cannot be had)
cp tools/activate-ros.bash "$venv/activate-ros"

# The ros2 CLI, launch, launch_testing and hri_msgs: a sourced ROS 2 install's own, else the
# vendored upstream sources built as an overlay in $venv/ros2-tools, else none (launch tests skip).
tools="$venv/ros2-tools"
case "$distro" in
  kilted) archives=(rosidl_runtime_py-0.14.0 composition_interfaces-2.2.0 launch-3.7.1 launch_ros-0.28.0 ros2cli-0.36.1 hri_msgs-2.0.0) ;;
  jazzy) archives=(rosidl_runtime_py-0.13.1 composition_interfaces-2.0.2 launch-3.4.3 launch_ros-0.26.6 ros2cli-0.32.2 hri_msgs-2.0.0) ;;
esac
tool_packages=(rosidl_runtime_py composition_interfaces launch launch_xml launch_yaml launch_testing launch_pytest
  launch_ros launch_testing_ros ros2cli ros2pkg ros2run ros2launch ros2topic ros2node ros2service ros2param
  ros2interface ros2lifecycle hri_msgs)
archive_paths=("${archives[@]/#/$vendor_dir/}")
archive_paths=("${archive_paths[@]/%/.tar.gz}" "$vendor_dir/launch_testing-pytest9-hooks.patch")
system_ros2=$(command -v ros2 || true)
if [[ "$system_ros2" == /opt/ros/* ]] && python3 -c 'import launch, sys; sys.exit(not launch.__file__.startswith("/opt/ros/"))' 2>/dev/null; then
  echo "setup: ros2 and launch from the sourced ROS 2 install ($(dirname "$(dirname "$system_ros2")"))"
elif ls "${archive_paths[@]}" >/dev/null 2>&1; then
  # Rebuilt when the sources or the ROS wheels change, not for every other pin.
  tools_hash=$( (sha256sum "${archive_paths[@]}" | cut -d' ' -f1; echo "${tool_packages[*]}"; grep '^ros-' "$constraints") \
    | sha256sum | cut -d' ' -f1)
  if [ "$(cat "$tools/.build.sha" 2>/dev/null)" != "$tools_hash" ]; then
    echo "setup: colcon build of the vendored ros2 CLI, launch and hri_msgs from $vendor_dir (35 s on 2 idle cores, minutes under load)"
    rm -rf "$tools"
    mkdir -p "$tools/src" "$tools/log"
    for archive in "${archives[@]}"; do tar -xzf "$vendor_dir/$archive.tar.gz" -C "$tools/src"; done
    # launch_testing's pytest plugin asks pytest >= 9 for an argument it removed; the patch is upstream's later fix.
    patch -s -p1 -d "$tools/src/${archives[2]}" < "$vendor_dir/launch_testing-pytest9-hooks.patch"
    (
      export VIRTUAL_ENV="$venv" PATH="$venv/bin:$PATH"
      export AMENT_PREFIX_PATH="$venv" CMAKE_PREFIX_PATH="$venv"
      export PYTHONWARNINGS="ignore::DeprecationWarning,ignore::UserWarning"
      colcon --log-base "$tools/log" build --base-paths "$tools/src" --build-base "$tools/build" \
        --install-base "$tools/install" --executor sequential --packages-select "${tool_packages[@]}" \
        --event-handlers console_cohesion- summary+ \
        --cmake-args -DBUILD_TESTING=OFF -DPython3_EXECUTABLE="$venv/bin/python" >"$tools/log/colcon-build.txt" 2>&1 \
        || { cat "$tools/log/colcon-build.txt"; exit 1; }
    )
    echo "$tools_hash" > "$tools/.build.sha"
  fi
elif [ -f "$tools/install/local_setup.bash" ]; then
  echo "setup: no vendored ROS 2 tools at $vendor_dir; keeping the ros2 CLI and launch built before"
else
  echo "setup: no ros2 CLI or launch (no ROS 2 install sourced, no vendored sources at $vendor_dir; set EMOTION_PERCEPTION_VENDOR_DIR): launch tests will be skipped"
fi

build_inputs() {
  { find emotion_msgs setup.py setup.cfg package.xml resource launch config models media -type f 2>/dev/null || true; } | sort
}
build_hash=$( (build_inputs | tr '\n' '\0' | xargs -0 sha256sum; echo "$req_hash") | sha256sum | cut -d' ' -f1)
if [ "$(cat "$install_base/.build.sha" 2>/dev/null)" != "$build_hash" ]; then
  echo "setup: colcon build (emotion_msgs, emotion_perception) into $(basename "$install_base")/"
  mkdir -p log
  (
    export VIRTUAL_ENV="$venv" PATH="$venv/bin:$PATH"
    export AMENT_PREFIX_PATH="$venv" CMAKE_PREFIX_PATH="$venv"
    export PYTHONWARNINGS="ignore::DeprecationWarning,ignore::UserWarning"
    colcon --log-base log build --base-paths . emotion_msgs --symlink-install \
      --build-base "$build_base" --install-base "$install_base" \
      --event-handlers console_cohesion- summary+ \
      --cmake-args -DBUILD_TESTING=OFF -DPython3_EXECUTABLE="$venv/bin/python" >"log/colcon-build$suffix.txt" 2>&1 \
      || { cat "log/colcon-build$suffix.txt"; exit 1; }
  )
  echo "$build_hash" > "$install_base/.build.sha"
fi
echo "setup: ready, ROS 2 $distro (source .venv$suffix/activate-ros for a shell)"
