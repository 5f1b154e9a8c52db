# Copyright 2026 The emotion_perception Authors
# SPDX-License-Identifier: Apache-2.0
"""TorchScript, ONNX and int8 ONNX exports of a trained model, each checked against the eager model or the
float ONNX export."""

from __future__ import annotations

import tempfile
import warnings
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import torch
from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quant_pre_process, quantize_static
from torch import nn

from emotion_perception.vision import torch_inference
from emotion_perception.vision.model_card import WEIGHTS_SHA256_KEY, file_sha256
from emotion_perception.vision.preprocessing import InputSpec

TOLERANCE = 1e-4  #: max abs logit difference accepted between an export and the eager model
MIN_INT8_AGREEMENT = 0.97  #: share of faces whose class the int8 export must give as the float one does


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


class _Batches(CalibrationDataReader):
    def __init__(self, faces: np.ndarray, batch: int = 64) -> None:
        self._batches = iter([{"input": faces[i:i + batch]} for i in range(0, len(faces), batch)])

    def get_next(self) -> dict[str, np.ndarray] | None:
        return next(self._batches, None)


def export_onnx_int8(onnx_file: Path, calibration: np.ndarray, check: np.ndarray, path: Path) -> dict:
    """``path``: ``onnx_file`` statically quantised to int8 (QDQ, per-channel weights), its activation ranges
    calibrated on ``calibration`` faces (preprocessed, ``(N, C, H, W)``) and its weights stamp kept.

    Refused (RuntimeError) when its class differs from the float export's on more than 3 % of ``check``.
    """
    with tempfile.TemporaryDirectory() as tmp:
        prepared = Path(tmp) / "prepared.onnx"
        quant_pre_process(str(onnx_file), str(prepared))
        quantize_static(str(prepared), str(path), _Batches(calibration), quant_format=QuantFormat.QDQ,
                        per_channel=True, activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8)
    stamp = {p.key: p.value for p in onnx.load(str(onnx_file)).metadata_props}
    model = onnx.load(str(path))
    onnx.helper.set_model_props(model, {**{p.key: p.value for p in model.metadata_props}, **stamp})
    onnx.save(model, str(path))
    float_logits, int8_logits = (
        ort.InferenceSession(str(f), providers=["CPUExecutionProvider"]).run(None, {"input": check})[0]
        for f in (onnx_file, path))
    agreement = float((float_logits.argmax(axis=1) == int8_logits.argmax(axis=1)).mean())
    if agreement < MIN_INT8_AGREEMENT:
        raise RuntimeError(f"int8 export {path} agrees with the float model on only {agreement:.1%} of faces")
    return {"path": path.name, "class_agreement": agreement, "faces_checked": len(check),
            "calibration_faces": len(calibration), "weights_sha256": stamp.get(WEIGHTS_SHA256_KEY, "")}
