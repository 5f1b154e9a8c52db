# Copyright 2026 The emotion_perception Authors
# SPDX-License-Identifier: Apache-2.0
"""onnxruntime CPU sessions: the one place the detector, the classifier and the torch exporter open an ONNX model."""

from __future__ import annotations

from pathlib import Path

import onnxruntime as ort

#: What onnxruntime raises for a file it cannot load.
ORT_LOAD_ERRORS = (
    ort.capi.onnxruntime_pybind11_state.Fail,
    ort.capi.onnxruntime_pybind11_state.InvalidProtobuf,
    ort.capi.onnxruntime_pybind11_state.InvalidGraph,
)
#: Session config keys that let onnxruntime's pool threads busy-wait for work between jobs.
SPINNING_KEYS = ("session.intra_op.allow_spinning", "session.inter_op.allow_spinning")


def onnx_session(model: bytes | str | Path, threads: int, *, spinning: bool = False) -> ort.InferenceSession:
    """An onnxruntime CPU session with ``threads`` intra-op threads and no inter-op pool.

    ``spinning`` lets the pool threads busy-wait between jobs instead of sleeping: each then burns about a
    core while a 30 Hz camera streams (issue 27), for no gain in the speed of a frame of several faces.
    """
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    for key in SPINNING_KEYS:
        options.add_session_config_entry(key, "1" if spinning else "0")
    return ort.InferenceSession(model if isinstance(model, bytes) else str(model), options,
                                providers=["CPUExecutionProvider"])
