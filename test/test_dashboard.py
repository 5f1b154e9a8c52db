# Copyright 2026 The emotion_perception Authors
# SPDX-License-Identifier: Apache-2.0
"""The dashboard's server side without ROS: bounded state, access rules, and many, slow or vanished pages.

Every test runs the real uvicorn server on 127.0.0.1 and talks to it over real sockets. A server bound to
a non-loopback address is tested through the policy such a bind gets (``AccessPolicy("0.0.0.0", token)``)
with the socket itself on 127.0.0.1, so nothing listens beyond this machine.
"""

from __future__ import annotations

import json
import math
import socket
import struct
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest
from helpers import PROCESS_TEST_TIMEOUT_S, wait_for
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from emotion_perception.dashboard.access import COOKIE_NAME, AccessPolicy, is_loopback
from emotion_perception.dashboard.hub import ClientHub, HubConfig
from emotion_perception.dashboard.server import DashboardServer, DashboardServerError
from emotion_perception.dashboard.state import (
    ActionEvent,
    DashboardState,
    FacePoint,
    HealthReport,
    Limits,
    VerdictEvent,
)

pytestmark = pytest.mark.timeout(PROCESS_TEST_TIMEOUT_S)

TOKEN = "s3cret-token-for-tests"


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _verdict(action_id: str = "a1", verdict: str = "WELL_RECEIVED") -> VerdictEvent:
    return VerdictEvent(action_id, "tell_joke", 10.0, verdict, 0.8, -0.5, 0.3, 0.9, 20, 25, ("face_1",))


# ---- state ----------------------------------------------------------------------------------------------

def test_state_keeps_the_last_minute_within_its_limits() -> None:
    state = DashboardState(Limits(history_s=60.0, max_frames=500, max_faces_per_frame=3, max_events=5))
    for i in range(2000):  # 200 s at 10 Hz, 4 faces each
        state.add_frame(i / 10, [FacePoint(f"face_{k}", math.sin(i / 50), 0.9) for k in range(4)])
    for i in range(12):
        state.add_action(ActionEvent(f"a{i}", "wave", 150.0 + i))
    snapshot = state.snapshot()
    stamps = [t for _, t, _ in snapshot["frames"]]
    assert len(stamps) == 500 and stamps[-1] == pytest.approx(199.9)  # the newest, capped at max_frames
    assert all(len(row) == 3 for _, _, row in snapshot["frames"])
    assert state.dropped["faces_over_limit"] == 2000
    assert [a["action_id"] for a in snapshot["actions"]] == [f"a{i}" for i in range(7, 12)]

    short = DashboardState(Limits(history_s=5.0))
    for i in range(100):
        short.add_frame(i / 10, [FacePoint("face_1", 0.1, 0.9)])
    assert short.snapshot()["frames"][0][1] >= 9.9 - 5.0  # only the last 5 s


def test_changes_since_gives_each_item_once_and_a_time_reset_starts_a_new_epoch() -> None:
    state = DashboardState()
    state.add_frame(10.0, [FacePoint("face_1", -0.5, 0.8)])
    state.add_action(ActionEvent("a1", "tell_joke", 10.0))
    update, cursor = state.changes_since(0)
    assert [f[1] for f in update["frames"]] == [10.0] and update["actions"][0]["name"] == "tell_joke"
    assert state.changes_since(cursor) == (None, cursor)
    state.add_verdict(_verdict())
    state.set_stats([{"name": "tell_joke", "count": 1}], True, "1 verdict")
    update, cursor = state.changes_since(cursor)
    assert set(update) == {"type", "seq", "verdicts", "stats"} and update["verdicts"][0]["delta"] == 0.8
    state.set_stats([{"name": "tell_joke", "count": 1}], True, "1 verdict")  # unchanged: nothing new
    assert state.changes_since(cursor)[0] is None
    state.add_verdict(VerdictEvent("a2", "x", 11.0, "UNKNOWN", math.nan, math.nan, math.nan, 0.0, 0, 0))
    verdict = state.changes_since(cursor)[0]["verdicts"][0]
    assert verdict["delta"] is None and json.dumps(verdict)  # NaN is sent as null

    epoch = state.epoch
    state.add_frame(2.0, [FacePoint("face_1", 0.1, 0.9)])  # a bag or video restarted: stamps went back
    assert state.epoch == epoch + 1 and [t for _, t, _ in state.snapshot()["frames"]] == [2.0]


