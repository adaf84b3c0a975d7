"""The real ``openai`` Python client against a live sidecar (#18 item 4, #19): speech streams
while it is synthesized, OpenAI's model ids and voice names resolve; the language guard."""

from __future__ import annotations

import struct
import threading
from pathlib import Path
from typing import Any, Iterator

import numpy as np
import pytest

from atelico.audio.codecs import decode_file
from tests.conftest import TEST_TOKEN
from tests.helpers.contour import contour_correlation

openai = pytest.importorskip("openai")
pytestmark = pytest.mark.slow
SPEECH = Path(__file__).resolve().parents[1] / "data" / "speech"
TEXT = "Stay close to the fire. The wolves are out tonight. Keep your torch lit until dawn."


class Gate:
    """Wraps the loaded Kokoro engine: after its first chunk, synthesis waits until the test
    opens the gate. A client that gets bytes while the gate is shut got them before synthesis
    ended; a server that sends only the whole file sends nothing until the gate's liveness
    timeout lets synthesis end (then ``done`` is set and the test fails)."""

    def __init__(self, real: Any) -> None:
        self.real = real
        self.open = threading.Event()
        self.done = threading.Event()
        self.opened_by_test = False

    def synthesize(self, text: str, **kwargs: Any) -> Iterator[Any]:
        inner = self.real(text, **kwargs)  # errors are still raised before any chunk

        def chunks() -> Iterator[Any]:
            try:
                for index, chunk in enumerate(inner):
                    yield chunk
                    if index == 0:
                        self.opened_by_test = self.open.wait(120)
            finally:
                self.done.set()
        return chunks()


@pytest.fixture
def gate(live_server, monkeypatch) -> Iterator[Gate]:
    with live_server.app.state.service.registry.acquire("kokoro") as engine:
        g = Gate(engine.synthesize)
        monkeypatch.setattr(engine, "synthesize", g.synthesize)
        yield g
        g.open.set()


@pytest.fixture(scope="module")
def client(live_server):
    with openai.OpenAI(base_url=live_server.http + "/v1", api_key=TEST_TOKEN, max_retries=0,
                       timeout=300) as c:
        yield c


@pytest.mark.parametrize("fmt,extra", [
    ("pcm", {}),                                   # the SDK's default: no stream_format at all
    ("wav", {"stream_format": "audio"}),
    ("mp3", {"stream_format": "audio"}),
    ("opus", {"stream_format": "audio", "extra_body": {"stream": True}}),
])
def test_speech_bytes_arrive_before_synthesis_ends(client, gate, fmt, extra):
    """with_streaming_response gets its first bytes while the server is still synthesizing."""
    with client.audio.speech.with_streaming_response.create(
            model="tts-1", voice="alloy", input=TEXT, response_format=fmt, **extra) as response:
        assert response.headers["x-atelico-model"] == "kokoro"
        chunks = response.iter_bytes()
        first = b""
        while not first:
            first = next(chunks)
        assert not gate.done.is_set(), "the first bytes came only after synthesis had ended"
        gate.open.set()
        data = first + b"".join(chunks)
    assert gate.opened_by_test and gate.done.is_set()
    if fmt == "pcm":
        seconds = len(data) / 2 / 24_000
    else:
        if fmt == "wav":
            assert data[:4] == b"RIFF" and struct.unpack("<I", data[40:44])[0] == 0xFFFFFFFF
        audio, rate = decode_file(data)
        seconds = len(audio) / rate
        assert np.sqrt(np.mean(audio ** 2)) > 0.01
    assert seconds > 2.5  # all three sentences, not just the first chunk


@pytest.mark.parametrize("model", ["tts-1", "tts-1-hd", "gpt-4o-mini-tts"])
@pytest.mark.parametrize("voice", ["nova", "onyx", "fable", "shimmer", "ash"])
def test_openai_model_ids_and_voice_names_are_accepted(client, model, voice):
    audio = client.audio.speech.create(model=model, voice=voice, input="Hi.", response_format="pcm")
    assert len(audio.content) > 2 * 2_400


def test_openai_voice_names_sound_like_the_kokoro_voice_they_mean(client):
    """alloy is af_alloy, not the default voice: the same plan (the voice sets every phoneme's
    duration, so the same length) and loudness contour; the pacer's window cuts may differ."""
    def pcm(voice: str) -> np.ndarray:
        raw = client.audio.speech.create(model="tts-1", voice=voice, input="Stay close to the fire.",
                                         response_format="pcm").content
        return np.frombuffer(raw, "<i2").astype(np.float32) / 32768

    alloy, af_alloy, af_heart = pcm("alloy"), pcm("af_alloy"), pcm("af_heart")
    assert len(alloy) == len(af_alloy) != len(af_heart)
    assert contour_correlation(alloy, af_alloy) > 0.9


def test_openai_transcription_model_ids(client, live_server):
    """whisper-1 transcribes with the default Whisper; all three ids are listed as aliases."""
    with open(SPEECH / "arctic_a0007.wav", "rb") as fh:
        result = client.audio.transcriptions.create(model="whisper-1", file=fh)
    assert "superlative" in result.text.lower()
    listed = {m.id: m for m in client.models.list().data}
    default_stt = next(m for m in listed.values() if m.kind == "stt" and "whisper" in m.aliases)
    assert {"whisper-1", "gpt-4o-transcribe", "gpt-4o-mini-transcribe"} <= set(default_stt.aliases)
    assert {"tts-1", "tts-1-hd", "gpt-4o-mini-tts"} <= set(listed["kokoro"].aliases)


MISMATCH = [
    ({"input": "你好，欢迎来到我们的村庄。", "voice": "am_adam"}, "zm_yunxi"),
    ({"input": "こんにちは、元気ですか？", "voice": "af_heart"}, "jf_alpha"),
    ({"input": "Stay close to the fire.", "voice": "jf_alpha"}, "af_heart"),
    ({"input": "Bonjour à tous.", "voice": "af_heart", "language": "fr"}, "ff_siwis"),
]


@pytest.mark.parametrize("stream", [{}, {"stream": True}, {"stream_format": "audio"}])
@pytest.mark.parametrize("body,fits", MISMATCH)
def test_http_language_mismatch_is_a_400_listing_voices_that_fit(live_server, body, fits, stream):
    import httpx

    r = httpx.post(live_server.http + "/v1/audio/speech", headers=live_server.headers, timeout=60,
                   json={"model": "tts", **body, **stream})
    assert r.status_code == 400, r.text[:200]
    err = r.json()["error"]
    assert err["code"] == "language.mismatch" and fits in err["details"]["voices"]


@pytest.mark.parametrize("body,fits", MISMATCH)
async def test_ws_language_mismatch_is_an_error_listing_voices_that_fit(live_server, body, fits):
    from tests.server.test_ws import raw, until_terminal
    from atelico.protocol.envelope import Message, encode

    ws, _ = await raw(live_server)
    try:
        for kind in ("tts.synthesize", "speak"):
            await ws.send(encode(Message(kind, {"model": "tts", **body}, id=kind)))
            (msg,) = await until_terminal(ws, kind)
            assert msg.type == "error" and msg.data["code"] == "language.mismatch"
            assert fits in msg.data["details"]["voices"]
    finally:
        await ws.close()


def test_the_service_every_transport_uses_applies_the_same_guard(live_server):
    from atelico.engines.tts.language_guard import LanguageMismatch

    svc = live_server.app.state.service
    with pytest.raises(LanguageMismatch):
        svc.synthesize(model="tts", text="你好。", voice="am_adam")
