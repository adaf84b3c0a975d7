"""Property-based fuzzing of the envelope decoder, the request parsers and the live handlers."""

from __future__ import annotations

import contextlib
import time
from typing import Any, Iterator

import httpx
import msgpack
import numpy as np
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from atelico.errors import AtelicoError, ProtocolError
from atelico.protocol import face as face_proto
from atelico.protocol import session as sess
from atelico.protocol import stt as stt_proto
from atelico.protocol import tts as tts_proto
from atelico.audio.payload import to_float32
from atelico.protocol.audio_desc import AudioDescription
from atelico.protocol.envelope import Message, decode, encode
from tests.reliability.conftest import TOKEN

pytestmark = pytest.mark.timeout(180)

#: every code the server may answer bad input with (protocol.md plus the documented extras)
KNOWN_CODES = {
    "protocol.malformed", "protocol.text_frame", "protocol.frame_too_large", "protocol.hello_required",
    "protocol.version", "protocol.unknown_type", "protocol.unexpected", "auth.invalid_token",
    "request.invalid", "request.missing_model", "request.missing_input", "request.input_too_long",
    "request.duplicate_id", "request.missing_id", "request.unknown_id", "request.wrong_model_kind",
    "request.invalid_json", "request.invalid_content_type", "request.invalid_form",
    "request.missing_file", "request.too_large", "limits.too_many_requests", "limits.busy",
    "audio.invalid", "audio.empty", "audio.too_long", "audio.unsupported_format", "model.unknown",
    "model.load_failed", "voice.unknown", "voice.invalid", "language.unsupported",
    "face.unknown_character",
}
FUZZ = settings(deadline=None, suppress_health_check=list(HealthCheck), derandomize=True,
               phases=[Phase.explicit, Phase.reuse, Phase.generate])  # no shrinking: bounded time

# ---------------------------------------------------------------------- strategies
scalars = st.one_of(st.none(), st.booleans(), st.integers(min_value=-(2**63), max_value=2**64 - 1),
                    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=40),
                    st.binary(max_size=40))
values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=12), inner, max_size=4)), max_leaves=12)
FIELDS = ["input", "model", "voice", "speed", "stream", "sample_format", "encoding", "words",
          "language", "character", "sample_rate_hz", "channels", "task", "temperature", "prompt",
          "vad", "partials", "text", "t", "protocol", "token", "client"]
GOOD = {"input": st.text(min_size=1, max_size=30), "model": st.sampled_from(
            ["fake-tts", "fake-stt", "fake-face", "tts", "whisper", "face", "nope", "../x", ""]),
        "voice": st.sampled_from(["alpha", "beta", "../../x", "gamma", "", "a/b"]),
        "speed": st.floats(0, 5), "sample_rate_hz": st.sampled_from([0, 999, 8000, 16000, 44100, 384001]),
        "sample_format": st.sampled_from(["s16le", "f32le", "u8"]),
        "encoding": st.sampled_from(["pcm", "wav", "mp3", "zip"]), "channels": st.integers(-1, 10),
        "character": st.sampled_from(["claire", "zorg"]), "task": st.sampled_from(["transcribe", "x"]),
        "vad": st.sampled_from(["energy", "silero", "x"])}
field_values = {name: st.one_of(values, GOOD.get(name, values)) for name in FIELDS}
data_maps = st.fixed_dictionaries({}, optional=field_values)
payloads = st.one_of(st.none(), st.binary(max_size=600),
                     st.integers(0, 400).map(lambda n: np.zeros(n, "<i2").tobytes()),
                     st.integers(1, 50).map(lambda n: np.full(n, np.nan, "<f4").tobytes()))
REQUEST_TYPES = [tts_proto.SYNTHESIZE, tts_proto.SPEAK, stt_proto.TRANSCRIBE, face_proto.RUN,
                 stt_proto.LIVE_START, face_proto.STREAM_START, sess.MODELS_LIST, sess.VOICES_LIST]
types = st.one_of(st.sampled_from(REQUEST_TYPES + [sess.PING, sess.CANCEL, sess.HELLO, stt_proto.LIVE_AUDIO,
                                                   stt_proto.LIVE_STOP, face_proto.STREAM_AUDIO]),
                  st.text(min_size=1, max_size=20))


