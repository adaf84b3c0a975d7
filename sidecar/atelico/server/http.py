"""OpenAI-compatible HTTP routes (speech, transcriptions, translations, face, models, health)."""

from __future__ import annotations

import base64
import json
import logging
import os
import threading
import time
from typing import IO, Any, AsyncIterator

import numpy as np
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse

from atelico import __version__
from atelico.audio import codecs
from atelico.audio.decode import open_audio
from atelico.audio.wav import encode_wav
from atelico.errors import AtelicoError, RequestError, redact_paths
from atelico.protocol.constants import (ARKIT_BLENDSHAPES, FACE_SAMPLE_RATE_HZ, STREAMABLE_FORMATS,
                                        STT_SAMPLE_RATE_HZ)
from atelico.protocol.face import FaceFileRequest
from atelico.protocol.stt import TranscriptionRequest
from atelico.protocol.tts import SpeechRequest
from atelico.server import openapi
from atelico.service import Service, TtsPiece

log = logging.getLogger(__name__)
router = APIRouter()


def service_of(request: Request) -> Service:
    return request.app.state.service


def error_response(exc: AtelicoError) -> JSONResponse:
    body = exc.to_dict()
    body["type"] = "invalid_request_error" if exc.http_status < 500 else "server_error"
    return JSONResponse({"error": body}, status_code=exc.http_status)


