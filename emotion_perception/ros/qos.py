# Copyright 2026 The emotion_perception Authors
# SPDX-License-Identifier: Apache-2.0
"""Publishers and subscriptions whose QoS a user overrides with parameters, as ``image_pipeline`` users expect.

Every publisher of the package's own topics is made with :func:`overridable_publisher` (or passes
:data:`OVERRIDABLE` as ``qos_overriding_options``): the node then declares read-only parameters
``qos_overrides./<resolved topic>.publisher.{reliability,history,depth,durability}`` with the code's
QoS as their defaults, and a parameter file (or ``-p``) changes them before the publisher is made::

    perception_node:
      ros__parameters:
        qos_overrides:
          /human/reaction:
            publisher:
              reliability: best_effort
              depth: 1

``/diagnostics``, ``/rosout`` and ``/parameter_events`` keep ROS's own QoS.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from rclpy.exceptions import InvalidParameterTypeException
from rclpy.impl.implementation_singleton import rclpy_implementation as _rclpy
from rclpy.node import Node
from rclpy.publisher import Publisher
from rclpy.qos import QoSPolicyKind, QoSProfile
from rclpy.qos_overriding_options import InvalidQosOverridesError, QoSOverridingOptions
from rclpy.subscription import Subscription

#: The policies a user may override: rclpy's defaults (history, depth, reliability) and durability.
OVERRIDABLE_POLICIES = (QoSPolicyKind.RELIABILITY, QoSPolicyKind.HISTORY, QoSPolicyKind.DEPTH,
                        QoSPolicyKind.DURABILITY)
OVERRIDABLE = QoSOverridingOptions(policy_kinds=OVERRIDABLE_POLICIES)


#: What rclpy raises for an override it refuses: a policy value it does not know (RuntimeError), a value of the
#: wrong type, an inconsistent profile, or one the middleware cannot make (a depth out of range: RCLError).
_REFUSED = (RuntimeError, InvalidParameterTypeException, InvalidQosOverridesError, ValueError, _rclpy.RCLError)


class QosOverrideError(ValueError):
    """A ``qos_overrides`` parameter of a topic that rclpy or the middleware refuses; names the topic."""


def _overridden(node: Node, topic: str, entity: str, create: Callable[[], Any]) -> Any:
    try:
        return create()
    except _REFUSED as exc:
        name = node.resolve_topic_name(topic)
        raise QosOverrideError(f"invalid qos_overrides.{name}.{entity} parameter: {exc}") from exc


def overridable_publisher(node: Node, msg_type: type, topic: str, qos: QoSProfile, *, lifecycle: bool = False,
                          **kwargs: Any) -> Publisher:
    """``node``'s publisher of ``topic`` with ``qos`` as the default of its override parameters.

    ``lifecycle``: a managed publisher of a ``LifecycleNode`` (it publishes only while the node is active).
    Re-creating the publisher (a lifecycle node configured again) reuses the parameters already declared.
    Raises :class:`QosOverrideError` for an override rclpy or the middleware refuses.
    """
    create = node.create_lifecycle_publisher if lifecycle else node.create_publisher
    # A copy: rclpy writes the overrides into the profile it is given, which may be shared (a module constant).
    return _overridden(node, topic, "publisher", lambda: create(
        msg_type, topic, copy.copy(qos), qos_overriding_options=OVERRIDABLE, **kwargs))


def overridable_subscription(node: Node, msg_type: type, topic: str, callback: Callable[[Any], None],
                             qos: QoSProfile, **kwargs: Any) -> Subscription:
    """``node``'s subscription of ``topic`` whose reliability, history and depth the user may override.

    Made again on each activation of a lifecycle node: like the publishers it gets a copy of ``qos``.
    Raises :class:`QosOverrideError` for an override rclpy or the middleware refuses.
    """
    return _overridden(node, topic, "subscription", lambda: node.create_subscription(
        msg_type, topic, callback, copy.copy(qos), qos_overriding_options=QoSOverridingOptions.with_default_policies(),
        **kwargs))