# ---------------------------------------------------------------------- pure decoder and parsers
@settings(FUZZ, max_examples=1500)
@given(st.binary(max_size=300))
def test_decoder_never_raises_anything_but_protocol_errors_on_random_bytes(tally, frame):
    """Random bytes decode to a Message or raise ProtocolError (never another exception)."""
    tally.bad()
    try:
        msg = decode(frame, max_frame_bytes=256)
    except ProtocolError as exc:
        assert exc.code in ("protocol.malformed", "protocol.frame_too_large")
        return
    assert isinstance(msg.type, str) and isinstance(msg.data, dict)


@settings(FUZZ, max_examples=800)
@given(st.dictionaries(st.sampled_from(["type", "id", "data", "payload", "x"]), values, max_size=5),
       st.integers(0, 40))
def test_decoder_on_structured_and_truncated_envelopes(tally, env, cut):
    """Arbitrary envelopes, whole or truncated, decode or raise protocol.malformed; what
    decodes re-encodes to a frame that decodes to the same message."""
    packed = msgpack.packb(env, use_bin_type=True)
    for frame in (packed, packed[: max(0, len(packed) - cut)]):
        tally.bad()
        try:
            msg = decode(frame)
        except ProtocolError as exc:
            assert exc.code == "protocol.malformed"
            continue
        assert decode(encode(msg)) == Message(msg.type, _drop_nil(msg.data), msg.id, msg.payload)


