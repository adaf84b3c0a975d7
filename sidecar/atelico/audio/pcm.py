"""Raw PCM <-> NumPy float32, downmixing and edge fades (resampling lives in :mod:`.resample`)."""

from __future__ import annotations

import numpy as np

from atelico.audio.resample import (MAX_SAMPLE_RATE_HZ, MIN_SAMPLE_RATE_HZ, resample,
                                    resample_poly)
from atelico.errors import AudioError
from atelico.protocol.audio_desc import check_description as check_description
from atelico.protocol.constants import MAX_CHANNELS as MAX_CHANNELS
from atelico.protocol.constants import SAMPLE_FORMATS as SAMPLE_FORMATS

__all__ = ["EDGE_FADE_S", "MAX_CHANNELS", "MAX_SAMPLE_RATE_HZ", "MIN_SAMPLE_RATE_HZ",
           "SAMPLE_FORMATS", "bytes_to_float32", "check_description", "downmix", "fade_edges",
           "float32_to_bytes", "resample", "resample_poly", "to_float32"]

#: Length of the raised-cosine fades at the free edges of synthesized audio (#18: no clicks).
EDGE_FADE_S = 0.004


def bytes_to_float32(data: bytes, sample_format: str = "s16le", channels: int = 1) -> np.ndarray:
    """Decode interleaved PCM bytes into mono float32 in [-1, 1] (channels averaged).

    Raises:
        AudioError: when the byte count is not a whole number of frames or samples are NaN/inf.
    """
    width = 2 if sample_format == "s16le" else 4
    if sample_format not in SAMPLE_FORMATS:
        raise AudioError(f"unsupported sample_format {sample_format!r}", code="audio.unsupported_format")
    if len(data) % (width * channels):
        raise AudioError(f"{len(data)} bytes is not a whole number of {channels}-channel "
                         f"{sample_format} frames", code="audio.invalid")
    if sample_format == "s16le":
        x = np.frombuffer(data, dtype="<i2").astype(np.float32) / 32768.0
    else:
        x = np.frombuffer(data, dtype="<f4").astype(np.float32)
        if not np.all(np.isfinite(x)):
            raise AudioError("audio contains NaN or infinite samples", code="audio.invalid")
        x = np.clip(x, -1.0, 1.0)
    return downmix(x, channels)


def downmix(x: np.ndarray, channels: int) -> np.ndarray:
    """Average interleaved channels into mono."""
    if channels == 1:
        return x
    return np.asarray(x.reshape(-1, channels).mean(axis=1), dtype=np.float32)


def float32_to_bytes(x: np.ndarray, sample_format: str = "s16le") -> bytes:
    """Encode mono float32 audio as little-endian PCM bytes (clipped to [-1, 1])."""
    x = np.clip(np.nan_to_num(np.asarray(x, dtype=np.float32)), -1.0, 1.0)
    if sample_format == "s16le":
        return (np.round(x * 32767.0)).astype("<i2").tobytes()
    if sample_format == "f32le":
        return x.astype("<f4").tobytes()
    raise AudioError(f"unsupported sample_format {sample_format!r}", code="audio.unsupported_format")


def to_float32(x: np.ndarray) -> np.ndarray:
    """Accept float (any width) in [-1, 1] or int16 PCM; return float32 in [-1, 1]."""
    x = np.asarray(x)
    if x.dtype == np.int16:
        return (x.astype(np.float32) / 32768.0)
    if np.issubdtype(x.dtype, np.integer):
        raise AudioError(f"integer PCM must be int16, got {x.dtype}", code="audio.invalid")
    x = x.astype(np.float32, copy=False)
    if x.size and not np.all(np.isfinite(x)):
        raise AudioError("audio contains NaN or infinite samples", code="audio.invalid")
    return x


def fade_edges(x: np.ndarray, sample_rate_hz: int, *, head_s: float = EDGE_FADE_S,
               tail_s: float = EDGE_FADE_S) -> np.ndarray:
    """A float32 copy of ``x`` with a raised-cosine fade-in of ``head_s`` and fade-out of
    ``tail_s`` seconds, so that it starts and ends at exactly zero: no click and no DC step
    where playback starts or stops. Pass 0 for an edge that is joined to its neighbour
    (a window cross-faded into the next one) and must stay untouched.
    """
    out = np.array(x, dtype=np.float32, copy=True)
    for seconds, at_head in ((head_s, True), (tail_s, False)):
        n = min(len(out), int(round(seconds * sample_rate_hz)))
        if n < 2:
            if n == 1 or (seconds > 0 and len(out)):
                out[0 if at_head else -1] = 0.0
            continue
        ramp = (0.5 - 0.5 * np.cos(np.pi * np.arange(n) / (n - 1))).astype(np.float32)
        if at_head:
            out[:n] *= ramp
        else:
            out[-n:] *= ramp[::-1]
    return out
