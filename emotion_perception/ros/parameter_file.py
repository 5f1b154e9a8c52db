"""One node's parameters from a ROS 2 parameter YAML, read by rclpy's own parser (no node, no context needed)."""

from __future__ import annotations

from pathlib import Path

import yaml
from rclpy.parameter import parameter_dict_from_yaml_file, parameter_value_to_python

#: What rclpy raises when the file has no section for the node (nor a ``/**`` one).
_NO_SECTION = "does not contain any valid parameters"
_NOT_A_FILE = "not a ROS 2 parameter file (node sections of 'ros__parameters')"


class ParameterFileError(ValueError):
    """The file is missing or not a ROS 2 parameter YAML."""


def load_node_parameters(path: str | Path, node_name: str) -> dict[str, object]:
    """The values the file gives node ``node_name`` under any namespace, by dotted parameter name.

    Sections apply in the order ``/**``, ``/**/<node>``, ``<node>`` or ``/<node>`` (a later one wins), as they
    do to a node of that name; nested mappings become dotted names (``qos_overrides./image.subscription.depth``).
    A file without a section for the node gives ``{}``.
    """
    try:
        sections = yaml.safe_load(Path(path).read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise ParameterFileError(f"{path}: {exc}") from exc
    if not isinstance(sections, dict):
        raise ParameterFileError(f"{path}: {_NOT_A_FILE}")
    # rclpy is handed the sections present, by their names as written: Jazzy's parser takes each target as a
    # literal section name (and refuses one the file lacks), Kilted's resolves names and matches wildcards;
    # both read a list of present literal names alike.
    present = [name for name in ("/**", f"/**/{node_name}", node_name, f"/{node_name}") if name in sections]
    if not present:
        return {}
    try:
        parameters = parameter_dict_from_yaml_file(str(path), target_nodes=present)
    except RuntimeError as exc:
        if _NO_SECTION in str(exc):
            return {}
        raise ParameterFileError(f"{path}: {_NOT_A_FILE}: {exc}") from exc
    except (AttributeError, KeyError, TypeError) as exc:
        raise ParameterFileError(f"{path}: {_NOT_A_FILE}: {exc!r}") from exc
    return {name: parameter_value_to_python(msg.value) for name, msg in parameters.items()}
