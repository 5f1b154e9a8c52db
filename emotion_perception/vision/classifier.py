# Copyright 2026 The emotion_perception Authors
# SPDX-License-Identifier: Apache-2.0
"""Batched, calibrated valence inference on CPU for all faces of a frame (no ROS, and no torch when it can).

Backends: ``onnxruntime`` (default), ``torchscript`` (trace + freeze + optimize_for_inference) and
``eager``. On this project's 2-core machine onnxruntime was the fastest per 48x48 face at 1 and 2
threads and degraded least under load (``benchmarks/classifier_speed.py``). With onnxruntime and a
matching ``<model>.onnx`` beside the ``.pt`` (the shipped model has one; training writes one), torch
is never imported: that keeps about 480 MB out of the perception node. Otherwise the model is loaded
with torch (:mod:`emotion_perception.vision.torch_inference`), exported in memory or compiled.
A matching ``<model>.int8.onnx`` (static int8 quantisation, ``python -m training.quantize``) runs
instead by default: several times faster per face at the same FER accuracy (see the model card).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import onnxruntime as ort

from emotion_perception.reaction import CLASS_NAMES
from emotion_perception.vision.model_card import (
    DEFAULT_MODEL_PATH,
    WEIGHTS_SHA256_KEY,
    ModelLoadError,
    file_sha256,
    int8_onnx_path,
    load_card,
    onnx_path,
)
from emotion_perception.vision.onnx_session import ORT_LOAD_ERRORS, onnx_session
from emotion_perception.vision.preprocessing import Box, preprocess_crop, preprocess_faces

BACKENDS = ("onnxruntime", "torchscript", "eager")
PRECISIONS = ("auto", "int8", "fp32")


def softmax(logits: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    """Row-wise softmax of ``(N, K)`` logits divided by ``temperature``, in float64 for stability, as float32."""
    scaled = np.asarray(logits, np.float64) / temperature
    shifted = scaled - np.max(scaled, axis=1, keepdims=True)
    exp = np.exp(shifted)
    return (exp / exp.sum(axis=1, keepdims=True)).astype(np.float32)


def mirror_average(logits: np.ndarray, mirrored_logits: np.ndarray) -> np.ndarray:
    """Average a face's and its mirror image's class probabilities; returned as log-probabilities.

    The model card's temperature was fitted on these (``softmax(result / T)`` are the calibrated
    probabilities), so training and inference both use this function.
    """
    return np.log((softmax(logits) + softmax(mirrored_logits)) / 2).astype(np.float32)


def matching_onnx_session(model_path: Path, threads: int, int8: bool = False) -> ort.InferenceSession | None:
    """A session of ``model_path``'s ONNX export (``int8``: its quantised one) when it exists and was made
    from these exact weights."""
    exported = int8_onnx_path(model_path) if int8 else onnx_path(model_path)
    if not exported.is_file():
        return None
    try:
        session = onnx_session(exported, threads)
    except ORT_LOAD_ERRORS as exc:
        raise ModelLoadError(f"ONNX model {exported} is corrupt: {exc}") from exc
    made_from = session.get_modelmeta().custom_metadata_map.get(WEIGHTS_SHA256_KEY)
    return session if made_from == file_sha256(model_path) else None


class ValenceClassifier:
    """Calibrated negative/neutral/positive probabilities for detected faces.

    ``model_path=None`` loads the shipped model; a bad file raises :class:`ModelLoadError`.
    ``threads`` sets onnxruntime's intra-op threads (and ``torch.set_num_threads`` when torch runs).
    ``backend`` is one of :data:`BACKENDS`; on a non-CPU ``device`` the eager model runs there.
    ``mirror`` averages each face with its mirror image (about twice the cost, +1 point macro-F1 on
    FER); ``None`` follows the model card. The card's matching temperature is used either way.
    ``class_bias`` (default: the card's) is added to the calibrated logits: a prior correction that
    shifts the decision between classes (e.g. towards the negative class FER under-represents). The
    ``prior`` of the ``predict*`` methods is added on top of it, per call (the recognizer's ``class_prior``).
    ``precision``: ``auto`` runs the int8 export when one matches the weights, else float32; ``int8``
    requires it (:class:`ModelLoadError` otherwise); ``fp32`` never uses it. ``self.precision`` says which
    runs, ``uses_torch`` whether torch was needed.
    """

    def __init__(
        self,
        model_path: str | Path | None = None,
        threads: int = 2,
        device: str = "cpu",
        backend: str = "onnxruntime",
        mirror: bool | None = None,
        class_bias: Sequence[float] | None = None,
        precision: str = "auto",
    ) -> None:
        if threads < 1:
            raise ValueError(f"threads must be >= 1, got {threads}")
        if precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {PRECISIONS}, got {precision!r}")
        if backend not in BACKENDS:
            raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")
        path = Path(model_path) if model_path is not None else DEFAULT_MODEL_PATH
        if not path.is_file():
            raise ModelLoadError(f"model file {path} does not exist")
        self.card = load_card(path)
        self.spec = self.card.spec
        self.tta_flip = bool(self.card.tta_flip if mirror is None else mirror)
        single = self.card.temperature_single
        use_single = self.card.tta_flip and not self.tta_flip and single is not None
        self.temperature = float(single if use_single else self.card.temperature)
        bias = self.card.class_bias if class_bias is None else class_bias
        self.class_bias = np.zeros(len(CLASS_NAMES), np.float32) if bias is None else np.asarray(bias, np.float32)
        if self.class_bias.shape != (len(CLASS_NAMES),) or not np.isfinite(self.class_bias).all():
            raise ValueError(f"class_bias must be {len(CLASS_NAMES)} finite numbers, got {bias!r}")
        self.backend = backend if device == "cpu" else "eager"
        session = None
        if precision != "fp32" and self.backend == "onnxruntime":
            session = matching_onnx_session(path, threads, int8=True)
            if session is None and precision == "int8":
                raise ModelLoadError(f"no int8 export made from {path}: run python -m training.quantize --model {path}")
        elif precision == "int8":
            raise ModelLoadError(f"precision int8 runs on onnxruntime only, not on {self.backend} / {device}")
        self.precision = "int8" if session is not None else "fp32"
        if session is None and self.backend == "onnxruntime":
            session = matching_onnx_session(path, threads)
        self.uses_torch = session is None
        self._run: Callable[[np.ndarray], np.ndarray]
        if session is not None:
            self._run = lambda batch: session.run(None, {"input": batch})[0]
        else:
            # torch only now: importing it costs ~480 MB that the ONNX path never needs.
            from emotion_perception.vision import torch_inference
            try:
                self._run = torch_inference.TorchModelRunner(path, self.backend, device, threads)
            except ModelLoadError:
                raise
            except (RuntimeError, *ORT_LOAD_ERRORS) as exc:
                raise ModelLoadError(f"model {path} could not be compiled: {exc}") from exc

    def logits_batch(self, batch: np.ndarray) -> np.ndarray:
        """Uncalibrated logits ``(N, 3)`` (mirror-averaged log-probabilities when the card asks for it)."""
        batch = np.asarray(batch, np.float32)
        expected = (self.spec.channels, self.spec.size, self.spec.size)
        if batch.ndim != 4 or batch.shape[1:] != expected:
            raise ValueError(f"expected a batch of shape (N, {', '.join(map(str, expected))}), got {batch.shape}")
        if len(batch) == 0:
            return np.zeros((0, len(CLASS_NAMES)), np.float32)
        if self.tta_flip:
            both = self._run(np.ascontiguousarray(np.concatenate([batch, batch[..., ::-1]])))
            return mirror_average(both[: len(batch)], both[len(batch):])
        return self._run(np.ascontiguousarray(batch))

    def predict_batch(self, batch: np.ndarray, prior: Sequence[float] | None = None) -> np.ndarray:
        """Preprocessed faces ``(N, C, size, size)`` float32 → calibrated probabilities ``(N, 3)``."""
        return softmax(self.served_logits(self.logits_batch(batch), prior))

    def served_logits(self, logits: np.ndarray, prior: Sequence[float] | None = None) -> np.ndarray:
        """:meth:`logits_batch` output as served: divided by the temperature, plus the decision rule's bias
        and the caller's log-``prior`` (negative, neutral, positive) when given."""
        served = logits / self.temperature + self.class_bias
        return served if prior is None else served + np.asarray(prior, np.float32)

    def predict(self, image: np.ndarray, boxes: Sequence[Box],
                landmarks: Sequence[Sequence[tuple[float, float]]] | None = None,
                prior: Sequence[float] | None = None) -> np.ndarray:
        """All faces of one frame (BGR or gray uint8, detector boxes ``(x, y, w, h)``) → ``(N, 3)``.

        ``landmarks`` (the detector's, per box) level each face when the card's input spec aligns.
        """
        return self.predict_batch(preprocess_faces(image, boxes, self.spec, landmarks), prior)

    def predict_crop(self, crop: np.ndarray, prior: Sequence[float] | None = None) -> np.ndarray:
        """One already cropped face (e.g. from ``face_crop``) → ``(3,)``."""
        return self.predict_batch(preprocess_crop(crop, self.spec)[None], prior)[0]
