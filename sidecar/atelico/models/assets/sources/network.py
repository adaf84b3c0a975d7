"""Whether the network may be used, and a fast reachability probe (no retries for minutes)."""

from __future__ import annotations

import os
import socket
import threading
import time
from urllib.parse import urlparse

from atelico.config import Settings
from atelico.models.assets.sources.base import SourceUnavailable

PROBE_TIMEOUT_S = 3.0
_PROBE_TTL_S = 60.0

_probe_lock = threading.Lock()
_probe_cache: dict[str, tuple[float, str | None]] = {}


def network_allowed(settings: Settings) -> bool:
    """False with ``models.offline`` or ``HF_HUB_OFFLINE`` set."""
    flag = os.environ.get("HF_HUB_OFFLINE", "").strip().lower()
    return not settings.models.offline and flag not in {"1", "true", "yes", "on"}


def hub_endpoint() -> str:
    return os.environ.get("HF_ENDPOINT", "https://huggingface.co").rstrip("/")


def reachable(url: str) -> str | None:
    """``None`` if a TCP connection to the URL's host opens within seconds, else the reason."""
    parsed = urlparse(url)
    host = parsed.hostname or ""
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    key = f"{host}:{port}"
    with _probe_lock:
        hit = _probe_cache.get(key)
        if hit and time.monotonic() - hit[0] < _PROBE_TTL_S:
            return hit[1]
    reason: str | None = None
    try:
        with socket.create_connection((host, port), timeout=PROBE_TIMEOUT_S):
            pass
    except OSError as exc:
        reason = f"{host} is unreachable ({exc.strerror or exc})"
    with _probe_lock:
        _probe_cache[key] = (time.monotonic(), reason)
    return reason


def require_network(settings: Settings, url: str) -> None:
    """Raise :class:`SourceUnavailable` when offline or when ``url``'s host is unreachable."""
    if not network_allowed(settings):
        raise SourceUnavailable("offline (models.offline / HF_HUB_OFFLINE): not downloading")
    reason = reachable(url)
    if reason:
        raise SourceUnavailable(reason)
