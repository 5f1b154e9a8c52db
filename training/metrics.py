# Copyright 2026 The emotion_perception Authors
# SPDX-License-Identifier: Apache-2.0
"""Classification metrics, calibration (ECE) and temperature scaling for valence predictions."""

from __future__ import annotations

import numpy as np
import torch

from emotion_perception.reaction import CLASS_NAMES
from emotion_perception.vision.classifier import softmax as softmax  # re-exported: training's one softmax

ECE_BINS = 15


def confusion_matrix(labels: np.ndarray, predictions: np.ndarray, n: int = len(CLASS_NAMES)) -> np.ndarray:
    """Rows: true class, columns: predicted class."""
    return np.bincount(np.asarray(labels) * n + np.asarray(predictions), minlength=n * n).reshape(n, n)


def expected_calibration_error(probabilities: np.ndarray, labels: np.ndarray, bins: int = ECE_BINS) -> float:
    """Top-label ECE with equal-width confidence bins."""
    if len(labels) == 0:
        return float("nan")
    confidence = probabilities.max(axis=1)
    correct = probabilities.argmax(axis=1) == labels
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(confidence, edges[1:-1]), 0, bins - 1)
    ece = 0.0
    for b in range(bins):
        mask = which == b
        if mask.any():
            ece += mask.mean() * abs(correct[mask].mean() - confidence[mask].mean())
    return float(ece)


def reliability_bins(probabilities: np.ndarray, labels: np.ndarray, bins: int = ECE_BINS) -> dict:
    confidence = probabilities.max(axis=1)
    correct = probabilities.argmax(axis=1) == labels
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(confidence, edges[1:-1]), 0, bins - 1)
    out = {"edges": edges.tolist(), "accuracy": [], "confidence": [], "count": []}
    for b in range(bins):
        mask = which == b
        out["count"].append(int(mask.sum()))
        out["accuracy"].append(float(correct[mask].mean()) if mask.any() else None)
        out["confidence"].append(float(confidence[mask].mean()) if mask.any() else None)
    return out


def classification_report(probabilities: np.ndarray, labels: np.ndarray) -> dict:
    """Accuracy, macro-F1, per-class precision/recall/F1/support, confusion matrix and ECE."""
    labels = np.asarray(labels, np.int64)
    predictions = probabilities.argmax(axis=1)
    cm = confusion_matrix(labels, predictions)
    per_class = {}
    f1s = []
    for i, name in enumerate(CLASS_NAMES):
        tp = cm[i, i]
        precision = tp / cm[:, i].sum() if cm[:, i].sum() else 0.0
        recall = tp / cm[i, :].sum() if cm[i, :].sum() else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        f1s.append(f1)
        per_class[name] = {"precision": float(precision), "recall": float(recall), "f1": float(f1),
                           "support": int(cm[i, :].sum())}
    return {
        "n": len(labels),
        "accuracy": float((predictions == labels).mean()) if len(labels) else float("nan"),
        "macro_f1": float(np.mean(f1s)),
        "per_class": per_class,
        "confusion_matrix": cm.tolist(),
        "ece": expected_calibration_error(probabilities, labels),
    }


def fit_temperature(logits: np.ndarray, labels: np.ndarray, max_iter: int = 200) -> float:
    """The temperature minimising validation NLL (LBFGS on log T), clamped to [0.05, 20]."""
    z = torch.as_tensor(np.asarray(logits), dtype=torch.float64)
    y = torch.as_tensor(np.asarray(labels), dtype=torch.long)
    log_t = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    optimizer = torch.optim.LBFGS([log_t], lr=0.1, max_iter=max_iter, line_search_fn="strong_wolfe")

    def closure() -> torch.Tensor:
        optimizer.zero_grad()
        loss = torch.nn.functional.cross_entropy(z / log_t.exp(), y)
        loss.backward()
        return loss

    optimizer.step(closure)
    return float(np.clip(log_t.exp().item(), 0.05, 20.0))
