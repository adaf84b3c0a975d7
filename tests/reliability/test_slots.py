"""Slot exhaustion: idle, never-hello and slow sockets cannot lock the game out.

Connections are counted against ``max_connections`` only once authenticated (the ones
before hello have their own budget and a hello deadline); refusals say why with a
machine-readable code; HTTP connections whose headers never complete are dropped.
"""

from __future__ import annotations

import asyncio
import json
import socket
import time
from typing import Any, Iterator

import httpx
import pytest
import websockets

from atelico.protocol.envelope import Message, decode, encode
from tests.reliability.conftest import TOKEN, connect, fake_registry, fake_settings, until_terminal

pytestmark = pytest.mark.timeout(120)
HELLO_TIMEOUT_S = 1.0
HEADER_TIMEOUT_S = 1.0


@pytest.fixture(scope="module")
def slot_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A sidecar on fakes with short hello/header deadlines (16 authenticated sessions)."""
    from tests.server.live import ServerThread

    settings = fake_settings(tmp_path_factory.mktemp("slots-cache"), hello_timeout_s=HELLO_TIMEOUT_S,
                             header_timeout_s=HEADER_TIMEOUT_S, max_connections=16,
                             max_pending_connections=256)
    server = ServerThread(settings, fake_registry(settings))
    server.wait_ready(30)
    yield server.live
    server.stop()


async def closed_within(ws: Any, timeout_s: float) -> tuple[list[Message], Any, Any]:
    """Messages received until the server closed ``ws`` (bounded), and the close frame."""
    got: list[Message] = []
    deadline = time.monotonic() + timeout_s
    try:
        while time.monotonic() < deadline:
            got.append(decode(await asyncio.wait_for(ws.recv(), max(0.01, deadline - time.monotonic()))))
    except websockets.ConnectionClosed:
        return got, ws.close_code, ws.close_reason
    except (asyncio.TimeoutError, TimeoutError):
        pass
    return got, None, None


async def test_200_never_hello_sockets_do_not_lock_out_the_game(slot_server, tally):
    """200 sockets that upgrade and never say hello, or misbehave (text frames, a wrong
    token): more than 10x max_connections. The real client with its token still gets
    welcome and a synthesis."""
    idle = [await websockets.connect(slot_server.ws, open_timeout=10) for _ in range(170)]
    bad = []
    for i in range(30):
        ws = await websockets.connect(slot_server.ws, open_timeout=10)
        await ws.send("not msgpack" if i % 2 else encode(Message("hello", {"protocol": 1, "token": "nope"})))
        bad.append(ws)
    tally.bad(200)
    try:
        game = await connect(slot_server)  # asserts the welcome
        await game.send(encode(Message("tts.synthesize", {"input": "the game still talks"}, id="line")))
        assert (await until_terminal(game, "line"))[-1].type == "done"
        await game.close()
    finally:
        for ws in idle + bad:
            await ws.close()


async def test_a_socket_without_hello_is_closed_at_the_deadline_with_a_code(slot_server, tally):
    ws = await websockets.connect(slot_server.ws, open_timeout=10)
    tally.bad()
    got, code, reason = await closed_within(ws, HELLO_TIMEOUT_S + 10)
    assert code == 1008 and reason == "protocol.hello_timeout"
    assert [m.data["code"] for m in got if m.type == "error"] == ["protocol.hello_timeout"]


async def test_busy_and_forbidden_refusals_carry_distinct_codes(slot_server, tally):
    """Over max_connections authenticated sessions: an error + close 1013 with
    limits.too_many_connections; a wrong upgrade token: 403 with a JSON auth.* body; the
    pre-hello budget full: 503 with a JSON limits.too_many_connections body."""
    limits = slot_server.settings.limits
    sessions = [await connect(slot_server) for _ in range(limits.max_connections)]
    try:
        extra = await websockets.connect(slot_server.ws, open_timeout=10)
        await extra.send(encode(Message("hello", {"protocol": 1, "client": "extra", "token": TOKEN})))
        tally.bad()
        got, code, reason = await closed_within(extra, 10)
        assert code == 1013 and reason == "limits.too_many_connections"
        assert got[0].type == "error" and got[0].data["code"] == "limits.too_many_connections"
    finally:
        for ws in sessions:
            await ws.close()
    await wait_until(lambda: slot_server.app.state.connections == 0)
    again = await connect(slot_server)  # the slots were given back
    await again.close()

    with pytest.raises(websockets.InvalidStatus) as err:
        await websockets.connect(slot_server.ws, additional_headers={"X-Atelico-Token": "wrong"})
    tally.bad()
    assert err.value.response.status_code == 403
    assert json.loads(err.value.response.body)["error"]["code"] == "auth.invalid_token"

    saved = limits.max_pending_connections
    limits.max_pending_connections = 3
    waiting = [await websockets.connect(slot_server.ws, open_timeout=10) for _ in range(3)]
    try:
        with pytest.raises(websockets.InvalidStatus) as err:
            await websockets.connect(slot_server.ws, open_timeout=10)
        tally.bad()
        assert err.value.response.status_code == 503
        assert json.loads(err.value.response.body)["error"]["code"] == "limits.too_many_connections"
        # a client that presents its token in the upgrade is not counted as waiting
        async with websockets.connect(slot_server.ws, additional_headers={"Authorization": f"Bearer {TOKEN}"},
                                      open_timeout=10) as game:
            await game.send(encode(Message("hello", {"protocol": 1, "client": "game"})))
            assert decode(await asyncio.wait_for(game.recv(), 10)).type == "welcome"
    finally:
        limits.max_pending_connections = saved
        for ws in waiting:
            await ws.close()


async def wait_until(predicate, timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached in time"
        await asyncio.sleep(0.02)


def _closed_by_server(sock: socket.socket, deadline: float) -> bool:
    sock.settimeout(max(0.01, deadline - time.monotonic()))
    try:
        while True:
            data = sock.recv(4096)
            if not data:
                return True  # EOF: the server closed it
    except (socket.timeout, TimeoutError):
        return False
    except OSError:  # reset by the server
        return True


def test_slow_loris_connections_are_dropped_after_the_header_deadline(slot_server, tally):
    """150 connections that send an incomplete request (a header line at a time, never the
    blank line) and 150 that send nothing are all closed by the server within a bounded
    time; a normal request is answered meanwhile."""
    socks = []
    for i in range(300):
        s = socket.create_connection(("127.0.0.1", slot_server.port), timeout=10)
        if i % 2:
            s.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: 1\r\n")
        socks.append(s)
    tally.bad(len(socks))
    try:
        r = httpx.get(f"{slot_server.http}/health", timeout=10)
        assert r.status_code == 200
        deadline = time.monotonic() + HEADER_TIMEOUT_S + 15
        still_open = [s for s in socks if not _closed_by_server(s, deadline)]
        assert still_open == [], f"{len(still_open)} of {len(socks)} slow connections still open"
    finally:
        for s in socks:
            s.close()


def test_a_request_slower_than_the_header_deadline_to_answer_is_not_cut(slot_server):
    """The deadline covers the headers only: a request whose answer takes longer than it
    (here a 2.5 s synthesis), and a kept-alive connection used again, are served."""
    from tests.reliability import fakes

    fakes.KNOBS.tts_chunk_s = 0.5
    with httpx.Client(base_url=slot_server.http, headers=slot_server.headers, timeout=30) as client:
        r = client.post("/v1/audio/speech", json={"model": "fake-tts", "input": "a b c d e"})
        assert r.status_code == 200
        fakes.KNOBS.tts_chunk_s = 0.0
        assert client.get("/v1/models").status_code == 200  # same connection, kept alive
