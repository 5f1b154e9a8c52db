# Copyright 2026 The emotion_perception Authors
# SPDX-License-Identifier: Apache-2.0
"""Speed, accuracy and reliability benchmarks (scripts writing JSON to out/)."""