async def read_body(request: Request, limit: int) -> bytes:
    """Read a request body, refusing more than ``limit`` bytes (413) without buffering it all."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise RequestError(f"request body of {declared} bytes exceeds the limit of {limit}",
                           code="request.too_large", http_status=413, details={"max_bytes": limit})
    parts: list[bytes] = []
    size = 0
    async for block in request.stream():
        size += len(block)
        if size > limit:
            raise RequestError(f"request body exceeds the limit of {limit} bytes",
                               code="request.too_large", http_status=413, details={"max_bytes": limit})
        parts.append(block)
    return b"".join(parts)


async def read_json(request: Request) -> dict[str, Any]:
    raw = await read_body(request, 4 * 2**20)
    try:
        body = json.loads(raw or b"null")
    except (ValueError, UnicodeDecodeError) as exc:
        raise RequestError(f"body is not valid JSON: {exc}", code="request.invalid_json") from exc
    except RecursionError:  # e.g. 100,000 nested '[': the parser recurses once per level
        raise RequestError("body is nested too deeply to be a request", code="request.invalid_json") from None
    if not isinstance(body, dict):
        raise RequestError("body must be a JSON object", code="request.invalid_json")
    return body


async def read_form(request: Request) -> tuple[dict[str, Any], IO[bytes] | None, str | None]:
    """Parse a multipart upload, counting bytes as they stream in (see ``uploads``):
    (fields, the spooled file or None, file name). The file is closed with the request."""
    from atelico.server import uploads

    svc = service_of(request)
    limit = svc.settings.limits.max_upload_bytes
    ctype = request.headers.get("content-type", "")
    if not ctype.startswith("multipart/form-data"):
        raise RequestError("send the audio as multipart/form-data with a 'file' field",
                           code="request.invalid_content_type")
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit + 65536:
        raise RequestError(f"upload of {declared} bytes exceeds the limit of {limit}",
                           code="request.too_large", http_status=413, details={"max_bytes": limit})
    form = await uploads.parse_form(request.stream(), ctype, max_file_bytes=limit)
    fields: dict[str, Any] = {}
    for key, value in form.items:
        if key.endswith("[]"):
            fields.setdefault(key[:-2], []).append(value)
        elif key in fields and isinstance(fields[key], list):
            fields[key].append(value)
        else:
            fields[key] = value
    return fields, form.file, form.filename


# ---------------------------------------------------------------------- health and models
@router.get("/health")
async def health() -> dict[str, Any]:
    return {"status": "ok", "version": __version__}


@router.get("/health/ready")
async def ready(request: Request) -> JSONResponse:
    state = request.app.state
    body: dict[str, Any] = {"status": state.readiness}
    if state.readiness == "error" and getattr(state, "readiness_error", None):
        body["error"] = state.readiness_error  # {"code", "message"}, first: launchers stop waiting
    body.update(models=state.service.registry.loaded_ids(), errors=state.preload_errors)
    return JSONResponse(body, status_code=200 if state.readiness == "ready" else 503)


@router.get("/v1/models")
async def models(request: Request) -> dict[str, Any]:
    svc = service_of(request)
    created = int(svc.started_at)
    data = [{"id": m["id"], "object": "model", "created": created, "owned_by": "atelico", **m}
            for m in svc.registry.list_models()]
    return {"object": "list", "data": data}


@router.get("/v1/voices", openapi_extra=openapi.VOICES_QUERY)
async def voices(request: Request) -> dict[str, Any]:
    svc = service_of(request)
    model = request.query_params.get("model")
    return {"object": "list", "data": await svc.run(svc.voices, model)}


@router.get("/v1/status")
async def status(request: Request) -> dict[str, Any]:
    svc = service_of(request)
    return {"version": __version__, "uptime_s": round(time.time() - svc.started_at, 1),
            "rss_mb": _rss_mb(), "queue_depth": svc.queue_depth, "requests_total": svc.requests_total,
            "loaded_models": svc.registry.loaded_ids(),
            "recent_errors": [{**e, "message": redact_paths(e["message"])} for e in svc.recent_errors],
            "connections": request.app.state.connections}


def _rss_mb() -> float:
    try:
        with open(f"/proc/{os.getpid()}/status") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    import resource

    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


# ---------------------------------------------------------------------- speech
@router.post("/v1/audio/speech", openapi_extra=openapi.json_body(SpeechRequest),
             response_class=Response, responses=openapi.SPEECH_RESPONSES)
async def speech(request: Request) -> Response:
    svc = service_of(request)
    r = SpeechRequest.parse(await read_json(request), max_input_chars=svc.settings.limits.max_input_chars)
    text, voice, speed, language = r.input, r.voice, r.speed, r.language
    fmt, stream, stream_format = r.response_format, r.stream, r.stream_format
    model_id = svc.check_kind(r.model, "tts")
    cancel = threading.Event()

    def gen(ev: threading.Event):
        return svc.tts_pieces(model=model_id, text=text, voice=voice, speed=speed, language=language,
                              character=None, cancel=ev)

    # OpenAI's SDKs ask for raw bytes (Accept: application/octet-stream) and leave
    # stream_format out, which means "audio" there: stream those too, as they are synthesized.
    if stream_format is None and not stream and fmt in STREAMABLE_FORMATS \
            and "application/octet-stream" in request.headers.get("accept", ""):
        stream_format = "audio"
    if stream_format == "audio" and fmt not in STREAMABLE_FORMATS:
        raise RequestError(f"response_format {fmt!r} cannot be streamed as raw audio; use "
                           f"{', '.join(STREAMABLE_FORMATS)}", code="request.invalid",
                           details={"field": "response_format"})
    if stream or stream_format is not None:
        pieces = svc.stream(gen, cancel)
        first = await _first(pieces)  # errors (unknown voice …) become a 4xx before any byte
        if stream_format == "audio":
            rate = first.sample_rate_hz if first is not None else 24_000
            return StreamingResponse(_raw_audio(first, pieces, fmt, svc), media_type=_media(fmt, rate),
                                     headers={"X-Atelico-Model": model_id, "X-Atelico-Sample-Rate": str(rate)})
        events = _openai_sse(first, pieces, fmt) if stream_format == "sse" and not stream \
            else _reference_sse(first, pieces, svc)
        return StreamingResponse(events, media_type="text/event-stream",
                                 headers={"Cache-Control": "no-cache", "X-Atelico-Model": model_id})

    result = await svc.synthesize_async(model=model_id, text=text, voice=voice, speed=speed,
                                        language=language, cancel=cancel)
    audio_bytes = await svc.run(codecs.encode, result.audio, result.sample_rate_hz, fmt)
    return Response(audio_bytes, media_type=_media(fmt, result.sample_rate_hz), headers={
        "X-Atelico-Model": result.model, "X-Atelico-Voice": result.voice,
        "X-Atelico-Duration": f"{result.duration_s:.3f}", "X-Atelico-Sample-Rate": str(result.sample_rate_hz)})


def _media(fmt: str, rate: int) -> str:
    return codecs.media_type(fmt) if fmt != "pcm" else f"audio/L16; rate={rate}; channels=1"


async def _first(pieces: AsyncIterator[TtsPiece]) -> TtsPiece | None:
    try:
        return await pieces.__anext__()
    except StopAsyncIteration:
        return None


async def _chain(first: TtsPiece | None, rest: AsyncIterator[TtsPiece]) -> AsyncIterator[TtsPiece]:
    if first is not None:
        yield first
        async for p in rest:
            yield p


def _sse(data: dict[str, Any], event: str | None = None) -> bytes:
    head = f"event: {event}\n" if event else ""
    return f"{head}data: {json.dumps(data, separators=(',', ':'))}\n\n".encode()


async def _reference_sse(first: TtsPiece | None, rest: AsyncIterator[TtsPiece], svc: Service) -> AsyncIterator[bytes]:
    """The reference's stream: one ``AudioSpeechChunk`` per clause, then a ``done`` event."""
    seq = 0
    total = 0.0
    try:
        async for p in _chain(first, rest):
            wav = encode_wav(p.audio, p.sample_rate_hz)
            total += p.duration_s
            yield _sse({"sequence": seq, "audio": base64.b64encode(wav).decode(),
                        "duration_seconds": round(p.duration_s, 4), "text": p.text,
                        "sample_rate": p.sample_rate_hz, "words": p.words})
            seq += 1
        yield _sse({"chunks": seq, "duration_seconds": round(total, 4)}, event="done")
    except AtelicoError as exc:
        svc.record_error(exc, "speech.stream")
        yield _sse({"error": exc.to_dict()}, event="error")
    except Exception as exc:  # an engine crash mid-stream still ends the stream clearly
        from atelico.service import engine_error

        yield _sse({"error": engine_error(exc).to_dict()}, event="error")


