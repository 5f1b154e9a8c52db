# Copyright 2026 The emotion_perception Authors
# SPDX-License-Identifier: Apache-2.0
"""Who may open the dashboard: loopback only, or anyone who carries the access token.

Bound to a loopback address, the dashboard answers only requests whose ``Host`` names the loopback (so a
web page elsewhere cannot reach it through DNS rebinding). Bound to any other address it requires a
token, which every request and WebSocket carries as ``Authorization: Bearer <token>``, ``?token=<token>``
or the cookie the page sets after its first authorised load; anything else gets 401. WebSockets must
also come from the dashboard's own origin (403 otherwise).
"""

from __future__ import annotations

import hmac
import ipaddress
import re
from http.cookies import SimpleCookie
from urllib.parse import parse_qs, urlsplit

from starlette.datastructures import Headers
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

#: Environment variable read for the token when the node's ``token`` parameter is empty.
TOKEN_ENV = "EMOTION_DASHBOARD_TOKEN"
COOKIE_NAME = "emotion_dashboard_token"
LOOPBACK_NAMES = ("localhost", "ip6-localhost")
#: Tokens are URL- and cookie-safe: at least 8 letters, digits or ``-._~+/=``.
TOKEN_PATTERN = re.compile(r"[A-Za-z0-9._~+/=-]{8,}")


def is_loopback(host: str) -> bool:
    """True for a loopback IP (127.0.0.0/8, ::1) or the name localhost; False for anything else."""
    host = host.strip("[]").lower()
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _host_of(netloc: str) -> str:
    """The host part of ``host[:port]`` or ``[v6]:port``."""
    return urlsplit(f"//{netloc}").hostname or ""


class AccessPolicy:
    """The rule for one bind address; raises ValueError for a non-loopback bind without a token."""

    def __init__(self, bind_host: str, token: str = "") -> None:
        if not is_loopback(bind_host) and not token:
            raise ValueError(f"host {bind_host!r} is not a loopback address: set the token parameter or"
                             f" ${TOKEN_ENV} to bind there")
        if token and not TOKEN_PATTERN.fullmatch(token):
            raise ValueError("the access token must be at least 8 letters, digits or -._~+/=")
        self.token = token

    def token_ok(self, candidate: str | None) -> bool:
        return bool(self.token) and candidate is not None and hmac.compare_digest(
            candidate.encode(), self.token.encode())

    def presented_token(self, scope: Scope) -> tuple[str | None, bool]:
        """``(token, from the query)``: the one the request carries (header, query or cookie), or None."""
        headers = Headers(scope=scope)
        auth = headers.get("authorization", "")
        if auth.lower().startswith("bearer "):
            return auth[7:].strip(), False
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        if query.get("token"):
            return query["token"][0], True
        cookie = SimpleCookie()
        cookie.load(headers.get("cookie", ""))
        morsel = cookie.get(COOKIE_NAME)
        return (morsel.value if morsel else None), False


class AccessMiddleware:
    """ASGI middleware applying an :class:`AccessPolicy` to every HTTP request and WebSocket."""

    def __init__(self, app: ASGIApp, policy: AccessPolicy) -> None:
        self.app = app
        self.policy = policy

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        if self.policy.token:
            token, from_query = self.policy.presented_token(scope)
            if not self.policy.token_ok(token):
                await PlainTextResponse("401: this dashboard needs its access token (?token=...)", 401,
                                        headers={"WWW-Authenticate": "Bearer"})(scope, receive, send)
                return
            if from_query and scope["type"] == "http":
                send = _setting_cookie(send, token)
        elif not is_loopback(_host_of(headers.get("host", ""))):
            await PlainTextResponse("403: this dashboard answers on localhost only", 403)(scope, receive, send)
            return
        if scope["type"] == "websocket" and not _same_origin(headers):
            await PlainTextResponse("403: cross-origin WebSocket refused", 403)(scope, receive, send)
            return
        await self.app(scope, receive, send)


def _same_origin(headers: Headers) -> bool:
    """A WebSocket without an Origin (not a browser) or from the page's own host:port."""
    origin = headers.get("origin")
    return origin is None or urlsplit(origin).netloc.lower() == headers.get("host", "").lower()


def _setting_cookie(send: Send, token: str) -> Send:
    """``send`` that also sets the token cookie, so the page's own requests and socket carry it."""
    async def wrapped(message: Message) -> None:
        if message["type"] == "http.response.start":
            cookie = f"{COOKIE_NAME}={token}; Path=/; HttpOnly; SameSite=Strict"
            message = {**message, "headers": [*message.get("headers", []), (b"set-cookie", cookie.encode())]}
        await send(message)
    return wrapped
