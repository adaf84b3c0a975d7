"""Hostile uploads: decompression bombs, chunked bodies past the limits, a full disk, and a
clone upload that must not freeze the event loop. Figures are printed with the results."""

from __future__ import annotations

import errno
import io
import itertools
import json
import select
import socket
import threading
from typing import Any, Iterator

import httpx
import numpy as np
import pytest

from atelico.protocol.envelope import Message, encode
from tests.audio import bombs
from tests.audio.bombs import PeakRss
from tests.reliability.conftest import TOKEN, connect, until_terminal

pytestmark = pytest.mark.timeout(180)
BOUNDARY = "atelicoBoundary7f3a"


def report(capsys: Any, line: str) -> None:
    with capsys.disabled():
        print(f"\n  {line}", end="")


# ---------------------------------------------------------------------- raw chunked HTTP
def part_head(name: str, filename: str | None = None) -> bytes:
    disp = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
    return f"--{BOUNDARY}\r\nContent-Disposition: {disp}\r\n\r\n".encode()


def chunked_post(port: int, path: str, head: bytes, body: Iterator[bytes], *, max_send: int,
                 extra_headers: bytes = b"") -> tuple[int, dict[str, Any], int]:
    """POST a chunked multipart body block by block until the server answers (or ``max_send``
    bytes went out); returns (status, JSON body, bytes sent before the answer)."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    sent = 0
    try:
        sock.sendall(f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {TOKEN}\r\n"
                     f"Content-Type: multipart/form-data; boundary={BOUNDARY}\r\n"
                     f"Transfer-Encoding: chunked\r\n".encode() + extra_headers + b"\r\n")
        for block in itertools.chain([head] if head else [], body):
            if select.select([sock], [], [], 0)[0] or sent > max_send:
                break
            try:
                sock.sendall(b"%x\r\n%s\r\n" % (len(block), block))
            except (socket.timeout, BrokenPipeError, ConnectionResetError):
                break
            sent += len(block)
        else:
            sock.sendall(b"0\r\n\r\n")
        sock.settimeout(20)
        raw = b""
        while b"\r\n\r\n" not in raw or len(raw.split(b"\r\n\r\n", 1)[1]) < _length(raw):
            block = sock.recv(65536)
            if not block:
                break
            raw += block
    finally:
        sock.close()
    head_bytes, _, content = raw.partition(b"\r\n\r\n")
    assert head_bytes.startswith(b"HTTP/1.1 "), raw[:200]
    return int(head_bytes.split()[1]), json.loads(content[:_length(raw)] or b"{}"), sent


def _length(raw: bytes) -> int:
    for line in raw.split(b"\r\n\r\n", 1)[0].split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            return int(line.split(b":", 1)[1])
    return 1 << 30


def endless(block: bytes) -> Iterator[bytes]:
    while True:
        yield block


def test_a_chunked_file_part_is_refused_as_soon_as_it_passes_the_limit(fake_server, tally, capsys):
    """A chunked upload without Content-Length that never ends gets 413 request.too_large
    (limit: file) while it is still arriving; the server holds none of it."""
    limit = fake_server.settings.limits.max_upload_bytes
    rss = PeakRss().start()
    status, body, sent = chunked_post(fake_server.port, "/v1/audio/transcriptions",
                                      part_head("model") + b"fake-stt\r\n" + part_head("file", "a.wav"),
                                      endless(b"\x00" * 65536), max_send=256 * 2**20)
    tally.bad()
    assert status == 413, body
    assert body["error"]["code"] == "request.too_large" and body["error"]["details"]["limit"] == "file"
    assert sent < limit + 16 * 2**20, f"the server read {sent} bytes before refusing"
    report(capsys, f"chunked file part: refused after {sent / 2**20:.1f} MiB sent (limit "
                   f"{limit / 2**20:.1f} MiB), peak RSS growth {rss.growth_mb:.1f} MB")
    assert rss.growth_mb < 200


def test_chunked_text_fields_and_too_many_parts_are_refused(fake_server, tally, capsys):
    """A chunked text field never ends: 413 (limit: field) after 64 KiB; 40 small fields:
    413 (limit: parts); a 300 KiB field under the upload limit: 413 too (it was accepted)."""
    status, body, sent = chunked_post(fake_server.port, "/v1/audio/transcriptions", part_head("prompt"),
                                      endless(b"a" * 16384), max_send=256 * 2**20)
    assert status == 413 and body["error"]["details"]["limit"] == "field", body
    assert body["error"]["code"] == "request.too_large"
    many = b"".join(part_head(f"f{i}") + b"x\r\n" for i in range(40))
    status2, body2, _ = chunked_post(fake_server.port, "/v1/audio/transcriptions", b"",
                                     iter([many, f"--{BOUNDARY}--\r\n".encode()]), max_send=2**20)
    assert status2 == 413 and body2["error"]["details"]["limit"] == "parts", body2
    r = httpx.post(f"{fake_server.http}/v1/audio/transcriptions", headers=fake_server.headers,
                   data={"model": "fake-stt", "junk": "j" * 300_000},
                   files={"file": ("a.wav", bombs.wav(16_000, 0.1))}, timeout=30)
    assert r.status_code == 413 and r.json()["error"]["details"]["limit"] == "field", r.text
    tally.bad(3)
    report(capsys, f"chunked text field: refused after {sent / 1024:.0f} KiB sent; 40 parts and a "
                   f"300 KiB field refused with 413")


def test_a_full_disk_while_spooling_is_a_507(fake_server, tally, monkeypatch):
    """The spool file's write fails with ENOSPC (as on a full disk) after 64 KiB: the answer is
    507 server.disk_full (a server error), not 400 request.invalid_form; the next upload works."""
    from atelico.server import uploads

    class FullDisk(io.BytesIO):
        def write(self, data: Any) -> int:
            if self.tell() + len(data) > 65536:
                raise OSError(errno.ENOSPC, "No space left on device")
            return super().write(data)

    url = f"{fake_server.http}/v1/audio/transcriptions"
    files = {"file": ("a.wav", bombs.wav(16_000, 5.0))}  # 160 KB
    monkeypatch.setattr(uploads, "spool_file", FullDisk)
    r = httpx.post(url, headers=fake_server.headers, data={"model": "fake-stt"}, files=files, timeout=30)
    tally.fault()
    assert r.status_code == 507, r.text
    assert r.json()["error"]["code"] == "server.disk_full"
    assert r.json()["error"]["type"] == "server_error"
    monkeypatch.undo()
    ok = httpx.post(url, headers=fake_server.headers, data={"model": "fake-stt"}, files=files, timeout=30)
    assert ok.status_code == 200 and "clip of 5.00 seconds" in ok.json()["text"], ok.text


# ---------------------------------------------------------------------- bombs
def bomb_cases(limit_s: float) -> dict[str, tuple[bytes, str | None]]:
    """Bombs sized for the suite's small upload (512 KiB) and frame (256 KiB) limits."""
    cases = bombs.bomb_set(limit_s, hour_s=1200)
    cases["wav at 655,350 Hz"] = (bombs.wav(655_350, 0.15), "audio.invalid")
    cases["wav of 65535 channels"] = (bombs.wav(16_000, 1 / 16_000, channels=65535), "audio.invalid")
    cases["flac at 655,350 Hz"] = (bombs.cached("flac655k-20s.flac",
                                                lambda: bombs.silence("flac", 655_350, 20)), "audio.invalid")
    return {k: v for k, v in cases.items() if v[1] is not None}


