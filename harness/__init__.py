# Copyright 2026 The emotion_perception Authors
# SPDX-License-Identifier: Apache-2.0
"""What the tests and the benchmarks share to run the real nodes: the reliability scenarios
(:mod:`harness.reliability`) and a throw-away PostgreSQL server (:mod:`harness.postgres_server`).

The tests import it through pytest's ``pythonpath = .``, the benchmarks as ``python -m benchmarks...`` from the
repository root; it is not installed. Neither side imports the other: a benchmark is free to change its
figures, and a test never depends on a benchmark script.
"""
