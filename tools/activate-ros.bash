# Copyright 2026 The emotion_perception Authors
# SPDX-License-Identifier: Apache-2.0
# Source this file (setup copies it to .venv/activate-ros, or .venv-jazzy/activate-ros for Jazzy) for
# a shell with the project's venv, its ROS 2 wheels, the ros2 CLI and launch (the vendored overlay
# in the venv, unless a ROS 2 install was sourced before) and this workspace's colcon build
# (install/, or install-jazzy/ beside .venv-jazzy), with ROS_DISTRO set to match. Discovery stays on
# this host unless you already chose otherwise; Fast DDS gets the repository's shared-memory profile
# unless you already chose one.
# `source .venv/activate-ros --underlay` gives ROS 2 alone, as `source /opt/ros/<distro>/setup.bash` would
# (the venv, its ROS 2 wheels, the ros2 CLI and launch): no project workspace, no discovery or Fast DDS
# settings, the underlay for a workspace of your own.
_ep_underlay="${1:-}"  # read before the sourced scripts below change the positional parameters
_ep_venv="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
_ep_root="$(cd "$_ep_venv/.." && pwd)"
_ep_suffix="${_ep_venv##*/.venv}"
# The venv and colcon scripts read unset variables: allow it while sourcing them.
case $- in *u*) _ep_nounset=1; set +u ;; *) _ep_nounset= ;; esac
# shellcheck disable=SC1091
source "$_ep_venv/bin/activate"
export AMENT_PREFIX_PATH="$VIRTUAL_ENV${AMENT_PREFIX_PATH:+:$AMENT_PREFIX_PATH}"
export CMAKE_PREFIX_PATH="$VIRTUAL_ENV${CMAKE_PREFIX_PATH:+:$CMAKE_PREFIX_PATH}"
_ep_overlays=("$VIRTUAL_ENV/ros2-tools/install")
[ "$_ep_underlay" = --underlay ] || _ep_overlays+=("$_ep_root/install$_ep_suffix")
for _ep_ws in "${_ep_overlays[@]}"; do
  if [ -f "$_ep_ws/local_setup.bash" ]; then
    # shellcheck disable=SC1091
    source "$_ep_ws/local_setup.bash"
  fi
done
if [ "$_ep_suffix" = -jazzy ]; then export ROS_DISTRO=jazzy; else export ROS_DISTRO=kilted; fi
if [ "$_ep_underlay" != --underlay ]; then
  export ROS_AUTOMATIC_DISCOVERY_RANGE="${ROS_AUTOMATIC_DISCOVERY_RANGE:-LOCALHOST}"
  # Fast DDS 3 (Kilted) reads FASTDDS_DEFAULT_PROFILES_FILE (and warns on every node when the old name is
  # set); Fast DDS 2.14 (Jazzy) reads only FASTRTPS_DEFAULT_PROFILES_FILE.
  export FASTDDS_DEFAULT_PROFILES_FILE="${FASTDDS_DEFAULT_PROFILES_FILE:-$_ep_root/config/fastdds_shm.xml}"
  if [ "$ROS_DISTRO" = jazzy ]; then
    export FASTRTPS_DEFAULT_PROFILES_FILE="${FASTRTPS_DEFAULT_PROFILES_FILE:-$FASTDDS_DEFAULT_PROFILES_FILE}"
  fi
  export EMOTION_PERCEPTION_ROOT="$_ep_root"
fi
[ -n "$_ep_nounset" ] && set -u
unset _ep_venv _ep_root _ep_suffix _ep_ws _ep_nounset _ep_overlays _ep_underlay
