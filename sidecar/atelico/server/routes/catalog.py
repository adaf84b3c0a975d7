"""The model and voice catalogs: ``GET /v1/models`` and ``GET /v1/voices``."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from atelico.server import openapi
from atelico.server.http import service_of

models_router = APIRouter(tags=["models"])
voices_router = APIRouter(tags=["voices"])


@models_router.get("/v1/models")
def models(request: Request) -> dict[str, Any]:
    svc = service_of(request)
    created = int(svc.started_at)
    data = [{"id": m["id"], "object": "model", "created": created, "owned_by": "atelico", **m}
            for m in svc.registry.list_models()]
    return {"object": "list", "data": data}


@voices_router.get("/v1/voices", openapi_extra=openapi.VOICES_QUERY)
async def voices(request: Request) -> dict[str, Any]:
    svc = service_of(request)
    model = request.query_params.get("model")
    return {"object": "list", "data": await svc.run(svc.voices, model)}
