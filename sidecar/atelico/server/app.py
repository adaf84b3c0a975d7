"""The one ASGI app: HTTP routes and the WebSocket on the same port, behind the security checks."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from pathlib import Path
from typing import Any, AsyncIterator

from fastapi import FastAPI, WebSocket
from starlette.responses import Response

from atelico import __version__
from atelico.config import Settings
from atelico.errors import AtelicoError, AuthError, LimitError
from atelico.models.registry import ModelRegistry
from atelico.server import openapi, security
from atelico.server.errors import error_response, install_error_handlers
from atelico.server.routes import router
from atelico.server.jobs import JobManager
from atelico.server.jobs import router as jobs_router
from atelico.server.security import Message, Receive, Scope, Send
from atelico.server.ws import serve_ws
from atelico.service import CLIENT, Service

log = logging.getLogger(__name__)
STATIC_DIR = Path(__file__).resolve().parent.parent / "web"


class ClientTag:
    """Pure ASGI middleware: names an HTTP request's connection, its share of the queue."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            peer = scope.get("client")
            CLIENT.set(f"http:{peer[0]}:{peer[1]}" if peer else "http")
        await self.app(scope, receive, send)


def create_app(settings: Settings, registry: ModelRegistry | None = None) -> FastAPI:
    """Build the app. ``registry`` may be injected (tests use fake engines)."""
    registry = registry or ModelRegistry(settings)
    service = Service(settings, registry)
    security.redact_server_logs()  # uvicorn logs request lines, which may carry ?token=

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        registry.start()
        app.state.preload_task = asyncio.create_task(_preload(app))
        try:
            yield
        finally:
            app.state.preload_task.cancel()
            service.close()
            registry.close()

    app = FastAPI(title="Atelico sidecar", version=__version__, lifespan=lifespan,
                  docs_url="/docs", redoc_url=None)
    app.state.settings = settings
    app.state.service = service
    app.state.readiness = "loading"
    app.state.preload_errors = []
    app.state.readiness_error = None
    app.state.connections = 0  # authenticated WebSocket sessions
    app.state.pending_connections = 0  # WebSocket sessions before their hello
    app.state.jobs = JobManager()
    # outermost last: disconnect watch, then the security rule, then the client's name
    app.add_middleware(ClientTag)
    app.add_middleware(security.SecurityMiddleware, settings=settings, refuse=error_response)
    app.add_middleware(CancelOnDisconnect)
    install_error_handlers(app, service.record_error)

    app.include_router(router, responses=openapi.ERROR_RESPONSES)
    app.include_router(jobs_router, responses=openapi.ERROR_RESPONSES)

    @app.websocket("/v1/ws")
    async def websocket(ws: WebSocket) -> None:
        try:
            authenticated = security.check_upgrade(ws.headers, ws.query_params, ws.scope, settings)
        except AuthError as exc:
            log.warning("websocket refused: %s", exc.code)
            await _refuse_upgrade(ws, exc, 1008)
            return
        limits = settings.limits
        # a token in the upgrade already authenticated it; others wait for hello in a budget
        # of their own, so sockets that never say hello cannot fill max_connections
        pending = not authenticated
        if pending and app.state.pending_connections >= limits.max_pending_connections:
            await _refuse_upgrade(ws, _too_many(limits.max_pending_connections, "waiting for hello"), 1013)
            return
        app.state.pending_connections += int(pending)
        counted = False

        def admit() -> AtelicoError | None:
            """Called once authenticated: count the session, or refuse it as busy."""
            nonlocal counted, pending
            if pending:
                app.state.pending_connections -= 1
                pending = False
            if app.state.connections >= limits.max_connections:
                return _too_many(limits.max_connections, "open")
            app.state.connections += 1
            counted = True
            return None

        try:
            await serve_ws(ws, service, admit)
        finally:
            app.state.connections -= int(counted)
            app.state.pending_connections -= int(pending)

    _mount_web(app)
    return app


def _too_many(limit: int, what: str) -> LimitError:
    return LimitError(f"the sidecar already has {limit} WebSocket connections {what}; retry shortly",
                      code="limits.too_many_connections", http_status=503, details={"limit": limit})


