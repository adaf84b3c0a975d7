"""Audio payloads of requests as samples: raw PCM or an encoded file, by its description."""

from __future__ import annotations

import numpy as np

from atelico.audio.pcm import bytes_to_float32
from atelico.errors import AudioError
from atelico.protocol.audio_desc import AudioDescription
from atelico.protocol.constants import STT_SAMPLE_RATE_HZ


def to_float32(desc: AudioDescription, payload: bytes | None, *,
               max_duration_s: float | None = None) -> tuple[np.ndarray, int]:
    """Decode ``payload`` into mono float32 and its sample rate.

    Raw PCM keeps its rate; a file is decoded (bounded) straight to the 16 kHz that STT and
    face work at, never the file's own rate.

    Raises:
        AudioError: ``audio.empty`` (no payload), ``audio.too_long``, or undecodable audio.
    """
    if not payload:
        raise AudioError("the request carries no audio payload", code="audio.empty")
    if desc.is_file:
        from atelico.audio.codecs import decode_file

        return decode_file(payload, max_duration_s=max_duration_s, rate=STT_SAMPLE_RATE_HZ)
    assert desc.sample_rate_hz is not None
    audio = bytes_to_float32(payload, desc.sample_format, desc.channels)
    if max_duration_s is not None and len(audio) / desc.sample_rate_hz > max_duration_s:
        raise AudioError(f"audio longer than the limit of {max_duration_s:.0f} s",
                         code="audio.too_long")
    return audio, desc.sample_rate_hz
