"""The typed requests of protocol/ without a server: what each transport's request accepts,
its defaults, and the error code each bad field gets (the same for WebSocket and HTTP)."""

from __future__ import annotations

import base64

import pytest

from atelico.errors import AudioError, InputTooLong, RequestError
from atelico.protocol import face, stt, tts, voices
from atelico.protocol.audio_desc import AudioDescription
from atelico.protocol.request import DEFAULT_MAX_INPUT_CHARS

PCM = {"sample_rate_hz": 16000, "sample_format": "s16le", "channels": 1}


def code_of(fn, *args, **kw) -> tuple[str, dict]:
    with pytest.raises((RequestError, AudioError)) as err:
        fn(*args, **kw)
    return err.value.code, err.value.details


# ---------------------------------------------------------------------- speech
def test_ws_synthesize_defaults_and_speak():
    r = tts.SynthesizeRequest.from_data({"input": "Hi."}, max_input_chars=100)
    assert (r.model, r.voice, r.speed, r.stream, r.sample_format, r.encoding, r.words, r.character) == \
        ("tts", None, 1.0, False, "s16le", "pcm", True, None)
    s = tts.SynthesizeRequest.from_data({"input": "Hi.", "stream": False}, max_input_chars=100, speak=True)
    assert s.stream is True and s.character == "claire"
    assert tts.SynthesizeRequest.from_data(s.to_data(), max_input_chars=100, speak=True) == s


def test_ws_input_stream_takes_an_empty_first_piece():
    r = tts.SynthesizeRequest.from_data({"input_stream": True}, max_input_chars=10)
    assert (r.input, r.stream, r.input_stream) == ("", True, True)
    assert r.to_data()["input_stream"] is True
    assert code_of(tts.SynthesizeRequest.from_data, {"input_stream": True, "input": "x" * 11},
                   max_input_chars=10)[0] == "request.input_too_long"


@pytest.mark.parametrize("data,code,field", [
    ({}, "request.missing_input", "input"),
    ({"input": "   "}, "request.missing_input", "input"),
    ({"input": "... !?"}, "request.missing_input", "input"),
    ({"input": "\u200b\u200b"}, "request.missing_input", "input"),
    ({"input": "x" * 101}, "request.input_too_long", "input"),
    ({"input": "Hi.", "speed": 5}, "request.invalid", "speed"),
    ({"input": "Hi.", "speed": "fast"}, "request.invalid", "speed"),
    ({"input": "Hi.", "voice": 3}, "request.invalid", "voice"),
    ({"input": "Hi.", "sample_format": "u8"}, "request.invalid", "sample_format"),
    ({"input": "Hi.", "encoding": "mp3"}, "request.invalid", "encoding"),
    ({"input": "Hi.", "words": "yes"}, "request.invalid", "words"),
    ({"input": "Hi.", "model": "m" * 129}, "request.invalid", "model"),
])
def test_ws_synthesize_refuses(data, code, field):
    got, details = code_of(tts.SynthesizeRequest.from_data, data, max_input_chars=100)
    assert (got, details["field"]) == (code, field)


def test_http_speech_needs_a_model_and_checks_the_same_input_rule():
    r = tts.SpeechRequest.parse({"model": "tts-1", "input": "Hello."}, max_input_chars=100)
    assert (r.response_format, r.stream, r.stream_format, r.voice, r.speed) == ("wav", False, None, None, 1.0)
    assert code_of(tts.SpeechRequest.parse, {"input": "Hello."})[0] == "request.missing_model"
    assert code_of(tts.SpeechRequest.parse, {"model": "tts", "input": "--"})[0] == "request.missing_input"
    assert code_of(tts.SpeechRequest.parse, {"model": "tts", "input": "a", "response_format": "ogg"}) == \
        ("request.invalid", {"field": "response_format"})
    assert code_of(tts.SpeechRequest.parse, {"model": "tts", "input": "a", "stream_format": "raw"})[0] == \
        "request.invalid"
    assert code_of(tts.SpeechRequest.parse, [1])[0] == "request.invalid_json"


def test_speech_input_limit_defaults_to_the_configured_default():
    with pytest.raises(InputTooLong):
        tts.SpeechRequest.parse({"model": "tts", "input": "a" * (DEFAULT_MAX_INPUT_CHARS + 1)})
    long_ok = tts.SpeechRequest.parse({"model": "tts", "input": "a" * 200}, max_input_chars=200)
    assert len(long_ok.input) == 200


def test_speech_formats_are_the_encoders():
    from atelico.audio import codecs
    from atelico.protocol import constants
    from atelico.server import openapi

    assert constants.SPEECH_FORMATS == tuple(codecs.ENCODINGS)
    assert constants.STREAMABLE_FORMATS == tuple(codecs.STREAMABLE)
    assert openapi.SPEECH_MEDIA == {fmt: codecs.media_type(fmt) for fmt in codecs.ENCODINGS}


def test_read_text_piece_and_heard():
    assert tts.read_text_piece("", max_input_chars=3) == ""
    assert code_of(tts.read_text_piece, 5, max_input_chars=3) == ("request.invalid", {"field": "text"})
    words = [{"word": "one", "start_s": 0.0, "end_s": 0.2}, {"word": "two", "start_s": 0.2, "end_s": 0.6}]
    h = tts.heard(words, played_samples=3000, sent_samples=2400, sample_rate_hz=10000)
    assert h["played_samples"] == 2400 and h["text"] == "one" and h["played_s"] == 0.24
    assert tts.heard(words, played_samples=-5, sent_samples=10, sample_rate_hz=10000)["words"] == []


