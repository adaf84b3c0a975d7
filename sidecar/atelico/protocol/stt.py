"""Speech-to-text messages: ``stt.transcribe`` and live ``stt.live.*`` with partial/final results."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from atelico.protocol.audio_desc import AudioDescription
from atelico.protocol.envelope import Message
from atelico.protocol.fields import Fields

TRANSCRIBE = "stt.transcribe"
LIVE_START = "stt.live.start"
LIVE_AUDIO = "stt.live.audio"
LIVE_STOP = "stt.live.stop"
PARTIAL = "stt.partial"
FINAL = "stt.final"
WARNING = "stt.warning"
SPEECH_STARTED = "stt.speech.started"
SPEECH_STOPPED = "stt.speech.stopped"


@dataclass(frozen=True)
class TranscribeRequest:
    """Transcription (or translation) of a whole clip."""

    model: str
    audio: AudioDescription
    language: str | None = None
    prompt: str | None = None
    temperature: float = 0.0
    task: str = "transcribe"
    words: bool = False

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> "TranscribeRequest":
        f = Fields(data)
        return cls(model=f.str("model", required=True, missing_code="request.missing_model",
                               max_len=128) or "",
                   audio=AudioDescription.from_data(data),
                   language=f.str("language", None, max_len=16), prompt=f.str("prompt", None, max_len=4000),
                   temperature=f.float("temperature", 0.0, lo=0.0, hi=1.0),
                   task=f.str("task", "transcribe", choices=("transcribe", "translate")) or "transcribe",
                   words=f.bool("words", False))


@dataclass(frozen=True)
class LiveStart:
    """Opens a live transcription on the request id."""

    audio: AudioDescription
    model: str = "whisper"
    language: str | None = None
    vad: str = "silero"
    partials: bool = True

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> "LiveStart":
        f = Fields(data)
        desc = AudioDescription.from_data(data)
        if desc.encoding != "pcm":
            from atelico.errors import AudioError

            raise AudioError("live transcription takes raw PCM frames", code="audio.unsupported_format")
        return cls(audio=desc, model=f.str("model", "whisper", max_len=128) or "whisper",
                   language=f.str("language", None, max_len=16),
                   vad=f.str("vad", "silero", choices=("silero", "energy")) or "silero",
                   partials=f.bool("partials", True))


def result(request_id: str, *, segment_id: int, text: str, start_time: float, end_time: float,
           is_final: bool, words: list[dict[str, Any]] | None = None) -> Message:
    data: dict[str, Any] = {"segment_id": segment_id, "text": text, "start_time": start_time,
                            "end_time": end_time, "is_final": is_final}
    if is_final:
        data["words"] = words or []
    return Message(FINAL if is_final else PARTIAL, data, id=request_id)


def speech_event(request_id: str, *, started: bool, segment_id: int, start_time: float,
                 end_time: float | None = None) -> Message:
    """``stt.speech.started`` (onset) or ``stt.speech.stopped`` (onset and end of speech)."""
    data: dict[str, Any] = {"segment_id": segment_id, "start_time": start_time}
    if not started:
        data["end_time"] = end_time
    return Message(SPEECH_STARTED if started else SPEECH_STOPPED, data, id=request_id)


def warning(request_id: str, *, code: str, message: str, dropped_s: float) -> Message:
    return Message(WARNING, {"code": code, "message": message, "dropped_s": dropped_s}, id=request_id)
