# Copyright 2026 The emotion_perception Authors
# SPDX-License-Identifier: Apache-2.0
"""The dashboard's ASGI app: the page, its static files, ``/ws`` (pushed updates) and ``/api/state``."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.websockets import WebSocket

from emotion_perception.dashboard.access import AccessMiddleware, AccessPolicy
from emotion_perception.dashboard.hub import ClientHub

STATIC_DIR = Path(__file__).resolve().parent / "static"
#: The page may load only its own files and open its own socket.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' blob:; connect-src 'self'; style-src 'self'",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
}


def create_app(hub: ClientHub, policy: AccessPolicy) -> Starlette:
    """The app over ``hub`` (and its state), guarded by ``policy``; the broadcaster runs with the app."""

    async def index(_: Request) -> FileResponse:
        return FileResponse(STATIC_DIR / "index.html", headers=SECURITY_HEADERS)

    async def state(_: Request) -> JSONResponse:
        snapshot = hub.state.snapshot()
        snapshot.update(camera=hub.config.camera, pages=hub.pages, counts=dict(hub.counts),
                        dropped=dict(hub.state.dropped))
        return JSONResponse(snapshot, headers={"Cache-Control": "no-store"})

    async def stream(websocket: WebSocket) -> None:
        await hub.serve(websocket)

    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        broadcaster = asyncio.create_task(hub.broadcast())
        try:
            yield
        finally:
            broadcaster.cancel()
            await asyncio.gather(broadcaster, return_exceptions=True)

    return Starlette(
        routes=[
            Route("/", index),
            Route("/api/state", state),
            WebSocketRoute("/ws", stream),
            Mount("/static", StaticFiles(directory=STATIC_DIR), name="static"),
        ],
        middleware=[Middleware(AccessMiddleware, policy=policy)],
        lifespan=lifespan,
    )
