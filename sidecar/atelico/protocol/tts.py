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
#: C→S, same id as an open ``input_stream`` request: a piece of its text / no more text
TEXT = "tts.text"
TEXT_END = "tts.text.end"

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
    #: the text comes in pieces (``tts.text`` … ``tts.text.end``); ``input`` is the first, if any
    input_stream: bool = False

    @classmethod
    def from_data(cls, data: dict[str, Any], *, max_input_chars: int, speak: bool = False
                  ) -> "SynthesizeRequest":
        f = Fields(data)
        input_stream = f.bool("input_stream", False)
        if input_stream:  # the first piece may be empty; the rest comes as tts.text
            text = read_text_piece(f.str("input", "") or "", max_input_chars=max_input_chars)
        else:
            text = read_input(f, max_input_chars=max_input_chars)
        model = f.str("model", "tts", max_len=128)
        return cls(input=text, model=model or "tts", voice=f.str("voice", None, max_len=256),
                   speed=f.float("speed", 1.0, lo=MIN_SPEED, hi=MAX_SPEED),
                   stream=True if (speak or input_stream) else f.bool("stream", False),
                   input_stream=input_stream,
                   sample_format=f.str("sample_format", "s16le", choices=("s16le", "f32le")) or "s16le",
                   encoding=f.str("encoding", "pcm", choices=("pcm", "wav")) or "pcm",
                   words=f.bool("words", True), language=f.str("language", None, max_len=16),
                   character=(f.str("character", "claire", max_len=64) if speak else None))

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
