"""The base of every typed request: one pydantic model per operation, shared by the
WebSocket, the HTTP routes, the in-process ``Engine`` and the CLI.

Each model reads its fields once, in :meth:`RequestModel.read`, with :class:`Fields` (so a
bad field raises a ``request.*`` error naming it, never pydantic's generic message); the
pydantic field declarations then type the result and document it in ``/openapi.json``.
Limits that depend on the configuration (``max_input_chars``) come in the validation
context: ``SpeechRequest.parse(body, max_input_chars=...)``.
"""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError, ValidationInfo, model_validator

from atelico.errors import RequestError
from atelico.protocol.fields import Fields

#: ``limits.max_input_chars`` when the caller passes none (the configuration's default).
DEFAULT_MAX_INPUT_CHARS = 20_000

R = TypeVar("R", bound="RequestModel")


class RequestModel(BaseModel):
    """A validated, immutable request; build one with :meth:`parse`."""

    model_config = ConfigDict(frozen=True, extra="ignore", populate_by_name=True)

    @model_validator(mode="before")
    @classmethod
    def _read_fields(cls, data: Any, info: ValidationInfo) -> Any:
        if isinstance(data, RequestModel):
            return data.model_dump()
        if not isinstance(data, dict):
            raise RequestError("body must be a JSON object", code="request.invalid_json")
        return cls.read(Fields(data), dict(info.context or {}))

    @classmethod
    def read(cls, f: Fields, ctx: dict[str, Any]) -> dict[str, Any]:
        """Check ``f``'s fields and return the model's values (``ctx``: limits, transport)."""
        return dict(f.data)

    @classmethod
    def parse(cls: type[R], data: Any, **ctx: Any) -> R:
        """Validate ``data`` (a JSON object, form fields or message data) into this request.

        Raises:
            RequestError, AudioError: a bad or missing field, named in ``details.field``.
        """
        try:
            return cls.model_validate(data, context=ctx)
        except ValidationError as exc:  # a declared bound ``read`` does not check: still a 400
            first = exc.errors()[0]
            name = ".".join(str(p) for p in first["loc"]) or "body"
            raise RequestError(f"field '{name}' {first['msg'].lower()}", code="request.invalid",
                               details={"field": name}) from None


def form_float(fields: dict[str, Any], name: str, default: float, lo: float, hi: float) -> float:
    """A number from a form field (text) or a JSON value, range-checked; blank is ``default``."""
    raw = fields.get(name)
    if raw is None or raw == "":
        return default
    if isinstance(raw, str):
        try:
            raw = float(raw)
        except ValueError:
            raise RequestError(f"field '{name}' must be a number", code="request.invalid",
                               details={"field": name}) from None
    return Fields({name: raw}).float(name, default, lo=lo, hi=hi)


def form_bool(fields: dict[str, Any], name: str, default: bool = False) -> bool:
    """``true``/``false``/``1``/``0`` from a form field, or a JSON bool; blank is ``default``."""
    raw = fields.get(name)
    if isinstance(raw, bool):
        return raw
    text = str(raw if raw not in (None, "") else default).strip().lower()
    if text not in ("true", "false", "1", "0"):
        raise RequestError(f"field '{name}' must be true or false", code="request.invalid",
                           details={"field": name})
    return text in ("true", "1")
