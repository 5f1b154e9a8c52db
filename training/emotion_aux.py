# Copyright 2026 The emotion_perception Authors
# SPDX-License-Identifier: Apache-2.0
"""An auxiliary head that learns FER+'s emotion votes beside the valence head, during training only.

The valence targets fold five different expressions (sadness, anger, disgust, fear, contempt) into one
negative class. :class:`EmotionAux` gives the network a second, training-only linear head on the same pooled
features that predicts the distribution of the annotators' votes over the eight FER+ emotions, so the features
keep those expressions apart. The served model is the wrapped one alone: the head is neither saved with it nor
exported, and the cost per face does not change.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F  # noqa: N812
from torch import nn

from . import distributed
from .relabel import FERPLUS_EMOTIONS


class EmotionAux(nn.Module):
    """``model`` plus a linear head on the input of its last linear layer; ``forward`` returns both logits."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        last = [m for m in model.modules() if isinstance(m, nn.Linear)]
        if not last:
            raise ValueError(f"{type(model).__name__} has no linear layer for the emotion head to share")
        self.model = model
        self.head = nn.Linear(last[-1].in_features, len(FERPLUS_EMOTIONS))
        self._features: torch.Tensor | None = None
        self._hook = last[-1].register_forward_pre_hook(self._keep_features)

    def _keep_features(self, _module: nn.Module, inputs: tuple[torch.Tensor, ...]) -> None:
        self._features = inputs[0]

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        logits = self.model(x)
        return logits, self.head(self._features)

    def release(self) -> nn.Module:
        """The wrapped model, no longer watched (before it is evaluated for good, saved and exported)."""
        self._hook.remove()
        self._features = None
        return self.model


def emotion_loss(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Cross-entropy against the vote distributions, over the rows that have one (an all-zero row has none)."""
    has = targets.sum(dim=1) > 0
    per_sample = -(targets * F.log_softmax(logits.float(), dim=1)).sum(dim=1)
    return (per_sample * has).sum() / distributed.global_mean(has.sum().float()).clamp_min(1.0)
