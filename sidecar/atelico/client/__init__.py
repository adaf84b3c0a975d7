"""Python client for the WebSocket protocol: ``AsyncClient`` (asyncio) and ``Client`` (blocking).

Requests are multiplexed on one socket. Each request method ends when its terminal message
arrives: ``done`` returns, ``error`` raises the matching :class:`atelico.errors.AtelicoError`,
``cancelled`` raises :class:`atelico.errors.Cancelled`. If the socket drops, every pending
request raises ``ConnectionLost`` (code ``connection.lost``); closing the client with requests
in flight ends each with ``client.closed``. A server frame that cannot be decoded closes the
connection (``connection.lost``). The client-side codes are listed in docs/protocol.md.
"""

from __future__ import annotations

from atelico.client.blocking import BlockingSpeech, Client
from atelico.client.connection import AsyncClient
from atelico.client.errors import (ClientClosed, ConnectionLost, ConnectionUnavailable,
                                   HandshakeTimeout, RequestTimeout, error_from_wire)
from atelico.client.messages import Heard, SpeechChunkMsg, SpeechEvent, Synthesis
from atelico.client.streams import LiveSession, SpeechStream

__all__ = [
    "AsyncClient", "BlockingSpeech", "Client", "ClientClosed", "ConnectionLost",
    "ConnectionUnavailable", "HandshakeTimeout", "Heard", "LiveSession", "RequestTimeout",
    "SpeechChunkMsg", "SpeechEvent", "SpeechStream", "Synthesis", "error_from_wire",
]
