# Copyright 2026 The emotion_perception Authors
# SPDX-License-Identifier: Apache-2.0
"""Reliability suite of the two nodes: fuzzed frames, floods, soak, faults and restarts, with figures.

``python -m benchmarks.reliability [--quick] [--soak-minutes N]`` runs every scenario (``make
reliability``); ``test/test_reliability.py`` runs the same scenario functions scaled down. Each
node under test runs in its own process, as deployed, with the Fast DDS shared-memory profile.
"""
