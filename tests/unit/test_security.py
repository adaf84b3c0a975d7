"""server.security without a server: the one auth rule (HTTP headers, WebSocket upgrade,
hello), the Host/Origin checks, and the pure ASGI middleware driven by hand."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest

from atelico.config import load_settings
from atelico.errors import AuthError
from atelico.server import security
from atelico.server.errors import error_response

TOKEN, KEY = "launch-token-123", "api-key-456"


def settings(**server: Any) -> Any:
    return load_settings({"server": server}, env={})


@pytest.mark.parametrize("presented,opens", [(TOKEN, True), (KEY, True), (None, False), ("", False),
                                            ("launch-token-12", False), (TOKEN + "x", False)])
def test_the_launch_token_or_the_api_key_opens(presented, opens):
    s = settings(token=TOKEN, api_key=KEY)
    if opens:
        security.check_token(presented, s)
    else:
        with pytest.raises(AuthError) as err:
            security.check_token(presented, s)
        assert err.value.code == "auth.invalid_token" and err.value.http_status == 401


def test_no_secret_configured_opens_everything():
    security.check_token(None, settings())
    security.check_hello({}, None, settings())


def test_hello_takes_the_api_key_as_http_does_and_names_hello_token():
    """The WebSocket hello follows the HTTP rule (token or API key); its refusal says where
    the token goes."""
    s = settings(token=TOKEN, api_key=KEY)
    security.check_hello({}, KEY, s)
    security.check_hello({}, TOKEN, s)
    with pytest.raises(AuthError, match="hello.token"):
        security.check_hello({}, "wrong", s)


def test_an_authenticated_upgrade_is_not_checked_again_at_hello():
    s = settings(token=TOKEN)
    scope: dict[str, Any] = {}
    assert security.check_upgrade({"host": "127.0.0.1:1"}, {"token": TOKEN}, scope, s) is True
    security.check_hello(scope, None, s)  # the session is open already
    fresh: dict[str, Any] = {}
    assert security.check_upgrade({"host": "127.0.0.1:1"}, {}, fresh, s) is False
    with pytest.raises(AuthError):
        security.check_hello(fresh, None, s)
    with pytest.raises(AuthError):
        security.check_upgrade({"host": "127.0.0.1:1", "x-atelico-token": "bad"}, {}, {}, s)


@pytest.mark.parametrize("headers,query,expected", [
    ({"authorization": "Bearer  abc "}, None, "abc"),
    ({"authorization": "bearer abc"}, None, "abc"),
    ({"authorization": "Basic abc"}, None, None),
    ({"x-atelico-token": "t"}, None, "t"),
    ({}, {"token": "q"}, "q"),
    ({"authorization": "Bearer h"}, {"token": "q"}, "h"),
    ({}, None, None),
])
def test_presented_token_sources(headers, query, expected):
    assert security.presented_token(headers, query) == expected


@pytest.mark.parametrize("host,ok", [("127.0.0.1:11434", True), ("localhost", True), ("[::1]:80", True),
                                     ("127.5.5.5:1", True), ("attacker.example", False),
                                     ("localhost.attacker.example", False), ("", False)])
def test_host_must_be_loopback(host, ok):
    if ok:
        security.check_host({"host": host}, settings())
    else:
        with pytest.raises(AuthError) as err:
            security.check_host({"host": host}, settings())
        assert err.value.code == "auth.host" and err.value.http_status == 403


@pytest.mark.parametrize("origin,ok", [(None, True), ("http://127.0.0.1:11434", True),
                                       ("http://127.0.0.1:1", False), ("null", False),
                                       ("https://evil.example", False), ("https://game.test", True)])
def test_origin_is_same_origin_or_configured(origin, ok):
    s = settings(allowed_origins=["https://game.test"])
    headers = {"host": "127.0.0.1:11434", **({"origin": origin} if origin else {})}
    if ok:
        security.check_origin(headers, s)
    else:
        with pytest.raises(AuthError) as err:
            security.check_origin(headers, s)
        assert err.value.code == "auth.origin"


@pytest.mark.parametrize("site,origin,ok", [("cross-site", None, False), ("same-site", None, False),
                                            ("same-origin", None, True), ("none", None, True),
                                            ("", None, True), ("cross-site", "http://x", True)])
def test_fetch_site_without_origin(site, origin, ok):
    headers = {"sec-fetch-site": site, **({"origin": origin} if origin else {})}
    if ok:
        security.check_fetch_site(headers)
    else:
        with pytest.raises(AuthError):
            security.check_fetch_site(headers)


@pytest.mark.parametrize("path,open_", [("/health", True), ("/health/ready", True), ("/demo", True),
                                        ("/static/app.js", True), ("/favicon.ico", True),
                                        ("/healthz", False), ("/v1/models", False), ("/", False),
                                        ("/staticx", False)])
def test_open_paths(path, open_):
    assert security.is_open_path(path) is open_


def test_non_loopback_bind_needs_an_api_key():
    with pytest.raises(AuthError) as err:
        security.check_bind(settings(host="0.0.0.0"))
    assert err.value.code == "auth.bind_refused"
    security.check_bind(settings(host="0.0.0.0", api_key=KEY))
    security.check_bind(settings())


# ---------------------------------------------------------------------- the middleware by hand
def _drive(mw: security.SecurityMiddleware, path: str, headers: dict[str, str],
           scope_type: str = "http") -> tuple[list[dict[str, Any]], list[str]]:
    """Run one request through ``mw``; (messages sent, the inner app's calls)."""
    calls.clear()
    sent: list[dict[str, Any]] = []
    scope = {"type": scope_type, "path": path, "method": "GET", "query_string": b"",
             "headers": [(k.encode(), v.encode()) for k, v in headers.items()]}

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(mw(scope, receive, send))
    return sent, calls


calls: list[str] = []


async def _inner(scope: Any, receive: Any, send: Any) -> None:
    calls.append(scope["path"])
    if scope["type"] == "http":
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-security-policy", b"default-src 'self'")]})
        await send({"type": "http.response.body", "body": b"ok"})


def _headers(start: dict[str, Any]) -> dict[str, str]:
    return {k.decode().lower(): v.decode() for k, v in start["headers"]}


def test_middleware_refuses_before_the_app_with_the_error_shape():
    mw = security.SecurityMiddleware(_inner, settings(token=TOKEN), refuse=error_response)
    sent, inner = _drive(mw, "/v1/models", {"host": "127.0.0.1:1"})
    assert inner == [] and sent[0]["status"] == 401
    assert b'"auth.invalid_token"' in sent[1]["body"]
    assert _headers(sent[0])["x-frame-options"] == "DENY"  # refusals are hardened too
    sent, inner = _drive(mw, "/health", {"host": "evil.example"})
    assert inner == [] and sent[0]["status"] == 403 and b'"auth.host"' in sent[1]["body"]


def test_middleware_passes_and_hardens_every_response_keeping_a_routes_own_csp():
    mw = security.SecurityMiddleware(_inner, settings(token=TOKEN), refuse=error_response)
    sent, inner = _drive(mw, "/v1/models", {"host": "127.0.0.1:1", "authorization": f"Bearer {KEY}x"})
    assert inner == [] and sent[0]["status"] == 401
    sent, inner = _drive(mw, "/v1/models", {"host": "127.0.0.1:1", "authorization": f"Bearer {TOKEN}"})
    assert inner == ["/v1/models"] and sent[0]["status"] == 200
    headers = _headers(sent[0])
    assert headers["x-content-type-options"] == "nosniff" and headers["referrer-policy"] == "no-referrer"
    assert headers["content-security-policy"] == "default-src 'self'"
    sent, inner = _drive(mw, "/health", {"host": "localhost"})
    assert inner == ["/health"] and sent[0]["status"] == 200


def test_middleware_leaves_websockets_to_their_route():
    mw = security.SecurityMiddleware(_inner, settings(token=TOKEN), refuse=error_response)
    sent, inner = _drive(mw, "/v1/ws", {"host": "evil.example"}, scope_type="websocket")
    assert inner == ["/v1/ws"] and sent == []


def test_log_filter_masks_tokens():
    record = logging.LogRecord("uvicorn.error", logging.INFO, __file__, 1,
                               'WebSocket /v1/ws?token=%s "Authorization: Bearer abc" x-atelico-token: zz',
                               (TOKEN,), None)
    security.RedactSecrets().filter(record)
    text = record.getMessage()
    assert TOKEN not in text and "abc" not in text and "zz" not in text and text.count("***") == 3
