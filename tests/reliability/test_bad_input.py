"""Every kind of bad input, on every route and message, gets a clear coded error; the server stays up."""

from __future__ import annotations

import asyncio
import io
import struct
import wave

import httpx
import msgpack
import numpy as np
import pytest

from atelico.protocol.envelope import Message, decode, encode
from tests.reliability.conftest import TOKEN, connect, no_more_for, until_terminal, wait_idle

pytestmark = pytest.mark.timeout(90)


def frame(mtype: str, data: dict, rid: str | None = None, payload: bytes | None = None) -> bytes:
    return encode(Message(mtype, data, id=rid, payload=payload))


def wav_bytes(samples: np.ndarray, rate: int, channels: int = 1) -> bytes:
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(np.asarray(samples, "<i2").tobytes())
    return buf.getvalue()


def raw_wav_header(rate: int, channels: int, bits: int, data: bytes, fmt: int = 1) -> bytes:
    block = (channels * bits // 8) & 0xFFFF
    return (b"RIFF" + struct.pack("<I", 36 + len(data)) + b"WAVEfmt " +
            struct.pack("<IHHIIHH", 16, fmt, channels & 0xFFFF, rate & 0xFFFFFFFF,
                        (rate * block) & 0xFFFFFFFF, block, bits) +
            b"data" + struct.pack("<I", len(data)) + data)


PCM16 = {"sample_rate_hz": 16000, "sample_format": "s16le", "channels": 1}
SECOND = np.zeros(16000, "<i2").tobytes()

#: (description, type, data, payload, expected code) — each one a request that must end in error
BAD_REQUESTS = [
    ("tts no input", "tts.synthesize", {}, None, "request.missing_input"),
    ("tts empty input", "tts.synthesize", {"input": "   "}, None, "request.missing_input"),
    ("tts input only NUL", "tts.synthesize", {"input": "\x00"}, None, "request.missing_input"),
    ("tts input only zero-width", "tts.synthesize", {"input": "\u200b\u200c\u200d\ufeff"}, None,
     "request.missing_input"),
    ("tts input only controls and punctuation", "tts.synthesize", {"input": "\x01 ... \x7f !"}, None,
     "request.missing_input"),
    ("tts input is a number", "tts.synthesize", {"input": 42}, None, "request.invalid"),
    ("tts input is a list", "tts.synthesize", {"input": ["a"]}, None, "request.invalid"),
    ("tts text too long", "tts.synthesize", {"input": "a " * 1001}, None, "request.input_too_long"),
    ("tts speed string", "tts.synthesize", {"input": "hi", "speed": "fast"}, None, "request.invalid"),
    ("tts speed nan", "tts.synthesize", {"input": "hi", "speed": float("nan")}, None, "request.invalid"),
    ("tts speed inf", "tts.synthesize", {"input": "hi", "speed": float("inf")}, None, "request.invalid"),
    ("tts speed 0", "tts.synthesize", {"input": "hi", "speed": 0}, None, "request.invalid"),
    ("tts speed bool", "tts.synthesize", {"input": "hi", "speed": True}, None, "request.invalid"),
    ("tts stream int", "tts.synthesize", {"input": "hi", "stream": 1}, None, "request.invalid"),
    ("tts bad sample_format", "tts.synthesize", {"input": "hi", "sample_format": "u8"}, None, "request.invalid"),
    ("tts bad encoding", "tts.synthesize", {"input": "hi", "encoding": "mp3"}, None, "request.invalid"),
    ("tts unknown model", "tts.synthesize", {"input": "hi", "model": "nope"}, None, "model.unknown"),
    ("tts model of the wrong kind", "tts.synthesize", {"input": "hi", "model": "fake-stt"}, None,
     "request.wrong_model_kind"),
    ("tts model id huge", "tts.synthesize", {"input": "hi", "model": "m" * 5000}, None, "request.invalid"),
    ("tts unknown voice", "tts.synthesize", {"input": "hi", "voice": "gamma"}, None, "voice.unknown"),
    ("tts path-like voice", "tts.synthesize", {"input": "hi", "voice": "../../x"}, None, "voice.invalid"),
    ("tts absolute voice path", "tts.synthesize", {"input": "hi", "voice": "/etc/passwd"}, None,
     "voice.invalid"),
    ("tts voice is a map", "tts.synthesize", {"input": "hi", "voice": {"a": 1}}, None, "request.invalid"),
    ("speak unknown character", "speak", {"input": "hi", "character": "zorg"}, None,
     "face.unknown_character"),
    ("stt no model", "stt.transcribe", PCM16, SECOND, "request.missing_model"),
    ("stt unknown model", "stt.transcribe", {"model": "nope", **PCM16}, SECOND, "model.unknown"),
    ("stt tts model", "stt.transcribe", {"model": "fake-tts", **PCM16}, SECOND, "request.wrong_model_kind"),
    ("stt no payload", "stt.transcribe", {"model": "fake-stt", **PCM16}, None, "audio.empty"),
    ("stt empty payload", "stt.transcribe", {"model": "fake-stt", **PCM16}, b"", "audio.empty"),
    ("stt half a sample", "stt.transcribe", {"model": "fake-stt", **PCM16}, b"\x01", "audio.invalid"),
    ("stt no rate", "stt.transcribe", {"model": "fake-stt"}, SECOND, "audio.invalid"),
    ("stt rate 0", "stt.transcribe", {"model": "fake-stt", **PCM16, "sample_rate_hz": 0}, SECOND,
     "audio.invalid"),
    ("stt huge rate", "stt.transcribe", {"model": "fake-stt", **PCM16, "sample_rate_hz": 2**40}, SECOND,
     "audio.invalid"),
    ("stt rate float", "stt.transcribe", {"model": "fake-stt", **PCM16, "sample_rate_hz": 16000.5},
     SECOND, "audio.invalid"),
    ("stt 9 channels", "stt.transcribe", {"model": "fake-stt", **PCM16, "channels": 9}, b"\x00" * 1800,
     "audio.invalid"),
    ("stt 1000 channels", "stt.transcribe", {"model": "fake-stt", **PCM16, "channels": 1000}, SECOND,
     "audio.invalid"),
    ("stt 0 channels", "stt.transcribe", {"model": "fake-stt", **PCM16, "channels": 0}, SECOND,
     "audio.invalid"),
    ("stt odd bytes for stereo", "stt.transcribe", {"model": "fake-stt", **PCM16, "channels": 2},
     b"\x00" * 6, "audio.invalid"),
    ("stt NaN samples", "stt.transcribe", {"model": "fake-stt", **PCM16, "sample_format": "f32le"},
     np.full(160, np.nan, "<f4").tobytes(), "audio.invalid"),
    ("stt inf samples", "stt.transcribe", {"model": "fake-stt", **PCM16, "sample_format": "f32le"},
     np.full(160, np.inf, "<f4").tobytes(), "audio.invalid"),
    ("stt unknown sample format", "stt.transcribe", {"model": "fake-stt", **PCM16, "sample_format": "s24"},
     SECOND, "audio.unsupported_format"),
    ("stt garbage wav", "stt.transcribe", {"model": "fake-stt", "encoding": "wav"}, b"RIFF" + b"\xff" * 500,
     "audio.invalid"),
    ("stt random bytes as mp3", "stt.transcribe", {"model": "fake-stt", "encoding": "mp3"},
     np.random.default_rng(1).bytes(4000), "audio.invalid"),
    ("stt wav with rate 0", "stt.transcribe", {"model": "fake-stt", "encoding": "wav"},
     raw_wav_header(0, 1, 16, SECOND), "audio.invalid"),
    ("stt wav with huge rate", "stt.transcribe", {"model": "fake-stt", "encoding": "wav"},
     raw_wav_header(2**31 - 1, 1, 16, SECOND), "audio.invalid"),
    ("stt wav with no samples", "stt.transcribe", {"model": "fake-stt", "encoding": "wav"},
     wav_bytes(np.zeros(0), 16000), "audio.empty"),
    ("stt too long", "stt.transcribe", {"model": "fake-stt", **PCM16, "sample_rate_hz": 1000},
     np.zeros(61_000, "<i2").tobytes(), "audio.too_long"),
    ("stt unknown encoding", "stt.transcribe", {"model": "fake-stt", "encoding": "midi"}, SECOND,
     "request.invalid"),
    ("stt temperature 5", "stt.transcribe", {"model": "fake-stt", **PCM16, "temperature": 5}, SECOND,
     "request.invalid"),
    ("stt bad task", "stt.transcribe", {"model": "fake-stt", **PCM16, "task": "summarize"}, SECOND,
     "request.invalid"),
    ("face unknown character", "face.run", {"character": "zorg", **PCM16}, SECOND, "face.unknown_character"),
    ("face empty audio", "face.run", PCM16, b"", "audio.empty"),
    ("face stt model", "face.run", {"model": "fake-stt", **PCM16}, SECOND, "request.wrong_model_kind"),
    ("face stream of a file", "face.stream.start", {"encoding": "wav"}, None, "audio.unsupported_format"),
    ("live of a file", "stt.live.start", {"model": "fake-stt", "encoding": "wav"}, None,
     "audio.unsupported_format"),
    ("live bad vad", "stt.live.start", {"model": "fake-stt", **PCM16, "vad": "magic"}, None,
     "request.invalid"),
    ("voices of an unknown model", "voices.list", {"model": "nope"}, None, "model.unknown"),
    ("voices of a model whose load fails", "voices.list", {"model": "broken-tts"}, None,
     "model.load_failed"),
    ("unknown operation", "tts.explode", {}, None, "protocol.unknown_type"),
    ("unknown operation (long)", "x" * 64, {}, None, "protocol.unknown_type"),
]


@pytest.mark.parametrize("case", BAD_REQUESTS, ids=[c[0] for c in BAD_REQUESTS])
async def test_bad_request_gets_its_code_and_one_terminal(fake_server, tally, case):
    """Each bad request ends with exactly one ``error`` carrying its documented code and a
    message; no other message follows for its id; the socket keeps serving a good request."""
    _, mtype, data, payload, code = case
    ws = await connect(fake_server)
    try:
        await ws.send(frame(mtype, data, "bad1", payload))
        msgs = await until_terminal(ws, "bad1")
        tally.bad()
        last = msgs[-1]
        assert tally.check(last.type == "error", f"{case[0]}: ended with {last.type}")
        assert last.data["code"] == code, last.data
        assert isinstance(last.data["message"], str) and last.data["message"]
        assert tally.check(await no_more_for(ws, "bad1", 0.1), f"{case[0]}: message after terminal")
        await ws.send(frame("tts.synthesize", {"input": "still alive"}, "ok1"))
        ok = await until_terminal(ws, "ok1")
        assert tally.check(ok[-1].type == "done", f"{case[0]}: socket unusable afterwards")
    finally:
        await ws.close()


#: frames that are not valid envelopes: (description, bytes, expected connection-level code)
BAD_FRAMES = [
    ("not msgpack", b"\xc1\xc1\xc1", "protocol.malformed"),
    ("empty frame", b"", "protocol.malformed"),
    ("truncated map", frame("tts.synthesize", {"input": "hello there"}, "t1")[:-5], "protocol.malformed"),
    ("two objects", msgpack.packb({"type": "ping", "data": {}}) + b"\x01", "protocol.malformed"),
    ("array", msgpack.packb(["ping", {}]), "protocol.malformed"),
    ("int", msgpack.packb(7), "protocol.malformed"),
    ("nil", msgpack.packb(None), "protocol.malformed"),
    ("no type", msgpack.packb({"data": {}}), "protocol.malformed"),
    ("type int", msgpack.packb({"type": 5, "data": {}}), "protocol.malformed"),
    ("type empty", msgpack.packb({"type": "", "data": {}}), "protocol.malformed"),
    ("type too long", msgpack.packb({"type": "t" * 65, "data": {}}), "protocol.malformed"),
    ("type as bin", msgpack.packb({"type": b"ping", "data": {}}, use_bin_type=True), "protocol.malformed"),
    ("data list", msgpack.packb({"type": "ping", "data": []}), "protocol.malformed"),
    ("data str", msgpack.packb({"type": "ping", "data": "x"}), "protocol.malformed"),
    ("id int", msgpack.packb({"type": "ping", "id": 3, "data": {}}), "protocol.malformed"),
    ("id too long", msgpack.packb({"type": "ping", "id": "i" * 65, "data": {}}), "protocol.malformed"),
    ("payload str", msgpack.packb({"type": "ping", "data": {}, "payload": "abc"}), "protocol.malformed"),
    ("invalid utf-8", b"\x81\xa4type\xa2\xff\xfe", "protocol.malformed"),
    ("int map keys", b"\x81\x01\x02", "protocol.malformed"),
    ("deep nesting", b"\x91" * 5000 + b"\xc0", "protocol.malformed"),
    ("100,000 nested arrays in data",
     b"\x83\xa4type\xaetts.synthesize\xa2id\xa2n1\xa4data\x81\xa5input" + b"\x91" * 100_000 + b"\xc0",
     "protocol.malformed"),
    ("60,000 nested maps", b"\x81\xa1k" * 60_000 + b"\xc0", "protocol.malformed"),
    ("claims 4 GiB str", b"\xdb\xff\xff\xff\xff" + b"a" * 10, "protocol.malformed"),
    ("claims 2^32 map", b"\xdf\xff\xff\xff\xff", "protocol.malformed"),
    ("ext type", msgpack.packb({"type": "ping", "data": msgpack.ExtType(5, b"xx")}), "protocol.malformed"),
    ("request without id", msgpack.packb({"type": "tts.synthesize", "data": {"input": "x"}}),
     "request.missing_id"),
    ("second hello", frame("hello", {"protocol": 1}), "protocol.unexpected"),
    ("audio for no stream", frame("stt.live.audio", {}, "ghost", SECOND), "request.unknown_id"),
    ("stop for no stream", frame("face.stream.stop", {}, "ghost"), "request.unknown_id"),
]


@pytest.mark.parametrize("case", BAD_FRAMES, ids=[c[0] for c in BAD_FRAMES])
async def test_bad_frame_gets_a_connection_error_and_the_socket_stays_open(fake_server, tally, case):
    """A frame that is not a valid envelope gets a coded error; the socket stays usable."""
    _, data, code = case
    ws = await connect(fake_server)
    try:
        await ws.send(data)
        tally.bad()
        reply = decode(await asyncio.wait_for(ws.recv(), 10))
        assert reply.type == "error" and reply.data["code"] == code, reply
        await ws.send(frame("ping", {"t": 1.5}, "p1"))
        pong = decode(await asyncio.wait_for(ws.recv(), 10))
        assert tally.check(pong.type == "pong" and pong.data == {"t": 1.5}, f"{case[0]}: no pong")
    finally:
        await ws.close()


async def test_text_frame_and_oversized_frame(fake_server, tally):
    """A text frame gets protocol.text_frame (socket stays); a frame over max_frame_bytes gets
    protocol.frame_too_large and close 1009; other clients are unaffected throughout."""
    bystander = await connect(fake_server)
    ws = await connect(fake_server)
    try:
        await ws.send('{"type": "ping"}')
        reply = decode(await asyncio.wait_for(ws.recv(), 10))
        assert reply.data["code"] == "protocol.text_frame"
        big = frame("stt.transcribe", {"model": "fake-stt", **PCM16}, "big",
                    b"\x00" * (fake_server.settings.limits.max_frame_bytes + 10))
        await ws.send(big)
        reply = decode(await asyncio.wait_for(ws.recv(), 10))
        assert reply.type == "error" and reply.data["code"] == "protocol.frame_too_large"
        assert reply.data["details"]["max_frame_bytes"] == fake_server.settings.limits.max_frame_bytes
        await asyncio.wait_for(ws.wait_closed(), 10)
        assert ws.close_code == 1009
        tally.bad(2)
        await bystander.send(frame("tts.synthesize", {"input": "unaffected"}, "b1"))
        assert (await until_terminal(bystander, "b1"))[-1].type == "done"
    finally:
        await ws.close()
        await bystander.close()


@pytest.mark.parametrize("hello,code", [
    ({"protocol": 2, "token": TOKEN}, "protocol.version"),
    ({"protocol": "1", "token": TOKEN}, "protocol.version"),
    ({"protocol": True, "token": TOKEN}, "protocol.version"),
    ({"token": TOKEN}, "protocol.version"),
    ({"protocol": 1}, "auth.invalid_token"),
    ({"protocol": 1, "token": "wrong"}, "auth.invalid_token"),
    ({"protocol": 1, "token": 12345}, "request.invalid"),
    ({"protocol": 1, "token": TOKEN, "client": "c" * 500}, "request.invalid"),
])
async def test_bad_hello_is_refused_with_its_code_and_close(fake_server, tally, hello, code):
    """A bad hello gets its code, then close 1008; the handshake never half-opens a session."""
    import websockets

    async with websockets.connect(fake_server.ws) as ws:
        await ws.send(frame("hello", hello))
        reply = decode(await asyncio.wait_for(ws.recv(), 10))
        assert reply.type == "error" and reply.data["code"] == code, reply
        await asyncio.wait_for(ws.wait_closed(), 10)
        assert ws.close_code == 1008
    tally.bad()


async def test_live_and_face_streams_survive_bad_frames(fake_server, tally):
    """Garbage audio frames inside a live STT stream end that stream with audio.invalid; a
    face stream fed an odd byte count likewise; both keep the socket usable."""
    ws = await connect(fake_server)
    try:
        await ws.send(frame("stt.live.start", {"model": "fake-stt", "vad": "energy", **PCM16}, "live1"))
        await ws.send(frame("stt.live.audio", {}, "live1", b"\x00\x01\x02"))  # 1.5 samples
        msgs = await until_terminal(ws, "live1")
        assert msgs[-1].type == "error" and msgs[-1].data["code"] == "audio.invalid"
        await ws.send(frame("face.stream.start", {**PCM16, "sample_format": "f32le"}, "fs1"))
        await ws.send(frame("face.stream.audio", {}, "fs1", np.full(10, np.nan, "<f4").tobytes()))
        msgs = await until_terminal(ws, "fs1")
        assert msgs[-1].type == "error" and msgs[-1].data["code"] == "audio.invalid"
        tally.bad(2)
        await ws.send(frame("ping", {}, "p"))
        assert decode(await asyncio.wait_for(ws.recv(), 10)).type == "pong"
    finally:
        await ws.close()


# ---------------------------------------------------------------------- HTTP
BAD_SPEECH = [
    ("no body", None, 400, "request.invalid_json"),
    ("not json", b"{oops", 400, "request.invalid_json"),
    ("json array", b"[1,2]", 400, "request.invalid_json"),
    ("invalid utf-8", b'{"input": "\xff\xfe"}', 400, "request.invalid_json"),
    ("no model", {"input": "hi"}, 400, "request.missing_model"),
    ("no input", {"model": "fake-tts"}, 400, "request.missing_input"),
    ("input only NUL", {"model": "fake-tts", "input": "\x00"}, 400, "request.missing_input"),
    ("input only zero-width", {"model": "fake-tts", "input": "\u200b\u2060\u00ad"}, 400,
     "request.missing_input"),
    ("input only zero-width streamed", {"model": "fake-tts", "input": "\u200b", "stream": True}, 400,
     "request.missing_input"),
    ("100,000 nested arrays", b"[" * 100_000, 400, "request.invalid_json"),
    ("100,000 nested objects", b'{"a":' * 100_000, 400, "request.invalid_json"),
    ("deep nesting inside a field", b'{"model": "fake-tts", "input": "hi", "voice": ' + b"[" * 100_000,
     400, "request.invalid_json"),
    ("input number", {"model": "fake-tts", "input": 5}, 400, "request.invalid"),
    ("too long", {"model": "fake-tts", "input": "b" * 2001}, 413, "request.input_too_long"),
    ("speed", {"model": "fake-tts", "input": "hi", "speed": 99}, 400, "request.invalid"),
    ("format", {"model": "fake-tts", "input": "hi", "response_format": "exe"}, 400, "request.invalid"),
    ("unknown model", {"model": "nope", "input": "hi"}, 404, "model.unknown"),
    ("stt model", {"model": "fake-stt", "input": "hi"}, 400, "request.wrong_model_kind"),
    ("unknown voice", {"model": "fake-tts", "input": "hi", "voice": "zed"}, 404, "voice.unknown"),
    ("path voice", {"model": "fake-tts", "input": "hi", "voice": "../../x"}, 404, "voice.invalid"),
    ("path voice streamed", {"model": "fake-tts", "input": "hi", "voice": "..\\..\\x", "stream": True},
     404, "voice.invalid"),
    ("broken model", {"model": "broken-tts", "input": "hi"}, 500, "model.load_failed"),
]


@pytest.mark.parametrize("case", BAD_SPEECH, ids=[c[0] for c in BAD_SPEECH])
def test_bad_speech_request_is_a_coded_json_error(http, tally, case):
    """/v1/audio/speech answers each bad body with its status and a JSON error code."""
    _, body, status, code = case
    if body is None or isinstance(body, bytes):
        r = http.post("/v1/audio/speech", content=body or b"", headers={"content-type": "application/json"})
    else:
        r = http.post("/v1/audio/speech", json=body)
    tally.bad()
    assert r.status_code == status, r.text
    err = r.json()["error"]
    assert err["code"] == code and err["message"]
    assert err["type"] == ("invalid_request_error" if status < 500 else "server_error")


BAD_UPLOADS = [
    ("json not form", None, None, 400, "request.invalid_content_type"),
    ("no file", {"model": "fake-stt"}, None, 400, "request.missing_file"),
    ("no model", {}, ("a.wav", wav_bytes(np.zeros(160), 16000)), 400, "request.missing_model"),
    ("empty file", {"model": "fake-stt"}, ("a.wav", b""), 400, "audio.empty"),
    ("garbage", {"model": "fake-stt"}, ("a.mp3", np.random.default_rng(2).bytes(3000)), 400, "audio.invalid"),
    ("wav rate 0", {"model": "fake-stt"}, ("a.wav", raw_wav_header(0, 1, 16, SECOND)), 400, "audio.invalid"),
    ("wav 65535 channels", {"model": "fake-stt"}, ("a.wav", raw_wav_header(16000, 65535, 16, SECOND)),
     400, None),
    ("nan float wav", {"model": "fake-stt"},
     ("a.wav", raw_wav_header(16000, 1, 32, np.full(100, np.nan, "<f4").tobytes(), fmt=3)), 400,
     "audio.invalid"),
    ("temperature text", {"model": "fake-stt", "temperature": "hot"}, ("a.wav", wav_bytes(np.zeros(160), 16000)),
     400, "request.invalid"),
    ("bad granularity", {"model": "fake-stt", "timestamp_granularities[]": "phoneme"},
     ("a.wav", wav_bytes(np.zeros(160), 16000)), 400, "request.invalid"),
    ("bad format", {"model": "fake-stt", "response_format": "docx"}, ("a.wav", wav_bytes(np.zeros(160), 16000)),
     400, "request.invalid"),
    ("tts model", {"model": "fake-tts"}, ("a.wav", wav_bytes(np.zeros(160), 16000)), 400,
     "request.wrong_model_kind"),
    ("upload too large", {"model": "fake-stt"}, ("a.wav", b"\x00" * (600 * 1024)), 413, "request.too_large"),
]


@pytest.mark.parametrize("case", BAD_UPLOADS, ids=[c[0] for c in BAD_UPLOADS])
def test_bad_transcription_upload_is_a_coded_json_error(http, tally, case):
    """/v1/audio/transcriptions answers bad uploads with a 4xx and a JSON error code."""
    _, fields, file, status, code = case
    if fields is None:
        r = http.post("/v1/audio/transcriptions", json={"model": "fake-stt"})
    else:
        r = http.post("/v1/audio/transcriptions", data=fields,
                      files={"file": file} if file else {"other": ("x.txt", b"not the file")})
    tally.bad()
    assert r.status_code == status, r.text
    err = r.json()["error"]
    assert err["message"] and (code is None or err["code"] == code), err
    assert err["code"].split(".")[0] in ("audio", "request")


def test_oversized_declared_body_is_refused_before_reading(fake_server, tally):
    """A body whose Content-Length is over the limit is refused with 413 without being read."""
    import socket

    with socket.create_connection(("127.0.0.1", fake_server.port), timeout=10) as sock:
        sock.sendall(b"POST /v1/audio/transcriptions HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                     b"Authorization: Bearer " + TOKEN.encode() + b"\r\n"
                     b"Content-Type: multipart/form-data; boundary=x\r\n"
                     b"Content-Length: 50000000000\r\n\r\n")
        head = b""
        while b"request.too_large" not in head:
            block = sock.recv(4096)
            if not block:
                break
            head += block
    tally.bad()
    assert head.startswith(b"HTTP/1.1 413"), head[:200]
    assert b"request.too_large" in head


def test_bad_face_uploads_and_voices(http, tally):
    """/v1/audio/face and /v1/voices refuse bad input with coded 4xx errors."""
    wav = wav_bytes(np.zeros(1600), 16000)
    cases = [
        (http.post("/v1/audio/face", data={"character": "zorg"}, files={"file": ("a.wav", wav)}),
         400, "face.unknown_character"),
        (http.post("/v1/audio/face", data={"response_format": "png"}, files={"file": ("a.wav", wav)}),
         400, "request.invalid"),
        (http.post("/v1/audio/face", files={"file": ("a.wav", b"RIFFjunk")}), 400, "audio.invalid"),
        (http.get("/v1/voices", params={"model": "nope"}), 404, "model.unknown"),
        (http.get("/v1/voices", params={"model": "fake-stt"}), 400, "request.wrong_model_kind"),
    ]
    for r, status, code in cases:
        tally.bad()
        assert r.status_code == status and r.json()["error"]["code"] == code, r.text
    ok = http.post("/v1/audio/face", files={"file": ("a.wav", wav)})
    assert ok.status_code == 200 and ok.json()["frame_count"] == 3


def test_one_sample_and_odd_rate_audio_are_handled(http, fake_server, tally):
    """One sample, a 1 kHz clip, an 8-channel clip and a 383,999 Hz clip transcribe (or fail
    cleanly) quickly, never as a 5xx."""
    import time

    cases = [wav_bytes(np.array([1000]), 16000), wav_bytes(np.full(1000, 500), 1000),
             wav_bytes(np.zeros(8 * 1600), 16000, channels=8),
             raw_wav_header(383_999, 1, 16, np.zeros(383_999, "<i2").tobytes())]
    for data in cases:
        started = time.perf_counter()
        r = http.post("/v1/audio/transcriptions", data={"model": "fake-stt"}, files={"file": ("a.wav", data)})
        tally.bad()
        assert r.status_code < 500, r.text
        assert time.perf_counter() - started < 5
    status = wait_idle(fake_server)
    assert status["queue_depth"] == 0

