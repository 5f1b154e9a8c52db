# Copyright 2026 The emotion_perception Authors
# SPDX-License-Identifier: Apache-2.0
"""Vision core (no ROS): face detection, the one face preprocessing, the valence model and classifier,
face tracking, and ``EmotionRecognizer`` which composes them."""
