# Copyright 2026 The emotion_perception Authors
# SPDX-License-Identifier: Apache-2.0
"""A lifecycle node's ``change_state`` service that answers a transition its state does not offer on every distro.

Kilted's rclpy answers such a request with ``success: false``; Jazzy's raises out of the service callback, which
ends the node's spin and its process. A planner or lifecycle manager calling the service directly (the
``ros2 lifecycle`` CLI checks first) could so kill perception with one wrong request.
"""

from __future__ import annotations

from collections.abc import Callable

from lifecycle_msgs.srv import ChangeState
from rclpy.impl.implementation_singleton import rclpy_implementation as _rclpy
from rclpy.lifecycle import LifecycleNode

ChangeStateHandler = Callable[[ChangeState.Request, ChangeState.Response], ChangeState.Response]


def refuse_unavailable_transitions(node: LifecycleNode) -> None:
    """Make ``node``'s ``change_state`` answer ``success: false`` (and log why) where the state machine refuses."""
    service = node._service_change_state  # rclpy's own service; only its callback is wrapped
    handle: ChangeStateHandler = service.callback

    def change_state(request: ChangeState.Request, response: ChangeState.Response) -> ChangeState.Response:
        try:
            return handle(request, response)
        except _rclpy.RCLError as exc:
            node.get_logger().error(f"transition {request.transition.id} {request.transition.label!r} refused in"
                                    f" state {node._state_machine.current_state[1]!r}: {exc}")
            response.success = False
            return response

    service.callback = change_state
