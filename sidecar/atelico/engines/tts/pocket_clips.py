"""Reference clips for Pocket TTS voice cloning: read from a file or samples, checked, at 24 kHz."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from atelico.errors import AudioError, RequestError

from .pocket_model import SAMPLE_RATE_HZ

#: Shortest and longest reference clip accepted for cloning, seconds.
MIN_CLONE_S = 1.0
MAX_CLONE_S = 120.0


def read_clip(source: str | Path | np.ndarray, sample_rate_hz: int | None
               ) -> tuple[np.ndarray, int]:
    """Mono float32 samples and their rate, from a file or an array."""
    if isinstance(source, (str, Path)):
        import soundfile

        try:
            data, rate = soundfile.read(str(source), dtype="float32", always_2d=True)
        except (OSError, RuntimeError) as exc:  # soundfile.LibsndfileError is a RuntimeError
            raise AudioError(f"cannot read reference audio {source}: {exc}",
                             code="audio.unsupported_format",
                             details={"path": str(source)}) from exc
        return data.mean(axis=1), int(rate)
    if sample_rate_hz is None or sample_rate_hz <= 0:
        raise RequestError("sample_rate_hz is required with raw samples",
                           details={"field": "sample_rate_hz"})
    data = np.asarray(source, dtype=np.float32)
    if data.ndim == 2:
        data = data.mean(axis=1) if data.shape[1] <= 8 else data.mean(axis=0)
    if data.ndim != 1:
        raise AudioError(f"reference audio must be mono or [samples, channels], got shape "
                         f"{data.shape}")
    return data, int(sample_rate_hz)


def prepare_clip(audio: np.ndarray, rate: int, max_seconds: float) -> np.ndarray:
    """Trim to ``max_seconds``, resample to 24 kHz and check there is enough signal."""
    from atelico.audio.resample import resample

    if audio.size == 0:
        raise AudioError("reference audio is empty", code="audio.empty")
    if not np.isfinite(audio).all():
        raise AudioError("reference audio holds NaN or infinite samples")
    audio = audio[: int(max_seconds * rate)]
    audio = resample(audio, rate, SAMPLE_RATE_HZ)
    seconds = len(audio) / SAMPLE_RATE_HZ
    if seconds < MIN_CLONE_S:
        raise AudioError(f"reference audio is {seconds:.2f} s; at least {MIN_CLONE_S:.0f} s of "
                         "speech is needed (20-40 s clones best)",
                         details={"duration_s": round(seconds, 3)})
    if float(np.sqrt(np.mean(np.square(audio)))) < 1e-4:
        raise AudioError("reference audio is silent", code="audio.empty")
    return np.clip(audio, -1.0, 1.0).astype(np.float32)
