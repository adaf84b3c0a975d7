"""Who may talk to the sidecar: loopback Host, same-origin browsers, and the launch token."""

from __future__ import annotations

import hmac
import ipaddress
import logging
import re
from typing import Any, Mapping

from atelico.config import Settings
from atelico.errors import AuthError

LOOPBACK_NAMES = {"localhost", "127.0.0.1", "::1", "[::1]"}
PUBLIC_PATHS = ("/health",)


def is_loopback(host: str) -> bool:
    host = host.strip("[]")
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_bind(settings: Settings) -> None:
    """Refuse a non-loopback bind without an API key (a player's sidecar must not be open)."""
    if not is_loopback(settings.server.host) and not settings.server.api_key:
        raise AuthError(f"refusing to listen on {settings.server.host}: a non-loopback bind "
                        "needs an API key (--api-key or ATELICO_API_KEY)", code="auth.bind_refused")


def _host_name(host_header: str) -> str:
    if host_header.startswith("["):
        return host_header[: host_header.find("]") + 1]
    return host_header.rsplit(":", 1)[0] if host_header.count(":") == 1 else host_header


def check_host(headers: Mapping[str, str], settings: Settings) -> None:
    """Defeat DNS rebinding: the Host header must name this machine's loopback (or the bind)."""
    host = headers.get("host", "")
    name = _host_name(host).lower()
    allowed = LOOPBACK_NAMES | {settings.server.host.lower()}
    if name not in allowed and not is_loopback(name):
        raise AuthError(f"Host {host!r} is not allowed", code="auth.host", http_status=403)


def check_origin(headers: Mapping[str, str], settings: Settings) -> None:
    """Browsers send Origin: only the sidecar's own pages and configured origins may connect."""
    origin = headers.get("origin")
    if origin is None:
        return  # not a browser (engines, curl)
    from urllib.parse import urlsplit

    if origin in settings.server.allowed_origins:
        return
    parts = urlsplit(origin)
    host = headers.get("host", "")
    if parts.scheme in ("http", "https") and parts.netloc == host and is_loopback(_host_name(host).lower()):
        return
    raise AuthError(f"cross-site request from Origin {origin!r} refused", code="auth.origin",
                    http_status=403)


def check_fetch_site(headers: Mapping[str, str]) -> None:
    """Refuse what another page makes a browser fetch without an Origin header.

    An ``<img src>``, ``<script src>``, ``<link>`` or a link to an API route sends no Origin, so
    :func:`check_origin` cannot see it; browsers do send ``Sec-Fetch-Site``. ``cross-site`` and
    ``same-site`` (another port of this host is the same *site*) without an Origin are refused;
    ``same-origin`` (the demo) and ``none`` (typed in the address bar) pass, as do clients
    that send no Sec-Fetch headers (engines, curl).
    """
    site = headers.get("sec-fetch-site", "").lower()
    if site in ("cross-site", "same-site") and headers.get("origin") is None:
        raise AuthError(f"a {site} request without an Origin header (an <img>, <script> or link "
                        "on another page) is refused", code="auth.origin", http_status=403)


#: Sent with every HTTP response: no framing (clickjacking the demo), no Referer leaking a
#: ``?token=`` URL, no content sniffing of audio or JSON as HTML.
SECURITY_HEADERS = {
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "frame-ancestors 'none'",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}


def add_security_headers(headers: Any) -> None:
    """Set :data:`SECURITY_HEADERS` on a response's mutable headers (a route's own CSP stays)."""
    for name, value in SECURITY_HEADERS.items():
        if name not in headers:
            headers[name] = value


def presented_token(headers: Mapping[str, str], query: Mapping[str, str] | None = None) -> str | None:
    auth = headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        return auth[7:].strip()
    if headers.get("x-atelico-token"):
        return headers["x-atelico-token"]
    if query and query.get("token"):
        return query["token"]
    return None


def check_token(presented: str | None, settings: Settings) -> None:
    """Constant-time comparison with the launch token and the API key (either opens)."""
    secrets = [s for s in (settings.server.token, settings.server.api_key) if s]
    if not secrets:
        return
    if presented and any(hmac.compare_digest(presented.encode(), s.encode()) for s in secrets):
        return
    raise AuthError("missing or wrong token: send 'Authorization: Bearer <token>'")


_SECRETS = (
    (re.compile(r"([?&](?:token|api_key)=)[^&\s\"']+", re.IGNORECASE), r"\1***"),
    (re.compile(r"(bearer\s+)[^\s\"']+", re.IGNORECASE), r"\1***"),
    (re.compile(r"(x-atelico-token:\s*)[^\s\"']+", re.IGNORECASE), r"\1***"),
)
#: loggers that print request lines or headers (uvicorn logs ``WebSocket /v1/ws?token=...``)
REDACTED_LOGGERS = ("uvicorn.error", "uvicorn.access", "websockets.server")


class RedactSecrets(logging.Filter):
    """Masks ``?token=`` values and bearer/``X-Atelico-Token`` tokens in log records."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record is not ours to fix
            return True
        redacted = message
        for pattern, replacement in _SECRETS:
            redacted = pattern.sub(replacement, redacted)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


def redact_server_logs() -> None:
    """Install :class:`RedactSecrets` on the server's request loggers (idempotent)."""
    for name in REDACTED_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactSecrets) for f in logger.filters):
            logger.addFilter(RedactSecrets())
