"""Exception root of the sidecar; every error maps to a wire code and an HTTP status.

AtelicoError
├── RequestError            400  request.*   (bad or missing fields)
│   └── InputTooLong        413  request.input_too_long
├── AudioError              400  audio.*     (undecodable, empty, too long audio)
├── ModelError
│   ├── UnknownModel        404  model.unknown
│   ├── ModelNotInstalled   424  model.not_installed
│   ├── ModelIntegrity      500  model.integrity
│   └── ModelLoadFailed     500  model.load_failed
├── VoiceError              404  voice.unknown / 400 voice.*
├── LanguageError           400  language.unsupported
├── ProtocolError           400  protocol.*  (malformed frames, version)
├── LimitError              429  limits.*    (busy, too many requests, frame too large)
├── AuthError               401  auth.*
├── Cancelled               499  cancelled
└── EngineError             500  engine.failed
"""

from __future__ import annotations

import re
from typing import Any

#: An absolute filesystem path (POSIX, ``~/``, or ``C:\\``), not the ``//host/`` of a URL.
_ABS_PATH = re.compile(r"(?<![\w:/.\\])(?:[A-Za-z]:[\\/]|~[\\/]|/)(?:[^\s'\"`,;:()\[\]{}<>]+[\\/])+")


def redact_paths(text: str) -> str:
    """Replace the folders of absolute paths by ``…/`` (``/root/.cache/x/m.onnx`` → ``…/m.onnx``):
    errors sent to clients say what is missing without showing the user's home or layout."""
    return _ABS_PATH.sub("…/", text)


def _redact(value: Any) -> Any:
    if isinstance(value, str):
        return redact_paths(value)
    if isinstance(value, dict):
        return {k: _redact(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_redact(v) for v in value]
    return value


class AtelicoError(Exception):
    """Base class. ``code`` is stable and machine-readable; ``message`` is for people."""

    code: str = "internal"
    http_status: int = 500

    def __init__(self, message: str, *, code: str | None = None, http_status: int | None = None,
                 details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        if http_status is not None:
            self.http_status = http_status
        self.details = details or {}

    def to_dict(self) -> dict[str, Any]:
        """The wire form ``{code, message, details?}``, filesystem paths redacted (logs keep them)."""
        out: dict[str, Any] = {"code": self.code, "message": redact_paths(self.message)}
        if self.details:
            out["details"] = _redact(self.details)
        return out


class RequestError(AtelicoError):
    code = "request.invalid"
    http_status = 400


class InputTooLong(RequestError):
    code = "request.input_too_long"
    http_status = 413


class AudioError(AtelicoError):
    code = "audio.invalid"
    http_status = 400


class ModelError(AtelicoError):
    code = "model.error"
    http_status = 500


class UnknownModel(ModelError):
    code = "model.unknown"
    http_status = 404


class ModelNotInstalled(ModelError):
    code = "model.not_installed"
    http_status = 424


class ModelIntegrity(ModelError):
    code = "model.integrity"
    http_status = 500


class ModelLoadFailed(ModelError):
    code = "model.load_failed"
    http_status = 500


class VoiceError(AtelicoError):
    code = "voice.unknown"
    http_status = 404


class LanguageError(AtelicoError):
    code = "language.unsupported"
    http_status = 400


class ProtocolError(AtelicoError):
    code = "protocol.malformed"
    http_status = 400


class LimitError(AtelicoError):
    code = "limits.busy"
    http_status = 429


class AuthError(AtelicoError):
    code = "auth.invalid_token"
    http_status = 401


class Cancelled(AtelicoError):
    code = "cancelled"
    http_status = 499


class EngineError(AtelicoError):
    code = "engine.failed"
    http_status = 500
