# Copyright 2026 The emotion_perception Authors
# SPDX-License-Identifier: Apache-2.0
"""The reliability scenarios of the two nodes: fuzzed frames, floods, soak, faults and restarts, with figures.

Each scenario function takes its size (frames, seconds, rounds) and returns a
:class:`~harness.reliability.common.ScenarioResult`: ``python -m benchmarks.reliability`` runs them full size
and writes their figures (``make reliability``), ``test/test_reliability.py`` runs them scaled down. Each node
under test runs in its own process, as deployed, with the Fast DDS shared-memory profile.
"""
