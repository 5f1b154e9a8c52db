# Copyright 2026 The emotion_perception Authors
# SPDX-License-Identifier: Apache-2.0
"""Tools around the core: the demo, face capture, the video camera stand-in, annotated video and plots."""
