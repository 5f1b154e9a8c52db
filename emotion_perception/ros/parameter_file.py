"""Read one node's parameters from a ROS 2 parameter YAML (``node: {ros__parameters: {...}}``), without ROS."""

from __future__ import annotations

from pathlib import Path

import yaml


class ParameterFileError(ValueError):
    """The file is not a ROS 2 parameter YAML."""


def _flatten(values: dict, prefix: str = "") -> dict[str, object]:
    flat: dict[str, object] = {}
    for key, value in values.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{name}."))
        else:
            flat[name] = value
    return flat


def load_node_parameters(path: str | Path, node_name: str) -> dict[str, object]:
    """The parameters the file gives ``node_name`` (its own sections over the ``/**`` wildcard), dotted names.

    Its own sections are ``/**/node_name`` (any namespace), ``node_name`` and ``/node_name``, in that order.

    Nested mappings become dotted names, as ROS does (``qos_overrides./image.subscription.depth``).
    """
    document = yaml.safe_load(Path(path).read_text()) or {}
    if not isinstance(document, dict):
        raise ParameterFileError(f"{path}: expected a mapping of node names, got {type(document).__name__}")
    merged: dict[str, object] = {}
    for key in ("/**", f"/**/{node_name}", node_name, f"/{node_name}"):
        section = document.get(key)
        if section is None:
            continue
        if not isinstance(section, dict) or not isinstance(section.get("ros__parameters", {}), dict):
            raise ParameterFileError(f"{path}: section {key!r} needs a 'ros__parameters' mapping")
        merged.update(_flatten(section.get("ros__parameters") or {}))
    return merged
