"""The audio description carried by audio messages: raw PCM (rate/format/channels) or an
encoded file. It describes a payload only; turning one into samples is
:func:`atelico.audio.payload.to_float32`'s job (the audio side)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from atelico.errors import AudioError
from atelico.protocol.constants import (FILE_ENCODINGS, MAX_CHANNELS, MAX_SAMPLE_RATE_HZ,
                                        MIN_SAMPLE_RATE_HZ, SAMPLE_FORMATS)
from atelico.protocol.fields import Fields
from atelico.protocol.request import RequestModel

__all__ = ["FILE_ENCODINGS", "AudioDescription", "check_description"]


def check_description(sample_rate_hz: object, sample_format: object, channels: object) -> tuple[int, str, int]:
    """Validate an audio description; raise AudioError with a precise code otherwise."""
    if not isinstance(sample_rate_hz, int) or isinstance(sample_rate_hz, bool) or not (
            MIN_SAMPLE_RATE_HZ <= sample_rate_hz <= MAX_SAMPLE_RATE_HZ):
        raise AudioError(f"sample_rate_hz must be an integer in [{MIN_SAMPLE_RATE_HZ}, "
                         f"{MAX_SAMPLE_RATE_HZ}], got {sample_rate_hz!r}",
                         code="audio.invalid", details={"field": "sample_rate_hz"})
    if sample_format not in SAMPLE_FORMATS:
        raise AudioError(f"sample_format must be one of {list(SAMPLE_FORMATS)}, got {sample_format!r}",
                         code="audio.unsupported_format", details={"field": "sample_format"})
    if not isinstance(channels, int) or isinstance(channels, bool) or not 1 <= channels <= MAX_CHANNELS:
        raise AudioError(f"channels must be an integer in [1, {MAX_CHANNELS}], got {channels!r}",
                         code="audio.invalid", details={"field": "channels"})
    return sample_rate_hz, sample_format, channels


class AudioDescription(RequestModel):
    """How to read a payload: raw PCM (rate/format/channels) or an encoded file."""

    sample_rate_hz: int | None = Field(None, description="raw PCM only: samples per second")
    sample_format: Literal["s16le", "f32le"] = "s16le"
    channels: int = Field(1, ge=1, le=MAX_CHANNELS, description="raw PCM only: interleaved channels")
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
