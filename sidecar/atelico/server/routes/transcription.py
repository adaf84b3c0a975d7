"""``POST /v1/audio/transcriptions`` and ``/v1/audio/translations`` (OpenAI's forms)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from starlette.concurrency import run_in_threadpool

from atelico.audio.decode import open_audio
from atelico.protocol import transcripts
from atelico.protocol.constants import STT_SAMPLE_RATE_HZ
from atelico.protocol.stt import TranscriptionRequest
from atelico.server import openapi
from atelico.server.http import read_form, service_of

router = APIRouter(tags=["transcription"])


async def _transcription(request: Request, task: str) -> Response:
    svc = service_of(request)
    fields, data, _ = await read_form(request)
    r = TranscriptionRequest.parse(fields, has_file=data is not None, task=task)
    await run_in_threadpool(svc.check_kind, r.model, "stt")  # may look at the disk
    max_s = svc.settings.limits.max_audio_s

    transcript = await svc.transcribe_async(lambda: open_audio(data, max_duration_s=max_s, rate=STT_SAMPLE_RATE_HZ),
                                            model=r.model, language=r.language, task=task,
                                            prompt=r.prompt, temperature=r.temperature, words=r.words)
    return _format_transcript(transcript, r.response_format, list(r.timestamp_granularities), task)


def _format_transcript(t: Any, fmt: str, grans: list[str], task: str) -> Response:
    body, media = transcripts.format_transcription(t.segments, t.info, fmt, grans, task=task)
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
