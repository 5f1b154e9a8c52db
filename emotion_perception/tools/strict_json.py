# Copyright 2026 The emotion_perception Authors
# SPDX-License-Identifier: Apache-2.0
"""JSON that strict parsers accept: NaN and infinities (which JSON cannot hold) become null."""

from __future__ import annotations

import math


def finite_or_none(value: object) -> object:
    """``value`` with every non-finite float, in nested dicts, lists and tuples too, replaced by None."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: finite_or_none(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [finite_or_none(v) for v in value]
    return value
