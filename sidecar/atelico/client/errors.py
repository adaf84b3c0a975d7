"""The client's own errors and the typed exception for a server ``error`` message."""

from __future__ import annotations

from typing import Any, Mapping

from atelico import errors


class ConnectionLost(errors.AtelicoError):
    code = "connection.lost"
    http_status = 503


class ConnectionUnavailable(ConnectionLost):
    """The socket could not be opened (nothing listens, the upgrade was refused)."""

    code = "connection.unavailable"


class HandshakeTimeout(ConnectionLost):
    code = "connection.handshake_timeout"


class RequestTimeout(errors.AtelicoError):
    """No message for the request within its timeout (the client then sends ``cancel``)."""

    code = "request.timeout"
    http_status = 504


class ClientClosed(errors.AtelicoError):
    code = "client.closed"
    http_status = 503


_BY_PREFIX: list[tuple[str, type[errors.AtelicoError]]] = [
    ("request.input_too_long", errors.InputTooLong), ("request.", errors.RequestError),
    ("audio.", errors.AudioError), ("model.unknown", errors.UnknownModel),
    ("model.not_installed", errors.ModelNotInstalled), ("model.integrity", errors.ModelIntegrity),
    ("model.", errors.ModelLoadFailed), ("voice.", errors.VoiceError),
    ("language.", errors.LanguageError), ("protocol.", errors.ProtocolError),
    ("limits.", errors.LimitError), ("auth.", errors.AuthError), ("cancelled", errors.Cancelled),
    ("connection.unavailable", ConnectionUnavailable), ("connection.", ConnectionLost),
    ("engine.", errors.EngineError),
]


def error_from_wire(data: Mapping[str, Any]) -> errors.AtelicoError:
    """Rebuild the typed exception for an ``error`` message's data."""
    code = str(data.get("code", "internal"))
    cls = next((c for prefix, c in _BY_PREFIX if code.startswith(prefix)), errors.AtelicoError)
    return cls(str(data.get("message", code)), code=code, details=data.get("details") or {})
