# Copyright 2026 The emotion_perception Authors
# SPDX-License-Identifier: Apache-2.0
"""Offline training, evaluation and export of the valence model (never imports rclpy)."""
