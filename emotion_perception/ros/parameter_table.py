# Copyright 2026 The emotion_perception Authors
# SPDX-License-Identifier: Apache-2.0
"""Parameter tables of the nodes: ``name -> (default, description, (min, max) or None, read-only)``."""

from __future__ import annotations

from rcl_interfaces.msg import FloatingPointRange, IntegerRange, ParameterDescriptor

#: ``(default, description, (min, max) or None, read_only)``
ParameterSpec = tuple[object, str, tuple[float, float] | None, bool]


def parameter_descriptor(name: str, spec: ParameterSpec, constraints: str = "") -> ParameterDescriptor:
    """A descriptor with the description, the range (for numbers) or ``constraints`` in words."""
    default, description, bounds, read_only = spec
    descriptor = ParameterDescriptor(name=name, description=description, read_only=read_only,
                                     additional_constraints=constraints)
    if bounds and isinstance(default, float):
        descriptor.floating_point_range = [FloatingPointRange(from_value=bounds[0], to_value=bounds[1], step=0.0)]
    elif bounds:
        descriptor.integer_range = [IntegerRange(from_value=int(bounds[0]), to_value=int(bounds[1]), step=0)]
    return descriptor
