"""``POST /v1/audio/speech``: a whole file, chunked raw audio, or server-sent events."""

from __future__ import annotations

import base64
import json
import threading
from typing import Any, AsyncIterator, Iterator

from fastapi import APIRouter, Request
from fastapi.responses import Response, StreamingResponse
from starlette.concurrency import run_in_threadpool

from atelico.audio import codecs
from atelico.audio.wav import encode_wav
from atelico.errors import AtelicoError, RequestError
from atelico.protocol.constants import STREAMABLE_FORMATS
from atelico.protocol.tts import SpeechRequest
from atelico.server import openapi
from atelico.server.http import read_json, service_of
from atelico.service import Service, TtsPiece

router = APIRouter(tags=["speech"])


@router.post("/v1/audio/speech", openapi_extra=openapi.json_body(SpeechRequest),
             response_class=Response, responses=openapi.SPEECH_RESPONSES)
async def speech(request: Request) -> Response:
    svc = service_of(request)
    r = SpeechRequest.parse(await read_json(request), max_input_chars=svc.settings.limits.max_input_chars)
    text, voice, speed, language = r.input, r.voice, r.speed, r.language
    fmt, stream, stream_format = r.response_format, r.stream, r.stream_format
    model_id = await run_in_threadpool(svc.check_kind, r.model, "tts")  # may look at the disk
    cancel = threading.Event()

    def gen(ev: threading.Event) -> Iterator[TtsPiece]:
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
    chunks = 0
    total = 0.0
    try:
        async for p in _chain(first, rest):
            wav = await run_in_threadpool(encode_wav, p.audio, p.sample_rate_hz)
            total += p.duration_s
            yield _sse({"sequence": p.sequence, "audio": base64.b64encode(wav).decode(),
                        "duration_seconds": round(p.duration_s, 4), "text": p.text,
                        "sample_rate": p.sample_rate_hz, "words": p.words})
            chunks += 1
        yield _sse({"chunks": chunks, "duration_seconds": round(total, 4)}, event="done")
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
            data = await run_in_threadpool(encoder.push, p.audio)
            if data:
                yield _sse({"type": "speech.audio.delta", "audio": base64.b64encode(data).decode()})
        tail = await run_in_threadpool(encoder.finish)
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
            data = await run_in_threadpool(encoder.push, p.audio)
            if data:
                yield data
        tail = await run_in_threadpool(encoder.finish)
        if tail:
            yield tail
    except AtelicoError as exc:
        svc.record_error(exc, "speech.stream")
        raise
    finally:
        encoder.close()
