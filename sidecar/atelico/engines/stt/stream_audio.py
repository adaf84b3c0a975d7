"""Stateful resampling of live audio frames to 16 kHz mono (libswresample through PyAV)."""

from __future__ import annotations

import numpy as np

from atelico.engines.base import STT_SAMPLE_RATE_HZ
from atelico.errors import AudioError


class StreamResampler:
    """Resample a stream arriving in frames of any size without seams between frames.

    A stateless resampler (``scipy.signal.resample_poly`` per frame) restarts its filter at
    every frame boundary and leaves clicks every 20 ms; this one keeps the filter state.
    Input is mono float32 (1-D) or ``[samples, channels]`` (averaged to mono first).
    """

    def __init__(self, from_hz: int, to_hz: int = STT_SAMPLE_RATE_HZ) -> None:
        if not 1_000 <= from_hz <= 384_000:
            raise AudioError(f"sample_rate_hz must be within [1000, 384000], got {from_hz}",
                             details={"field": "sample_rate_hz"})
        self.from_hz, self.to_hz = int(from_hz), int(to_hz)
        self._resampler = None
        if self.from_hz != self.to_hz:
            import av

            self._resampler = av.AudioResampler(format="flt", layout="mono", rate=self.to_hz)

    def __call__(self, audio: np.ndarray) -> np.ndarray:
        """Resample the next frame; returns float32 mono at ``to_hz`` (possibly empty)."""
        samples = np.asarray(audio, dtype=np.float32)
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

    def flush(self) -> np.ndarray:
        """The samples still inside the filter, at the end of the stream."""
        if self._resampler is None:
            return np.zeros(0, np.float32)
        return self._collect(self._resampler.resample(None))

    @staticmethod
    def _collect(frames: list) -> np.ndarray:  # type: ignore[type-arg]
        if not frames:
            return np.zeros(0, np.float32)
        return np.concatenate([f.to_ndarray().reshape(-1) for f in frames]).astype(np.float32)
