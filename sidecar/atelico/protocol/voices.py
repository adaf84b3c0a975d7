"""Voice requests: the form of ``POST /v1/voices/clone`` (cloning a voice from a reference clip)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from atelico.errors import RequestError
from atelico.protocol.fields import Fields
from atelico.protocol.request import RequestModel, form_bool
from atelico.protocol.stt import require_file

VOICE_ID_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,63}$"


def _number(fields: dict[str, Any], name: str, default: float, cast: type[float] | type[int]) -> float:
    raw = fields.get(name)
    try:
        return cast(raw) if raw not in (None, "") else default
    except (TypeError, ValueError):
        raise RequestError("generations, population and max_seconds must be numbers",
                           code="request.invalid") from None


class CloneForm(RequestModel):
    """A new custom voice from a reference clip (the clip travels beside it: context
    ``has_file``); answered over HTTP with a job (202)."""

    #: the id's rule is checked where the voice is written (``voice.*`` codes); documented here
    name: str = Field(description="the new voice's id", json_schema_extra={"pattern": VOICE_ID_PATTERN})
    engine: Literal["kokoro", "pocket"] = "kokoro"
    generations: int = Field(10, ge=1, le=200, description="kokoro: generations of the search")
    population: int = Field(8, ge=2, le=64, description="kokoro: candidates per generation")
    max_seconds: float = Field(30.0, ge=1, le=120, description="the part of the clip used")
    overwrite: bool = Field(False, description="replace an existing custom voice (else 409 voice.exists)")

    @classmethod
    def read(cls, f: Fields, ctx: dict[str, Any]) -> dict[str, Any]:
        name = f.str("name", required=True, missing_code="request.invalid") or ""
        engine = f.str("engine", "kokoro", choices=("kokoro", "pocket")) or "kokoro"
        overwrite = form_bool(f.data, "overwrite")
        generations = int(_number(f.data, "generations", 10, int))
        population = int(_number(f.data, "population", 8, int))
        max_seconds = _number(f.data, "max_seconds", 30.0, float)
        if not (1 <= generations <= 200 and 2 <= population <= 64 and 1 <= max_seconds <= 120):
            raise RequestError("generations must be 1–200, population 2–64 and max_seconds 1–120",
                               code="request.invalid")
        require_file(bool(ctx.get("has_file", True)), "the reference clip")
        return {"name": name, "engine": engine, "overwrite": overwrite, "generations": generations,
                "population": population, "max_seconds": max_seconds}
