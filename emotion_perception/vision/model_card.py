# Copyright 2026 The emotion_perception Authors
# SPDX-License-Identifier: Apache-2.0
"""The model card and where models live, without torch (the perception node never needs torch).

A model is ``<name>.pt`` (a torch state dict), its card ``<name>.json`` and, optionally, its ONNX export
``<name>.onnx`` whose metadata names the SHA-256 of the ``.pt`` it was exported from; the classifier
runs that file with onnxruntime when it matches, and needs torch only otherwise.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from emotion_perception.package_files import package_file
from emotion_perception.reaction import CLASS_NAMES
from emotion_perception.vision.preprocessing import InputSpec

MODEL_FILENAME = "valence_model.pt"
CARD_FORMAT_VERSION = 1
#: Architectures a card may name (``model.ARCHITECTURES`` builds them).
ARCHITECTURE_NAMES: tuple[str, ...] = ("ValenceNet", "MobileNetV2")
#: ONNX metadata key holding the SHA-256 of the ``.pt`` the export was made from.
WEIGHTS_SHA256_KEY = "weights_sha256"


class ModelLoadError(RuntimeError):
    """A model or its card could not be loaded; the message names the file and the reason."""


@dataclass
class ModelCard:
    """What travels next to the weights (``<model>.json``): enough to rebuild, preprocess and trust it."""

    architecture: str = "ValenceNet"
    arch_kwargs: dict = field(default_factory=dict)
    classes: list[str] = field(default_factory=lambda: list(CLASS_NAMES))
    input: dict = field(default_factory=lambda: InputSpec().to_dict())
    temperature: float = 1.0
    tta_flip: bool = False  #: average the face's and its mirror image's probabilities
    temperature_single: float | None = None  #: temperature for one view when ``tta_flip`` is turned off
    #: decision rule: per-class log-prior correction added to the calibrated logits (None = none)
    class_bias: list[float] | None = None
    metrics: dict = field(default_factory=dict)
    training_data: dict = field(default_factory=dict)
    label_protocol: str = ""
    git_commit: str = ""
    created: str = ""
    preliminary: bool = False
    notes: str = ""
    format_version: int = CARD_FORMAT_VERSION

    @property
    def spec(self) -> InputSpec:
        return InputSpec.from_dict(self.input)

    def validate(self) -> None:
        """Raise ``ValueError`` naming the first field that makes this card unusable."""
        if self.architecture not in ARCHITECTURE_NAMES:
            raise ValueError(f"unknown architecture {self.architecture!r} (known: {list(ARCHITECTURE_NAMES)})")
        if tuple(self.classes) != CLASS_NAMES:
            raise ValueError(f"classes must be {list(CLASS_NAMES)}, got {self.classes!r}")
        for name in ("temperature", "temperature_single"):
            value = getattr(self, name)
            if (value is not None or name == "temperature") and not (
                isinstance(value, int | float) and 0 < value < 100
            ):
                raise ValueError(f"{name} must be a number in (0, 100), got {value!r}")
        bias = self.class_bias
        if bias is not None and not (
            isinstance(bias, list) and len(bias) == len(CLASS_NAMES)
            and all(isinstance(b, int | float) and abs(b) <= 10 for b in bias)
        ):
            raise ValueError(f"class_bias must be {len(CLASS_NAMES)} numbers in [-10, 10] or null, got {bias!r}")
        self.spec  # noqa: B018  (InputSpec validates itself)

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=True) + "\n"

    @classmethod
    def from_json(cls, text: str) -> ModelCard:
        data = json.loads(text)
        if not isinstance(data, dict):
            raise ValueError("the card is not a JSON object")
        known = set(cls.__dataclass_fields__)
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown card keys: {sorted(unknown)}")
        card = cls(**data)
        card.validate()
        return card

    def save(self, path: str | Path) -> None:
        Path(path).write_text(self.to_json())


def card_path(model_path: str | Path) -> Path:
    """The card of ``models/x.pt`` is ``models/x.json``."""
    return Path(model_path).with_suffix(".json")


def onnx_path(model_path: str | Path) -> Path:
    """The ONNX export of ``models/x.pt`` is ``models/x.onnx``."""
    return Path(model_path).with_suffix(".onnx")


def int8_onnx_path(model_path: str | Path) -> Path:
    """The int8-quantised ONNX export of ``models/x.pt`` is ``models/x.int8.onnx``."""
    return Path(model_path).with_suffix(".int8.onnx")


def file_sha256(path: str | Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


#: The shipped valence model (the checkout's ``models/`` or the installed ``share/emotion_perception/models``).
DEFAULT_MODEL_PATH: Path = package_file("models", MODEL_FILENAME)


def load_card(model_path: str | Path) -> ModelCard:
    path = card_path(model_path)
    if not path.is_file():
        raise ModelLoadError(f"model card {path} is missing (every model needs its JSON card next to it)")
    try:
        return ModelCard.from_json(path.read_text())
    except (ValueError, TypeError, UnicodeDecodeError) as exc:
        raise ModelLoadError(f"model card {path} is invalid: {exc}") from exc