def test_health_turns_red_when_perception_or_the_camera_goes_silent() -> None:
    clock = FakeClock()
    state = DashboardState(Limits(stale_after_s=3.0), clock=clock)
    red = {i["name"] for i in state.health()["indicators"] if not i["ok"]}
    assert red == {"perception", "camera", "action feedback"}  # nothing seen yet

    def perception(input_fps: str, level: int = 0, message: str = "processing") -> HealthReport:
        return HealthReport("perception_node: face valence pipeline", level, message,
                            {"input_fps": input_fps, "processed_fps": input_fps, "latency_p95_ms": "9.0"})

    state.add_frame(1.0, [])
    state.add_diagnostics([perception("24.0"), HealthReport("action_feedback_node: action feedback", 0, "ok",
                                                            {"verdicts_published": "0"})])
    assert all(i["ok"] for i in state.health()["indicators"])
    silent = "no input frames: no publisher matched on /image (none running, or its QoS is incompatible)"
    state.add_diagnostics([perception("0.00", level=1, message=silent)])  # the camera went silent
    camera = next(i for i in state.health()["indicators"] if i["name"] == "camera")
    assert not camera["ok"] and camera["text"] == f"camera silent: {silent}"  # the node's reason, for an operator
    clock.now += 3.5  # perception stopped: no reactions, no diagnostics
    health = state.health()
    assert not any(i["ok"] for i in health["indicators"])
    assert {s["level"] for s in health["statuses"]} == {"STALE"}
    state.add_frame(2.0, [FacePoint("face_1", 0.2, 0.9)])
    assert next(i for i in state.health()["indicators"] if i["name"] == "perception")["ok"]


def test_limits_and_tokens_are_checked() -> None:
    with pytest.raises(ValueError):
        Limits(history_s=0)
    with pytest.raises(ValueError):
        HubConfig(max_clients=0)
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("[::1]") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.5") and not is_loopback("robot.local")
    assert is_loopback("LOCALHOST") and not is_loopback("Xlocalhost") and not is_loopback("X127.0.0.1")
    with pytest.raises(ValueError, match="not a loopback address"):
        AccessPolicy("0.0.0.0")
    with pytest.raises(ValueError, match=r"^the access token must be at least 8 letters, digits or -._~[+]/=$"):
        AccessPolicy("0.0.0.0", "short")
    with pytest.raises(ValueError, match="at least 8"):
        AccessPolicy("127.0.0.1", "has space; and=semicolon")


# ---- the server -----------------------------------------------------------------------------------------

@pytest.fixture
def serve() -> Iterator:
    servers: list[DashboardServer] = []

    def start(policy: AccessPolicy | None = None, config: HubConfig | None = None,
              state: DashboardState | None = None) -> DashboardServer:
        hub = ClientHub(state or DashboardState(), config or HubConfig())
        server = DashboardServer(hub, "127.0.0.1", 0, policy or AccessPolicy("127.0.0.1"))
        server.start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


def _get(url: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as err:
        with err:
            return err.code, dict(err.headers), err.read()


def _ws_status(url: str, **kwargs) -> int:
    """101 when the WebSocket opened (and sent its snapshot), else the HTTP status that refused it."""
    try:
        with connect(url, open_timeout=10, **kwargs) as ws:
            assert json.loads(ws.recv(timeout=10))["type"] == "snapshot"
            return 101
    except InvalidStatus as err:
        return err.response.status_code


def test_a_non_loopback_bind_refuses_every_request_and_socket_without_the_token(serve) -> None:
    server = serve(AccessPolicy("0.0.0.0", TOKEN))
    base, ws = server.url, server.url.replace("http://", "ws://") + "ws"
    for path in ("", "api/state", "static/dashboard.js", "static/vendor/uPlot.iife.min.js"):
        assert _get(base + path)[0] == 401, path
        assert _get(base + path, {"Authorization": "Bearer wrong-token-123"})[0] == 401, path
        assert _get(base + path, {"Authorization": f"Bearer {TOKEN}"})[0] == 200, path
    assert _ws_status(ws) == 401
    assert _ws_status(ws + "?token=wrong-token-123") == 401
    assert _ws_status(ws + f"?token={TOKEN}") == 101
    assert _ws_status(ws, additional_headers={"Authorization": f"Bearer {TOKEN}"}) == 101

    status, headers, page = _get(base + f"?token={TOKEN}")  # how a person opens it: the token in the URL
    assert status == 200 and b"dashboard.js" in page
    cookie = headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE_NAME}={TOKEN}") and "HttpOnly" in cookie and "SameSite=Strict" in cookie
    assert "default-src 'self'" in headers["content-security-policy"]  # the page's own headers kept beside it
    assert headers["content-type"].startswith("text/html")
    jar = {"Cookie": f"{COOKIE_NAME}={TOKEN}"}  # the page's own requests and socket then carry the cookie
    assert _get(base + "static/dashboard.js", jar)[0] == 200
    # Only a token in the URL sets the cookie: a header or the cookie itself does not set it again.
    for carried in (jar, {"Authorization": f"Bearer {TOKEN}"}):
        status, headers, _ = _get(base, carried)
        assert status == 200 and "set-cookie" not in {k.lower() for k in headers}, carried
    assert _ws_status(ws, additional_headers=jar) == 101
    assert _ws_status(ws, additional_headers={"Cookie": f"{COOKIE_NAME}=wrong-token-123"}) == 401


