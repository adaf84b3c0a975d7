"""Speech-to-text messages: ``stt.transcribe`` and live ``stt.live.*`` with partial/final results."""

from __future__ import annotations

import base64
import binascii
from typing import Any, Literal

from pydantic import Field
from pydantic.json_schema import SkipJsonSchema

from atelico.errors import AudioError, RequestError
from atelico.protocol.audio_desc import AudioDescription
from atelico.protocol.constants import GRANULARITIES, TASKS, TRANSCRIPTION_FORMATS
from atelico.protocol.envelope import Message
from atelico.protocol.fields import Fields
from atelico.protocol.request import RequestModel, form_float

TRANSCRIBE = "stt.transcribe"
LIVE_START = "stt.live.start"
LIVE_AUDIO = "stt.live.audio"
LIVE_STOP = "stt.live.stop"
PARTIAL = "stt.partial"
FINAL = "stt.final"
WARNING = "stt.warning"
SPEECH_STARTED = "stt.speech.started"
SPEECH_STOPPED = "stt.speech.stopped"

Task = Literal["transcribe", "translate"]
TranscriptionFormat = Literal["json", "text", "srt", "vtt", "verbose_json"]
_model_help = "whisper, whisper-base, ..., or OpenAI's whisper-1, gpt-4o-transcribe, gpt-4o-mini-transcribe"


def _model(f: Fields) -> str:
    return f.str("model", required=True, missing_code="request.missing_model", max_len=128) or ""


def require_file(has_file: bool, what: str = "the audio") -> None:
    """Multipart requests carry their audio as a ``file`` field."""
    if not has_file:
        raise RequestError(f"the form needs a 'file' field with {what}", code="request.missing_file",
                           details={"field": "file"})


class TranscribeRequest(RequestModel):
    """``stt.transcribe``: transcription (or translation) of a whole clip in the payload."""

    model: str = Field(max_length=128, description=_model_help)
    audio: AudioDescription
    language: str | None = Field(None, max_length=16)
    prompt: str | None = Field(None, max_length=4000)
    temperature: float = Field(0.0, ge=0.0, le=1.0)
    task: Task = "transcribe"
    words: bool = False

    @classmethod
    def read(cls, f: Fields, ctx: dict[str, Any]) -> dict[str, Any]:
        return {"model": _model(f), "audio": AudioDescription.from_data(f.data),
                "language": f.str("language", None, max_len=16),
                "prompt": f.str("prompt", None, max_len=4000),
                "temperature": f.float("temperature", 0.0, lo=0.0, hi=1.0),
                "task": f.str("task", "transcribe", choices=TASKS) or "transcribe",
                "words": f.bool("words", False)}

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> "TranscribeRequest":
        return cls.parse(data)


class TranscriptionRequest(RequestModel):
    """``POST /v1/audio/transcriptions`` and ``/v1/audio/translations`` (multipart form; the
    file travels beside it, context ``has_file``; the route gives the ``task``)."""

    model: str = Field(max_length=128, description=_model_help)
    response_format: TranscriptionFormat = "json"
    language: str | None = Field(None, max_length=16)
    prompt: str | None = Field(None, max_length=4000)
    temperature: float = Field(0.0, ge=0.0, le=1.0)
    timestamp_granularities: list[Literal["segment", "word"]] = Field(
        default_factory=list, alias="timestamp_granularities[]", description="verbose_json only")
    task: SkipJsonSchema[Task] = Field("transcribe", exclude=True)

    @classmethod
    def read(cls, f: Fields, ctx: dict[str, Any]) -> dict[str, Any]:
        model = _model(f)
        require_file(bool(ctx.get("has_file", True)))
        fmt = f.str("response_format", "json", choices=TRANSCRIPTION_FORMATS) or "json"
        language = f.str("language", None, max_len=16) or None
        prompt = f.str("prompt", None, max_len=4000)
        temperature = form_float(f.data, "temperature", 0.0, 0.0, 1.0)
        grans = f.str_list("timestamp_granularities")
        for g in grans:
            if g not in GRANULARITIES:
                raise RequestError(f"timestamp_granularities[] accepts segment and word, got {g!r}",
                                   code="request.invalid", details={"field": "timestamp_granularities"})
        return {"model": model, "response_format": fmt, "language": language, "prompt": prompt,
                "temperature": temperature, "timestamp_granularities": grans,
                "task": ctx.get("task", "transcribe")}

    @property
    def words(self) -> bool:
        """Word times are asked for (``timestamp_granularities[]=word``)."""
        return "word" in self.timestamp_granularities


class EncodedTranscribeRequest(RequestModel):
    """The in-process ``Engine.audio_transcribe``: a whole file, base64 in ``audio_b64``."""

    model: str = Field(max_length=128, description=_model_help)
    audio: bytes = Field(alias="audio_b64", description="a WAV/MP3/... file, base64")
    language: str | None = Field(None, max_length=16)
    task: Task = "transcribe"

    @classmethod
    def read(cls, f: Fields, ctx: dict[str, Any]) -> dict[str, Any]:
        model = _model(f)
        raw = f.str("audio_b64", required=True, missing_code="request.missing_audio") or ""
        try:
            audio = base64.b64decode(raw, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise AudioError("audio_b64 is not valid base64", code="audio.invalid") from exc
        return {"model": model, "audio": audio, "language": f.str("language", None) or None,
                "task": f.str("task", "transcribe", choices=TASKS) or "transcribe"}


class LiveStart(RequestModel):
    """``stt.live.start``: opens a live transcription on the request id (raw PCM frames)."""

    audio: AudioDescription
    model: str = Field("whisper", max_length=128)
    language: str | None = Field(None, max_length=16)
    vad: Literal["silero", "energy"] = "silero"
    partials: bool = True

    @classmethod
    def read(cls, f: Fields, ctx: dict[str, Any]) -> dict[str, Any]:
        desc = AudioDescription.from_data(f.data)
        if desc.is_file:
            raise AudioError("live transcription takes raw PCM frames", code="audio.unsupported_format")
        return {"audio": desc, "model": f.str("model", "whisper", max_len=128) or "whisper",
                "language": f.str("language", None, max_len=16),
                "vad": f.str("vad", "silero", choices=("silero", "energy")) or "silero",
                "partials": f.bool("partials", True)}

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> "LiveStart":
        return cls.parse(data)


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
