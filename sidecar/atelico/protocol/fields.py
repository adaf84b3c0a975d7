"""Typed field readers that turn bad request data into precise ``request.*`` errors."""

from __future__ import annotations

import builtins
import math
from typing import Any, Iterable

from atelico.errors import RequestError


class Fields:
    """Reads fields of one request's ``data`` map, naming the field in every error."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data

    def _bad(self, name: str, why: str) -> RequestError:
        return RequestError(f"field '{name}' {why}", code="request.invalid", details={"field": name})

    def str(self, name: str, default: str | None = None, *, required: bool = False,
            missing_code: str | None = None, max_len: int | None = None,
            choices: Iterable[str] | None = None) -> str | None:
        value = self.data.get(name)
        if value is None or (value == "" and required):
            if required:
                code = missing_code or "request.invalid"
                raise RequestError(f"field '{name}' is required", code=code, details={"field": name})
            return default
        if not isinstance(value, str):
            raise self._bad(name, f"must be a string, got {type(value).__name__}")
        if max_len is not None and len(value) > max_len:
            raise self._bad(name, f"is longer than {max_len} characters")
        if choices is not None:
            options = list(choices)
            if value not in options:
                raise self._bad(name, f"must be one of {options}, got {value!r}")
        return value

    def float(self, name: builtins.str, default: builtins.float, *, lo: builtins.float | None = None,
              hi: builtins.float | None = None) -> builtins.float:
        value = self.data.get(name)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self._bad(name, f"must be a number, got {type(value).__name__}")
        value = float(value)
        if not math.isfinite(value):
            raise self._bad(name, "must be finite")
        if (lo is not None and value < lo) or (hi is not None and value > hi):
            raise self._bad(name, f"must be between {lo} and {hi}, got {value}")
        return value

    def int(self, name: builtins.str, default: builtins.int | None, *, lo: builtins.int | None = None,
            hi: builtins.int | None = None) -> builtins.int | None:
        value = self.data.get(name)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int):
            raise self._bad(name, f"must be an integer, got {type(value).__name__}")
        if (lo is not None and value < lo) or (hi is not None and value > hi):
            raise self._bad(name, f"must be between {lo} and {hi}, got {value}")
        return value

    def bool(self, name: builtins.str, default: builtins.bool) -> builtins.bool:
        value = self.data.get(name)
        if value is None:
            return default
        if not isinstance(value, bool):
            raise self._bad(name, f"must be true or false, got {type(value).__name__}")
        return value

    def str_list(self, name: builtins.str) -> list[builtins.str]:
        value = self.data.get(name)
        if value is None:
            return []
        if isinstance(value, str):
            return [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self._bad(name, "must be a list of strings")
        return value
