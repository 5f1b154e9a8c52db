# Copyright 2026 The emotion_perception Authors
# SPDX-License-Identifier: Apache-2.0
"""Relabelling expression classes to valence with the YAML map in ``config/valence_map.yaml``."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import yaml

from emotion_perception.package_files import package_file
from emotion_perception.reaction import CLASS_NAMES

DEFAULT_MAP_PATH = package_file("config", "valence_map.yaml")
DROP = "drop"

#: FER2013's integer label ids, named as the valence map names them.
FER2013_NAMES: tuple[str, ...] = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
#: The FER+ vote column of each FER2013 label (the same emotions, named differently).
FER2013_TO_FERPLUS: dict[str, str] = {"angry": "anger", "disgust": "disgust", "fear": "fear", "happy": "happiness",
                                      "sad": "sadness", "surprise": "surprise", "neutral": "neutral"}
#: FER+ vote columns, in file order.
FERPLUS_COLUMNS: tuple[str, ...] = (
    "neutral", "happiness", "surprise", "sadness", "anger", "disgust", "fear", "contempt", "unknown", "NF",
)
#: The FER+ vote columns that name an expression (all but unknown and not-a-face).
FERPLUS_EMOTIONS: tuple[str, ...] = FERPLUS_COLUMNS[:8]


@dataclass
class ValenceMap:
    """Label name → valence index (position in ``CLASS_NAMES``); unmapped names are dropped and counted."""

    mapping: dict[str, str]
    source: str = ""
    dropped: Counter = field(default_factory=Counter)

    def __post_init__(self) -> None:
        legal = {*CLASS_NAMES, DROP}
        bad = {k: v for k, v in self.mapping.items() if v not in legal}
        if bad:
            raise ValueError(f"valence map {self.source or '<dict>'}: values must be one of {sorted(legal)}, got {bad}")
        self.mapping = {str(k).lower(): v for k, v in self.mapping.items()}

    @classmethod
    def load(cls, path: str | Path = DEFAULT_MAP_PATH) -> ValenceMap:
        path = Path(path)
        try:
            data = yaml.safe_load(path.read_text())
        except (OSError, yaml.YAMLError) as exc:
            raise ValueError(f"cannot read valence map {path}: {exc}") from exc
        if not isinstance(data, dict) or not isinstance(data.get("valence"), dict):
            raise ValueError(f"valence map {path} needs a top-level 'valence:' mapping of label -> class")
        return cls({str(k): str(v) for k, v in data["valence"].items()}, source=str(path))

    def index(self, name: str) -> int | None:
        """Valence index of a label name, or None (and counted) when the map drops it."""
        valence = self.mapping.get(name.lower(), DROP)
        if valence == DROP:
            self.dropped[name.lower()] += 1
            return None
        return CLASS_NAMES.index(valence)

    def vote_matrix(self, columns: Iterable[str]) -> np.ndarray:
        """(len(columns), 3) matrix summing each emotion's votes into its valence class (dropped → 0 rows)."""
        eye = np.eye(len(CLASS_NAMES), dtype=np.float32)
        zero = np.zeros(len(CLASS_NAMES), np.float32)
        valences = [self.mapping.get(name.lower(), DROP) for name in columns]
        return np.stack([zero if v == DROP else eye[CLASS_NAMES.index(v)] for v in valences])

    def describe(self) -> Mapping[str, str]:
        return dict(self.mapping)
