"""Action feedback core (no ROS): the pure action/reaction pairing rule and the verdict store."""