def test_bombs_over_http_and_websocket_get_clear_errors_in_bounded_memory(fake_server, tally, capsys):
    """Every bomb, on the transcription, face and clone uploads and as an encoded WebSocket
    payload, is refused with its code; the server's peak RSS growth stays ≤ 200 MB."""
    import asyncio

    limit_s = fake_server.settings.limits.max_audio_s
    cases = bomb_cases(limit_s)
    frame_limit = fake_server.settings.limits.max_frame_bytes
    rss = PeakRss().start()
    tried = 0
    with httpx.Client(base_url=fake_server.http, headers=fake_server.headers, timeout=60) as http:
        for name, (data, code) in cases.items():
            for route, fields in (("/v1/audio/transcriptions", {"model": "fake-stt"}),
                                  ("/v1/audio/face", {}), ("/v1/voices/clone", {"name": "bomb"})):
                if route == "/v1/voices/clone" and code == "audio.too_long" and "1200 s" not in name:
                    continue  # cloning takes references up to 600 s and keeps only their start
                r = http.post(route, data=fields, files={"file": ("bomb", data)})
                tried += 1
                tally.bad()
                assert tally.check(r.status_code == 400, f"{name} on {route}: {r.status_code}"), r.text
                assert r.json()["error"]["code"] == code, (name, route, r.text)

    async def over_ws() -> int:
        ws = await connect(fake_server)
        n = 0
        try:
            for name, (data, code) in cases.items():
                if len(data) > frame_limit - 1024:
                    continue
                await ws.send(encode(Message("stt.transcribe", {"model": "fake-stt", "encoding": "flac"},
                                             id=f"b{n}", payload=data)))
                last = (await until_terminal(ws, f"b{n}"))[-1]
                assert tally.check(last.type == "error", f"{name} over ws: {last.type}")
                assert last.data["code"] == code, (name, last.data)
                n += 1
        finally:
            await ws.close()
        return n

    tried += asyncio.run(over_ws())
    tally.bad(tried)
    report(capsys, f"bombs: {len(cases)} files, {tried} uploads/payloads refused, peak RSS growth "
                   f"{rss.growth_mb:.1f} MB (limit {limit_s:.0f} s)")
    assert rss.growth_mb <= 200


