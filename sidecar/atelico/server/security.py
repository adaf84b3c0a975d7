"""Who may talk to the sidecar: loopback Host, same-origin browsers, and the launch token.

One rule for both transports: the Host and Origin checks on every HTTP request and every
WebSocket upgrade, and one secret check (:func:`check_token`: the launch token or the API
key) made once per request or session, on the headers or, for a WebSocket whose upgrade
carried none, on its ``hello``. :class:`SecurityMiddleware` applies it to HTTP as pure ASGI
middleware.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import re
from typing import Any, Awaitable, Callable, Mapping, MutableMapping

from starlette.datastructures import Headers, MutableHeaders

from atelico.config import Settings
from atelico.errors import AtelicoError, AuthError

LOOPBACK_NAMES = {"localhost", "127.0.0.1", "::1", "[::1]"}
#: Paths any local caller may read without the token (never without the Host/Origin checks):
#: health, the demo page and its files. A trailing ``/`` opens the whole folder.
OPEN_PATHS = ("/health", "/demo", "/static/", "/favicon.ico")
#: what an unauthenticated caller is told to send, per transport
HTTP_HINT = "send 'Authorization: Bearer <token>'"
HELLO_HINT = "pass the sidecar's launch token in hello.token"
#: the scope key that marks a WebSocket whose upgrade already presented a valid token
UPGRADE_AUTHENTICATED = "atelico.upgrade_authenticated"

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


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


def check_token(presented: str | None, settings: Settings, *, hint: str = HTTP_HINT) -> None:
    """Constant-time comparison with the launch token and the API key (either opens).

    Raises:
        AuthError: ``auth.invalid_token``; the message ends with ``hint`` (how to send it).
    """
    secrets = [s for s in (settings.server.token, settings.server.api_key) if s]
    if not secrets:
        return
    if presented and any(hmac.compare_digest(presented.encode(), s.encode()) for s in secrets):
        return
    raise AuthError(f"missing or wrong token: {hint}")


def is_open_path(path: str) -> bool:
    """Whether ``path`` is one of :data:`OPEN_PATHS` (or below a folder of them)."""
    return any(path == p or path.startswith(p.rstrip("/") + "/") for p in OPEN_PATHS)


def check_request(headers: Mapping[str, str], path: str, settings: Settings) -> None:
    """The HTTP rule: Host and Origin always; outside :data:`OPEN_PATHS` also the fetch site
    and the token in the headers.

    Raises:
        AuthError: ``auth.host``, ``auth.origin`` (403) or ``auth.invalid_token`` (401).
    """
    check_host(headers, settings)
    check_origin(headers, settings)
    if not is_open_path(path):
        check_fetch_site(headers)
        check_token(presented_token(headers), settings)


def check_upgrade(headers: Mapping[str, str], query: Mapping[str, str], scope: Scope,
                  settings: Settings) -> bool:
    """The WebSocket upgrade's part of the rule: Host and Origin, and the token if the
    upgrade presents one (header or ``?token=``). True when that token authenticated the
    session (the scope remembers it, so ``hello`` is not checked again).

    Raises:
        AuthError: a refused Host/Origin, or a wrong token.
    """
    check_host(headers, settings)
    check_origin(headers, settings)
    presented = presented_token(headers, query)
    if presented is None:
        return False
    check_token(presented, settings)
    scope[UPGRADE_AUTHENTICATED] = True
    return True


def check_hello(scope: Scope, hello_token: str | None, settings: Settings) -> None:
    """The hello's part: unless the upgrade already authenticated the session, its token
    (the launch token or the API key, as over HTTP) must open it.

    Raises:
        AuthError: ``auth.invalid_token``.
    """
    if not scope.get(UPGRADE_AUTHENTICATED):
        check_token(hello_token, settings, hint=HELLO_HINT)


class SecurityMiddleware:
    """Pure ASGI middleware applying :func:`check_request` to every HTTP request and
    :data:`SECURITY_HEADERS` to every HTTP response (WebSockets are checked by their route,
    which can refuse an upgrade as busy or forbidden). ``refuse`` renders a refusal."""

    def __init__(self, app: ASGIApp, settings: Settings,
                 refuse: Callable[[AtelicoError], Any]) -> None:
        self.app, self.settings, self.refuse = app, settings, refuse

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        try:
            check_request(Headers(scope=scope), scope["path"], self.settings)
        except AuthError as exc:
            await self.refuse(exc)(scope, receive, send)
            return

        async def send_hardened(message: Message) -> None:
            if message["type"] == "http.response.start":
                add_security_headers(MutableHeaders(scope=message))
            await send(message)

        await self.app(scope, receive, send_hardened)


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
