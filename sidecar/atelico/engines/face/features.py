"""Per-frame audio cues (loudness, formant-ish band centroids, pitch) at any sample rate.

Features are computed from a short window around each face frame, directly at the input's
sample rate (windows and bands are defined in seconds and hertz), so a stream of 48 kHz
microphone audio needs no resampler and gives the same frames whether it arrives in one
piece or in many. Everything that depends on the past (level tracking, running averages)
lives in :class:`CueState` and is advanced frame by frame.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np

WINDOW_S = 0.040  # analysis window
LEAD_S = 0.030  # windows are centred this far after the frame instant (offsets smoothing lag)
_BLOCK = 1024
_F0_MIN_HZ, _F0_MAX_HZ = 70.0, 400.0
_VOICED_MIN = 0.6  # normalised autocorrelation peak above which a frame is voiced


def window_samples(sample_rate_hz: int) -> int:
    return max(16, int(round(WINDOW_S * sample_rate_hz)))


def frame_centers(first_frame: int, count: int, sample_rate_hz: int, fps: int,
                  offset_samples: int = 0) -> np.ndarray:
    """Sample index (relative to ``offset_samples``) of each frame's window centre, exactly."""
    k = np.arange(first_frame, first_frame + count, dtype=np.int64)
    lead = int(round(LEAD_S * sample_rate_hz))
    return (k * sample_rate_hz * 2 + fps) // (2 * fps) + lead - offset_samples


def samples_needed(frames: np.ndarray, sample_rate_hz: int, fps: int) -> np.ndarray:
    """How many samples from the stream start each frame needs before it can be computed."""
    k = np.asarray(frames, dtype=np.int64)
    lead = int(round(LEAD_S * sample_rate_hz))
    win = window_samples(sample_rate_hz)
    return (k * sample_rate_hz * 2 + fps) // (2 * fps) + lead + win - win // 2


@dataclass
class FrameFeatures:
    """Audio measurements per face frame (arrays of the same length)."""

    rms_db: np.ndarray  # dBFS of the window (-100 for digital silence)
    f1_hz: np.ndarray  # power centroid of 250-1000 Hz: rises with jaw opening
    f2_hz: np.ndarray  # power centroid of 800-2800 Hz: low when rounded, high when spread
    hf_ratio: np.ndarray  # share of 3.5-8 kHz power: sibilants and fricatives
    low_ratio: np.ndarray  # share of 80-400 Hz power: nasal murmur, closed-mouth voicing
    f0_hz: np.ndarray  # 0 where unvoiced
    voicing: np.ndarray  # normalised autocorrelation peak, 0..1

    def __len__(self) -> int:
        return len(self.rms_db)


@lru_cache(maxsize=16)
def _analysis_setup(sample_rate_hz: int) -> tuple[Any, ...]:
    """Window, FFT size, band masks and lag range for one sample rate (computed once)."""
    win = window_samples(sample_rate_hz)
    nfft = 1 << int(np.ceil(np.log2(2 * win)))
    hann = np.hanning(win + 2)[1:-1]
    freqs = np.fft.rfftfreq(nfft, 1.0 / sample_rate_hz)
    bands = {name: (freqs >= lo) & (freqs < min(hi, sample_rate_hz / 2))
             for name, (lo, hi) in {"all": (80, 8000), "f1": (250, 1000), "f2": (800, 2800),
                                    "high": (3500, 8000), "low": (80, 400)}.items()}
    w_ac = np.fft.irfft(np.abs(np.fft.rfft(hann, nfft)) ** 2, nfft)[: win]
    lag_lo = max(2, int(sample_rate_hz / _F0_MAX_HZ))
    lag_hi = min(win - 2, int(sample_rate_hz / _F0_MIN_HZ))
    return win, nfft, hann, freqs, bands, w_ac, lag_lo, lag_hi


