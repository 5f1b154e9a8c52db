# Copyright 2026 The emotion_perception Authors
# SPDX-License-Identifier: Apache-2.0
"""ROS 2 message types by name: the class, and the full ``.msg`` text rosbag2 embeds as an MCAP schema.

Foxglove's image annotations are bundled: ``foxglove_msgs`` is neither on PyPI nor a dependency, and the
schema the recorder embeds must be the layout it encodes, whatever version of the package is installed.
"""

from __future__ import annotations

import importlib
import re
from pathlib import Path

from ament_index_python.packages import PackageNotFoundError, get_package_share_directory

#: rosbag2's separator between a message definition and each of its dependencies (``ros2msg`` schemas).
SEPARATOR = "=" * 80
PRIMITIVES = frozenset({
    "bool", "byte", "char", "float32", "float64", "int8", "uint8", "int16", "uint16", "int32", "uint32",
    "int64", "uint64", "string", "wstring",
})
_TYPE_NAME = re.compile(r"^(?P<package>\w+)/(?:msg/)?(?P<name>\w+)$")
_COLOR = "foxglove_msgs/Color"
_POINT = "foxglove_msgs/Point2"
#: (package, name) -> ``.msg`` text of the types shipped with this package: foxglove_msgs 3.x's image
#: annotations as released for Jazzy and Kilted (fields in the order of Foxglove's schema; the newer
#: ``metadata`` lists are left out, so the bytes match the foxglove_msgs that ``ros2 bag play`` finds).
BUNDLED: dict[tuple[str, str], str] = {
    ("foxglove_msgs", "ImageAnnotations"): (
        "# 2D shapes and labels drawn over an image (Foxglove's ImageAnnotations).\n"
        "foxglove_msgs/CircleAnnotation[] circles\n"
        "foxglove_msgs/PointsAnnotation[] points\n"
        "foxglove_msgs/TextAnnotation[] texts\n"
    ),
    ("foxglove_msgs", "CircleAnnotation"): (
        "# A circle; coordinates in pixels from the top-left corner of the image.\n"
        "builtin_interfaces/Time timestamp\n"
        f"{_POINT} position\n"
        "float64 diameter\n"
        "float64 thickness\n"
        f"{_COLOR} fill_color\n"
        f"{_COLOR} outline_color\n"
    ),
    ("foxglove_msgs", "PointsAnnotation"): (
        "# Points or lines; coordinates in pixels from the top-left corner of the image.\n"
        "builtin_interfaces/Time timestamp\n"
        "uint8 UNKNOWN=0\n"
        "uint8 POINTS=1\n"
        "uint8 LINE_LOOP=2  # a closed polygon\n"
        "uint8 LINE_STRIP=3\n"
        "uint8 LINE_LIST=4\n"
        "uint8 type\n"
        f"{_POINT}[] points\n"
        f"{_COLOR} outline_color\n"
        f"{_COLOR}[] outline_colors  # per point or segment, overriding outline_color\n"
        f"{_COLOR} fill_color\n"
        "float64 thickness  # pixels\n"
    ),
    ("foxglove_msgs", "TextAnnotation"): (
        "# A label; position in pixels from the top-left corner of the image.\n"
        "builtin_interfaces/Time timestamp\n"
        f"{_POINT} position\n"
        "string text\n"
        "float64 font_size  # pixels\n"
        f"{_COLOR} text_color\n"
        f"{_COLOR} background_color\n"
    ),
    ("foxglove_msgs", "Point2"): "float64 x\nfloat64 y\n",
    ("foxglove_msgs", "Color"): "# Components in [0, 1].\nfloat64 r\nfloat64 g\nfloat64 b\nfloat64 a\n",
}


class UnknownMessageTypeError(LookupError):
    """The type is not installed here (no Python class or no ``.msg`` file)."""


def split_type(type_name: str) -> tuple[str, str]:
    """``pkg/msg/Name`` or ``pkg/Name`` -> ``(pkg, Name)``."""
    match = _TYPE_NAME.match(type_name)
    if not match:
        raise UnknownMessageTypeError(f"not a ROS 2 message type name: {type_name!r}")
    return match["package"], match["name"]


def message_class(type_name: str) -> type:
    """The Python class of ``pkg/msg/Name`` (raises :class:`UnknownMessageTypeError` when it is not installed)."""
    package, name = split_type(type_name)
    try:
        return getattr(importlib.import_module(f"{package}.msg"), name)
    except (ImportError, AttributeError) as exc:
        raise UnknownMessageTypeError(f"message type {package}/msg/{name} is not installed here") from exc


def _msg_text(package: str, name: str) -> str:
    if (package, name) in BUNDLED:
        return BUNDLED[package, name]
    try:
        path = Path(get_package_share_directory(package)) / "msg" / f"{name}.msg"
        return path.read_text()
    except (PackageNotFoundError, OSError) as exc:
        raise UnknownMessageTypeError(f"no {package}/msg/{name} definition (share/{package}/msg/{name}.msg)") from exc


def _dependencies(package: str, text: str) -> list[tuple[str, str]]:
    """The message types ``text``'s fields use, in order (constants and primitives excluded)."""
    found = []
    for line in text.splitlines():
        fields = line.split("#", 1)[0].split()
        if len(fields) < 2 or "=" in fields[1]:
            continue
        base = re.sub(r"\[.*\]$", "", fields[0]).split("<=")[0]
        if base in PRIMITIVES:
            continue
        found.append(split_type(base) if "/" in base else (package, base))
    return found


def message_definition(type_name: str) -> str:
    """The ``.msg`` text of ``type_name`` followed by each type it uses, once, as rosbag2 writes ``ros2msg``."""
    package, name = split_type(type_name)
    root = _msg_text(package, name)
    parts, seen = [root], {(package, name)}
    stack = list(reversed(_dependencies(package, root)))
    while stack:
        dependency = stack.pop()
        if dependency in seen:
            continue
        seen.add(dependency)
        text = _msg_text(*dependency)
        parts.append(f"{SEPARATOR}\nMSG: {dependency[0]}/{dependency[1]}\n{text}")
        stack.extend(reversed(_dependencies(dependency[0], text)))
    return "\n".join(part.rstrip("\n") for part in parts) + "\n"
