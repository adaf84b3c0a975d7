"""The audio description carried by audio messages: raw PCM (rate/format/channels) or an
encoded file. It describes a payload only; turning one into samples is
:func:`atelico.audio.payload.to_float32`'s job (the audio side)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from atelico.audio.pcm import check_description
from atelico.protocol.constants import FILE_ENCODINGS, SAMPLE_FORMATS
from atelico.protocol.fields import Fields
from atelico.protocol.request import RequestModel

__all__ = ["FILE_ENCODINGS", "AudioDescription"]


class AudioDescription(RequestModel):
    """How to read a payload: raw PCM (rate/format/channels) or an encoded file."""

    sample_rate_hz: int | None = Field(None, description="raw PCM only: samples per second")
    sample_format: Literal["s16le", "f32le"] = "s16le"
    channels: int = Field(1, ge=1, le=8, description="raw PCM only: interleaved channels")
    encoding: str = Field("pcm", description="pcm, or a file: " + ", ".join(FILE_ENCODINGS))

    @classmethod
    def read(cls, f: Fields, ctx: dict[str, Any]) -> dict[str, Any]:
        data = f.data
        encoding = f.str("encoding", "pcm", choices=("pcm",) + FILE_ENCODINGS) or "pcm"
        if encoding != "pcm":
            return {"encoding": encoding}
        if "sample_rate_hz" not in data and not ctx.get("required", True):
            return {}
        rate, fmt, channels = check_description(data.get("sample_rate_hz"),
                                                data.get("sample_format", SAMPLE_FORMATS[0]),
                                                data.get("channels", 1))
        return {"sample_rate_hz": rate, "sample_format": fmt, "channels": channels}

    @classmethod
    def from_data(cls, data: dict[str, Any], *, required: bool = True) -> "AudioDescription":
        """The description in a request's ``data`` (``required``: raw PCM must give its rate)."""
        return cls.parse(data, required=required)

    @property
    def is_file(self) -> bool:
        return self.encoding != "pcm"

    def to_dict(self) -> dict[str, Any]:
        if self.encoding != "pcm":
            return {"encoding": self.encoding}
        return {"sample_rate_hz": self.sample_rate_hz, "sample_format": self.sample_format,
                "channels": self.channels}