def test_loopback_answers_only_loopback_hosts_and_same_origin_sockets(serve) -> None:
    server = serve()
    base, ws = server.url, server.url.replace("http://", "ws://") + "ws"
    status, headers, page = _get(base)
    assert status == 200 and "default-src 'self'" in headers["content-security-policy"]
    assert b"cdn" not in page.lower() and b"https://" not in page  # every script and style is served here
    assert _get(base, {"Host": "attacker.example:8080"})[0] == 403  # DNS rebinding
    assert _ws_status(ws) == 101
    assert _ws_status(ws, origin=f"http://127.0.0.1:{server.port}") == 101
    assert _ws_status(ws, origin="http://attacker.example") == 403


@pytest.mark.parametrize("origin", ["http://attacker.example:8080", None])
def test_a_websocket_to_a_rebound_name_is_refused(serve, origin: str | None) -> None:
    """DNS rebinding: a page of attacker.example whose name now points at 127.0.0.1 opens the socket with its own
    Host and a matching Origin; it must not get the live stream (camera frames included)."""
    server = serve()
    reply = _handshake_reply(server.port, "attacker.example:8080", origin)
    assert reply.startswith(b"HTTP/1.1 403"), reply
    assert _handshake_reply(server.port, f"localhost:{server.port}", f"http://localhost:{server.port}").startswith(
        b"HTTP/1.1 101")


def test_pages_get_updates_pushed_and_a_fresh_snapshot_when_time_jumps_back(serve) -> None:
    state = DashboardState()
    server = serve(state=state)
    with connect(server.url.replace("http://", "ws://") + "ws", open_timeout=10) as ws:
        first = json.loads(ws.recv(timeout=10))
        assert first["type"] == "snapshot" and first["frames"] == [] and first["camera"] is True
        state.add_frame(100.0, [FacePoint("face_1", 0.5, 0.9)])
        state.set_camera_frame(b"\xff\xd8 a jpeg")
        messages = [ws.recv(timeout=10) for _ in range(2)]
        assert b"\xff\xd8 a jpeg" in messages  # the camera view, as a binary message
        update = json.loads(next(m for m in messages if isinstance(m, str)))
        assert update["type"] == "update" and update["frames"][0][1:] == [100.0, [["face_1", 0.5, 0.9]]]
        state.add_frame(10.0, [FacePoint("face_1", -0.5, 0.9)])  # a bag replayed from its start
        deadline = time.monotonic() + 20
        while (message := json.loads(ws.recv(timeout=10)))["type"] != "snapshot" and time.monotonic() < deadline:
            pass
        assert message["type"] == "snapshot" and [f[1] for f in message["frames"]] == [10.0]


def test_a_busy_port_is_a_clear_error(serve) -> None:
    server = serve()
    with pytest.raises(DashboardServerError, match=f"127.0.0.1:{server.port}"):
        DashboardServer(ClientHub(DashboardState()), "127.0.0.1", server.port, AccessPolicy("127.0.0.1"))


