"""The HTTP routes, one router per group; :data:`router` holds them all."""

from __future__ import annotations

from fastapi import APIRouter

from atelico.server.routes import catalog, face, health, speech, transcription

router = APIRouter()
for group in (health.router, catalog.models_router, catalog.voices_router, health.status_router,
              speech.router, transcription.router, face.router):
    router.include_router(group)

__all__ = ["router"]
