"""Overload: bounded in-flight requests per socket and jobs per server, clear busy errors, fairness."""

from __future__ import annotations

import asyncio
import threading
import time

import httpx
import numpy as np
import pytest

from atelico.protocol.envelope import Message, decode, encode
from tests.reliability import fakes
from tests.reliability.conftest import connect, server_status, until, until_terminal, wait_idle

pytestmark = pytest.mark.timeout(90)

PCM16 = {"sample_rate_hz": 16000, "sample_format": "s16le", "channels": 1}


def req(mtype: str, data: dict, rid: str, payload: bytes | None = None) -> bytes:
    return encode(Message(mtype, data, id=rid, payload=payload))


async def terminals(ws, ids: set[str], timeout_s: float) -> dict[str, str]:
    """The terminal message type of each of ``ids``, read in whatever order they come."""
    out: dict[str, str] = {}
    deadline = time.monotonic() + timeout_s
    while len(out) < len(ids):
        msg = decode(await asyncio.wait_for(ws.recv(), max(0.01, deadline - time.monotonic())))
        if msg.id in ids and msg.type in ("done", "error", "cancelled"):
            out[msg.id] = msg.type
    return out


def long_text(words: int) -> str:
    return " ".join(f"w{i}" for i in range(words))


async def test_per_socket_in_flight_limit(fake_server, tally):
    """The (max_in_flight + 1)-th request on a socket gets limits.too_many_requests as its
    terminal; the open ones are untouched; another socket is unaffected."""
    fakes.KNOBS.tts_chunk_s = 0.1
    limit = fake_server.settings.limits.max_in_flight
    ws = await connect(fake_server)
    other = await connect(fake_server)
    try:
        for i in range(limit):
            await ws.send(req("tts.synthesize", {"input": long_text(40), "stream": True}, f"s{i}"))
        await ws.send(req("tts.synthesize", {"input": "one too many"}, "extra"))
        tally.bad()
        reply = await until_terminal(ws, "extra")
        assert reply[-1].type == "error" and reply[-1].data["code"] == "limits.too_many_requests"
        await other.send(req("tts.synthesize", {"input": "other socket"}, "o1"))
        assert (await until_terminal(other, "o1"))[-1].type == "done"
        for i in range(limit):
            await ws.send(req("cancel", {}, f"s{i}"))
        for i in range(limit):
            ends = await until_terminal(ws, f"s{i}")
            assert tally.check(ends[-1].type == "cancelled", f"s{i} ended with {ends[-1].type}")
    finally:
        await ws.close()
        await other.close()
    assert wait_idle(fake_server)["queue_depth"] == 0


