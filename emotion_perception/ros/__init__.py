# Copyright 2026 The emotion_perception Authors
# SPDX-License-Identifier: Apache-2.0
"""The ROS 2 layer: thin nodes, message and image conversion, parameter tables. Only this layer imports rclpy."""
