# Copyright 2026 The emotion_perception Authors
# SPDX-License-Identifier: Apache-2.0
"""Reliability suite of the two nodes, full size, with figures.

``python -m benchmarks.reliability [--quick] [--soak-minutes N]`` runs every scenario of
:mod:`harness.reliability` (``make reliability``); ``test/test_reliability.py`` runs the same scenario
functions scaled down.
"""