async def _openai_sse(first: TtsPiece | None, rest: AsyncIterator[TtsPiece], fmt: str) -> AsyncIterator[bytes]:
    """OpenAI's ``stream_format: sse``: ``speech.audio.delta`` events then ``speech.audio.done``.
    The deltas' bytes join into one file of ``fmt`` (raw PCM for pcm and wav)."""
    encoder = codecs.StreamEncoder("pcm" if fmt == "wav" else fmt, first.sample_rate_hz if first else 24_000)
    try:
        async for p in _chain(first, rest):
            data = encoder.push(p.audio)
            if data:
                yield _sse({"type": "speech.audio.delta", "audio": base64.b64encode(data).decode()})
        tail = encoder.finish()
        if tail:
            yield _sse({"type": "speech.audio.delta", "audio": base64.b64encode(tail).decode()})
        yield _sse({"type": "speech.audio.done", "usage": {"input_tokens": 0, "output_tokens": 0, "total_tokens": 0}})
    except Exception as exc:
        from atelico.service import engine_error

        yield _sse({"type": "error", "error": engine_error(exc).to_dict()})
    finally:
        encoder.close()


async def _raw_audio(first: TtsPiece | None, rest: AsyncIterator[TtsPiece], fmt: str,
                     svc: Service) -> AsyncIterator[bytes]:
    """Chunked raw audio, each piece's bytes sent as soon as it is synthesized: PCM, WAV with
    open-ended sizes, or one continuous MP3/AAC/Ogg Opus stream. A failure after the first
    byte can only end the response early (the status line is gone): it is logged."""
    encoder = codecs.StreamEncoder(fmt, first.sample_rate_hz if first else 24_000)
    try:
        async for p in _chain(first, rest):
            data = encoder.push(p.audio)
            if data:
                yield data
        tail = encoder.finish()
        if tail:
            yield tail
    except AtelicoError as exc:
        svc.record_error(exc, "speech.stream")
        raise
    finally:
        encoder.close()


# ---------------------------------------------------------------------- transcription
async def _transcription(request: Request, task: str) -> Response:
    svc = service_of(request)
    fields, data, _ = await read_form(request)
    r = TranscriptionRequest.parse(fields, has_file=data is not None, task=task)
    svc.check_kind(r.model, "stt")
    max_s = svc.settings.limits.max_audio_s

    transcript = await svc.transcribe_async(lambda: open_audio(data, max_duration_s=max_s, rate=STT_SAMPLE_RATE_HZ),
                                            model=r.model, language=r.language, task=task,
                                            prompt=r.prompt, temperature=r.temperature, words=r.words)
    return _format_transcript(transcript, r.response_format, list(r.timestamp_granularities), task)


def _format_transcript(t: Any, fmt: str, grans: list[str], task: str) -> Response:
    from atelico.engines.stt import formats

    body, media = formats.format_transcription(t.segments, t.info, fmt, grans, task=task)
    headers = {"X-Atelico-Model": t.info.model_id}
    if isinstance(body, (dict, list)):
        return JSONResponse(body, headers=headers)
    return PlainTextResponse(body, media_type=media, headers=headers)


@router.post("/v1/audio/transcriptions", openapi_extra=openapi.form_body(TranscriptionRequest))
async def transcriptions(request: Request) -> Response:
    return await _transcription(request, "transcribe")


@router.post("/v1/audio/translations", openapi_extra=openapi.form_body(TranscriptionRequest))
async def translations(request: Request) -> Response:
    return await _transcription(request, "translate")


# ---------------------------------------------------------------------- face
@router.post("/v1/audio/face", openapi_extra=openapi.form_body(FaceFileRequest))
async def face(request: Request) -> Response:
    svc = service_of(request)
    fields, data, _ = await read_form(request)
    r = FaceFileRequest.parse(fields, has_file=data is not None)
    character, text, model, fmt = r.character, r.text, r.model, r.response_format
    svc.check_kind(model, "face")
    max_s = svc.settings.limits.max_audio_s

    def work():
        audio, rate = codecs.decode_file(data, max_duration_s=max_s, rate=FACE_SAMPLE_RATE_HZ)
        return svc.face(audio, rate, character=character, text=text, model=model), len(audio) / rate

    weights, duration = await svc.run_bulk(work)
    if fmt == "f32":
        return Response(np.ascontiguousarray(weights, "<f4").tobytes(), media_type="application/octet-stream",
                        headers={"X-Atelico-Fps": "30", "X-Atelico-Frames": str(weights.shape[0]),
                                 "X-Atelico-Channels": "52"})
    return JSONResponse({"fps": 30, "frame_count": int(weights.shape[0]), "duration": round(duration, 4),
                         "character": character, "names": list(ARKIT_BLENDSHAPES),
                         "frames": np.round(weights.astype(np.float64), 4).tolist()})
