# Copyright 2026 The emotion_perception Authors
# SPDX-License-Identifier: Apache-2.0
"""TorchScript and ONNX exports of a trained model, each checked against the eager model's outputs."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import onnxruntime as ort
import torch
from torch import nn

from emotion_perception.vision import torch_inference
from emotion_perception.vision.model_card import file_sha256
from emotion_perception.vision.preprocessing import InputSpec

TOLERANCE = 1e-4  #: max abs logit difference accepted between an export and the eager model


def _probe(spec: InputSpec, n: int = 4) -> torch.Tensor:
    return torch.randn(n, spec.channels, spec.size, spec.size, generator=torch.Generator().manual_seed(0))


def export_torchscript(model: nn.Module, spec: InputSpec, path: Path) -> dict:
    """Traced and frozen (BatchNorm folded); ``torch.jit.optimize_for_inference`` is left to the loader,
    since its output cannot be saved."""
    model = model.cpu().eval()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # torch.jit is deprecated but still the fastest CPU path
        traced = torch.jit.freeze(torch.jit.trace(model, _probe(spec, 1)))
        traced.save(str(path))
        loaded = torch.jit.load(str(path))
    probe = _probe(spec)
    with torch.inference_mode():
        diff = float((loaded(probe) - model.cpu().eval()(probe)).abs().max())
    if diff > TOLERANCE:
        raise RuntimeError(f"TorchScript export {path} differs from the eager model by {diff:.2e}")
    return {"path": path.name, "max_abs_diff": diff}


def export_onnx(model: nn.Module, spec: InputSpec, path: Path, weights_path: Path) -> dict:
    """``path``: the ONNX export, stamped with the SHA-256 of ``weights_path`` (the saved ``.pt``) so the
    classifier runs it without torch only while it matches those weights."""
    model = model.cpu().eval()
    probe = _probe(spec)
    path.write_bytes(torch_inference.onnx_bytes(model, spec, file_sha256(weights_path)))
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    with torch.inference_mode():
        expected = model(probe).numpy()
    diff = float(np.abs(session.run(None, {"input": probe.numpy()})[0] - expected).max())
    if diff > TOLERANCE:
        raise RuntimeError(f"ONNX export {path} differs from the eager model by {diff:.2e}")
    return {"path": path.name, "max_abs_diff": diff}
