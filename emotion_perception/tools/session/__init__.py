# Copyright 2026 The emotion_perception Authors
# SPDX-License-Identifier: Apache-2.0
"""Sessions: record the package's topics to MCAP, replay them with /clock, re-judge them offline."""
