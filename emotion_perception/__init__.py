"""emotion_perception: facial valence perception and robot-action feedback for ROS 2."""
