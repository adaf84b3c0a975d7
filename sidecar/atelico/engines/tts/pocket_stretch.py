"""Speed change without pitch change (WSOLA time-stretching), for engines with no speed input.

Pocket TTS has no speaking-rate control, so ``speed`` is applied to its output audio with
WSOLA (waveform-similarity overlap-add; Verhelst & Roelands, 1993): 40 ms Hann-windowed
frames are read from the input every ``speed`` × 20 ms, each shifted by up to ±10 ms to the
offset whose waveform best continues the previous frame, and overlap-added every 20 ms.
Pitch and timbre are kept; the trade-off is a slight roughness at large factors (doubled
pitch periods below ~0.5, skipped ones above ~2) and pauses that scale with the speech
instead of staying natural. Cost is ~O(n) with a small constant (a few ms per second of
24 kHz audio). Resampling instead would be cheaper but shifts pitch (chipmunk voices).
"""

from __future__ import annotations

import numpy as np

MIN_SPEED = 0.25
MAX_SPEED = 4.0
_FRAME_S = 0.040
_TOLERANCE_S = 0.010


def time_stretch(audio: np.ndarray, speed: float, sample_rate_hz: int) -> np.ndarray:
    """Play ``audio`` ``speed`` times faster at the same pitch.

    Args:
        audio: mono float samples.
        speed: 0.25–4.0; 2.0 halves the duration, 0.5 doubles it, 1.0 returns the input.
        sample_rate_hz: the audio's sample rate (sets the frame and search sizes).

    Returns:
        float32 mono audio of ``round(len(audio) / speed)`` samples.

    Raises:
        ValueError: ``speed`` outside 0.25–4.0 or audio not 1-D.
    """
    if not MIN_SPEED <= speed <= MAX_SPEED:
        raise ValueError(f"speed must be within {MIN_SPEED}-{MAX_SPEED}, got {speed}")
    x = np.asarray(audio, dtype=np.float32)
    if x.ndim != 1:
        raise ValueError(f"audio must be mono (1-D), got shape {x.shape}")
    out_len = int(round(len(x) / speed))
    if speed == 1.0 or len(x) == 0:
        return x.copy()
    frame = max(16, int(_FRAME_S * sample_rate_hz)) // 2 * 2
    hop_out = frame // 2
    tol = max(1, int(_TOLERANCE_S * sample_rate_hz))
    window = np.hanning(frame).astype(np.float32)
    n_frames = out_len // hop_out + 2
    # Pad so every frame (and every search region) lies inside the signal.
    pad = frame + tol
    xp = np.concatenate([np.zeros(pad, np.float32), x,
                         np.zeros(int(n_frames * hop_out * speed) + 2 * pad, np.float32)])
    y = np.zeros(n_frames * hop_out + frame, np.float64)
    norm = np.zeros_like(y)
    prev = pad  # input position of the previous frame (in padded coordinates)
    for k in range(n_frames):
        nominal = pad + int(round(k * hop_out * speed))
        if k == 0:
            pos = nominal
        else:
            # The natural continuation of the previous frame, and the region to search.
            target = xp[prev + hop_out: prev + hop_out + frame]
            region = xp[nominal - tol: nominal + tol + frame]
            corr = np.correlate(region, target, mode="valid")
            pos = nominal - tol + int(np.argmax(corr))
        start = k * hop_out
        y[start:start + frame] += window * xp[pos:pos + frame]
        norm[start:start + frame] += window
        prev = pos
    # Frame k holds input from about k * hop_out * speed at output k * hop_out: the output
    # starts where the input does; dividing by the summed windows undoes the overlap gain.
    y = np.divide(y, norm, out=np.zeros_like(y), where=norm > 1e-3)
    return y[:out_len].astype(np.float32)
