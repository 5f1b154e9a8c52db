# Copyright 2026 The emotion_perception Authors
# SPDX-License-Identifier: Apache-2.0
"""The torch side of inference: ONNX export, TorchScript compilation and a torch-run model.

Importing torch costs a process about 480 MB of memory, so the classifier imports this module only
when a model has no matching ONNX export beside it, or when a torch backend is asked for.
"""

from __future__ import annotations

import io
import warnings
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import torch
from torch import nn

from emotion_perception.vision.model import load_model
from emotion_perception.vision.model_card import WEIGHTS_SHA256_KEY
from emotion_perception.vision.onnx_session import onnx_session
from emotion_perception.vision.preprocessing import InputSpec


def onnx_bytes(model: nn.Module, spec: InputSpec, weights_sha256: str = "") -> bytes:
    """``model`` as a serialised ONNX graph (input ``input`` (N, C, size, size), output ``logits``).

    ``weights_sha256`` (of the ``.pt`` it came from) goes into the metadata, so a loader can tell a
    stale export from a current one.
    """
    buffer = io.BytesIO()
    with warnings.catch_warnings(), torch.inference_mode():
        warnings.simplefilter("ignore", DeprecationWarning)  # the TorchScript-based exporter needs no onnxscript
        probe = torch.zeros(1, spec.channels, spec.size, spec.size)
        torch.onnx.export(model.cpu().eval(), (probe,), buffer, input_names=["input"], output_names=["logits"],
                          dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}}, opset_version=17, dynamo=False)
    graph = onnx.load_from_string(buffer.getvalue())
    if weights_sha256:
        onnx.helper.set_model_props(graph, {WEIGHTS_SHA256_KEY: weights_sha256})
    return graph.SerializeToString()


def compile_for_cpu(model: nn.Module, spec: InputSpec) -> torch.jit.ScriptModule:
    """Trace, freeze and optimise for inference (BatchNorm folded, oneDNN-fused convolutions)."""
    with warnings.catch_warnings(), torch.inference_mode():
        warnings.simplefilter("ignore", FutureWarning)  # torch.jit is deprecated but still the fastest CPU path
        traced = torch.jit.trace(model.eval(), torch.zeros(1, spec.channels, spec.size, spec.size))
        return torch.jit.optimize_for_inference(torch.jit.freeze(traced))


class TorchModelRunner:
    """Logits of a ``.pt`` model through onnxruntime (exported in memory), TorchScript or eager torch."""

    def __init__(self, path: Path, backend: str, device: str, threads: int) -> None:
        torch.set_num_threads(threads)
        model, card = load_model(path)
        spec = card.spec
        self.device = torch.device(device)
        self.model: nn.Module = model.to(self.device)
        self.session: ort.InferenceSession | None = None
        if backend == "onnxruntime":
            self.session = onnx_session(onnx_bytes(model, spec), threads)
        elif backend == "torchscript":
            self.model = compile_for_cpu(model, spec)

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        if self.session is not None:
            return self.session.run(None, {"input": batch})[0]
        with torch.inference_mode():
            return self.model(torch.from_numpy(batch).to(self.device)).float().cpu().numpy()
