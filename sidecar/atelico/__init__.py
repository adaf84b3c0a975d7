"""Atelico: an on-device audio runtime for games (TTS, STT, audio-to-face).

``from atelico import Engine`` gives the in-process API; ``Client``/``AsyncClient`` talk to a
running sidecar over the WebSocket protocol. Both import their dependencies lazily.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"
PROTOCOL_VERSION = 1

__all__ = ["__version__", "PROTOCOL_VERSION", "Engine", "Client", "AsyncClient"]


def __getattr__(name: str) -> Any:
    if name == "Engine":
        from atelico.engine import Engine

        return Engine
    if name in ("Client", "AsyncClient"):
        from atelico import client

        return getattr(client, name)
    raise AttributeError(name)