# ---------------------------------------------------------------------- transcription
def test_ws_transcribe_and_live_start():
    r = stt.TranscribeRequest.from_data({"model": "whisper", **PCM, "words": True, "task": "translate"})
    assert (r.audio.sample_rate_hz, r.words, r.task, r.temperature) == (16000, True, "translate", 0.0)
    assert code_of(stt.TranscribeRequest.from_data, PCM)[0] == "request.missing_model"
    assert code_of(stt.TranscribeRequest.from_data, {"model": "w"})[0].startswith("audio.")
    assert code_of(stt.TranscribeRequest.from_data, {"model": "w", **PCM, "temperature": 2})[1] == \
        {"field": "temperature"}
    live = stt.LiveStart.from_data(PCM)
    assert (live.model, live.vad, live.partials) == ("whisper", "silero", True)
    assert code_of(stt.LiveStart.from_data, {"encoding": "mp3"})[0] == "audio.unsupported_format"
    assert code_of(stt.LiveStart.from_data, {**PCM, "vad": "webrtc"})[1] == {"field": "vad"}


def test_http_transcription_form():
    r = stt.TranscriptionRequest.parse({"model": "whisper-1", "temperature": "0.2", "language": "",
                                        "timestamp_granularities": ["word", "segment"]},
                                       has_file=True, task="translate")
    assert (r.temperature, r.language, r.words, r.task) == (0.2, None, True, "translate")
    assert stt.TranscriptionRequest.parse({"model": "w"}).words is False
    assert code_of(stt.TranscriptionRequest.parse, {"model": "w"}, has_file=False) == \
        ("request.missing_file", {"field": "file"})
    assert code_of(stt.TranscriptionRequest.parse, {}, has_file=False)[0] == "request.missing_model"
    assert code_of(stt.TranscriptionRequest.parse, {"model": "w", "timestamp_granularities": "char"}) == \
        ("request.invalid", {"field": "timestamp_granularities"})
    assert code_of(stt.TranscriptionRequest.parse, {"model": "w", "response_format": "xml"})[0] == \
        "request.invalid"
    assert code_of(stt.TranscriptionRequest.parse, {"model": "w", "temperature": "hot"})[1] == \
        {"field": "temperature"}


def test_engine_transcribe_json_decodes_base64():
    r = stt.EncodedTranscribeRequest.parse({"model": "w", "audio_b64": base64.b64encode(b"RIFF").decode()})
    assert (r.audio, r.language, r.task) == (b"RIFF", None, "transcribe")
    assert code_of(stt.EncodedTranscribeRequest.parse, {"model": "w"})[0] == "request.missing_audio"
    assert code_of(stt.EncodedTranscribeRequest.parse, {"model": "w", "audio_b64": "@@"})[0] == "audio.invalid"


def test_results_and_speech_events():
    final = stt.result("r", segment_id=1, text="hi", start_time=0.0, end_time=1.0, is_final=True)
    partial = stt.result("r", segment_id=1, text="h", start_time=0.0, end_time=0.5, is_final=False)
    assert (final.type, final.data["words"], partial.type) == (stt.FINAL, [], stt.PARTIAL)
    assert "words" not in partial.data
    stopped = stt.speech_event("r", started=False, segment_id=2, start_time=1.0, end_time=2.0)
    assert stopped.type == stt.SPEECH_STOPPED and stopped.data["end_time"] == 2.0
    assert "end_time" not in stt.speech_event("r", started=True, segment_id=2, start_time=1.0).data


# ---------------------------------------------------------------------- audio, face, clone
def test_audio_description():
    assert AudioDescription.from_data({"encoding": "mp3"}).is_file
    assert AudioDescription.from_data({}, required=False).sample_rate_hz is None
    d = AudioDescription.from_data({**PCM, "channels": 2})
    assert d.to_dict() == {**PCM, "channels": 2} and not d.is_file
    assert code_of(AudioDescription.from_data, {})[0].startswith("audio.")
    assert code_of(AudioDescription.from_data, {"encoding": "midi"})[1] == {"field": "encoding"}
    assert code_of(AudioDescription.from_data, {**PCM, "sample_format": "u8"})[0] == "audio.unsupported_format"


def test_face_requests():
    r = face.FaceRequest.from_data(PCM)
    assert (r.character, r.text, r.model) == ("claire", None, "face")
    f = face.FaceFileRequest.parse({"character": "mark", "response_format": "f32"}, has_file=True)
    assert (f.character, f.response_format) == ("mark", "f32")
    assert code_of(face.FaceFileRequest.parse, {}, has_file=False)[0] == "request.missing_file"
    assert code_of(face.FaceFileRequest.parse, {"response_format": "csv"})[1] == {"field": "response_format"}


def test_clone_request():
    r = voices.CloneForm.parse({"name": "mine", "generations": "3", "overwrite": "true"}, has_file=True)
    assert (r.name, r.engine, r.generations, r.population, r.max_seconds, r.overwrite) == \
        ("mine", "kokoro", 3, 8, 30.0, True)
    assert code_of(voices.CloneForm.parse, {"name": "m", "generations": "2.5"})[0] == "request.invalid"
    assert code_of(voices.CloneForm.parse, {"name": "m", "population": "1"})[0] == "request.invalid"
    assert code_of(voices.CloneForm.parse, {"name": "m"}, has_file=False)[0] == "request.missing_file"
    assert code_of(voices.CloneForm.parse, {})[1] == {"field": "name"}
    assert code_of(voices.CloneForm.parse, {"name": "m", "engine": "xtts"})[1] == {"field": "engine"}


def test_requests_are_frozen_and_typed():
    r = tts.SpeechRequest.parse({"model": "tts", "input": "Hi."})
    with pytest.raises(Exception):
        r.input = "changed"  # type: ignore[misc]
    assert hash(r) == hash(tts.SpeechRequest.parse({"model": "tts", "input": "Hi."}))
