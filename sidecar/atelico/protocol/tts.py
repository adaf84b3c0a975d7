"""Text-to-speech messages: ``tts.synthesize``, ``speak`` and the ``tts.chunk`` stream."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from atelico.errors import InputTooLong, RequestError
from atelico.protocol.constants import (MAX_SPEED, MIN_SPEED, SAMPLE_FORMATS, SPEECH_FORMATS,
                                        WS_SPEECH_ENCODINGS)
from atelico.protocol.envelope import Message
from atelico.protocol.fields import Fields
from atelico.protocol.request import DEFAULT_MAX_INPUT_CHARS, RequestModel
from atelico.protocol.text import has_speakable

__all__ = ["MAX_SPEED", "MIN_SPEED", "SpeechRequest", "SynthesizeRequest", "read_input"]

SYNTHESIZE = "tts.synthesize"
SPEAK = "speak"
CHUNK = "tts.chunk"
#: C→S, same id as an open ``input_stream`` request: a piece of its text / no more text
TEXT = "tts.text"
TEXT_END = "tts.text.end"

SpeechFormat = Literal["wav", "pcm", "mp3", "opus", "aac", "flac"]


def read_input(f: Fields, *, max_input_chars: int) -> str:
    """The ``input`` text of a synthesis request (WebSocket or HTTP), checked.

    Raises:
        RequestError: ``request.missing_input`` when absent, empty, or with nothing to speak
            (only whitespace, punctuation, control or zero-width characters).
        InputTooLong: more than ``max_input_chars`` characters.
    """
    text = f.str("input", required=True, missing_code="request.missing_input") or ""
    if not text.strip():
        raise RequestError("field 'input' is empty", code="request.missing_input",
                           details={"field": "input"})
    if len(text) > max_input_chars:
        raise InputTooLong(f"input is {len(text)} characters; the limit is {max_input_chars}",
                           details={"field": "input", "max_input_chars": max_input_chars})
    if not has_speakable(text):
        raise RequestError("field 'input' has nothing to speak: only whitespace, punctuation, "
                           "control or zero-width characters", code="request.missing_input",
                           details={"field": "input"})
    return text


def _max_chars(ctx: dict[str, Any]) -> int:
    return int(ctx.get("max_input_chars") or DEFAULT_MAX_INPUT_CHARS)


def _voice_fields(f: Fields) -> dict[str, Any]:
    """``voice`` and ``speed``, read in that order by every synthesis request."""
    return {"voice": f.str("voice", None, max_len=256),
            "speed": f.float("speed", 1.0, lo=MIN_SPEED, hi=MAX_SPEED)}


class SpeechRequest(RequestModel):
    """``POST /v1/audio/speech`` and the in-process ``Engine.audio_synthesize``: the whole
    text, answered as one file of ``response_format`` (or streamed, over HTTP)."""

    model: str = Field(max_length=128, description="tts, kokoro, pocket, or OpenAI's "
                       "tts-1, tts-1-hd, gpt-4o-mini-tts (Kokoro); `in-memory::` prefix allowed")
    input: str = Field(min_length=1, description="the text to speak (at most "
                       "limits.max_input_chars characters)")
    voice: str | None = Field(None, max_length=256, description="a voice id, a Kokoro blend "
                              "like af_bella(2)+af_sky(1), or an OpenAI name (alloy, nova, ...)")
    speed: float = Field(1.0, ge=MIN_SPEED, le=MAX_SPEED)
    response_format: SpeechFormat = "wav"
    stream: bool = Field(False, description="the reference's SSE chunks")
    stream_format: Literal["sse", "audio"] | None = Field(
        None, description="sse: OpenAI's speech.audio.delta events; audio: raw audio sent as it is "
        "synthesized (also the default for Accept: application/octet-stream)")
    language: str | None = Field(None, max_length=16, description="BCP-47 tag: another variant of "
                                 "the voice's language (en-GB for an en-US voice); others are "
                                 "language.mismatch")

    @classmethod
    def read(cls, f: Fields, ctx: dict[str, Any]) -> dict[str, Any]:
        model = f.str("model", required=True, missing_code="request.missing_model", max_len=128)
        text = read_input(f, max_input_chars=_max_chars(ctx))
        return {"model": model, "input": text, **_voice_fields(f),
                "response_format": f.str("response_format", "wav", choices=SPEECH_FORMATS),
                "stream": f.bool("stream", False),
                "stream_format": f.str("stream_format", None, choices=("sse", "audio")),
                "language": f.str("language", None, max_len=16)}


class SynthesizeRequest(RequestModel):
    """A WebSocket synthesis request, ``tts.synthesize`` or ``speak`` (a streamed one with a
    face ``character``; context ``speak=True``)."""

    input: str = Field(description="the text (with input_stream: its first piece, may be empty)")
    model: str = Field("tts", max_length=128)
    voice: str | None = Field(None, max_length=256)
    speed: float = Field(1.0, ge=MIN_SPEED, le=MAX_SPEED)
    stream: bool = False
    sample_format: Literal["s16le", "f32le"] = "s16le"
    encoding: Literal["pcm", "wav"] = "pcm"
    words: bool = True
    language: str | None = Field(None, max_length=16)
    character: str | None = Field(None, max_length=64, description="speak only: the face rig")
    #: the text comes in pieces (``tts.text`` … ``tts.text.end``); ``input`` is the first, if any
    input_stream: bool = False

    @classmethod
    def read(cls, f: Fields, ctx: dict[str, Any]) -> dict[str, Any]:
        speak = bool(ctx.get("speak", False))
        input_stream = f.bool("input_stream", False)
        if input_stream:  # the first piece may be empty; the rest comes as tts.text
            text = read_text_piece(f.str("input", "") or "", max_input_chars=_max_chars(ctx))
        else:
            text = read_input(f, max_input_chars=_max_chars(ctx))
        model = f.str("model", "tts", max_len=128) or "tts"
        voice = _voice_fields(f)
        stream = True if (speak or input_stream) else f.bool("stream", False)
        return {"input": text, "model": model, **voice, "stream": stream, "input_stream": input_stream,
                "sample_format": f.str("sample_format", "s16le", choices=SAMPLE_FORMATS) or "s16le",
                "encoding": f.str("encoding", "pcm", choices=WS_SPEECH_ENCODINGS) or "pcm",
                "words": f.bool("words", True), "language": f.str("language", None, max_len=16),
                "character": (f.str("character", "claire", max_len=64) if speak else None)}

    @classmethod
    def from_data(cls, data: dict[str, Any], *, max_input_chars: int, speak: bool = False
                  ) -> "SynthesizeRequest":
        return cls.parse(data, max_input_chars=max_input_chars, speak=speak)

    def to_data(self) -> dict[str, Any]:
        out: dict[str, Any] = {"model": self.model, "input": self.input, "voice": self.voice,
                               "speed": self.speed, "stream": self.stream,
                               "sample_format": self.sample_format, "encoding": self.encoding,
                               "words": self.words, "language": self.language}
        if self.input_stream:
            out["input_stream"] = True
        if self.character is not None:
            out["character"] = self.character
        return out


def chunk(request_id: str, *, sequence: int, text: str, offset_samples: int, duration_s: float,
          sample_rate_hz: int, sample_format: str, encoding: str, words: list[dict[str, Any]],
          audio: bytes, face: dict[str, Any] | None = None) -> Message:
    data: dict[str, Any] = {"sequence": sequence, "text": text, "offset_samples": offset_samples,
                            "duration_s": duration_s, "sample_rate_hz": sample_rate_hz,
                            "sample_format": sample_format, "channels": 1, "encoding": encoding,
                            "words": words}
    if face is not None:
        data["face"] = face
    return Message(CHUNK, data, id=request_id, payload=audio)


def read_text_piece(text: Any, *, max_input_chars: int) -> str:
    """One piece of a streamed input (``tts.text`` ``text``): a string, possibly empty."""
    if not isinstance(text, str):
        raise RequestError("field 'text' must be a string", code="request.invalid",
                           details={"field": "text"})
    if len(text) > max_input_chars:
        raise InputTooLong(f"a text piece is {len(text)} characters; the limit is {max_input_chars}",
                           details={"field": "text", "max_input_chars": max_input_chars})
    return text


def heard(words: list[dict[str, Any]], *, played_samples: int, sent_samples: int,
          sample_rate_hz: int) -> dict[str, Any]:
    """What a listener heard of a stream stopped after ``played_samples`` (barge-in): the
    position (never past what was sent) and the words at least half played, with their text.

    ``words`` are the stream's ``{word, start_s, end_s}`` (seconds from its start). The same
    rule runs in the server (the ``cancelled`` data) and in clients (a stream already done).
    """
    played = max(0, min(int(played_samples), int(sent_samples)))
    played_s = played / float(sample_rate_hz) if sample_rate_hz else 0.0
    kept = [w for w in words if (float(w["start_s"]) + float(w["end_s"])) / 2.0 <= played_s]
    return {"played_samples": played, "played_s": round(played_s, 6),
            "text": " ".join(str(w["word"]).strip() for w in kept), "words": kept}