async def _refuse_upgrade(ws: WebSocket, exc: AtelicoError, close_code: int) -> None:
    """Refuse a WebSocket before accepting it, so that "busy" and "forbidden" differ: an HTTP
    response with the JSON ``{"error": {"code", "message"}}`` body where the server supports
    denial responses, else accept and close at once with the code as the close reason."""
    if "websocket.http.response" in ws.scope.get("extensions", {}):
        response = error_response(exc)
        if isinstance(exc, AuthError):
            response.status_code = 403  # what a refused upgrade always answered; the body tells why
        await ws.send_denial_response(response)
        return
    await ws.accept()
    await ws.close(code=close_code, reason=exc.code)


class CancelOnDisconnect:
    """Cancel an HTTP request's work as soon as its client disconnects.

    A non-streamed synthesis (or a transcription, a face run) awaits its result without
    reading from the connection, so nothing would notice a client that went away and the
    workers would keep computing for nobody. Once the request body has been read, this
    middleware keeps waiting for the server's ``http.disconnect``; if it comes before the
    response is complete, the request's task is cancelled (the service then stops the
    engine between chunks/windows and frees the worker and the queue slot).
    """

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        watcher: asyncio.Future[Message] | None = None
        completed = False
        task = asyncio.current_task()
        cancelled_here = False

        def on_message(fut: asyncio.Future[Message]) -> None:
            nonlocal cancelled_here
            if fut.cancelled() or fut.exception() is not None:
                return
            if fut.result().get("type") == "http.disconnect" and not completed and task is not None:
                cancelled_here = True
                task.cancel()

        async def receive_proxy() -> Message:
            nonlocal watcher
            if watcher is not None:  # the body is read: the only message left is the disconnect
                return await asyncio.shield(watcher)
            message = await receive()
            if message["type"] == "http.request" and not message.get("more_body", False):
                watcher = asyncio.ensure_future(receive())
                watcher.add_done_callback(on_message)
            return message

        async def send_proxy(message: Message) -> None:
            nonlocal completed
            if message["type"] == "http.response.body" and not message.get("more_body", False):
                completed = True
            await send(message)

        try:
            await self.app(scope, receive_proxy, send_proxy)
        except asyncio.CancelledError:
            if not cancelled_here:
                raise
            task.uncancel()  # type: ignore[union-attr]  # this cancel is handled here
            log.info("%s %s: the client disconnected; its work was cancelled",
                     scope.get("method"), scope.get("path"))
        finally:
            if watcher is not None and not watcher.done():
                watcher.cancel()


def _mount_web(app: FastAPI) -> None:
    if not STATIC_DIR.is_dir():
        return
    from fastapi.responses import FileResponse, RedirectResponse
    from fastapi.staticfiles import StaticFiles

    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    @app.get("/demo", response_class=FileResponse, responses=openapi.ERROR_RESPONSES)
    async def demo() -> Response:
        return FileResponse(STATIC_DIR / "index.html", media_type="text/html")

    @app.get("/", include_in_schema=False)
    async def root() -> Response:
        return RedirectResponse("/demo")


async def _preload(app: FastAPI) -> None:
    """Load the configured models in the background; /health/ready reports the outcome."""
    service: Service = app.state.service
    loop = asyncio.get_running_loop()
    ids = list(service.settings.models.preload)

    def load() -> dict[str, AtelicoError]:
        """Off the event loop (resolving looks at the disk): an unknown id fails readiness
        at once, before anything loads."""
        unknown: dict[str, AtelicoError] = {}
        for mid in ids:
            try:
                service.registry.resolve(mid)
            except AtelicoError as exc:
                unknown[mid] = exc
        return unknown or service.registry.preload(ids)

    try:
        failures = await loop.run_in_executor(None, load)
    except AtelicoError as failure:
        failures = {"preload": failure}
    # {model, code, message}: shown to unauthenticated callers, so paths are redacted
    app.state.preload_errors = [{"model": mid, "code": exc.code, "message": exc.to_dict()["message"]}
                                for mid, exc in failures.items()]
    if failures:  # what launchers show: the first failure's code and message (docs/launch.md)
        first = app.state.preload_errors[0]
        app.state.readiness_error = {"code": first["code"],
                                     "message": f"preloading {first['model']!r}: {first['message']}"}
    app.state.readiness = "error" if failures else "ready"
    if failures:
        for mid, exc in failures.items():
            log.error("preloading %s failed: %s", mid, exc.message)  # the log keeps the paths
