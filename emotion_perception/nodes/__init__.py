"""Thin ROS 2 nodes over the emotion_perception core library."""
