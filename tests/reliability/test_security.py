"""Security: loopback bind, the launch token, cross-site browsers and DNS rebinding, secret-free logs."""

from __future__ import annotations

import asyncio
import base64
import logging
import subprocess
import sys

import httpx
import numpy as np
import pytest
import websockets

from atelico.protocol.envelope import Message, decode, encode
from tests.reliability.conftest import TOKEN, connect, until_terminal

pytestmark = pytest.mark.timeout(90)


def test_non_loopback_bind_without_api_key_exits_with_a_clear_message(tally):
    """``atelico serve --host 0.0.0.0`` without an API key exits non-zero before listening,
    saying that a non-loopback bind needs an API key."""
    proc = subprocess.run([sys.executable, "-m", "atelico", "serve", "--host", "0.0.0.0", "--port", "0",
                           "--preload", ""], capture_output=True, text=True, timeout=60,
                          env={"PATH": "/usr/bin:/bin", "HOME": "/tmp"})
    tally.bad()
    assert proc.returncode != 0
    assert "auth.bind_refused" in proc.stderr and "API key" in proc.stderr, proc.stderr
    assert "ATELICO_READY" not in proc.stdout


@pytest.mark.parametrize("headers,status", [
    ({}, 401),
    ({"Authorization": "Bearer wrong"}, 401),
    ({"Authorization": f"Basic {TOKEN}"}, 401),
    ({"Authorization": f"Bearer {TOKEN}"}, 200),
    ({"X-Atelico-Token": TOKEN}, 200),
])
def test_http_routes_need_the_launch_token(fake_server, tally, headers, status):
    """Every route but /health needs the token (Bearer or X-Atelico-Token)."""
    r = httpx.get(f"{fake_server.http}/v1/models", headers=headers, timeout=10)
    tally.bad(status != 200)
    assert r.status_code == status
    if status == 401:
        assert r.json()["error"]["code"] == "auth.invalid_token"
    assert httpx.get(f"{fake_server.http}/health", timeout=10).status_code == 200


async def test_ws_token_in_the_upgrade_header_or_in_hello(fake_server, tally):
    """The engine add-ons may pass the token as an upgrade header or in hello; a wrong header
    token refuses the upgrade before any message is read."""
    async with websockets.connect(fake_server.ws, additional_headers={"Authorization": f"Bearer {TOKEN}"}) as ws:
        await ws.send(encode(Message("hello", {"protocol": 1, "client": "hdr"})))
        assert decode(await asyncio.wait_for(ws.recv(), 10)).type == "welcome"
    ws = await connect(fake_server)  # token in hello
    await ws.close()
    with pytest.raises(websockets.InvalidStatus) as err:
        async with websockets.connect(fake_server.ws, additional_headers={"X-Atelico-Token": "wrong"}) as ws:
            await ws.recv()
    tally.bad()
    assert err.value.response.status_code == 403


EVIL = [
    ("cross-site origin", {"Origin": "https://evil.example"}),
    ("null origin (sandboxed iframe, file://)", {"Origin": "null"}),
    ("localhost origin on another port", {"Origin": "http://127.0.0.1:1"}),
    ("DNS rebinding host", {"Host": "attacker.example:{port}", "Origin": "http://attacker.example:{port}"}),
    ("rebinding host without origin", {"Host": "attacker.example"}),
    ("host that merely contains localhost", {"Host": "localhost.attacker.example"}),
]


@pytest.mark.parametrize("case", EVIL, ids=[c[0] for c in EVIL])
def test_cross_site_http_is_refused_even_with_the_token(fake_server, tally, case):
    """A browser page elsewhere (or a rebinding DNS name) cannot drive the sidecar over HTTP,
    health and CORS preflights included, even if it somehow knows the token."""
    headers = {k: v.format(port=fake_server.port) for k, v in case[1].items()}
    with httpx.Client(base_url=fake_server.http, timeout=10) as http:
        for method, path in (("GET", "/health"), ("GET", "/v1/models"), ("OPTIONS", "/v1/audio/speech"),
                             ("POST", "/v1/audio/speech")):
            r = http.request(method, path, headers={**headers, "Authorization": f"Bearer {TOKEN}"},
                             json={"model": "fake-tts", "input": "pwned"} if method == "POST" else None)
            tally.bad()
            assert r.status_code == 403, (method, path, r.status_code)
            assert r.json()["error"]["code"] in ("auth.origin", "auth.host")
            assert "access-control-allow-origin" not in r.headers


@pytest.mark.parametrize("case", EVIL, ids=[c[0] for c in EVIL])
async def test_cross_site_websocket_upgrade_is_refused(fake_server, tally, case):
    """The same checks guard the WebSocket upgrade: it is refused before any message."""
    headers = {k: v.format(port=fake_server.port) for k, v in case[1].items()}
    origin = headers.pop("Origin", None)
    host = headers.pop("Host", None)
    url = fake_server.ws if host is None else f"ws://{host}/v1/ws"
    kwargs = {"origin": origin} if origin else {}
    if host is not None:  # connect to the real address while sending the hostile Host header
        kwargs["host"], kwargs["port"] = "127.0.0.1", fake_server.port
    with pytest.raises(websockets.InvalidStatus) as err:
        async with websockets.connect(url, **kwargs) as ws:
            await ws.send(encode(Message("hello", {"protocol": 1, "token": TOKEN})))
            await ws.recv()
    tally.bad()
    assert err.value.response.status_code == 403


