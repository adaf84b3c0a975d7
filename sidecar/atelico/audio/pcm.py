"""Raw PCM <-> NumPy float32, downmixing and resampling."""

from __future__ import annotations

from fractions import Fraction
from math import gcd

import numpy as np

from atelico.errors import AudioError

SAMPLE_FORMATS = ("s16le", "f32le")
MAX_CHANNELS = 8
MIN_SAMPLE_RATE_HZ = 1_000
MAX_SAMPLE_RATE_HZ = 384_000
MAX_RESAMPLE_FACTOR = 2_048  # largest up/down factor of the polyphase filter
#: Length of the raised-cosine fades at the free edges of synthesized audio (#18: no clicks).
EDGE_FADE_S = 0.004


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
    return x.reshape(-1, channels).mean(axis=1).astype(np.float32)


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


def resample(x: np.ndarray, from_hz: int, to_hz: int) -> np.ndarray:
    """Polyphase resampling (:func:`resample_poly`); returns float32. No-op when the rates match."""
    if from_hz == to_hz or len(x) == 0:
        return np.asarray(x, dtype=np.float32)
    g = gcd(int(from_hz), int(to_hz))
    up, down = to_hz // g, from_hz // g
    if max(up, down) > MAX_RESAMPLE_FACTOR:
        # An odd rate (e.g. 383,999 Hz) would need a filter of millions of taps (seconds of
        # CPU and tens of MB per request): approximate the ratio instead (rate error < 0.05%).
        den_limit = max(1, int(MAX_RESAMPLE_FACTOR * min(1.0, from_hz / to_hz)))
        ratio = Fraction(int(to_hz), int(from_hz)).limit_denominator(den_limit)
        up, down = ratio.numerator, ratio.denominator
    return resample_poly(x, up, down).astype(np.float32)


def resample_poly(x: np.ndarray, up: int, down: int) -> np.ndarray:
    """Resample a 1-D signal by ``up / down`` with a polyphase FIR filter, in NumPy only.

    The same filter and alignment as ``scipy.signal.resample_poly(x, up, down)`` with its
    default Kaiser window (beta 5.0, half length 10 * max(up, down)), so the sidecar needs
    no SciPy at run time (SciPy is ~70 MB in a bundle). Returns float64 like SciPy for float64
    input; callers cast.
    """
    from numpy.lib.stride_tricks import sliding_window_view

    x = np.asarray(x)
    if x.ndim != 1:
        raise ValueError("resample_poly takes a 1-D signal")
    g = gcd(int(up), int(down))
    up, down = int(up) // g, int(down) // g
    x = x.astype(np.float64, copy=False)
    if up == down == 1:
        return x.copy()
    n_in = len(x)
    n_out = -(-n_in * up // down)
    max_rate = max(up, down)
    half_len = 10 * max_rate
    # firwin(2*half_len+1, 1/max_rate, window=("kaiser", 5.0)), unit gain at DC, times up
    m = np.arange(2 * half_len + 1, dtype=np.float64) - half_len
    h = np.sinc(m / max_rate) / max_rate * np.kaiser(2 * half_len + 1, 5.0)
    h *= up / h.sum()
    # SciPy pads the filter in front so that the first kept output sits on a whole input step
    n_pre_pad = down - half_len % down
    n_pre_remove = (half_len + n_pre_pad) // down
    taps = -(-(len(h) + n_pre_pad) // up)  # taps per phase
    padded = np.zeros(taps * up)
    padded[n_pre_pad:n_pre_pad + len(h)] = h
    # phases[p, k] = h[p + k * up], reversed along k to run over a forward window of x
    phases = padded.reshape(taps, up).T[:, ::-1]
    # output j: t = (j + n_pre_remove) * down; y[j] = sum_k phases[t % up, k] x[t // up - k]
    last_base = ((n_out - 1 + n_pre_remove) * down) // up
    xp = np.concatenate((np.zeros(taps - 1), x, np.zeros(max(0, last_base + 1 - n_in))))
    windows = sliding_window_view(xp, taps)  # windows[b] = x[b - taps + 1 .. b]
    out = np.empty(n_out)
    for c in range(min(up, n_out)):  # outputs c, c + up, ... share one phase
        t = (c + n_pre_remove) * down
        count = len(range(c, n_out, up))
        base = t // up
        out[c::up] = windows[base:base + (count - 1) * down + 1:down] @ phases[t % up]
    return out


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
