"""Session messages: hello/welcome handshake, ping/pong, cancel and the terminal messages."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Sequence

from atelico.errors import AtelicoError, ProtocolError, RequestError
from atelico.protocol.envelope import Message
from atelico.protocol.fields import Fields

PROTOCOL_VERSION = 1
SUPPORTED_VERSIONS = (1,)

HELLO = "hello"
WELCOME = "welcome"
PING = "ping"
PONG = "pong"
CANCEL = "cancel"
ERROR = "error"
DONE = "done"
CANCELLED = "cancelled"
MODELS_LIST = "models.list"
VOICES_LIST = "voices.list"

TERMINAL_TYPES = frozenset({ERROR, DONE, CANCELLED})


@dataclass(frozen=True)
class Hello:
    """The client's first message."""

    protocol: int
    client: str
    client_version: str
    token: str | None = None

    @classmethod
    def from_message(cls, msg: Message) -> "Hello":
        if msg.type != HELLO:
            raise ProtocolError(f"the first message must be 'hello', got {msg.type!r}",
                                code="protocol.hello_required")
        f = Fields(msg.data)
        version = msg.data.get("protocol")
        if isinstance(version, bool) or not isinstance(version, int):
            raise ProtocolError("hello needs an integer 'protocol' version",
                                code="protocol.version", details={"supported": list(SUPPORTED_VERSIONS)})
        if version not in SUPPORTED_VERSIONS:
            raise ProtocolError(f"protocol version {version} is not supported; this server speaks "
                                f"{list(SUPPORTED_VERSIONS)}", code="protocol.version",
                                details={"supported": list(SUPPORTED_VERSIONS)})
        return cls(protocol=version, client=f.str("client", "unknown", max_len=64) or "unknown",
                   client_version=f.str("client_version", "", max_len=64) or "",
                   token=f.str("token", None, max_len=512))

    def to_message(self) -> Message:
        return Message(HELLO, {"protocol": self.protocol, "client": self.client,
                               "client_version": self.client_version, "token": self.token})


def welcome(*, server_version: str, session: str, models: Sequence[Mapping[str, object]],
            capabilities: list[str], limits: dict[str, Any]) -> Message:
    return Message(WELCOME, {"protocol": PROTOCOL_VERSION, "server": "atelico",
                             "server_version": server_version, "session": session,
                             "models": models, "capabilities": capabilities, "limits": limits})


def error(request_id: str | None, exc: AtelicoError) -> Message:
    """The terminal error for a request (or a connection-level error when id is None)."""
    return Message(ERROR, exc.to_dict(), id=request_id)


def done(request_id: str, data: dict[str, Any] | None = None, payload: bytes | None = None) -> Message:
    return Message(DONE, data or {}, id=request_id, payload=payload)


def cancelled(request_id: str, data: dict[str, Any] | None = None) -> Message:
    """The terminal of a cancelled request; a barge-in (a ``cancel`` with ``played_samples``
    for a speech stream) carries what was heard (see ``protocol.tts.heard``)."""
    return Message(CANCELLED, data or {}, id=request_id)


def played_samples(cancel: Message) -> int | None:
    """The ``played_samples`` of a ``cancel`` (barge-in), or None when it has none.

    Raises:
        RequestError: not a non-negative integer.
    """
    value = (cancel.data or {}).get("played_samples")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise RequestError("'played_samples' must be a non-negative integer",
                           code="request.invalid", details={"field": "played_samples"})
    return value


def pong(request_id: str | None, data: dict[str, Any]) -> Message:
    return Message(PONG, {"t": data["t"]} if "t" in data else {}, id=request_id)
