"""Request bodies of the HTTP routes, for ``/openapi.json`` only.

The routes parse their bodies by hand (so that every bad field gets its own ``request.*``
code and the OpenAI error shape), which leaves FastAPI nothing to document. These pydantic
models describe the same fields; :func:`json_body` and :func:`form_body` turn one into the
``openapi_extra`` of a route. They never validate a request.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from atelico.audio.codecs import ENCODINGS
from atelico.protocol.tts import MAX_SPEED, MIN_SPEED

SpeechFormat = Literal[tuple(ENCODINGS)]  # type: ignore[valid-type]


class SpeechRequest(BaseModel):
    """``POST /v1/audio/speech`` (JSON)."""

    model: str = Field(max_length=128, description="tts, kokoro, pocket, or OpenAI's "
                       "tts-1, tts-1-hd, gpt-4o-mini-tts (Kokoro); `in-memory::` prefix allowed")
    input: str = Field(min_length=1, description="the text to speak (at most "
                       "limits.max_input_chars characters)")
    voice: str | None = Field(None, max_length=256, description="a voice id, a Kokoro blend "
                              "like af_bella(2)+af_sky(1), or an OpenAI name (alloy, nova, ...)")
    speed: float = Field(1.0, ge=MIN_SPEED, le=MAX_SPEED)
    response_format: SpeechFormat = "wav"  # type: ignore[valid-type]
    stream: bool = Field(False, description="the reference's SSE chunks")
    stream_format: Literal["sse", "audio"] | None = Field(
        None, description="sse: OpenAI's speech.audio.delta events; audio: raw audio sent as it is "
        "synthesized (also the default for Accept: application/octet-stream)")
    language: str | None = Field(None, max_length=16, description="BCP-47 tag: another variant of "
                                    "the voice's language (en-GB for an en-US voice); others are "
                                    "language.mismatch")


class TranscriptionForm(BaseModel):
    """``POST /v1/audio/transcriptions`` and ``/v1/audio/translations`` (multipart)."""

    file: bytes = Field(description="the audio file (wav, flac, mp3, ogg, ...)")
    model: str = Field(max_length=128, description="whisper, whisper-base, ..., "
                       "or OpenAI's whisper-1, gpt-4o-transcribe, gpt-4o-mini-transcribe")
    response_format: Literal["json", "text", "srt", "vtt", "verbose_json"] = "json"
    language: str | None = Field(None, max_length=16)
    prompt: str | None = Field(None, max_length=4000)
    temperature: float = Field(0.0, ge=0.0, le=1.0)
    timestamp_granularities: list[Literal["segment", "word"]] | None = Field(
        None, alias="timestamp_granularities[]", description="verbose_json only")


class FaceForm(BaseModel):
    """``POST /v1/audio/face`` (multipart)."""

    file: bytes = Field(description="the audio file")
    character: str = Field("claire", max_length=64)
    text: str | None = Field(None, max_length=20_000, description="transcript (improves timing)")
    model: str = Field("face", max_length=128)
    response_format: Literal["json", "f32"] = "json"


class CloneForm(BaseModel):
    """``POST /v1/voices/clone`` (multipart): answers 202 with a job."""

    file: bytes = Field(description="the reference clip")
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$", description="the new voice's id")
    engine: Literal["kokoro", "pocket"] = "kokoro"
    generations: int = Field(10, ge=1, le=200)
    population: int = Field(8, ge=2, le=64)
    max_seconds: float = Field(30.0, ge=1, le=120)
    overwrite: bool = Field(False, description="replace an existing custom voice (else 409 voice.exists)")


class ErrorDetail(BaseModel):
    code: str = Field(description="machine-readable, e.g. request.missing_input (docs/protocol.md)")
    message: str
    type: Literal["invalid_request_error", "server_error"]
    details: dict[str, Any] | None = None


class ErrorBody(BaseModel):
    """Every error answer: ``{"error": {code, message, type, details?}}``."""

    error: ErrorDetail


#: Documents the error shape as every route's ``default`` response (4xx and 5xx alike).
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    "default": {"model": ErrorBody, "description": "an error with its code"}}
#: ``POST /v1/audio/speech`` answers audio (or server-sent events), never JSON.
SPEECH_RESPONSES: dict[int | str, dict[str, Any]] = {200: {
    "description": "the audio file, chunked audio, or server-sent events when streaming",
    "content": {**{media: {"schema": {"type": "string", "format": "binary"}}
                   for media in sorted({m for _, _, m in ENCODINGS.values()})},
                "text/event-stream": {"schema": {"type": "string"}}}}}
#: ``GET /v1/voices``: the optional model filter.
VOICES_QUERY = {"parameters": [{"name": "model", "in": "query", "required": False,
                                "schema": {"type": "string"},
                                "description": "a tts model id (default: every installed one)"}]}


def _schema(model: type[BaseModel]) -> dict[str, Any]:
    return model.model_json_schema(by_alias=True)


def json_body(model: type[BaseModel]) -> dict[str, Any]:
    """``openapi_extra`` declaring a required JSON body shaped like ``model``."""
    return {"requestBody": {"required": True,
                            "content": {"application/json": {"schema": _schema(model)}}}}


def form_body(model: type[BaseModel]) -> dict[str, Any]:
    """``openapi_extra`` declaring a required multipart body shaped like ``model``."""
    return {"requestBody": {"required": True,
                            "content": {"multipart/form-data": {"schema": _schema(model)}}}}
