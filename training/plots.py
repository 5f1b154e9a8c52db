# Copyright 2026 The emotion_perception Authors
# SPDX-License-Identifier: Apache-2.0
"""PNG plots of a run: confusion matrix, reliability diagram, training curves (matplotlib, Agg)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from emotion_perception.reaction import CLASS_NAMES


def plot_confusion(cm: list[list[int]], path: Path, title: str) -> None:
    cm_arr = np.asarray(cm, float)
    norm = cm_arr / np.maximum(cm_arr.sum(axis=1, keepdims=True), 1)
    fig, ax = plt.subplots(figsize=(4.6, 4))
    ax.imshow(norm, cmap="Blues", vmin=0, vmax=1)
    for i in range(len(CLASS_NAMES)):
        for j in range(len(CLASS_NAMES)):
            ax.text(j, i, f"{int(cm_arr[i, j])}\n{norm[i, j]:.2f}", ha="center", va="center",
                    color="white" if norm[i, j] > 0.5 else "black", fontsize=9)
    ax.set_xticks(range(3), CLASS_NAMES)
    ax.set_yticks(range(3), CLASS_NAMES)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_reliability(bins_before: dict, bins_after: dict, ece: tuple[float, float], path: Path) -> None:
    fig, ax = plt.subplots(figsize=(4.6, 4.2))
    ax.plot([0, 1], [0, 1], "k:", lw=1, label="perfect")
    for bins, name, value in ((bins_before, "T = 1", ece[0]), (bins_after, "temperature-scaled", ece[1])):
        pts = [(c, a) for c, a in zip(bins["confidence"], bins["accuracy"], strict=True) if c is not None]
        if pts:
            xs, ys = zip(*pts, strict=True)
            ax.plot(xs, ys, "o-", label=f"{name} (ECE {value:.3f})")
    ax.set_xlabel("confidence (top class)")
    ax.set_ylabel("accuracy")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.legend(fontsize=8)
    ax.set_title("reliability diagram", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_curves(history: list[dict], path: Path) -> None:
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(8, 3.4))
    epochs = [h["epoch"] for h in history]
    ax1.plot(epochs, [h["train_loss"] for h in history], label="train")
    ax1.plot(epochs, [h["val_loss"] for h in history], label="val")
    ax1.set_xlabel("epoch")
    ax1.set_ylabel("loss")
    ax1.legend(fontsize=8)
    ax2.plot(epochs, [h["val_accuracy"] for h in history], label="val accuracy")
    ax2.plot(epochs, [h["val_macro_f1"] for h in history], label="val macro-F1")
    ax2.set_xlabel("epoch")
    ax2.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
