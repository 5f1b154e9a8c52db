# Copyright 2026 The emotion_perception Authors
# SPDX-License-Identifier: Apache-2.0
"""The live web dashboard without ROS: bounded state, the client hub, the ASGI app, the server thread.

``emotion_perception.ros.dashboard_node`` feeds :class:`~.state.DashboardState` from ROS topics; the
page (``static/``) receives the state over one WebSocket per page, pushed, never polled.
"""
