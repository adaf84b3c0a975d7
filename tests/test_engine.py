"""The in-process Engine: the reference's JSON API and the typed API under it, real models."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import numpy as np
import pytest

from atelico import Engine
from atelico.audio.codecs import decode_file
from atelico.errors import AudioError, RequestError, UnknownModel
from tests.conftest import real_settings
from tests.helpers.wer import word_error_rate as wer

pytestmark = pytest.mark.slow
SPEECH = Path(__file__).resolve().parent / "data" / "speech"


@pytest.fixture(scope="module")
def engine():
    with Engine(real_settings()) as e:
        yield e


def test_audio_synthesize_returns_the_reference_shape(engine):
    """audio_synthesize → {audio_b64 (WAV), duration_seconds, format, sample_rate}."""
    resp = json.loads(engine.audio_synthesize(json.dumps(
        {"model": "in-memory::tts", "input": "Hello from Atelico.", "voice": "af_heart"})))
    assert set(resp) == {"audio_b64", "duration_seconds", "format", "sample_rate"}
    audio, rate = decode_file(base64.b64decode(resp["audio_b64"]))
    assert resp["format"] == "wav" and rate == resp["sample_rate"] == 24000
    assert abs(len(audio) / rate - resp["duration_seconds"]) < 1e-3 and resp["duration_seconds"] > 0.5


def test_stream_then_transcribe_round_trip(engine):
    """Streamed chunks (reference shape) decode, and Whisper reads the speech back."""
    text = "First sentence. Second one comes right after."
    chunks = [json.loads(c) for c in engine.audio_synthesize_stream(json.dumps({"model": "tts", "input": text}))]
    assert [c["sequence"] for c in chunks] == list(range(len(chunks))) and len(chunks) >= 2
    assert all(set(c) == {"sequence", "audio", "duration_seconds", "text"} for c in chunks)
    pcm = np.concatenate([decode_file(base64.b64decode(c["audio"]))[0] for c in chunks])
    from atelico.audio.wav import encode_wav

    wav_b64 = base64.b64encode(encode_wav(pcm, 24000)).decode()
    result = json.loads(engine.audio_transcribe(json.dumps({"model": "in-memory::whisper", "audio_b64": wav_b64})))
    assert set(result) == {"text", "language", "duration"}
    assert wer(text, result["text"]) <= 0.15 and result["language"] == "en"


def test_audio_to_face_takes_float_or_int16_pcm(engine):
    """audio_to_face accepts float32 or int16 mono PCM at 16 kHz and returns [N, 52]."""
    audio, rate = decode_file((SPEECH / "goforward.wav").read_bytes())
    assert rate == 16000
    pcm16 = (audio * 32767).astype(np.int16)
    weights = engine.audio_to_face(pcm16.astype(np.float32) / 32768.0, character="claire")
    as_int16 = engine.audio_to_face(pcm16, character="claire")
    n = int(np.ceil(len(audio) / rate * 30))
    assert weights.shape == (n, 52) and as_int16.shape == (n, 52)
    assert np.allclose(weights, as_int16, atol=1e-6)  # int16 is read as value / 32768
    at_48k = engine.audio_to_face(np.repeat(audio, 3), sample_rate=48000)
    assert at_48k.shape[0] == n


def test_errors_are_typed(engine):
    """Bad JSON, a missing model, an unknown model and bad base64 raise typed errors."""
    with pytest.raises(RequestError) as info:
        engine.audio_synthesize("{not json")
    assert info.value.code == "request.invalid_json"
    with pytest.raises(RequestError) as info:
        engine.audio_synthesize(json.dumps({"input": "hi"}))
    assert info.value.code == "request.missing_model"
    with pytest.raises(UnknownModel):
        engine.audio_synthesize(json.dumps({"model": "in-memory::nope", "input": "hi"}))
    with pytest.raises(AudioError):
        engine.audio_transcribe(json.dumps({"model": "whisper", "audio_b64": "!!!"}))
    with pytest.raises(AudioError):
        engine.audio_to_face(np.array([np.nan, 0.0], np.float32))
