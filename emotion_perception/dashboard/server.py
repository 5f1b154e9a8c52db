# Copyright 2026 The emotion_perception Authors
# SPDX-License-Identifier: Apache-2.0
"""Runs the dashboard app with uvicorn on a thread of its own, so ROS callbacks never wait for the web."""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
import time

import uvicorn

from emotion_perception.dashboard.access import AccessPolicy
from emotion_perception.dashboard.app import create_app
from emotion_perception.dashboard.hub import ClientHub

#: uvicorn logs this error after every WebSocket refused with an HTTP status (401, 403, 503), although the
#: refusal was sent as intended; it is noise here, where every socket is either accepted or refused.
REFUSAL_NOISE = "ASGI callable returned without completing handshake."
#: Largest message a page may send (it sends only tiny camera on/off messages).
MAX_CLIENT_MESSAGE = 4096
START_TIMEOUT_S = 15.0


class _DropRefusalNoise(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage() != REFUSAL_NOISE


logging.getLogger("uvicorn.error").addFilter(_DropRefusalNoise())


class DashboardServerError(RuntimeError):
    """The server could not bind or start (the message says why)."""


class DashboardServer:
    """Binds ``host:port`` at construction (port 0 = any free port) and serves ``hub`` once started."""

    def __init__(self, hub: ClientHub, host: str, port: int, policy: AccessPolicy) -> None:
        self.hub = hub
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self._socket = socket.socket(family, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            self._socket.bind((host, port))
        except OSError as exc:
            self._socket.close()
            raise DashboardServerError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from exc
        self._socket.listen(128)
        self.host, self.port = host, self._socket.getsockname()[1]
        config = uvicorn.Config(create_app(hub, policy), log_level=logging.WARNING, access_log=False,
                                ws_max_size=MAX_CLIENT_MESSAGE, timeout_graceful_shutdown=2, lifespan="on")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._run, name="dashboard_server", daemon=True)
        self._error: BaseException | None = None

    @property
    def url(self) -> str:
        """The page's address (a wildcard bind is shown as this host's loopback address)."""
        host = {"0.0.0.0": "127.0.0.1", "::": "::1"}.get(self.host, self.host)
        return f"http://[{host}]:{self.port}/" if ":" in host else f"http://{host}:{self.port}/"

    def _run(self) -> None:
        try:
            asyncio.run(self._server.serve(sockets=[self._socket]))
        except BaseException as exc:  # reported by start() or logged by the owner
            self._error = exc

    def start(self) -> None:
        """Start serving; returns once the server accepts connections."""
        self._thread.start()
        deadline = time.monotonic() + START_TIMEOUT_S
        while not self._server.started and self._thread.is_alive() and time.monotonic() < deadline:
            time.sleep(0.02)
        if not self._server.started:
            self.stop()
            raise DashboardServerError(f"the web server did not start: {self._error or 'timed out'}")

    def stop(self) -> None:
        """Close every page and stop; idempotent."""
        self._server.should_exit = True
        if self._thread.is_alive():
            self._thread.join(timeout=5.0)
        self._socket.close()
