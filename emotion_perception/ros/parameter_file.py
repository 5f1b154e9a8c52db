"""One node's parameters from a ROS 2 parameter YAML, read by rclpy's own parser (no node, no context needed)."""

from __future__ import annotations

from pathlib import Path

import yaml
from rclpy.parameter import parameter_dict_from_yaml_file, parameter_value_to_python

#: What rclpy raises when the file has no section for the node (nor a ``/**`` one).
_NO_SECTION = "does not contain any valid parameters"


class ParameterFileError(ValueError):
    """The file is missing or not a ROS 2 parameter YAML."""


def load_node_parameters(path: str | Path, node_name: str) -> dict[str, object]:
    """The values the file gives node ``node_name`` under any namespace, by dotted parameter name.

    Sections apply in the order ``/**``, ``/**/<node>``, ``<node>`` or ``/<node>`` (a later one wins), as they
    do to a node of that name; nested mappings become dotted names (``qos_overrides./image.subscription.depth``).
    A file without a section for the node gives ``{}``.
    """
    try:
        parameters = parameter_dict_from_yaml_file(
            str(path), use_wildcard=True, target_nodes=[f"/**/{node_name}", node_name])
    except RuntimeError as exc:
        if _NO_SECTION in str(exc):
            return {}
        raise ParameterFileError(f"{path}: {exc}") from exc
    except (OSError, yaml.YAMLError) as exc:
        raise ParameterFileError(f"{path}: {exc}") from exc
    except (AttributeError, KeyError, TypeError) as exc:
        raise ParameterFileError(f"{path}: not a ROS 2 parameter file (node sections of 'ros__parameters'): "
                                 f"{exc!r}") from exc
    return {name: parameter_value_to_python(msg.value) for name, msg in parameters.items()}
