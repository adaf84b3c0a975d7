"""How uvicorn serves the app: one config for the CLI and the tests, with a header deadline.

uvicorn times out idle keep-alive connections, but not a connection whose request headers
never complete: a slow client (slow-loris) sending one header line now and then, or
nothing at all, holds a descriptor and a protocol object for as long as it likes. The
protocol below closes such a connection ``header_timeout_s`` after it opened (or after its
previous response ended) unless a request's headers arrived meanwhile.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from atelico.config import Settings

log = logging.getLogger(__name__)


def header_timeout_protocol(header_timeout_s: float) -> type[asyncio.Protocol]:
    """uvicorn's HTTP protocol (h11 or httptools, whichever it would pick) with a deadline
    for complete request headers."""
    from uvicorn.protocols.http.auto import AutoHTTPProtocol

    class HeaderDeadlineProtocol(AutoHTTPProtocol):  # type: ignore[misc, valid-type]
        _header_timer: asyncio.TimerHandle | None = None
        _armed_cycle: Any = None

        def connection_made(self, transport: Any) -> None:
            super().connection_made(transport)
            self._arm_header_timer()

        def on_response_complete(self) -> None:
            super().on_response_complete()
            self._arm_header_timer()

        def connection_lost(self, exc: Exception | None) -> None:
            self._cancel_header_timer()
            super().connection_lost(exc)

        def _arm_header_timer(self) -> None:
            self._cancel_header_timer()
            self._armed_cycle = self.cycle
            self._header_timer = self.loop.call_later(header_timeout_s, self._header_deadline)

        def _cancel_header_timer(self) -> None:
            if self._header_timer is not None:
                self._header_timer.cancel()
                self._header_timer = None

        def _header_deadline(self) -> None:
            self._header_timer = None
            transport = self.transport
            if transport is None or transport.is_closing() or transport.get_protocol() is not self:
                return  # gone, or upgraded to a WebSocket (which has its own hello deadline)
            cycle = self.cycle
            if cycle is not self._armed_cycle or (cycle is not None and not cycle.response_complete):
                return  # a request's headers arrived in time (re-armed when it is answered)
            log.info("closing an HTTP connection whose request headers were not complete "
                     "within %.1f s", header_timeout_s)
            transport.close()

    return HeaderDeadlineProtocol


def uvicorn_config(app: Any, settings: Settings, **overrides: Any) -> Any:
    """The uvicorn config the sidecar runs with (``overrides``: e.g. the log level in tests)."""
    import uvicorn

    options: dict[str, Any] = dict(
        log_level=settings.server.log_level.lower(), access_log=False,
        ws_max_size=2 * settings.limits.max_frame_bytes, ws_ping_interval=20.0,
        ws_ping_timeout=60.0, ws_per_message_deflate=False,  # PCM barely compresses
        timeout_graceful_shutdown=3, lifespan="on",
        timeout_keep_alive=max(1, int(round(settings.limits.header_timeout_s))),
        http=header_timeout_protocol(settings.limits.header_timeout_s))
    options.update(overrides)
    return uvicorn.Config(app, **options)