def test_same_origin_demo_page_is_allowed(fake_server):
    """The sidecar's own page (same Origin as Host, loopback) may call it."""
    origin = f"http://127.0.0.1:{fake_server.port}"
    r = httpx.get(f"{fake_server.http}/v1/models", headers={"Origin": origin, **fake_server.headers}, timeout=10)
    assert r.status_code == 200


async def test_logs_hold_no_token_and_no_audio(fake_server, caplog, tally):
    """Requests carrying the token and audio, failing ones included, leave neither the token
    nor any base64/hex of the audio in the server's log records (all levels)."""
    caplog.set_level(logging.DEBUG)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):  # ServerThread quietened them
        caplog.set_level(logging.DEBUG, logger=name)
    audio = (np.random.default_rng(5).standard_normal(8000) * 3000).astype("<i2").tobytes()
    with httpx.Client(base_url=fake_server.http, headers=fake_server.headers, timeout=30) as http:
        http.post("/v1/audio/transcriptions", data={"model": "fake-stt"}, files={"file": ("a.raw", audio)})
        http.post("/v1/audio/speech", json={"model": "broken-tts", "input": "secret text"})
        http.post("/v1/audio/speech", json={"model": "fake-tts", "input": "one CRASHNOW two"})
        http.get("/v1/models", headers={"Authorization": f"Bearer {TOKEN}x"})
    async with websockets.connect(f"{fake_server.ws}?token={TOKEN}") as ws:
        await ws.send(encode(Message("hello", {"protocol": 1, "client": "logs", "token": TOKEN})))
        decode(await ws.recv())
        pcm = {"sample_rate_hz": 16000, "sample_format": "s16le", "channels": 1}
        await ws.send(encode(Message("stt.transcribe", {"model": "fake-stt", **pcm}, id="t", payload=audio)))
        await until_terminal(ws, "t")
        await ws.send(encode(Message("stt.transcribe", {"model": "nope", **pcm}, id="u", payload=audio)))
        await until_terminal(ws, "u")
    async with websockets.connect(fake_server.ws) as ws:
        await ws.send(encode(Message("hello", {"protocol": 1, "token": TOKEN + "zz"})))
        decode(await ws.recv())
    tally.fault(6)
    server = [r for r in caplog.records if r.name.split(".")[0] in ("atelico", "uvicorn", "starlette", "fastapi")]
    text = "\n".join(r.getMessage() + (logging.Formatter().formatException(r.exc_info) if r.exc_info else "")
                     for r in server)
    assert any(r.exc_info for r in server), "no failure was logged: the test would prove little"
    assert tally.check(TOKEN not in text, "token in logs"), [r.getMessage() for r in server if TOKEN in r.getMessage()]
    for needle in (base64.b64encode(audio[:600]).decode()[:40], audio[:40].hex()):
        assert tally.check(needle not in text, "audio in logs")


async def test_one_secret_rule_for_http_and_websocket(tmp_path, tally):
    """With a launch token and an API key, either opens both transports: an HTTP route, the
    WebSocket upgrade and the hello (which before took the token only); a wrong key in hello
    is auth.invalid_token, and an upgrade that authenticated needs no token in hello."""
    from tests.reliability.conftest import fake_registry, fake_settings
    from tests.server.live import ServerThread

    api_key = "rel-api-key-0d3f"
    settings = fake_settings(tmp_path)
    settings = settings.model_copy(update={"server": settings.server.model_copy(update={"api_key": api_key})})
    server = ServerThread(settings, fake_registry(settings))
    server.wait_ready(30)
    live = server.live
    try:
        for secret in (TOKEN, api_key):
            r = httpx.get(f"{live.http}/v1/models", headers={"Authorization": f"Bearer {secret}"}, timeout=10)
            assert r.status_code == 200
            ws = await connect(live, token=secret)  # asserts the welcome
            await ws.close()
        async with websockets.connect(live.ws, additional_headers={"X-Atelico-Token": api_key}) as ws:
            await ws.send(encode(Message("hello", {"protocol": 1, "client": "upgrade-key"})))
            assert decode(await asyncio.wait_for(ws.recv(), 10)).type == "welcome"
        async with websockets.connect(live.ws) as ws:
            await ws.send(encode(Message("hello", {"protocol": 1, "client": "bad", "token": api_key + "x"})))
            reply = decode(await asyncio.wait_for(ws.recv(), 10))
            tally.bad()
            assert reply.type == "error" and reply.data["code"] == "auth.invalid_token"
            assert "hello.token" in reply.data["message"]
    finally:
        server.stop()