async def test_server_wide_queue_gives_busy_then_recovers(fake_server, tally):
    """With more open jobs than limits.max_queue across sockets, the extra requests get
    limits.busy (with the count queued) over WS and 429 over HTTP; once the jobs end, the
    admission count is back to 0 and requests are admitted again."""
    fakes.KNOBS.tts_chunk_s = 0.1
    max_queue = fake_server.settings.limits.max_queue
    per = fake_server.settings.limits.max_in_flight
    sockets = [await connect(fake_server) for _ in range(max_queue // per + 1)]
    try:
        ids = []
        for s, ws in enumerate(sockets):
            for i in range(per):
                rid = f"q{s}-{i}"
                ids.append((ws, rid))
                await ws.send(req("tts.synthesize", {"input": long_text(100), "stream": True}, rid))
        busy: list[dict] = []  # the refusals come at once; the admitted ones keep streaming
        expected = len(ids) - max_queue

        async def refusals(ws) -> None:
            while len(busy) < expected:
                msg = decode(await ws.recv())
                if msg.type == "error":
                    busy.append(msg.data)

        readers = [asyncio.create_task(refusals(ws)) for ws in sockets]
        try:
            await until(lambda: len(busy) >= expected, f"{expected} busy refusals", timeout_s=20)
        finally:
            for reader in readers:
                reader.cancel()
            await asyncio.gather(*readers, return_exceptions=True)
        tally.bad(len(ids) - max_queue)
        assert len(busy) == len(ids) - max_queue, busy
        assert all(b["code"] == "limits.busy" and b["details"]["queued"] == max_queue for b in busy)
        r = httpx.post(f"{fake_server.http}/v1/audio/speech", headers=fake_server.headers,
                       json={"model": "fake-tts", "input": "http while busy"}, timeout=10)
        tally.bad()
        assert r.status_code == 429 and r.json()["error"]["code"] == "limits.busy"
        assert server_status(fake_server)["queue_depth"] == max_queue
        for ws, rid in ids:
            await ws.send(req("cancel", {}, rid))
    finally:
        for ws in sockets:
            await ws.close()
    assert wait_idle(fake_server)["queue_depth"] == 0
    r = httpx.post(f"{fake_server.http}/v1/audio/speech", headers=fake_server.headers,
                   json={"model": "fake-tts", "input": "admitted again"}, timeout=10)
    assert r.status_code == 200


async def test_short_request_is_not_stuck_behind_long_ones(fake_server, tally):
    """While another connection has two transcriptions (held running until the end) and two
    long streams admitted, one transcription running, a one-word synthesis still completes
    before any of that work ends (the bulk lane never takes the last worker; streams yield
    the worker between chunks). All four long requests complete."""
    fakes.KNOBS.stt_hold = hold = threading.Event()  # the transcriptions run until released
    fakes.KNOBS.tts_chunk_s = 0.15
    ws = await connect(fake_server)
    short_ws = await connect(fake_server)
    try:
        clip = np.zeros(16000, "<i2").tobytes()
        for i in range(2):
            await ws.send(req("stt.transcribe", {"model": "fake-stt", **PCM16}, f"long-stt{i}", clip))
            await ws.send(req("tts.synthesize", {"input": long_text(40), "stream": True}, f"long-tts{i}"))
        # observed, not slept for: all four long jobs admitted, a transcription running
        await until(lambda: fakes.STATS.transcriptions >= 1
                    and server_status(fake_server)["queue_depth"] == 4, "the long jobs to be admitted")
        await short_ws.send(req("tts.synthesize", {"input": "short"}, "short"))
        done = await until_terminal(short_ws, "short")
        assert done[-1].type == "done"
        # the short one did compete: no long job had ended when it was done
        assert fakes.STATS.transcriptions_done == 0, "a long transcription ended first"
        assert fakes.STATS.streams_closed <= 1, "a long stream ended first"  # 1: the short one
        hold.set()
        ends = await terminals(ws, {"long-stt0", "long-stt1", "long-tts0", "long-tts1"}, timeout_s=20)
        assert all(t == "done" for t in ends.values()), ends
    finally:
        hold.set()
        await ws.close()
        await short_ws.close()


def _short(entry: tuple) -> bool:
    """An engine log entry of the 3 s clip (the 60 s one reaches the engine in ~20 s blocks)."""
    return entry[1] < 5.0


async def test_short_transcription_is_not_stuck_behind_a_long_one(fake_server, tally):
    """A 3 s clip sent while a 60 s clip is being transcribed (window by window) finishes
    long before it: whole-clip transcriptions are scheduled fairly, one window at a time.
    Checked on the order the fake engine worked in, not on the clock (tests/server/
    test_scheduler.py checks the scheduler's order exactly)."""
    fakes.KNOBS.stt_window_s, fakes.KNOBS.stt_window_len_s = 0.05, 5.0  # 60 s: 12 windows
    fakes.KNOBS.stt_hold = hold = threading.Event()  # the long one waits before its 2nd window
    low_rate = {**PCM16, "sample_rate_hz": 1000}  # keeps the clip under the test server's frame limit
    ws = await connect(fake_server)
    short_ws = await connect(fake_server)
    try:
        await ws.send(req("stt.transcribe", {"model": "fake-stt", **low_rate}, "long",
                          np.zeros(60 * 1000, "<i2").tobytes()))
        await until(lambda: any(e[0] == "window" and not _short(e) for e in fakes.STATS.log),
                    "the long clip's first window")
        await short_ws.send(req("stt.transcribe", {"model": "fake-stt", **low_rate}, "short",
                                np.zeros(3 * 1000, "<i2").tobytes()))
        await until(lambda: server_status(fake_server)["queue_depth"] == 2, "the short clip's admission")
        hold.set()  # both are queued: from here the scheduler decides the order
        done = await until_terminal(short_ws, "short")
        ends = await terminals(ws, {"long"}, timeout_s=20)
        assert done[-1].type == "done" and ends["long"] == "done"
        log = list(fakes.STATS.log)
        long_windows = [k for k, e in enumerate(log) if e[0] == "window" and not _short(e)]
        short_start = next(k for k, e in enumerate(log) if e[0] == "start" and _short(e))
        short_done = next(k for k, e in enumerate(log) if e[0] == "done" and _short(e))
        assert len(long_windows) >= 12, log  # 60 s in 5 s windows
        # window by window, turn about: at most one long window while the short one ran ...
        assert sum(short_start < k < short_done for k in long_windows) <= 1, log
        # ... and it was done while the long one still had most of its windows to go
        assert sum(k > short_done for k in long_windows) >= len(long_windows) // 2, log
    finally:
        hold.set()
        await ws.close()
        await short_ws.close()


def ws_frame(payload: bytes) -> bytes:
    """One masked binary WebSocket frame, as a client sends it."""
    import os
    import struct

    head = b"\x82"
    n = len(payload)
    if n < 126:
        head += bytes([0x80 | n])
    elif n < 65536:
        head += bytes([0x80 | 126]) + struct.pack(">H", n)
    else:
        head += bytes([0x80 | 127]) + struct.pack(">Q", n)
    mask = os.urandom(4)
    body = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return head + mask + body


def stalled_client(live, requests: list[bytes]):
    """A raw socket with a tiny receive buffer that upgrades, sends requests, then never reads."""
    import base64
    import os
    import socket

    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # no autotuning: it fills fast
    sock.settimeout(10)
    sock.connect(("127.0.0.1", live.port))
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall((f"GET /v1/ws HTTP/1.1\r\nHost: 127.0.0.1:{live.port}\r\nUpgrade: websocket\r\n"
                  f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
    head = b""
    while b"\r\n\r\n" not in head:
        head += sock.recv(1)
    assert head.startswith(b"HTTP/1.1 101"), head
    sock.sendall(ws_frame(encode(Message("hello", {"protocol": 1, "client": "stall", "token": live.token}))))
    for r in requests:
        sock.sendall(ws_frame(r))
    return sock


async def chunks_stopped(every_s: float = 0.5, timeout_s: float = 30) -> None:
    """Wait until the fake TTS made no chunk for ``every_s`` (polled; fails after ``timeout_s``)."""
    deadline = time.monotonic() + timeout_s
    last = -1
    while fakes.STATS.chunks != last:
        assert time.monotonic() < deadline, f"the streams never stalled ({fakes.STATS.chunks} chunks)"
        last = fakes.STATS.chunks
        await asyncio.sleep(every_s)


async def test_stalled_readers_hold_no_worker(fake_server, tally):
    """Clients that request long streams and never read stall their own streams (the sends
    back up, bounded by the socket buffers) but hold no worker: a third client's request
    completes while they stay stalled, and the stalled work is released when they go away."""
    streams = [req("tts.synthesize", {"input": long_text(400), "stream": True, "sample_format": "f32le",
                                      "encoding": "wav"}, f"st{i}") for i in range(3)]
    stalled = [stalled_client(fake_server, streams) for _ in range(2)]
    tally.fault(len(stalled))
    try:
        await until(lambda: server_status(fake_server)["queue_depth"] == 6, "the six streams' admission")
        await chunks_stopped()  # the socket buffers are full: the six streams are stalled
        ws = await connect(fake_server)
        try:
            await ws.send(req("tts.synthesize", {"input": "prompt answer"}, "p"))
            assert (await until_terminal(ws, "p"))[-1].type == "done"
        finally:
            await ws.close()
        # answered while the stalled streams were still open and unfinished
        assert server_status(fake_server)["queue_depth"] == 6, "the stalled streams finished: not stalled"
        assert fakes.STATS.chunks < 6 * 400
    finally:
        for sock in stalled:
            sock.close()
    status = wait_idle(fake_server, timeout_s=15)
    assert status["queue_depth"] == 0, status
    assert fakes.STATS.streams_started == fakes.STATS.streams_closed