def _send_handshake(port: int, host: str, origin: str | None = None, rcvbuf: int = 4096) -> tuple[socket.socket, bytes]:
    """A raw WebSocket handshake to 127.0.0.1 with any ``Host`` and ``Origin``: the socket and the reply's head."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    sock.settimeout(10.0)
    sock.connect(("127.0.0.1", port))
    sock.sendall((f"GET /ws HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                  + (f"Origin: {origin}\r\n" if origin else "")
                  + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
    reply = b""
    while b"\r\n\r\n" not in reply and (byte := sock.recv(1)):
        reply += byte
    sock.settimeout(None)
    return sock, reply


def _handshake_reply(port: int, host: str, origin: str | None = None) -> bytes:
    sock, reply = _send_handshake(port, host, origin)
    sock.close()
    return reply


def _handshake(port: int, rcvbuf: int = 4096) -> socket.socket:
    """A raw WebSocket client that opens the socket and then never reads (or vanishes)."""
    sock, reply = _send_handshake(port, f"127.0.0.1:{port}", rcvbuf=rcvbuf)
    assert reply.startswith(b"HTTP/1.1 101"), reply
    return sock


def _rss_mb() -> float:
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmRSS")) / 1024


class Reader(threading.Thread):
    """A page that reads everything as fast as it comes."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.url = url
        self.ws = None
        self.opened = threading.Event()
        self.texts = 0
        self.frames = 0
        self.last_seq = 0

    def run(self) -> None:
        with connect(self.url, open_timeout=10, max_size=None) as ws:
            self.ws = ws
            self.opened.set()
            for message in ws:
                if isinstance(message, bytes):
                    self.frames += 1
                else:
                    self.texts += 1
                    self.last_seq = max(self.last_seq, json.loads(message)["seq"])


@pytest.mark.slow
def test_ten_pages_with_slow_and_vanished_ones_never_block_the_writers_nor_grow_memory(serve) -> None:
    state = DashboardState(Limits(max_frames=2000))
    config = HubConfig(max_clients=10, push_rate=20.0, mailbox=4, send_timeout=2.0)
    server = serve(config=config, state=state)
    hub, url = server.hub, server.url.replace("http://", "ws://") + "ws"
    readers = [Reader(url) for _ in range(4)]
    for reader in readers:
        reader.start()
        assert reader.opened.wait(timeout=20)
    stalled = [_handshake(server.port) for _ in range(3)]
    vanishing = [_handshake(server.port) for _ in range(3)]
    assert wait_for(lambda: hub.pages == 10, timeout=20), hub.pages
    assert _ws_status(url) == 503 and hub.counts["refused_full"] == 1  # the 11th page
    for sock in vanishing:  # gone without a close frame: reset
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.close()

    rss_before = _rss_mb()
    frame = bytes(range(256)) * 800  # a 200 KB camera view
    calls, mailbox_peak = 0, 0
    deadline = time.monotonic() + 8.0
    while time.monotonic() < deadline:  # what ROS callbacks do: 200 frames/s of 5 faces, 25 camera views/s
        stamp = time.monotonic()
        state.add_frame(stamp, [FacePoint(f"face_{k}", math.sin(stamp), 0.9) for k in range(5)])
        if calls % 8 == 0:
            state.set_camera_frame(frame)
            state.add_diagnostics([HealthReport("perception_node: face valence pipeline", 0, "ok",
                                                {"input_fps": "200"})])
        if calls % 400 == 0:
            state.add_action(ActionEvent(f"a{calls}", "wave", stamp))
        calls += 1
        mailbox_peak = max([mailbox_peak, *hub.mailbox_sizes()])
        time.sleep(0.005)
    rss_growth = _rss_mb() - rss_before

    assert calls > 500  # the writers never waited for a page
    assert mailbox_peak <= config.mailbox
    assert wait_for(lambda: hub.counts["closed_too_slow"] == 3 and hub.pages == 4, timeout=30), (hub.counts,
                                                                                                  hub.pages)
    # 3 stalled pages were each sent ~200 KB x 25/s for 8 s (120 MB): had it been queued, memory would show it.
    assert rss_growth < 60, f"RSS grew {rss_growth:.0f} MB"
    final = state.seq
    assert wait_for(lambda: all(r.last_seq == final for r in readers), timeout=20), [r.last_seq for r in readers]
    assert all(r.frames >= 10 and r.texts >= 20 for r in readers), [(r.frames, r.texts) for r in readers]
    for reader in readers:
        reader.ws.close()
    assert wait_for(lambda: hub.pages == 0, timeout=20)
    for sock in stalled:
        sock.close()


def test_each_refusal_says_why_in_its_body(serve) -> None:
    guarded = serve(AccessPolicy("0.0.0.0", TOKEN))
    status, headers, body = _get(guarded.url)
    assert (status, body) == (401, b"401: this dashboard needs its access token (?token=...)")
    assert headers["www-authenticate"] == "Bearer"
    local = serve()
    assert _get(local.url, {"Host": "attacker.example"})[::2] == (403, b"403: this dashboard answers on localhost only")
    sock, reply = _send_handshake(local.port, f"127.0.0.1:{local.port}", "http://attacker.example")
    with sock:
        while not reply.endswith(b"refused") and (byte := sock.recv(1)):
            reply += byte
    assert reply.startswith(b"HTTP/1.1 403") and reply.endswith(b"\r\n\r\n403: cross-origin WebSocket refused"), reply
