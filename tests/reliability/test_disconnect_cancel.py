"""A client that goes away takes its work with it: dropped HTTP requests cancel their
synthesis/transcription promptly and free the worker and the queue slot."""

from __future__ import annotations

import io
import socket
import time
import wave
from typing import Any, Callable

import httpx
import numpy as np
import pytest

from tests.reliability import fakes
from tests.reliability.conftest import server_status

pytestmark = pytest.mark.timeout(90)
RELEASE_DEADLINE_S = 5.0


def wait_for(predicate: Callable[[], bool], timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()


def drop_after_start(live: Any, started: Callable[[], bool], **request: Any) -> None:
    """Send the request over a raw socket, wait until the engine works on it, then close
    the socket (what a game that quits or gives up does)."""
    req = httpx.Request(headers=live.headers, **request)
    head = f"{req.method} {req.url.raw_path.decode()} HTTP/1.1\r\n" + "".join(
        f"{k}: {v}\r\n" for k, v in req.headers.items()) + "\r\n"
    sock = socket.create_connection(("127.0.0.1", live.port), timeout=10)
    try:
        sock.sendall(head.encode() + req.read())
        assert wait_for(started, 10), "the engine never started on the request"
    finally:
        sock.close()


def wav_bytes(seconds: float, rate: int = 16000) -> bytes:
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes((0.1 * np.sin(np.arange(int(seconds * rate)) / 8) * 32767).astype("<i2").tobytes())
    return buf.getvalue()


def test_dropped_blocking_speech_request_cancels_its_synthesis(fake_server, tally):
    """A non-streamed /v1/audio/speech of 300 words (30 s of fake compute) dropped once it
    runs: the synthesis stops within the deadline (its generator is closed, the chunks
    stop), the queue is empty, and the next request is served at once."""
    fakes.KNOBS.tts_chunk_s = 0.1
    words = " ".join(f"w{i}" for i in range(300))
    tally.fault()
    drop_after_start(fake_server, lambda: fakes.STATS.chunks >= 2, method="POST",
                     url=f"{fake_server.http}/v1/audio/speech",
                     json={"model": "fake-tts", "input": words})
    dropped_at = time.monotonic()
    assert wait_for(lambda: fakes.STATS.streams_closed == 1, RELEASE_DEADLINE_S), \
        f"synthesis still running {RELEASE_DEADLINE_S} s after the client left ({fakes.STATS.chunks} chunks)"
    assert wait_for(lambda: server_status(fake_server)["queue_depth"] == 0, RELEASE_DEADLINE_S)
    release_s = time.monotonic() - dropped_at
    assert fakes.STATS.chunks < 300
    fakes.KNOBS.tts_chunk_s = 0.0
    r = httpx.post(f"{fake_server.http}/v1/audio/speech", headers=fake_server.headers,
                   json={"model": "fake-tts", "input": "next line"}, timeout=10)
    assert r.status_code == 200
    assert release_s < RELEASE_DEADLINE_S


def test_dropped_transcription_cancels_between_windows(fake_server, tally):
    """A 15 s clip transcribed window by window (60 windows of 0.2 s compute each: 12 s)
    dropped once it runs: the windows stop and the worker is free again."""
    fakes.KNOBS.stt_window_s = 0.2
    fakes.KNOBS.stt_window_len_s = 0.25
    tally.fault()
    drop_after_start(fake_server, lambda: fakes.STATS.transcriptions >= 1, method="POST",
                     url=f"{fake_server.http}/v1/audio/transcriptions",
                     files={"file": ("clip.wav", wav_bytes(15.0), "audio/wav")},
                     data={"model": "fake-stt"})
    assert wait_for(lambda: server_status(fake_server)["queue_depth"] == 0, RELEASE_DEADLINE_S), \
        "the transcription kept its worker after the client left"
    fakes.KNOBS.stt_window_s = 0.0
    r = httpx.post(f"{fake_server.http}/v1/audio/transcriptions", headers=fake_server.headers,
                   files={"file": ("c.wav", wav_bytes(1.0), "audio/wav")}, data={"model": "fake-stt"},
                   timeout=10)
    assert r.status_code == 200


def test_a_request_answered_normally_is_not_cancelled(fake_server):
    """The disconnect watch never cancels a request whose client stays: a 1 s synthesis
    returns its whole audio."""
    fakes.KNOBS.tts_chunk_s = 0.1
    r = httpx.post(f"{fake_server.http}/v1/audio/speech", headers=fake_server.headers,
                   json={"model": "fake-tts", "input": " ".join(["word"] * 10), "response_format": "pcm"},
                   timeout=30)
    assert r.status_code == 200
    assert len(r.content) == 10 * int(0.05 * fakes.TTS_RATE_HZ) * 2
    assert fakes.STATS.chunks == 10
