"""Fixtures of the reliability suite: a sidecar on fake engines, raw clients, the tally."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any, Iterator

import httpx
import pytest
import websockets

from atelico.config import Settings, load_settings
from atelico.models.registry import ModelRegistry
from atelico.protocol.envelope import Message, decode, encode
from tests.reliability import fakes
from tests.reliability.tally import TALLY, Tally

TOKEN = "rel-token-5f0c2a9d81e34b77"
TERMINAL = ("done", "error", "cancelled")


def fake_settings(cache_dir: Path, **limits: Any) -> Settings:
    """Small limits so that oversize inputs are cheap to build; two workers like the default."""
    lim = {"max_frame_bytes": 256 * 1024, "max_upload_bytes": 512 * 1024, "max_input_chars": 2000,
           "max_in_flight": 4, "max_queue": 12, "max_connections": 16, "max_audio_s": 60.0, **limits}
    return load_settings({"server": {"token": TOKEN}, "limits": lim,
                          "models": {"cache_dir": str(cache_dir), "workers": 2, "idle_unload_s": 0,
                                     "preload": []}}, env={})


def fake_registry(settings: Settings, *extra: Any) -> ModelRegistry:
    return ModelRegistry(settings, catalog=fakes.catalog(*extra), defaults=fakes.DEFAULTS)


@pytest.fixture(scope="session")
def tally() -> Tally:
    return TALLY


@pytest.fixture(scope="module")
def fake_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A real uvicorn sidecar on 127.0.0.1 whose models are the fakes (token required)."""
    from tests.server.live import ServerThread

    settings = fake_settings(tmp_path_factory.mktemp("fake-cache"))
    server = ServerThread(settings, fake_registry(settings))
    server.wait_ready(30)
    yield server.live
    server.stop()


@pytest.fixture(autouse=True)
def _reset_fakes() -> Iterator[None]:
    TALLY.touch()  # every module of the suite shows in the summary, counting or not
    fakes.reset()
    yield
    fakes.reset()


@pytest.fixture
def http(fake_server: Any) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=fake_server.http, headers=fake_server.headers, timeout=30) as client:
        yield client


async def connect(live: Any, *, token: str | None = TOKEN, **kw: Any) -> Any:
    """A raw socket after the handshake; asserts the welcome."""
    ws = await websockets.connect(live.ws, max_size=2**26, open_timeout=10, **kw)
    await ws.send(encode(Message("hello", {"protocol": 1, "client": "rel", "token": token})))
    reply = decode(await asyncio.wait_for(ws.recv(), 10))
    assert reply.type == "welcome", reply
    return ws


async def until_terminal(ws: Any, rid: str, timeout_s: float = 20) -> list[Message]:
    """Every message for ``rid`` up to and including its terminal one."""
    out: list[Message] = []
    deadline = time.monotonic() + timeout_s
    while True:
        msg = decode(await asyncio.wait_for(ws.recv(), max(0.01, deadline - time.monotonic())),
                     max_frame_bytes=2**26)
        if msg.id != rid:
            continue
        out.append(msg)
        if msg.type in TERMINAL:
            return out


async def no_more_for(ws: Any, rid: str, quiet_s: float = 0.3) -> bool:
    """True if nothing for ``rid`` arrives within ``quiet_s`` (after its terminal message)."""
    try:
        while True:
            msg = decode(await asyncio.wait_for(ws.recv(), quiet_s), max_frame_bytes=2**26)
            if msg.id == rid:
                return False
    except (asyncio.TimeoutError, TimeoutError):
        return True


def server_status(live: Any) -> dict[str, Any]:
    r = httpx.get(f"{live.http}/v1/status", headers=live.headers, timeout=10)
    r.raise_for_status()
    return r.json()


async def until(condition: Any, what: str, timeout_s: float = 10) -> None:
    """Wait (polling, without blocking the loop) until ``condition()`` holds; fail naming
    ``what`` if it never does, so that a late setup fails instead of passing vacuously."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s:g} s waiting for {what}")
        await asyncio.sleep(0.01)


def wait_idle(live: Any, timeout_s: float = 10) -> dict[str, Any]:
    """Wait until no job is queued or running on the server; return /v1/status."""
    deadline = time.monotonic() + timeout_s
    while True:
        status = server_status(live)
        if status["queue_depth"] == 0 or time.monotonic() > deadline:
            return status
        time.sleep(0.05)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """The suite's figures at the end of every run that included it (``-q`` too)."""
    lines = TALLY.summary()
    if lines:
        terminalreporter.write_sep("-", lines[0])
        for line in lines[1:]:
            terminalreporter.write_line(line)
