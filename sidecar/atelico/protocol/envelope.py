"""The msgpack envelope ``{type, id, data, payload}`` and its strict decoder."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import msgpack

from atelico.errors import ProtocolError

MAX_ID_BYTES = 64
MAX_TYPE_CHARS = 64
DEFAULT_MAX_FRAME_BYTES = 8 * 2**20


@dataclass(frozen=True)
class Message:
    """One protocol message. ``payload`` carries raw bytes (audio, face weights)."""

    type: str
    data: dict[str, Any] = field(default_factory=dict)
    id: str | None = None
    payload: bytes | None = None


def encode(message: Message) -> bytes:
    """Serialize in canonical form: keys type, id, data, payload; nil id/payload omitted."""
    env: dict[str, Any] = {"type": message.type}
    if message.id is not None:
        env["id"] = message.id
    env["data"] = _drop_none(message.data)
    if message.payload is not None:
        env["payload"] = bytes(message.payload)
    frame: bytes = msgpack.packb(env, use_bin_type=True)
    return frame


def _drop_none(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _drop_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, (list, tuple)):
        return [_drop_none(v) for v in value]
    return value


def peek_id(frame: bytes) -> str | None:
    """Best-effort request id of a frame that failed validation (for error replies)."""
    try:
        env = msgpack.unpackb(frame, raw=False, strict_map_key=True)
    except Exception:
        return None
    if isinstance(env, dict):
        rid = env.get("id")
        if isinstance(rid, str) and 0 < len(rid.encode()) <= MAX_ID_BYTES:
            return rid
    return None


def decode(frame: bytes, *, max_frame_bytes: int = DEFAULT_MAX_FRAME_BYTES) -> Message:
    """Parse and validate one frame.

    Raises:
        ProtocolError: ``protocol.frame_too_large`` or ``protocol.malformed`` with a reason.
    """
    env = _unpack(frame, max_frame_bytes)
    mtype = env.get("type")
    if not isinstance(mtype, str) or not mtype or len(mtype) > MAX_TYPE_CHARS:
        raise ProtocolError("envelope needs a non-empty str 'type'", details={"field": "type"})
    rid = env.get("id")
    if rid is not None and (not isinstance(rid, str) or not rid or len(rid.encode()) > MAX_ID_BYTES):
        raise ProtocolError(f"'id' must be a non-empty str of at most {MAX_ID_BYTES} bytes",
                            details={"field": "id"})
    data = env.get("data", {})
    if not isinstance(data, dict):
        raise ProtocolError("'data' must be a map", details={"field": "data"})
    payload = env.get("payload")
    if payload is not None and not isinstance(payload, (bytes, bytearray)):
        raise ProtocolError("'payload' must be msgpack bin", details={"field": "payload"})
    return Message(type=mtype, data=data, id=rid, payload=bytes(payload) if payload is not None else None)


def _unpack(frame: Any, max_frame_bytes: int) -> dict[Any, Any]:
    """The frame's msgpack map, within the size limit."""
    if not isinstance(frame, (bytes, bytearray, memoryview)):
        raise ProtocolError("frames must be binary msgpack", code="protocol.text_frame")
    if len(frame) > max_frame_bytes:
        raise ProtocolError(f"frame of {len(frame)} bytes exceeds the limit of {max_frame_bytes}",
                            code="protocol.frame_too_large",
                            details={"max_frame_bytes": max_frame_bytes})
    try:
        env = msgpack.unpackb(bytes(frame), raw=False, strict_map_key=True)
    except Exception as exc:  # msgpack's errors, and UnicodeDecodeError and friends from hostile input
        raise ProtocolError(f"frame is not valid msgpack: {exc.__class__.__name__}") from exc
    if not isinstance(env, dict):
        raise ProtocolError("frame must be a msgpack map")
    return env
