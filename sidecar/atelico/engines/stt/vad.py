"""Streaming voice activity detection for live transcription: Silero VAD v6 (ONNX) or energy.

Both map windows of :data:`WINDOW_SAMPLES` samples at 16 kHz to speech probabilities in
[0, 1], keeping their state between calls (one detector per stream). Silero's ONNX model is
a registry part (:data:`SILERO_VAD`): loaded once, shared by every stream.
"""

from __future__ import annotations

import collections
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from atelico.config import Settings
from atelico.engines.base import STT_SAMPLE_RATE_HZ, Part

WINDOW_SAMPLES = 512  # Silero's window at 16 kHz: 32 ms
_CONTEXT_SAMPLES = 64  # Silero v6 sees the last 64 samples of the previous window
_STATE_SHAPE = (1, 1, 128)


class Vad(Protocol):
    """A stateful detector: windows ``[n, 512]`` in stream order -> probabilities ``[n]``."""

    def __call__(self, windows: np.ndarray) -> np.ndarray: ...

    def reset(self) -> None:
        """Forget the stream (after a gap in the audio)."""
        ...


class SileroModel:
    """Silero VAD v6's ONNX session (stateless; shared by every :class:`SileroVad`)."""

    def __init__(self, path: Path) -> None:
        import onnxruntime

        opts = onnxruntime.SessionOptions()
        opts.inter_op_num_threads = 1
        opts.intra_op_num_threads = 1
        opts.log_severity_level = 4
        self.path = path
        self._session: Any = onnxruntime.InferenceSession(
            str(path), providers=["CPUExecutionProvider"], sess_options=opts)

    def run(self, batch: np.ndarray, h: np.ndarray, c: np.ndarray
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Probabilities for ``batch`` [n, 64 + 512] and the LSTM state after it."""
        probs, h_out, c_out = self._session.run(None, {"input": batch, "h": h, "c": c})
        return (np.asarray(probs, np.float32).reshape(-1), np.asarray(h_out, np.float32),
                np.asarray(c_out, np.float32))


def silero_vad_path() -> Path:
    """The Silero VAD v6 ONNX file that ships inside the faster-whisper wheel."""
    from faster_whisper.utils import get_assets_path

    return Path(get_assets_path()) / "silero_vad_v6.onnx"


def load_silero(settings: Settings) -> SileroModel:
    """The registry part's loader (the model ships with faster-whisper: nothing to fetch)."""
    return SileroModel(silero_vad_path())


#: ``registry.part(SILERO_VAD)``: the one Silero session of a registry.
SILERO_VAD: Part[SileroModel] = Part("silero-vad-v6", load_silero)


@lru_cache(maxsize=1)
def _standalone_model() -> SileroModel:
    return SileroModel(silero_vad_path())


class SileroVad:
    """Streaming Silero VAD v6 (ONNX): speech probability per 512-sample window, with state.

    One instance per stream (it carries the LSTM state and the 64-sample context); the
    :class:`SileroModel` is shared: pass the registry's (``registry.part(SILERO_VAD)``);
    without one, a process-wide model is loaded for engines used outside a registry.
    """

    def __init__(self, model: SileroModel | None = None) -> None:
        self._model = model or _standalone_model()
        self.reset()

    def reset(self) -> None:
        """Forget the stream (after a gap in the audio)."""
        self._h = np.zeros(_STATE_SHAPE, np.float32)
        self._c = np.zeros(_STATE_SHAPE, np.float32)
        self._context = np.zeros(_CONTEXT_SAMPLES, np.float32)

    def __call__(self, windows: np.ndarray) -> np.ndarray:
        """``windows``: float32 [n, 512] in stream order -> probabilities [n] in [0, 1]."""
        if len(windows) == 0:
            return np.zeros(0, np.float32)
        contexts = np.concatenate([self._context[None, :], windows[:-1, -_CONTEXT_SAMPLES:]])
        batch = np.concatenate([contexts, windows], axis=1).astype(np.float32, copy=False)
        probs, self._h, self._c = self._model.run(batch, self._h, self._c)
        self._context = windows[-1, -_CONTEXT_SAMPLES:].copy()
        return probs


class EnergyVad:
    """Light energy VAD (the reference's kind): loudness above a tracked noise floor.

    The floor is the quietest window of the last ``floor_window_s`` (minimum statistics:
    even continuous speech has quiet gaps between words; a quiet room is assumed until
    ``floor_window_s`` of audio has been heard); a window is speech when it is
    ``margin_db`` above that floor and above ``min_level_dbfs``. Returns pseudo
    probabilities (a logistic of the margin) so the same thresholds apply as for Silero.
    """

    def __init__(self, margin_db: float = 10.0, min_level_dbfs: float = -50.0,
                 floor_window_s: float = 5.0) -> None:
        self.margin_db = margin_db
        self.min_level_dbfs = min_level_dbfs
        self._history = max(1, windows_in(floor_window_s))
        self.reset()

    def reset(self) -> None:
        # Start from a quiet-room floor so speech that opens a stream counts; it ages out
        # of the history after floor_window_s like any other level.
        self._levels: collections.deque[float] = collections.deque(
            [self.min_level_dbfs - self.margin_db], maxlen=self._history)

    def __call__(self, windows: np.ndarray) -> np.ndarray:
        rms = np.sqrt(np.mean(np.square(windows, dtype=np.float64), axis=1) + 1e-12)
        levels = 20.0 * np.log10(rms)
        probs = np.empty(len(levels), np.float32)
        for i, level in enumerate(levels):
            self._levels.append(float(level))
            threshold = max(min(self._levels) + self.margin_db, self.min_level_dbfs)
            probs[i] = 1.0 / (1.0 + np.exp(-(level - threshold) / 2.0))
        return probs


def windows_in(seconds: float) -> int:
    """How many VAD windows ``seconds`` of 16 kHz audio hold (rounded)."""
    return int(round(seconds * STT_SAMPLE_RATE_HZ / WINDOW_SAMPLES))
