"""Health, readiness and status: what launchers and dashboards poll (no model work)."""

from __future__ import annotations

import os
import time
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from atelico import __version__
from atelico.errors import redact_paths
from atelico.server.http import service_of

router = APIRouter(tags=["health"])
status_router = APIRouter(tags=["status"])


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


@status_router.get("/v1/status")
def status(request: Request) -> dict[str, Any]:
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

