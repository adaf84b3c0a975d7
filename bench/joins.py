"""Seam metrics for windowed speech: log-mel distance to a reference render, clicks at joins,
and what a listener who starts playing at the first chunk hears (underruns, gap seconds)."""

from __future__ import annotations

from typing import Sequence

import numpy as np

RATE_HZ = 24_000
_WIN, _HOP, _MELS = 1024, 240, 80


def log_mel(audio: np.ndarray, rate: int = RATE_HZ) -> np.ndarray:
    """``[frames, 80]`` log-mel power in dB (Hann 1024, hop 10 ms, 80 triangular bands)."""
    x = np.pad(np.asarray(audio, np.float64), (_WIN // 2, _WIN // 2))
    frames = np.lib.stride_tricks.sliding_window_view(x, _WIN)[::_HOP] * np.hanning(_WIN)
    power = np.abs(np.fft.rfft(frames, axis=1)) ** 2
    mel = 2595 * np.log10(1 + np.fft.rfftfreq(_WIN, 1 / rate) / 700)
    edges = np.linspace(mel[1], mel[-1], _MELS + 2)
    bands = np.stack([np.clip(np.minimum((mel - lo) / (mid - lo), (hi - mel) / (hi - mid)), 0, None)
                      for lo, mid, hi in zip(edges, edges[1:], edges[2:])], axis=1)
    return 10 * np.log10(np.maximum(power @ bands, 1e-10))


def log_mel_distance_db(audio: np.ndarray, reference: np.ndarray) -> float:
    """Mean |dB| difference over the reference's speech frames (within 40 dB of its loudest),
    both floored 80 dB below the reference's peak; the shorter length is compared."""
    n = min(len(audio), len(reference))
    a, r = log_mel(audio[:n]), log_mel(reference[:n])
    top = r.max()
    speech = r.max(axis=1) > top - 40
    a, r = np.maximum(a, top - 80), np.maximum(r, top - 80)
    return float(np.abs(a - r)[speech].mean()) if speech.any() else 0.0


def join_jumps(audio: np.ndarray, joins: Sequence[int], radius: int = 48) -> dict[str, float]:
    """Largest sample-to-sample step within ``radius`` samples of a join vs everywhere else."""
    steps = np.abs(np.diff(np.asarray(audio, np.float64)))
    near = np.zeros(len(steps), bool)
    for j in joins:
        near[max(0, j - radius):min(len(steps), j + radius)] = True
    at = float(steps[near].max()) if near.any() else 0.0
    inside = float(steps[~near].max()) if (~near).any() else 0.0
    return {"join_max_step": at, "inside_max_step": inside,
            "ratio": at / inside if inside > 0 else 0.0}


def playback(arrivals_s: Sequence[float], durations_s: Sequence[float]) -> dict[str, float]:
    """A listener starts at the first chunk and plays the chunks back to back: how many times
    the next chunk was late (underruns) and the total silence that made (gap seconds)."""
    if not arrivals_s:
        return {"underruns": 0, "gap_s": 0.0}
    clock = arrivals_s[0]
    underruns, gap = 0, 0.0
    for arrival, duration in zip(arrivals_s, durations_s):
        if arrival > clock + 1e-3:
            underruns += 1
            gap += arrival - clock
            clock = arrival
        clock += duration
    return {"underruns": underruns, "gap_s": gap}
