"""The WebSocket protocol against a real sidecar on 127.0.0.1 with real models."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import numpy as np
import pytest
import websockets

from atelico.audio.codecs import decode_file
from atelico.audio.resample import resample
from atelico.client import AsyncClient
from atelico.errors import AtelicoError, AuthError, RequestError, UnknownModel, VoiceError
from atelico.protocol.envelope import Message, decode, encode
from tests.conftest import TEST_TOKEN
from tests.helpers.contour import contour_correlation
from tests.helpers.wer import word_error_rate as wer

pytestmark = pytest.mark.slow
SPEECH = Path(__file__).resolve().parents[1] / "data" / "speech"
MANIFEST = {m["file"]: m for m in json.loads((SPEECH / "manifest.json").read_text())}


async def raw(live, hello: dict | None = None):
    """A raw socket after a successful handshake (or with a custom hello)."""
    ws = await websockets.connect(live.ws, max_size=2**26)
    await ws.send(encode(Message("hello", hello or {"protocol": 1, "client": "test", "token": TEST_TOKEN})))
    reply = decode(await ws.recv())
    return ws, reply


async def until_terminal(ws, rid: str, timeout_s: float = 120) -> list[Message]:
    out = []
    while True:
        msg = decode(await asyncio.wait_for(ws.recv(), timeout_s))
        if msg.id != rid:
            continue
        out.append(msg)
        if msg.type in ("done", "error", "cancelled"):
            return out


async def test_handshake_welcome_lists_models_capabilities_and_limits(live_server):
    """hello gets welcome with the protocol version, models, capabilities and limits."""
    ws, reply = await raw(live_server)
    await ws.close()
    assert reply.type == "welcome" and reply.data["protocol"] == 1
    ids = {m["id"] for m in reply.data["models"]}
    assert {"kokoro", "whisper-base", "face"} <= ids
    assert {"tts.synthesize", "speak", "stt.live", "face.stream", "formats.mp3"} <= set(reply.data["capabilities"])
    assert reply.data["limits"]["max_in_flight"] >= 1


async def test_version_mismatch_is_a_clear_error_and_close(live_server):
    """A client speaking protocol 2 gets protocol.version listing the supported versions."""
    ws, reply = await raw(live_server, {"protocol": 2, "client": "future", "token": TEST_TOKEN})
    assert reply.type == "error" and reply.data["code"] == "protocol.version"
    assert reply.data["details"]["supported"] == [1]
    with pytest.raises(websockets.ConnectionClosed):
        await asyncio.wait_for(ws.recv(), 5)


async def test_wrong_token_is_refused(live_server):
    """A wrong launch token ends the handshake with auth.invalid_token."""
    with pytest.raises(AuthError):
        await AsyncClient.connect(live_server.ws, token="wrong")


async def test_first_message_must_be_hello(live_server):
    """Anything before hello gets protocol.hello_required."""
    async with websockets.connect(live_server.ws) as ws:
        await ws.send(encode(Message("models.list", {}, id="x")))
        reply = decode(await ws.recv())
        assert reply.type == "error" and reply.data["code"] == "protocol.hello_required"


async def test_bad_frame_unknown_type_and_oversized_frame(live_server):
    """Garbage, an unknown type and a frame over the limit each get their code; the first two
    leave the socket usable, the oversized frame closes it with 1009."""
    ws, _ = await raw(live_server)
    await ws.send(b"\xc1\xff\x00")
    bad = decode(await ws.recv())
    assert bad.type == "error" and bad.id is None and bad.data["code"] == "protocol.malformed"
    await ws.send(encode(Message("tts.sing", {}, id="u1")))
    unknown = decode(await ws.recv())
    assert unknown.id == "u1" and unknown.data["code"] == "protocol.unknown_type"
    await ws.send(encode(Message("ping", {"t": 5}, id="p1")))
    assert decode(await ws.recv()).data == {"t": 5}
    await ws.send(b"\x80" * (live_server.settings.limits.max_frame_bytes + 1))
    too_big = decode(await ws.recv())
    assert too_big.data["code"] == "protocol.frame_too_large"
    with pytest.raises(websockets.ConnectionClosed) as info:
        await asyncio.wait_for(ws.recv(), 5)
    assert info.value.rcvd.code == 1009


async def test_invalid_fields_end_the_request_with_a_field_error(live_server):
    """A wrong type, a missing input and an unknown model are request errors with details."""
    async with await AsyncClient.connect(live_server.ws, token=TEST_TOKEN) as c:
        with pytest.raises(RequestError) as info:
            await c.synthesize("hi", speed="fast")
        assert info.value.code == "request.invalid" and info.value.details["field"] == "speed"
        with pytest.raises(RequestError) as info:
            await c.call("tts.synthesize", {"model": "tts"})
        assert info.value.code == "request.missing_input"
        with pytest.raises(UnknownModel) as info:
            await c.synthesize("hi", model="in-memory::nope")
        assert "kokoro" in info.value.details["known"]
        with pytest.raises(VoiceError) as info:
            await c.synthesize("hi", voice="../../etc/passwd")
        with pytest.raises(RequestError) as info:
            await c.call("stt.transcribe", {"sample_rate_hz": 16000}, b"\0\0")
        assert info.value.code == "request.missing_model"


@pytest.mark.parametrize("data,code", [
    ({"input": "hi", "voice": "af_heart(" + "9" * 200 + ")"}, "voice.invalid"),
    ({"input": "hi", "voice": "af_heart(0." + "0" * 50 + "1)", "stream": True}, "voice.invalid"),
    ({"input": "\x00"}, "request.missing_input"),
    ({"input": "\u200b\ufeff", "stream": True}, "request.missing_input"),
    ({"input": "\u266a\u2605", "stream": True}, "request.missing_input"),
])
async def test_silent_requests_end_in_an_error_never_done(live_server, data, code):
    """Blend weights that would make an all-zero style, and input with nothing Kokoro can say,
    end with one coded error on the real engine, never a done with zero samples."""
    async with await AsyncClient.connect(live_server.ws, token=TEST_TOKEN) as c:
        with pytest.raises(AtelicoError) as info:
            await c.call("tts.synthesize", {"model": "tts", **data})
        assert info.value.code == code and info.value.message


async def test_streamed_synthesis_matches_blocking_and_ends_with_done(live_server):
    """Chunks arrive in order, the first is short, and they concatenate to the blocking audio."""
    text = "Hello there, traveller. The road north is closed until morning."
    async with await AsyncClient.connect(live_server.ws, token=TEST_TOKEN) as c:
        chunks = [ch async for ch in c.synthesize_stream(text, voice="af_heart")]
        whole = await c.synthesize(text, voice="af_heart")
        streamed = np.concatenate([ch.audio for ch in chunks])
        # Whisper reads both back with the same words (the joins are not heard as words)
        heard = [(await c.transcribe(resample(x, 24000, 16000), 16000, language="en"))["text"]
                 for x in (streamed, whole.audio)]
    assert [ch.sequence for ch in chunks] == list(range(len(chunks)))
    assert len(chunks) >= 2
    assert chunks[0].audio.size < whole.audio.size / 2
    assert streamed.shape == whole.audio.shape
    # the stream is cut where the pacer says (clock-dependent), the blocking call renders each
    # sentence whole: the same span, the same words and loudness contour, not the same samples
    assert wer(text, heard[0]) <= 0.1 and wer(heard[1], heard[0]) <= 0.1, heard
    assert contour_correlation(streamed, whole.audio) > 0.8
    offsets = [ch.offset_samples for ch in chunks]
    assert offsets == list(np.cumsum([0] + [ch.audio.size for ch in chunks[:-1]]))
    starts = [w["start_s"] for ch in chunks for w in ch.words]
    assert starts == sorted(starts) and starts[-1] < whole.duration_s


async def test_two_concurrent_streams_on_one_socket_and_cancel_mid_stream(live_server):
    """Two streams interleave on one socket; cancelling one ends it with 'cancelled' while the
    other completes."""
    ws, _ = await raw(live_server)
    long_text = " ".join(["This sentence is here to make the stream long."] * 8)
    await ws.send(encode(Message("tts.synthesize", {"input": long_text, "stream": True}, id="a")))
    await ws.send(encode(Message("tts.synthesize", {"input": "A short one. And done.", "stream": True}, id="b")))
    seen: dict[str, list[Message]] = {"a": [], "b": []}
    cancelled_sent = False
    while not (seen["a"] and seen["a"][-1].type in ("done", "cancelled", "error")
               and seen["b"] and seen["b"][-1].type in ("done", "cancelled", "error")):
        msg = decode(await asyncio.wait_for(ws.recv(), 120))
        seen[msg.id].append(msg)
        if msg.id == "a" and msg.type == "tts.chunk" and not cancelled_sent:
            await ws.send(encode(Message("cancel", {}, id="a")))
            cancelled_sent = True
    await ws.close()
    assert seen["a"][-1].type == "cancelled"
    assert seen["b"][-1].type == "done" and seen["b"][-1].data["chunks"] >= 1
    a_chunks = [m for m in seen["a"] if m.type == "tts.chunk"]
    assert 1 <= len(a_chunks) < 8
    for rid in "ab":  # exactly one terminal each
        assert sum(m.type in ("done", "error", "cancelled") for m in seen[rid]) == 1


async def test_duplicate_id_is_refused_without_ending_the_original(live_server):
    """Reusing an in-flight id is refused without ending the original request."""
    ws, _ = await raw(live_server)
    text = " ".join(["Keep talking for a while."] * 6)
    await ws.send(encode(Message("tts.synthesize", {"input": text, "stream": True}, id="d")))
    await ws.send(encode(Message("tts.synthesize", {"input": "x"}, id="d")))
    msgs = []
    dup_error = None
    while not msgs or msgs[-1].type not in ("done", "error", "cancelled"):
        msg = decode(await asyncio.wait_for(ws.recv(), 120))
        if msg.type == "error" and msg.id is None:
            dup_error = msg
        elif msg.id == "d":
            msgs.append(msg)
    await ws.close()
    # the duplicate gets a connection-level error; the original still ends with done
    assert dup_error is not None and dup_error.data["code"] == "request.duplicate_id"
    assert msgs[-1].type == "done" and msgs[-1].data["chunks"] >= 2


async def test_transcribe_real_speech_over_the_socket(live_server):
    """A WAV of real speech sent as a file transcribes with low WER; raw PCM works too."""
    name = "sense_and_sensibility_01_austen_64kb-0880.wav"
    data = (SPEECH / name).read_bytes()
    async with await AsyncClient.connect(live_server.ws, token=TEST_TOKEN) as c:
        res = await c.transcribe(data, model="whisper", encoding="wav", words=True)
        audio, rate = decode_file(data)
        res_pcm = await c.transcribe(audio, rate, model="in-memory::whisper-base")
    assert wer(MANIFEST[name]["transcript"], res["text"]) < 0.15
    assert res["model"].startswith("whisper") and res["language"] == "en"
    words = [w for s in res["segments"] for w in s["words"]]
    assert words and all(0 <= w["start"] <= w["end"] <= res["duration"] + 0.05 for w in words)
    assert wer(MANIFEST[name]["transcript"], res_pcm["text"]) < 0.15


async def test_live_transcription_yields_partials_then_a_final(live_server):
    """Real speech streamed in 100 ms frames gives partial results, then a final that matches."""
    name = "sense_and_sensibility_01_austen_64kb-0870.wav"
    audio, rate = decode_file((SPEECH / name).read_bytes())
    audio = np.concatenate([audio, np.zeros(rate, np.float32)])
    async with await AsyncClient.connect(live_server.ws, token=TEST_TOKEN) as c:
        async with c.live(sample_rate_hz=rate, model="whisper-tiny.en") as live:
            step = rate // 10
            for i in range(0, len(audio), step):  # paced like a microphone: 100 ms per 100 ms
                await live.send(audio[i:i + step])
                await asyncio.sleep(0.1)
            await live.stop()
            msgs = [m async for m in live.results()]
    types = [m.type for m in msgs]
    assert types[-1] == "done"
    finals = [m for m in msgs if m.type == "stt.final"]
    assert finals and "stt.partial" in types
    assert types.index("stt.partial") < types.index("stt.final")
    text = " ".join(m.data["text"] for m in finals)
    assert wer(MANIFEST[name]["transcript"], text) < 0.25
    assert [m.data["segment_id"] for m in finals] == sorted({m.data["segment_id"] for m in finals})
    # the endpoints: started first (at the onset), stopped right before each final
    assert types[0] == "stt.speech.started" and "stt.speech.stopped" in types
    started = msgs[0].data
    assert started["segment_id"] == 0 and 0.0 <= started["start_time"] < 1.0
    for i, m in enumerate(msgs):
        if m.type == "stt.final":
            assert msgs[i - 1].type == "stt.speech.stopped"
            stopped = msgs[i - 1].data
            assert stopped["segment_id"] == m.data["segment_id"]
            assert stopped["start_time"] <= m.data["start_time"] + 0.35
            assert m.data["end_time"] - 0.3 <= stopped["end_time"] <= len(audio) / rate
    assert live.speaking is False


async def test_face_run_and_speak_carry_face_frames(live_server):
    """face.run returns ceil(duration*30) frames in [0,1]; speak chunks carry their frames."""
    audio, rate = decode_file((SPEECH / "arctic_a0007.wav").read_bytes())
    async with await AsyncClient.connect(live_server.ws, token=TEST_TOKEN) as c:
        weights = await c.face(audio, rate, character="james")
        chunks = [ch async for ch in c.synthesize_stream("Hello there. Nice to meet you.", character="mark")]
    assert weights.shape == (int(np.ceil(len(audio) / rate * 30)), 52)
    assert float(weights.min()) >= 0 and float(weights.max()) <= 1
    assert all(ch.face is not None and ch.face.shape[1] == 52 for ch in chunks)
    starts = [ch.face_start_frame for ch in chunks]
    assert starts == sorted(starts) and starts[0] == 0
    # frames cover the audio they come with
    for ch in chunks:
        end_s = (ch.face_start_frame + len(ch.face)) / 30
        assert end_s >= (ch.offset_samples + ch.audio.size) / ch.sample_rate_hz - 1 / 30


async def test_face_stream_frames_cover_the_audio(live_server):
    """A face stream fed in frames returns contiguous face.frames blocks, then done."""
    audio, rate = decode_file((SPEECH / "goforward.wav").read_bytes())
    ws, _ = await raw(live_server)
    await ws.send(encode(Message("face.stream.start", {"character": "claire", "sample_rate_hz": rate,
                                                       "sample_format": "s16le", "channels": 1}, id="f")))
    pcm = (np.clip(audio, -1, 1) * 32767).astype("<i2").tobytes()
    step = rate // 5 * 2
    for i in range(0, len(pcm), step):
        await ws.send(encode(Message("face.stream.audio", {}, id="f", payload=pcm[i:i + step])))
    await ws.send(encode(Message("face.stream.stop", {}, id="f")))
    msgs = await until_terminal(ws, "f")
    await ws.close()
    frames = [m for m in msgs if m.type == "face.frames"]
    assert msgs[-1].type == "done"
    expected_start = 0
    for m in frames:
        assert m.data["start_frame"] == expected_start
        expected_start += m.data["frame_count"]
        assert len(m.payload) == m.data["frame_count"] * 52 * 4
    assert abs(expected_start - np.ceil(len(audio) / rate * 30)) <= 1
    assert msgs[-1].data["frame_count"] == expected_start


async def test_disconnect_mid_stream_cancels_work(live_server):
    """Closing the socket mid-stream cancels the request; the server keeps serving others."""
    ws, _ = await raw(live_server)
    await ws.send(encode(Message("tts.synthesize", {"input": " ".join(["Long text again."] * 20),
                                                    "stream": True}, id="z")))
    decode(await asyncio.wait_for(ws.recv(), 60))
    await ws.close()
    async with await AsyncClient.connect(live_server.ws, token=TEST_TOKEN) as c:
        assert await c.ping() >= 0  # answered (ping raises after 10 s without a pong)
        assert (await c.synthesize("Still here.")).duration_s > 0.3
    deadline = time.monotonic() + 60  # the worker stops after the chunk it is computing
    while live_server.app.state.service.queue_depth:
        assert time.monotonic() < deadline, "the cancelled stream still holds its job after 60 s"
        await asyncio.sleep(0.05)


async def test_cancel_unknown_id_is_ignored_and_models_voices_list(live_server):
    """Cancelling an id that is not in flight does nothing (no message comes back: frames
    are handled in order, so a reply to the cancel would precede the pong of the ping sent
    after it); models.list and voices.list answer."""
    ws, welcome = await raw(live_server)
    try:
        assert welcome.type == "welcome"
        await ws.send(encode(Message("cancel", {}, id="never-sent")))
        await ws.send(encode(Message("ping", {"t": 7}, id="probe")))
        first = decode(await asyncio.wait_for(ws.recv(), 30))
        assert (first.type, first.id, first.data) == ("pong", "probe", {"t": 7})
    finally:
        await ws.close()
    async with await AsyncClient.connect(live_server.ws, token=TEST_TOKEN) as c:
        await c.cancel("never-sent")
        models = await c.models()
        voices = await c.voices("kokoro")
    assert any(m["id"] == "kokoro" and m["installed"] for m in models)
    assert len([v for v in voices if not v["custom"]]) == 54
    assert {"af_heart", "bm_lewis", "jf_alpha"} <= {v["id"] for v in voices}
