"""What ``/openapi.json`` says beyond the routes' signatures: request bodies, the error shape.

The routes validate their bodies with the typed requests of :mod:`atelico.protocol` (so that
every bad field gets its own ``request.*`` code and the OpenAI error shape, and bodies over a
size limit are refused before they are buffered); :func:`json_body` and :func:`form_body`
document those same models as the routes' request bodies.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from atelico.protocol.face import FaceFileRequest
from atelico.protocol.stt import TranscriptionRequest
from atelico.protocol.tts import SpeechRequest
from atelico.protocol.voices import CloneForm

#: the names the routes used before the bodies moved to the protocol
TranscriptionForm, FaceForm = TranscriptionRequest, FaceFileRequest
__all__ = ["CloneForm", "FaceForm", "SpeechRequest", "TranscriptionForm", "form_body", "json_body"]
#: media type of each ``response_format`` of speech (``protocol.constants.SPEECH_FORMATS``)
SPEECH_MEDIA = {"wav": "audio/wav", "pcm": "audio/L16", "mp3": "audio/mpeg", "opus": "audio/ogg",
                "aac": "audio/aac", "flac": "audio/flac"}


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
                   for media in sorted(set(SPEECH_MEDIA.values()))},
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


FILE_DOCS: dict[type[BaseModel], str] = {CloneForm: "the reference clip"}


def form_body(model: type[BaseModel]) -> dict[str, Any]:
    """``openapi_extra`` declaring a required multipart body: ``model``'s fields and the
    ``file`` that travels beside them."""
    schema = _schema(model)
    file = {"type": "string", "format": "binary",
            "description": FILE_DOCS.get(model, "the audio file (wav, flac, mp3, ogg, ...)")}
    schema["properties"] = {"file": file, **schema.get("properties", {})}
    schema["required"] = ["file", *schema.get("required", [])]
    return {"requestBody": {"required": True,
                            "content": {"multipart/form-data": {"schema": schema}}}}
