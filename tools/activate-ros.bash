# Source this file (setup copies it to .venv/activate-ros) for a shell with the project's venv,
# the ROS 2 Kilted wheels and this workspace's colcon build on the path.
# Discovery stays on this host unless you already chose otherwise.
_ep_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# The venv and colcon scripts read unset variables: allow it while sourcing them.
case $- in *u*) _ep_nounset=1; set +u ;; *) _ep_nounset= ;; esac
# shellcheck disable=SC1091
source "$_ep_root/.venv/bin/activate"
export AMENT_PREFIX_PATH="$VIRTUAL_ENV${AMENT_PREFIX_PATH:+:$AMENT_PREFIX_PATH}"
export CMAKE_PREFIX_PATH="$VIRTUAL_ENV${CMAKE_PREFIX_PATH:+:$CMAKE_PREFIX_PATH}"
if [ -f "$_ep_root/install/local_setup.bash" ]; then
  # shellcheck disable=SC1091
  source "$_ep_root/install/local_setup.bash"
fi
export ROS_AUTOMATIC_DISCOVERY_RANGE="${ROS_AUTOMATIC_DISCOVERY_RANGE:-LOCALHOST}"
export EMOTION_PERCEPTION_ROOT="$_ep_root"
[ -n "$_ep_nounset" ] && set -u
unset _ep_root _ep_nounset