def extract(audio: np.ndarray, sample_rate_hz: int, centers: np.ndarray) -> FrameFeatures:
    """Measure the windows centred at ``centers`` (sample indices; outside the audio is silence)."""
    n = len(centers)
    win, nfft, hann, freqs, bands, w_ac, lag_lo, lag_hi = _analysis_setup(sample_rate_hz)
    out = {k: np.zeros(n) for k in ("rms_db", "f1_hz", "f2_hz", "hf_ratio", "low_ratio",
                                     "f0_hz", "voicing")}
    x = np.asarray(audio, dtype=np.float64)
    padded = np.concatenate([np.zeros(win), x, np.zeros(win)])
    for b0 in range(0, n, _BLOCK):
        c = np.asarray(centers[b0:b0 + _BLOCK], dtype=np.int64)
        starts = np.clip(c - win // 2 + win, 0, len(padded) - win)
        frames = padded[starts[:, None] + np.arange(win)[None, :]]
        # windows entirely outside the audio stay silent even after clipping
        outside = (c + win - win // 2 <= 0) | (c - win // 2 >= len(x))
        frames[outside] = 0.0
        frames = frames - frames.mean(axis=1, keepdims=True)
        energy = np.mean(frames ** 2, axis=1)
        out["rms_db"][b0:b0 + len(c)] = 10.0 * np.log10(energy + 1e-10)
        spec = np.abs(np.fft.rfft(frames * hann, nfft, axis=1)) ** 2
        total = spec[:, bands["all"]].sum(axis=1) + 1e-12
        for key, band in (("f1_hz", "f1"), ("f2_hz", "f2")):
            power = spec[:, bands[band]]
            out[key][b0:b0 + len(c)] = (power @ freqs[bands[band]]) / (power.sum(axis=1) + 1e-12)
        out["hf_ratio"][b0:b0 + len(c)] = spec[:, bands["high"]].sum(axis=1) / total
        out["low_ratio"][b0:b0 + len(c)] = spec[:, bands["low"]].sum(axis=1) / total
        ac = np.fft.irfft(spec, nfft, axis=1)[:, :win]
        norm = ac / (ac[:, :1] + 1e-12) / (w_ac / w_ac[0])[None, :]
        seg = norm[:, lag_lo:lag_hi]
        best = np.argmax(seg, axis=1)
        peak = np.clip(seg[np.arange(len(c)), best], 0.0, 1.0)
        peak[energy < 1e-8] = 0.0
        out["voicing"][b0:b0 + len(c)] = peak
        out["f0_hz"][b0:b0 + len(c)] = np.where(peak > _VOICED_MIN,
                                                 sample_rate_hz / (best + lag_lo), 0.0)
    return FrameFeatures(**out)


@dataclass
class CueState:
    """What the cue tracker remembers between blocks of frames (one per stream/utterance)."""

    peak_db: float = -22.0  # tracked speech level (fast up, slow down)
    noise_db: float | None = None  # tracked background level (instant down, slow up)
    mean_db: float = -30.0  # slow average loudness while speaking
    mean_st: float | None = None  # slow average pitch, semitones re 1 Hz
    initialized: bool = False


@dataclass
class Cues:
    """Loudness-derived controls per frame, all in [0, 1]."""

    activity: np.ndarray  # is someone speaking, and how loudly relative to their level
    emphasis: np.ndarray  # louder than the recent average
    pitch_rise: np.ndarray  # higher than the recent average pitch
    extras: dict[str, np.ndarray] = field(default_factory=dict)


def smoothstep(x: np.ndarray, lo: float, hi: float) -> np.ndarray:
    t = np.clip((x - lo) / (hi - lo), 0.0, 1.0)
    return t * t * (3.0 - 2.0 * t)


def track_cues(feats: FrameFeatures, state: CueState, fps: int) -> Cues:
    """Advance ``state`` over the frames and return their cues (causal: no look-ahead)."""
    n = len(feats)
    dt = 1.0 / fps
    a_peak_down = dt * 2.0  # dB per frame the level tracker may fall (2 dB/s)
    a_mean = 1.0 - np.exp(-dt / 1.5)
    a_pitch = 1.0 - np.exp(-dt / 2.0)
    noise_rise_db = dt * 6.0  # the noise floor may climb 6 dB/s
    rel = np.zeros(n)
    emph = np.zeros(n)
    rise = np.zeros(n)
    absolute = smoothstep(feats.rms_db, -62.0, -48.0)
    above_noise = np.zeros(n)
    for i in range(n):
        level = float(feats.rms_db[i])
        if state.noise_db is None:
            state.noise_db = min(level, -50.0)
        state.noise_db = min(level, state.noise_db + noise_rise_db)
        above_noise[i] = level - state.noise_db
        if absolute[i] > 0.5:
            if level > state.peak_db:
                state.peak_db += 0.5 * (level - state.peak_db)
            else:
                state.peak_db = max(level, state.peak_db - a_peak_down, -45.0)
        rel[i] = (level - (state.peak_db - 28.0)) / 22.0
        if absolute[i] > 0.5 and rel[i] > 0.3:
            emph[i] = (level - state.mean_db - 2.0) / 6.0
            state.mean_db += a_mean * (level - state.mean_db)
            f0 = float(feats.f0_hz[i])
            if f0 > 0:
                st = 12.0 * np.log2(f0)
                if state.mean_st is None:
                    state.mean_st = st
                rise[i] = (st - state.mean_st - 1.0) / 5.0
                state.mean_st += a_pitch * (st - state.mean_st)
    state.initialized = True
    activity = np.clip(rel, 0.0, 1.0) * absolute * smoothstep(above_noise, 5.0, 13.0)
    return Cues(activity=activity, emphasis=np.clip(emph, 0.0, 1.0) * activity,
                pitch_rise=np.clip(rise, 0.0, 1.0) * activity)


def audio_params(feats: FrameFeatures, cues: Cues, n_params: int,
                 index: dict[str, int]) -> np.ndarray:
    """Articulator curves guessed from sound alone (any language, no phones).

    Jaw follows loudness, scaled by how open the vowel sounds (first-formant region
    centroid); low second-formant energy rounds the lips and high spreads them; strong
    high-frequency noise (sibilants) narrows the jaw and spreads the lips a little; a
    murmur concentrated below 400 Hz (nasals such as /m/) brings the lips together.
    """
    a = cues.activity
    voiced = np.clip((feats.voicing - 0.3) / 0.4, 0.0, 1.0)
    openness = 0.45 + 0.55 * np.clip((feats.f1_hz - 420.0) / 380.0, 0.0, 1.0)
    fricative = np.clip((feats.hf_ratio - 0.25) / 0.35, 0.0, 1.0) * (1.0 - voiced)
    nasal = np.clip((feats.low_ratio - 0.95) / 0.04, 0.0, 1.0) * voiced
    out = np.zeros((len(feats), n_params))
    out[:, index["jaw"]] = a ** 0.8 * openness * (1.0 - 0.7 * fricative) * (1.0 - 0.6 * nasal)
    out[:, index["pucker"]] = a * voiced * np.clip((1250.0 - feats.f2_hz) / 500.0, 0.0, 1.0) * 0.7
    out[:, index["funnel"]] = out[:, index["pucker"]] * 0.8
    out[:, index["spread"]] = a * (voiced * np.clip((feats.f2_hz - 1650.0) / 700.0, 0.0, 1.0)
                                   * 0.5 + 0.3 * fricative)
    out[:, index["close"]] = a * nasal * 0.35
    return np.clip(out, 0.0, 1.0)