def _drop_nil(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _drop_nil(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_drop_nil(v) for v in value]
    return value


PARSERS = {
    "tts": lambda d, p: tts_proto.SynthesizeRequest.from_data(d, max_input_chars=50),
    "speak": lambda d, p: tts_proto.SynthesizeRequest.from_data(d, max_input_chars=50, speak=True),
    "stt": lambda d, p: to_float32(stt_proto.TranscribeRequest.from_data(d).audio, p, max_duration_s=1),
    "live": lambda d, p: to_float32(stt_proto.LiveStart.from_data(d).audio, p),
    "face": lambda d, p: to_float32(face_proto.FaceRequest.from_data(d).audio, p, max_duration_s=1),
    "desc": lambda d, p: AudioDescription.from_data(d, required=False),
    "hello": lambda d, p: sess.Hello.from_message(Message("hello", d)),
}


@settings(FUZZ, max_examples=1500)
@given(st.sampled_from(sorted(PARSERS)), data_maps, payloads)
def test_request_parsers_raise_only_coded_errors(tally, parser, data, payload):
    """Every parser either accepts the data or raises an AtelicoError with a known code that
    names the field at fault where there is one; accepted audio is finite float32 in [-1, 1]."""
    tally.bad()
    try:
        out = PARSERS[parser](data, payload)
    except AtelicoError as exc:
        assert exc.code in KNOWN_CODES, exc.code
        assert exc.message
        return
    if isinstance(out, tuple):
        audio, rate = out
        assert audio.dtype == np.float32 and np.all(np.isfinite(audio))
        assert np.all(np.abs(audio) <= 1.0) and 1000 <= rate <= 384000


# ---------------------------------------------------------------------- live handlers
@contextlib.contextmanager
def sync_ws(live: Any) -> Iterator[Any]:
    from websockets.sync.client import connect

    with connect(live.ws, max_size=2**26, open_timeout=10) as ws:
        ws.send(encode(Message("hello", {"protocol": 1, "client": "fuzz", "token": TOKEN})))
        assert decode(ws.recv(timeout=10)).type == "welcome"
        yield ws


def drain_until(ws: Any, rid: str | None, timeout_s: float = 10) -> list[Message]:
    """Messages up to the terminal one for ``rid`` (for id-less frames: the first reply)."""
    out: list[Message] = []
    deadline = time.monotonic() + timeout_s
    while True:
        msg = decode(ws.recv(timeout=max(0.01, deadline - time.monotonic())), max_frame_bytes=2**26)
        if rid is None or msg.id == rid:
            out.append(msg)
            if rid is None or msg.type in sess.TERMINAL_TYPES or msg.type == sess.PONG:
                return out


@pytest.mark.timeout(240)
def test_ws_handlers_under_fuzzed_envelopes(fake_server, tally):
    """Fuzzed requests over one socket: each gets exactly the replies the protocol promises
    (one terminal for a request, a pong for a ping, a coded error otherwise), never an
    ``internal`` error, and the socket and server keep serving throughout."""
    counter = iter(range(10**9))

    with sync_ws(fake_server) as ws:
        @settings(FUZZ, max_examples=700)
        @given(types, data_maps, payloads)
        def one(mtype: str, data: dict, payload: bytes | None) -> None:
            tally.bad()
            rid = f"f{next(counter)}"
            ws.send(encode(Message(mtype, data, id=rid, payload=payload)))
            if mtype in (sess.CANCEL, stt_proto.LIVE_STOP, stt_proto.LIVE_AUDIO, face_proto.STREAM_AUDIO,
                         face_proto.STREAM_STOP):
                # no request is open under this id: cancel is ignored, stream inputs are refused
                stray = sync()
                codes = [m.data.get("code") for m in stray if m.type == "error"]
                assert codes == ([] if mtype == sess.CANCEL else ["request.unknown_id"]), stray
                return
            if mtype in (stt_proto.LIVE_START, face_proto.STREAM_START):
                ws.send(encode(Message(mtype.replace(".start", ".stop"), {}, id=rid)))
            last = drain_until(ws, rid)[-1]
            if mtype == sess.PING:
                assert last.type == "pong"
            else:
                assert tally.check(last.type in ("done", "error"), f"{mtype}: no terminal")
            if last.type == "error":
                assert last.data["code"] in KNOWN_CODES, last.data
            for msg in sync():  # a stop sent after a start that failed is refused: that is all
                assert msg.type == "error" and msg.data["code"] == "request.unknown_id", msg

        def sync() -> list[Message]:
            """Ping and collect every message that arrives before the pong."""
            pid = f"sync{next(counter)}"
            ws.send(encode(Message(sess.PING, {}, id=pid)))
            msgs = drain_until(ws, None)
            while not (msgs[-1].type == sess.PONG and msgs[-1].id == pid):
                msgs += drain_until(ws, None)
            return msgs[:-1]

        one()
        ws.send(encode(Message("tts.synthesize", {"input": "alive after fuzzing"}, id="final")))
        assert drain_until(ws, "final")[-1].type == "done"


@pytest.mark.timeout(240)
def test_http_speech_and_transcription_under_fuzzed_bodies(fake_server, tally):
    """Fuzzed JSON bodies and multipart forms: every response is a success or a 4xx JSON error
    with a known code; never a 5xx (the fake engines do not fail)."""
    json_values = st.recursive(st.one_of(st.none(), st.booleans(), st.integers(-10**6, 10**6),
                                         st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=30)),
                               lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                       st.dictionaries(st.text(max_size=8), inner, max_size=3)),
                               max_leaves=8)
    speech_fields = ["model", "input", "voice", "speed", "response_format", "stream", "stream_format", "language"]
    speech_body = st.fixed_dictionaries({}, optional={f: st.one_of(json_values, GOOD.get(f, json_values))
                                                      for f in speech_fields}).map(
        lambda d: {**d, "response_format": d["response_format"]} if "response_format" in d else d)
    form_fields = ["model", "language", "prompt", "temperature", "response_format", "timestamp_granularities[]"]
    form = st.fixed_dictionaries({}, optional={f: st.one_of(st.text(max_size=12), st.sampled_from(
        ["fake-stt", "fake-tts", "0.5", "json", "srt", "word", "verbose_json"])) for f in form_fields})

    with httpx.Client(base_url=fake_server.http, headers=fake_server.headers, timeout=30) as http:
        def check(r: httpx.Response) -> None:
            tally.bad()
            assert tally.check(r.status_code < 500, f"HTTP {r.status_code}: {r.text[:200]}"), r.text
            if r.status_code >= 400:
                assert r.json()["error"]["code"] in KNOWN_CODES, r.text

        @settings(FUZZ, max_examples=300)
        @given(speech_body)
        def speech(body: dict) -> None:
            with http.stream("POST", "/v1/audio/speech", json=body) as r:
                r.read()
                check(r)

        @settings(FUZZ, max_examples=200)
        @given(form, payloads.filter(lambda p: p is not None))
        def transcription(fields: dict, payload: bytes) -> None:
            check(http.post("/v1/audio/transcriptions", data=fields, files={"file": ("clip", payload)}))

        speech()
        transcription()
        assert http.get("/health").status_code == 200
