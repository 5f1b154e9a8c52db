# Copyright 2026 The emotion_perception Authors
# SPDX-License-Identifier: Apache-2.0
"""Examples of using emotion_perception from a robot's own code (installed as ``emotion_perception_examples``)."""
