"""The sidecar's one resampler: whole clips (:func:`resample`) and live streams
(:class:`StreamResampler`). Engines call these; nothing else resamples.

Whole clips use a NumPy polyphase filter identical to SciPy's ``resample_poly`` (the bundle
ships without SciPy); streams keep their filter state across frames (libswresample through
PyAV), so frames of any size join without seams.
"""

from __future__ import annotations

from fractions import Fraction
from math import gcd
from typing import Any

import numpy as np
import numpy.typing as npt

from atelico.errors import AudioError
from atelico.protocol.constants import MAX_SAMPLE_RATE_HZ as MAX_SAMPLE_RATE_HZ
from atelico.protocol.constants import MIN_SAMPLE_RATE_HZ as MIN_SAMPLE_RATE_HZ
from atelico.protocol.constants import STT_SAMPLE_RATE_HZ
MAX_RESAMPLE_FACTOR = 2_048  # largest up/down factor of the polyphase filter

F32 = npt.NDArray[np.float32]
F64 = npt.NDArray[np.float64]


def resample(x: npt.ArrayLike, from_hz: int, to_hz: int) -> F32:
    """``x`` (1-D) from ``from_hz`` to ``to_hz`` as float32; a float32 copy-free view when the
    rates match. An odd ratio whose exact filter would be huge (383,999 Hz → 16 kHz) is
    approximated (rate error < 0.05%)."""
    signal = np.asarray(x)
    if from_hz == to_hz or len(signal) == 0:
        return np.asarray(signal, dtype=np.float32)
    up, down = _ratio(int(from_hz), int(to_hz))
    return resample_poly(signal, up, down).astype(np.float32)


def _ratio(from_hz: int, to_hz: int) -> tuple[int, int]:
    g = gcd(from_hz, to_hz)
    up, down = to_hz // g, from_hz // g
    if max(up, down) > MAX_RESAMPLE_FACTOR:
        # The exact filter would have millions of taps (seconds of CPU, tens of MB).
        den_limit = max(1, int(MAX_RESAMPLE_FACTOR * min(1.0, from_hz / to_hz)))
        approx = Fraction(to_hz, from_hz).limit_denominator(den_limit)
        up, down = approx.numerator, approx.denominator
    return up, down


def resample_poly(x: npt.ArrayLike, up: int, down: int) -> F64:
    """Resample a 1-D signal by ``up / down`` with a polyphase FIR filter, in NumPy only.

    The same filter and alignment as ``scipy.signal.resample_poly(x, up, down)`` with its
    default Kaiser window (beta 5.0, half length 10 * max(up, down)). Returns float64 like
    SciPy for float64 input; callers cast.
    """
    from numpy.lib.stride_tricks import sliding_window_view

    signal = np.asarray(x)
    if signal.ndim != 1:
        raise ValueError("resample_poly takes a 1-D signal")
    g = gcd(int(up), int(down))
    up, down = int(up) // g, int(down) // g
    xs: F64 = signal.astype(np.float64, copy=False)
    if up == down == 1:
        return xs.copy()
    n_in = len(xs)
    n_out = -(-n_in * up // down)
    phases, n_pre_remove = _phases(up, down)
    taps = phases.shape[1]
    # output j: t = (j + n_pre_remove) * down; y[j] = sum_k phases[t % up, k] x[t // up - k]
    last_base = ((n_out - 1 + n_pre_remove) * down) // up
    xp = np.concatenate((np.zeros(taps - 1), xs, np.zeros(max(0, last_base + 1 - n_in))))
    windows = sliding_window_view(xp, taps)  # windows[b] = x[b - taps + 1 .. b]
    out: F64 = np.empty(n_out)
    for c in range(min(up, n_out)):  # outputs c, c + up, ... share one phase
        t = (c + n_pre_remove) * down
        count = len(range(c, n_out, up))
        base = t // up
        out[c::up] = windows[base:base + (count - 1) * down + 1:down] @ phases[t % up]
    return out


def _phases(up: int, down: int) -> tuple[F64, int]:
    """The filter split into ``up`` phases (reversed, to run over a forward window of x) and
    the number of leading outputs SciPy drops."""
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
    phases: F64 = padded.reshape(taps, up).T[:, ::-1]  # phases[p, k] = h[p + k * up]
    return phases, n_pre_remove


class StreamResampler:
    """Resample a stream arriving in frames of any size without seams between frames.

    A stateless resampler per frame restarts its filter at every frame boundary and leaves
    clicks every 20 ms; this one keeps the filter state. Input is mono float32 (1-D) or
    ``[samples, channels]`` (averaged to mono first).
    """

    def __init__(self, from_hz: int, to_hz: int = STT_SAMPLE_RATE_HZ) -> None:
        if not MIN_SAMPLE_RATE_HZ <= from_hz <= MAX_SAMPLE_RATE_HZ:
            raise AudioError(f"sample_rate_hz must be within [{MIN_SAMPLE_RATE_HZ}, "
                             f"{MAX_SAMPLE_RATE_HZ}], got {from_hz}",
                             details={"field": "sample_rate_hz"})
        self.from_hz, self.to_hz = int(from_hz), int(to_hz)
        self._resampler: Any = None
        if self.from_hz != self.to_hz:
            import av

            self._resampler = av.AudioResampler(format="flt", layout="mono", rate=self.to_hz)

    def __call__(self, audio: npt.ArrayLike) -> F32:
        """Resample the next frame; returns float32 mono at ``to_hz`` (possibly empty)."""
        samples: F32 = np.asarray(audio, dtype=np.float32)
        if samples.ndim == 2:
            samples = samples.mean(axis=1, dtype=np.float32)
        if samples.ndim != 1:
            raise AudioError(f"expected [samples] or [samples, channels], got {samples.shape}")
        if self._resampler is None or samples.size == 0:
            return samples
        import av

        frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(samples).reshape(1, -1),
                                           format="flt", layout="mono")
        frame.sample_rate = self.from_hz
        return self._collect(self._resampler.resample(frame))

    def flush(self) -> F32:
        """The samples still inside the filter, at the end of the stream."""
        if self._resampler is None:
            return np.zeros(0, np.float32)
        return self._collect(self._resampler.resample(None))

    @staticmethod
    def _collect(frames: list[Any]) -> F32:
        if not frames:
            return np.zeros(0, np.float32)
        return np.concatenate([f.to_ndarray().reshape(-1) for f in frames]).astype(np.float32)