# ---------------------------------------------------------------------- clone decode off the loop
def test_clone_upload_decodes_off_the_event_loop(fake_server, monkeypatch):
    """While a clone upload is being decoded, /health answers: the health response arrives
    before the decode finishes (it was decoded on the event loop, which froze every route)."""
    from atelico.audio import codecs

    real = codecs.decode_file
    started, release = threading.Event(), threading.Event()
    order: list[str] = []

    def slow_decode(*args: Any, **kwargs: Any) -> Any:
        started.set()
        release.wait(15)  # a long decode, until the test has seen /health answer (or 15 s)
        order.append("decode done")
        return real(*args, **kwargs)

    monkeypatch.setattr(codecs, "decode_file", slow_decode)
    result: dict[str, Any] = {}

    def upload() -> None:
        result["r"] = httpx.post(f"{fake_server.http}/v1/voices/clone", headers=fake_server.headers,
                                 data={"name": "loopcheck"},
                                 files={"file": ("ref.wav", bombs.wav(16_000, 1.0))}, timeout=60)

    thread = threading.Thread(target=upload)
    thread.start()
    try:
        assert started.wait(15), "the clone upload never reached its decode"
        health = httpx.get(f"{fake_server.http}/health", timeout=30)
        order.append("health answered")
        assert health.status_code == 200
    finally:
        release.set()
        thread.join(60)
    assert order == ["health answered", "decode done"], order
    assert result["r"].status_code in (202, 429), result["r"].text  # the job itself may fail later


def test_one_upload_within_the_limits_still_works(http):
    """The parser keeps the form semantics: repeated ``key[]`` fields, file name, text fields."""
    clip = bombs.wav(16_000, 2.0)
    r = http.post("/v1/audio/transcriptions",
                  data={"model": "fake-stt", "response_format": "verbose_json",
                        "timestamp_granularities[]": ["segment", "word"]},
                  files={"file": ("speech.wav", clip)})
    assert r.status_code == 200, r.text
    assert r.json()["text"].startswith("clip of 2.00 seconds")
    assert np.isclose(r.json()["duration"], 2.0)
