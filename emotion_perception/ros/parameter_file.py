# Copyright 2026 The emotion_perception Authors
# SPDX-License-Identifier: Apache-2.0
"""One node's parameters from a ROS 2 parameter YAML, read by rclpy's own parser (no node, no context needed)."""

from __future__ import annotations

from pathlib import Path

import yaml
from rclpy.parameter import parameter_dict_from_yaml_file, parameter_value_to_python


class ParameterFileError(ValueError):
    """The file is missing or not a ROS 2 parameter YAML."""


def load_node_parameters(path: str | Path, node_name: str) -> dict[str, object]:
    """The values the file gives node ``node_name`` under any namespace, by dotted parameter name.

    Sections apply in the order ``/**``, ``/**/<node>``, ``<node>`` or ``/<node>`` (a later one wins), as they
    do to a node of that name; nested mappings become dotted names (``qos_overrides./image.subscription.depth``).
    A file without a section for the node gives ``{}``.
    """
    try:
        document = yaml.safe_load(Path(path).read_text()) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ParameterFileError(f"{path}: {exc}") from exc
    if not isinstance(document, dict):
        raise ParameterFileError(f"{path}: expected a mapping of node names, got {type(document).__name__}")
    values: dict[str, object] = {}
    # One section at a time: Jazzy's parser refuses a target it does not find, Kilted's skips it.
    for section in ("/**", f"/**/{node_name}", node_name, f"/{node_name}"):
        if section not in document:
            continue
        try:
            parameters = parameter_dict_from_yaml_file(str(path), target_nodes=[section])
        except (RuntimeError, AttributeError, KeyError, TypeError) as exc:
            raise ParameterFileError(f"{path}: not a ROS 2 parameter file: section {section!r} needs "
                                     f"'ros__parameters' ({exc!r})") from exc
        values.update({name: parameter_value_to_python(msg.value) for name, msg in parameters.items()})
    return values
