"""``POST /v1/audio/face``: ARKit-52 weights at 30 fps for an audio file."""

from __future__ import annotations

import numpy as np
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from atelico.audio import codecs
from atelico.protocol.constants import ARKIT_BLENDSHAPES, FACE_CHANNELS, FACE_FPS, FACE_SAMPLE_RATE_HZ
from atelico.protocol.face import FaceFileRequest
from atelico.server import openapi
from atelico.server.http import read_form, service_of

router = APIRouter(tags=["face"])


@router.post("/v1/audio/face", openapi_extra=openapi.form_body(FaceFileRequest))
async def face(request: Request) -> Response:
    svc = service_of(request)
    fields, data, _ = await read_form(request)
    r = FaceFileRequest.parse(fields, has_file=data is not None)
    character, text, model, fmt = r.character, r.text, r.model, r.response_format
    await run_in_threadpool(svc.check_kind, model, "face")  # may look at the disk
    max_s = svc.settings.limits.max_audio_s

    def work() -> tuple[np.ndarray, float]:
        audio, rate = codecs.decode_file(data, max_duration_s=max_s, rate=FACE_SAMPLE_RATE_HZ)
        return svc.face(audio, rate, character=character, text=text, model=model), len(audio) / rate

    weights, duration = await svc.run_bulk(work)
    if fmt == "f32":
        return Response(np.ascontiguousarray(weights, "<f4").tobytes(), media_type="application/octet-stream",
                        headers={"X-Atelico-Fps": str(FACE_FPS), "X-Atelico-Frames": str(weights.shape[0]),
                                 "X-Atelico-Channels": str(FACE_CHANNELS)})
    # 30 min of audio is 2.8 M numbers: rendered off the event loop
    return await run_in_threadpool(_face_json, weights, duration, character)


def _face_json(weights: np.ndarray, duration: float, character: str) -> JSONResponse:
    return JSONResponse({"fps": FACE_FPS, "frame_count": int(weights.shape[0]), "duration": round(duration, 4),
                         "character": character, "names": list(ARKIT_BLENDSHAPES),
                         "frames": np.round(weights.astype(np.float64), 4).tolist()})
