"""The valence network, its model card, and loading a saved model with clear errors (no ROS)."""

from __future__ import annotations

import itertools
import json
import os
import pickle
import sys
import zipfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
from torch import nn

from emotion_perception.preprocessing import InputSpec
from emotion_perception.reaction import CLASS_NAMES

PACKAGE = "emotion_perception"
MODEL_FILENAME = "valence_model.pt"
CARD_FORMAT_VERSION = 1


class ModelLoadError(RuntimeError):
    """A model or its card could not be loaded; the message names the file and the reason."""


class ResidualBlock(nn.Module):
    """Two 3x3 convolutions with BatchNorm and a (projected) identity shortcut."""

    def __init__(self, in_channels: int, out_channels: int, stride: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_channels)
        self.relu = nn.ReLU(inplace=True)
        self.shortcut: nn.Module = nn.Identity()
        if stride != 1 or in_channels != out_channels:
            self.shortcut = nn.Sequential(
                nn.Conv2d(in_channels, out_channels, 1, stride, bias=False), nn.BatchNorm2d(out_channels)
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + self.shortcut(x))


class ValenceNet(nn.Module):
    """A small residual CNN for 48x48 faces: a full-resolution stem, then one stride-2 block per width.

    ~1.2 M parameters, ~0.12 GMAC per 48x48 gray face; outputs logits ordered as ``CLASS_NAMES``.
    """

    def __init__(
        self,
        in_channels: int = 1,
        num_classes: int = len(CLASS_NAMES),
        widths: tuple[int, ...] = (32, 64, 128, 256),
        dropout: float = 0.3,
    ) -> None:
        super().__init__()
        stem = widths[0]
        self.stem = nn.Sequential(
            nn.Conv2d(in_channels, stem, 3, 1, 1, bias=False),
            nn.BatchNorm2d(stem),
            nn.ReLU(inplace=True),
            nn.Conv2d(stem, stem, 3, 1, 1, bias=False),
            nn.BatchNorm2d(stem),
            nn.ReLU(inplace=True),
        )
        self.stages = nn.Sequential(
            *(ResidualBlock(c_in, c_out, 2) for c_in, c_out in itertools.pairwise(widths))
        )
        self.head = nn.Sequential(
            nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(dropout), nn.Linear(widths[-1], num_classes)
        )
        for module in self.modules():
            if isinstance(module, nn.Conv2d):
                nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.stages(self.stem(x)))


ARCHITECTURES: dict[str, type[nn.Module]] = {"ValenceNet": ValenceNet}


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
        if self.architecture not in ARCHITECTURES:
            raise ValueError(f"unknown architecture {self.architecture!r} (known: {sorted(ARCHITECTURES)})")
        if tuple(self.classes) != CLASS_NAMES:
            raise ValueError(f"classes must be {list(CLASS_NAMES)}, got {self.classes!r}")
        for name in ("temperature", "temperature_single"):
            value = getattr(self, name)
            if (value is not None or name == "temperature") and not (
                isinstance(value, int | float) and 0 < value < 100
            ):
                raise ValueError(f"{name} must be a number in (0, 100), got {value!r}")
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


def build_model(card: ModelCard) -> nn.Module:
    """A fresh (untrained) network shaped as ``card`` says."""
    kwargs = dict(card.arch_kwargs)
    if "widths" in kwargs:
        kwargs["widths"] = tuple(kwargs["widths"])
    return ARCHITECTURES[card.architecture](in_channels=card.spec.channels, num_classes=len(card.classes), **kwargs)


def model_search_dirs() -> list[Path]:
    """Where the shipped model may live: the source tree, then installed ament share dirs."""
    dirs = [Path(__file__).resolve().parents[1] / "models"]
    for parent in Path(__file__).resolve().parents:
        dirs.append(parent / "share" / PACKAGE / "models")
    prefixes = [p for p in os.environ.get("AMENT_PREFIX_PATH", "").split(os.pathsep) if p] + [sys.prefix]
    dirs.extend(Path(prefix) / "share" / PACKAGE / "models" for prefix in prefixes)
    return dirs


def find_default_model() -> Path:
    """The shipped model file; the source-tree path when none is found (so errors name it)."""
    for directory in model_search_dirs():
        if (directory / MODEL_FILENAME).is_file():
            return directory / MODEL_FILENAME
    return model_search_dirs()[0] / MODEL_FILENAME


#: The shipped valence model (source tree or installed ``share/emotion_perception/models``).
DEFAULT_MODEL_PATH: Path = find_default_model()


def load_card(model_path: str | Path) -> ModelCard:
    path = card_path(model_path)
    if not path.is_file():
        raise ModelLoadError(f"model card {path} is missing (every model needs its JSON card next to it)")
    try:
        return ModelCard.from_json(path.read_text())
    except (ValueError, TypeError, UnicodeDecodeError) as exc:
        raise ModelLoadError(f"model card {path} is invalid: {exc}") from exc


def load_state_dict(path: str | Path) -> dict[str, torch.Tensor]:
    """Read a state dict (or a training checkpoint holding one under ``model``) with ``weights_only``."""
    path = Path(path)
    if not path.is_file():
        raise ModelLoadError(f"model file {path} does not exist")
    try:
        data = torch.load(path, map_location="cpu", weights_only=True)
    except (RuntimeError, EOFError, OSError, zipfile.BadZipFile, ValueError, pickle.UnpicklingError) as exc:
        raise ModelLoadError(f"model file {path} is corrupt or truncated: {type(exc).__name__}: {exc}") from exc
    if isinstance(data, dict) and isinstance(data.get("model"), dict):
        data = data["model"]
    if not isinstance(data, dict) or not all(isinstance(v, torch.Tensor) for v in data.values()):
        raise ModelLoadError(f"model file {path} holds no state dict")
    return data


def load_model(path: str | Path | None = None) -> tuple[nn.Module, ModelCard]:
    """Load weights + card into an eval-mode CPU model; ``None`` loads the shipped default.

    Raises :class:`ModelLoadError` for a missing, corrupt or mismatched file or card.
    """
    path = Path(path) if path is not None else DEFAULT_MODEL_PATH
    state = load_state_dict(path)
    card = load_card(path)
    try:
        model = build_model(card)
        model.load_state_dict(state, strict=True)
    except (RuntimeError, TypeError, ValueError) as exc:
        raise ModelLoadError(
            f"model file {path} does not fit architecture {card.architecture} {card.arch_kwargs}: {exc}"
        ) from exc
    return model.eval(), card
