# Copyright 2026 The emotion_perception Authors
# SPDX-License-Identifier: Apache-2.0
"""onnxruntime CPU sessions: the one place the classifier and the torch exporter open an ONNX model."""

from __future__ import annotations

from pathlib import Path

import onnxruntime as ort

#: What onnxruntime raises for a file it cannot load.
ORT_LOAD_ERRORS = (
    ort.capi.onnxruntime_pybind11_state.Fail,
    ort.capi.onnxruntime_pybind11_state.InvalidProtobuf,
    ort.capi.onnxruntime_pybind11_state.InvalidGraph,
)


def onnx_session(model: bytes | str | Path, threads: int) -> ort.InferenceSession:
    """An onnxruntime CPU session with ``threads`` intra-op threads."""
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    return ort.InferenceSession(model if isinstance(model, bytes) else str(model), options,
                                providers=["CPUExecutionProvider"])
