# Copyright 2026 The emotion_perception Authors
# SPDX-License-Identifier: Apache-2.0
"""The open pages, each fed over its WebSocket by a task of its own, so no page can hold up another.

A broadcaster turns what is new in :class:`~.state.DashboardState` into one JSON text at ``push_rate``
and posts it to every page's bounded mailbox. A page whose mailbox overflows (it reads slower than
updates come) loses its backlog and is sent a fresh snapshot instead; a page that takes longer than
``send_timeout`` to accept one message is closed. Camera frames are never queued: each page is sent the
newest frame it has not seen yet, so a slow page simply sees fewer frames.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections import Counter, deque
from dataclasses import dataclass

from starlette.responses import PlainTextResponse
from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from emotion_perception.dashboard.state import DashboardState

#: WebSocket close code for a page too slow to take its messages (policy violation).
CLOSE_TOO_SLOW = 1008


@dataclass(frozen=True)
class HubConfig:
    """How pages are fed; see the dashboard node's parameters for the meaning of each."""

    max_clients: int = 20
    push_rate: float = 10.0
    mailbox: int = 32
    send_timeout: float = 5.0
    camera: bool = True

    def __post_init__(self) -> None:
        if self.max_clients < 1 or self.mailbox < 1 or self.push_rate <= 0 or self.send_timeout <= 0:
            raise ValueError("max_clients and mailbox must be >= 1; push_rate and send_timeout > 0")


class _Page:
    """One open page: its socket, its bounded mailbox of JSON texts, what it has been sent."""

    def __init__(self, websocket: WebSocket, mailbox: int) -> None:
        self.websocket = websocket
        self.mailbox: deque[str] = deque()
        self.limit = mailbox
        self.wake = asyncio.Event()
        self.needs_snapshot = True
        self.camera = True
        self.frame_no = 0

    def post(self, text: str) -> bool:
        """Queue ``text``; False (and a snapshot instead of the backlog) when the mailbox was full."""
        overflow = len(self.mailbox) >= self.limit
        if overflow:
            self.mailbox.clear()
            self.needs_snapshot = True
        else:
            self.mailbox.append(text)
        self.wake.set()
        return not overflow


class ClientHub:
    """Every open page of one server; all methods run on the server's event loop."""

    def __init__(self, state: DashboardState, config: HubConfig | None = None) -> None:
        self.state = state
        self.config = config or HubConfig()
        self._pages: set[_Page] = set()
        self.counts: Counter[str] = Counter()

    @property
    def pages(self) -> int:
        return len(self._pages)

    @property
    def camera_viewers(self) -> int:
        """Open pages that want the camera view (read from other threads: a plain int)."""
        return sum(p.camera for p in list(self._pages)) if self.config.camera else 0

    def mailbox_sizes(self) -> list[int]:
        return [len(p.mailbox) for p in list(self._pages)]

    async def broadcast(self) -> None:
        """Push what is new to every page, ``push_rate`` times a second, until cancelled."""
        cursor, epoch = self.state.seq, self.state.epoch
        last_health: dict | None = None
        last_frame = 0
        while True:
            await asyncio.sleep(1.0 / self.config.push_rate)
            if self.state.epoch != epoch:
                epoch, cursor = self.state.epoch, self.state.seq
                for page in self._pages:
                    page.needs_snapshot = True
                    page.wake.set()
            update, cursor = self.state.changes_since(cursor)
            health = self.state.health()
            if health != last_health:
                update = update or {"type": "update", "seq": cursor}
                update["health"] = last_health = health
            if update is not None:
                text = json.dumps(update, separators=(",", ":"))
                for page in self._pages:
                    if not page.post(text):
                        self.counts["resyncs"] += 1
            frame_no = self.state.camera_frame()[0]
            if frame_no != last_frame:
                last_frame = frame_no
                for page in self._pages:
                    page.wake.set()

    async def serve(self, websocket: WebSocket) -> None:
        """One page's connection, from accept to close."""
        if len(self._pages) >= self.config.max_clients:
            self.counts["refused_full"] += 1
            await websocket.send_denial_response(
                PlainTextResponse(f"503: {self.config.max_clients} pages are open already", 503))
            return
        await websocket.accept()
        page = _Page(websocket, self.config.mailbox)
        page.wake.set()
        self._pages.add(page)
        self.counts["connected"] += 1
        sender = asyncio.create_task(self._send_loop(page))
        receiver = asyncio.create_task(self._receive_loop(page))
        try:
            done, _ = await asyncio.wait({sender, receiver}, return_when=asyncio.FIRST_COMPLETED)
            if sender in done and isinstance(sender.exception(), TimeoutError):
                self.counts["closed_too_slow"] += 1
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(websocket.close(CLOSE_TOO_SLOW, "too slow"), timeout=1.0)
        finally:
            self._pages.discard(page)
            for task in (sender, receiver):
                task.cancel()
            await asyncio.gather(sender, receiver, return_exceptions=True)

    async def _send(self, page: _Page, text: str | None = None, data: bytes | None = None) -> None:
        if page.websocket.application_state is not WebSocketState.CONNECTED:
            raise WebSocketDisconnect(1006)
        message = page.websocket.send_text(text) if text is not None else page.websocket.send_bytes(data)
        await asyncio.wait_for(message, timeout=self.config.send_timeout)

    async def _send_loop(self, page: _Page) -> None:
        while True:
            await page.wake.wait()
            page.wake.clear()
            if page.needs_snapshot:
                page.needs_snapshot = False
                page.mailbox.clear()
                snapshot = {**self.state.snapshot(), "camera": self.config.camera}
                await self._send(page, json.dumps(snapshot, separators=(",", ":")))
            while page.mailbox:
                await self._send(page, page.mailbox.popleft())
            if self.config.camera and page.camera:
                frame_no, jpeg = self.state.camera_frame()
                if frame_no > page.frame_no:
                    page.frame_no = frame_no
                    await self._send(page, data=jpeg)
                    self.counts["frames_sent"] += 1

    async def _receive_loop(self, page: _Page) -> None:
        """The page's few messages (``{"camera": false}`` while hidden); returns when it goes away."""
        while True:
            message = await page.websocket.receive()
            if message["type"] == "websocket.disconnect":
                return
            try:
                wanted = json.loads(message.get("text") or "{}").get("camera")
            except (ValueError, AttributeError):
                self.counts["bad_client_messages"] += 1
                continue
            if isinstance(wanted, bool):
                page.camera = wanted
                page.wake.set()
