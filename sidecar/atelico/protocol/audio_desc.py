"""The audio description carried by audio messages, and turning a payload into float32."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from atelico.audio.pcm import bytes_to_float32, check_description
from atelico.errors import AudioError
from atelico.protocol.fields import Fields

FILE_ENCODINGS = ("wav", "mp3", "flac", "ogg", "webm", "m4a", "opus", "aac")


@dataclass(frozen=True)
class AudioDescription:
    """How to read a payload: raw PCM (rate/format/channels) or an encoded file."""

    sample_rate_hz: int | None = None
    sample_format: str = "s16le"
    channels: int = 1
    encoding: str = "pcm"

    @classmethod
    def from_data(cls, data: dict, *, required: bool = True) -> "AudioDescription":
        f = Fields(data)
        encoding = f.str("encoding", "pcm", choices=("pcm",) + FILE_ENCODINGS) or "pcm"
        if encoding != "pcm":
            return cls(encoding=encoding)
        if "sample_rate_hz" not in data and not required:
            return cls()
        rate, fmt, channels = check_description(data.get("sample_rate_hz"),
                                                data.get("sample_format", "s16le"),
                                                data.get("channels", 1))
        return cls(rate, fmt, channels)

    def to_float32(self, payload: bytes | None, *, max_duration_s: float | None = None
                   ) -> tuple[np.ndarray, int]:
        """Decode the payload into mono float32 and its sample rate."""
        if not payload:
            raise AudioError("the request carries no audio payload", code="audio.empty")
        if self.encoding != "pcm":
            from atelico.audio.codecs import decode_file
            from atelico.engines.base import STT_SAMPLE_RATE_HZ

            # bounded, and straight to the 16 kHz that STT and face work at (never the file's rate)
            return decode_file(payload, max_duration_s=max_duration_s, rate=STT_SAMPLE_RATE_HZ)
        assert self.sample_rate_hz is not None
        audio = bytes_to_float32(payload, self.sample_format, self.channels)
        if max_duration_s is not None and len(audio) / self.sample_rate_hz > max_duration_s:
            raise AudioError(f"audio longer than the limit of {max_duration_s:.0f} s",
                             code="audio.too_long")
        return audio, self.sample_rate_hz

    def to_dict(self) -> dict:
        if self.encoding != "pcm":
            return {"encoding": self.encoding}
        return {"sample_rate_hz": self.sample_rate_hz, "sample_format": self.sample_format,
                "channels": self.channels}
