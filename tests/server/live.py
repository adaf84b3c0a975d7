"""A real sidecar on 127.0.0.1:<free port>, run in a background thread (uvicorn + websockets)."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from dataclasses import dataclass

from atelico.config import Settings
from atelico.models.registry import ModelRegistry


@dataclass
class LiveServer:
    """Where a test server listens and how to reach it."""

    host: str
    port: int
    token: str | None
    settings: Settings
    app: object

    @property
    def http(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def ws(self) -> str:
        return f"ws://{self.host}:{self.port}/v1/ws"

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}


class ServerThread:
    """Start ``create_app(settings, registry)`` under uvicorn on port 0; ``stop()`` shuts it down."""

    def __init__(self, settings: Settings, registry: ModelRegistry | None = None) -> None:
        import uvicorn

        from atelico.server.app import create_app

        self.app = create_app(settings, registry)
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        from atelico.server.transport import uvicorn_config

        # the sidecar's own uvicorn config (header deadline, keep-alive, frame size)
        config = uvicorn_config(self.app, settings, log_level="warning", timeout_graceful_shutdown=2)
        self.server = uvicorn.Server(config)
        self.server.install_signal_handlers = lambda: None  # type: ignore[method-assign]
        self.thread = threading.Thread(target=lambda: asyncio.run(self.server.serve(sockets=[self.sock])),
                                       daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("test server did not start")
            time.sleep(0.02)
        self.live = LiveServer("127.0.0.1", self.port, settings.server.token, settings, self.app)

    def wait_ready(self, timeout_s: float = 120) -> None:
        deadline = time.monotonic() + timeout_s
        while self.app.state.readiness == "loading":
            if time.monotonic() > deadline:
                raise RuntimeError("models did not preload in time")
            time.sleep(0.05)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)
        self.sock.close()
