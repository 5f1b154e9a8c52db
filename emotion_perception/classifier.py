"""Batched, calibrated valence inference on CPU for all faces of a frame (no ROS).

Backends: ``onnxruntime`` (default on CPU: the model is exported to ONNX in memory at load time),
``torchscript`` (trace + freeze + optimize_for_inference) and ``eager``. On this project's 2-core
machine onnxruntime was the fastest per 48x48 face at 1 and 2 threads, and degraded least under
load (``benchmarks/classifier_speed.py``).
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import onnxruntime as ort
import torch
import torch.nn.functional as F  # noqa: N812
from torch import nn

from emotion_perception.model import DEFAULT_MODEL_PATH, ModelLoadError, load_model
from emotion_perception.preprocessing import Box, preprocess_crop, preprocess_faces
from emotion_perception.reaction import CLASS_NAMES


def mirror_average(logits: torch.Tensor, mirrored_logits: torch.Tensor) -> torch.Tensor:
    """Average a face's and its mirror image's class probabilities; returned as log-probabilities.

    The model card's temperature was fitted on these (``softmax(result / T)`` are the calibrated
    probabilities), so training and inference must both use this function.
    """
    return torch.log((F.softmax(logits.float(), dim=1) + F.softmax(mirrored_logits.float(), dim=1)) / 2)


BACKENDS = ("onnxruntime", "torchscript", "eager")


def onnx_session(model: nn.Module, channels: int, size: int, threads: int) -> ort.InferenceSession:
    """An onnxruntime CPU session of ``model`` (exported in memory; input ``input``, output ``logits``)."""
    buffer = io.BytesIO()
    with warnings.catch_warnings(), torch.inference_mode():
        warnings.simplefilter("ignore", DeprecationWarning)  # the TorchScript-based exporter needs no onnxscript
        torch.onnx.export(model.eval(), (torch.zeros(1, channels, size, size),), buffer, input_names=["input"],
                          output_names=["logits"], dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}},
                          opset_version=17, dynamo=False)
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    return ort.InferenceSession(buffer.getvalue(), options, providers=["CPUExecutionProvider"])


def compile_for_cpu(model: nn.Module, channels: int, size: int) -> torch.jit.ScriptModule:
    """Trace, freeze and optimise for inference (BatchNorm folded, oneDNN-fused convolutions)."""
    with warnings.catch_warnings(), torch.inference_mode():
        warnings.simplefilter("ignore", FutureWarning)  # torch.jit is deprecated but still the fastest CPU path
        traced = torch.jit.trace(model.eval(), torch.zeros(1, channels, size, size))
        return torch.jit.optimize_for_inference(torch.jit.freeze(traced))


class ValenceClassifier:
    """Calibrated negative/neutral/positive probabilities for detected faces.

    ``model_path=None`` loads the shipped model; a bad file raises :class:`ModelLoadError`.
    ``threads`` sets ``torch.set_num_threads`` (process-wide) and onnxruntime's intra-op threads.
    ``backend`` is one of :data:`BACKENDS`; on a non-CPU ``device`` the eager model runs there.
    ``mirror`` averages each face with its mirror image (about twice the cost, +1 point macro-F1 on
    FER); ``None`` follows the model card. The card's matching temperature is used either way.
    """

    def __init__(
        self,
        model_path: str | Path | None = None,
        threads: int = 2,
        device: str = "cpu",
        backend: str = "onnxruntime",
        mirror: bool | None = None,
    ) -> None:
        if threads < 1:
            raise ValueError(f"threads must be >= 1, got {threads}")
        if backend not in BACKENDS:
            raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")
        torch.set_num_threads(threads)
        self.model, self.card = load_model(model_path)
        self.spec = self.card.spec
        self.tta_flip = bool(self.card.tta_flip if mirror is None else mirror)
        single = self.card.temperature_single
        use_single = self.card.tta_flip and not self.tta_flip and single is not None
        self.temperature = float(single if use_single else self.card.temperature)
        self.device = torch.device(device)
        self.backend = backend if self.device.type == "cpu" else "eager"
        self.model = self.model.to(self.device)
        self._session: ort.InferenceSession | None = None
        try:
            if self.backend == "onnxruntime":
                self._session = onnx_session(self.model, self.spec.channels, self.spec.size, threads)
            elif self.backend == "torchscript":
                self.model = compile_for_cpu(self.model, self.spec.channels, self.spec.size)
        except (RuntimeError, ort.capi.onnxruntime_pybind11_state.Fail) as exc:
            raise ModelLoadError(f"model {model_path or DEFAULT_MODEL_PATH} could not be compiled: {exc}") from exc

    def _run(self, x: np.ndarray) -> torch.Tensor:
        if self._session is not None:
            return torch.from_numpy(self._session.run(None, {"input": x})[0])
        return self.model(torch.from_numpy(x).to(self.device)).float().cpu()

    def logits_batch(self, batch: np.ndarray) -> torch.Tensor:
        """Uncalibrated logits ``(N, 3)`` (mirror-averaged log-probabilities when the card asks for it)."""
        batch = np.asarray(batch, np.float32)
        expected = (self.spec.channels, self.spec.size, self.spec.size)
        if batch.ndim != 4 or batch.shape[1:] != expected:
            raise ValueError(f"expected a batch of shape (N, {', '.join(map(str, expected))}), got {batch.shape}")
        if len(batch) == 0:
            return torch.zeros((0, len(CLASS_NAMES)))
        with torch.inference_mode():
            if self.tta_flip:
                both = self._run(np.concatenate([batch, batch[..., ::-1]]))
                return mirror_average(both[: len(batch)], both[len(batch):])
            return self._run(np.ascontiguousarray(batch))

    def predict_batch(self, batch: np.ndarray) -> np.ndarray:
        """Preprocessed faces ``(N, C, size, size)`` float32 → calibrated probabilities ``(N, 3)``."""
        logits = self.logits_batch(batch)
        return F.softmax(logits / self.temperature, dim=1).numpy().astype(np.float32)

    def predict(self, image: np.ndarray, boxes: Sequence[Box]) -> np.ndarray:
        """All faces of one frame (BGR or gray uint8, detector boxes ``(x, y, w, h)``) → ``(N, 3)``."""
        return self.predict_batch(preprocess_faces(image, boxes, self.spec))

    def predict_crop(self, crop: np.ndarray) -> np.ndarray:
        """One already cropped face (e.g. from ``face_crop``) → ``(3,)``."""
        return self.predict_batch(preprocess_crop(crop, self.spec)[None])[0]
