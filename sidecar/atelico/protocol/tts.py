"""Text-to-speech messages: ``tts.synthesize``, ``speak`` and the ``tts.chunk`` stream."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from atelico.engines.tts.text import has_speakable
from atelico.errors import InputTooLong, RequestError
from atelico.protocol.envelope import Message
from atelico.protocol.fields import Fields

SYNTHESIZE = "tts.synthesize"
SPEAK = "speak"
CHUNK = "tts.chunk"

MIN_SPEED, MAX_SPEED = 0.25, 4.0


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


@dataclass(frozen=True)
class SynthesizeRequest:
    """A synthesis request (``speak`` is a streamed one with a face ``character``)."""

    input: str
    model: str = "tts"
    voice: str | None = None
    speed: float = 1.0
    stream: bool = False
    sample_format: str = "s16le"
    encoding: str = "pcm"
    words: bool = True
    language: str | None = None
    character: str | None = None

    @classmethod
    def from_data(cls, data: dict[str, Any], *, max_input_chars: int, speak: bool = False
                  ) -> "SynthesizeRequest":
        f = Fields(data)
        text = read_input(f, max_input_chars=max_input_chars)
        model = f.str("model", "tts", max_len=128)
        return cls(input=text, model=model or "tts", voice=f.str("voice", None, max_len=256),
                   speed=f.float("speed", 1.0, lo=MIN_SPEED, hi=MAX_SPEED),
                   stream=True if speak else f.bool("stream", False),
                   sample_format=f.str("sample_format", "s16le", choices=("s16le", "f32le")) or "s16le",
                   encoding=f.str("encoding", "pcm", choices=("pcm", "wav")) or "pcm",
                   words=f.bool("words", True), language=f.str("language", None, max_len=16),
                   character=(f.str("character", "claire", max_len=64) if speak else None))

    def to_data(self) -> dict[str, Any]:
        out: dict[str, Any] = {"model": self.model, "input": self.input, "voice": self.voice,
                               "speed": self.speed, "stream": self.stream,
                               "sample_format": self.sample_format, "encoding": self.encoding,
                               "words": self.words, "language": self.language}
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
