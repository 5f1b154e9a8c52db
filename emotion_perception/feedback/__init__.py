# Copyright 2026 The emotion_perception Authors
# SPDX-License-Identifier: Apache-2.0
"""Action feedback core (no ROS): the pure action/reaction pairing rule and the verdict store."""
