"""StreamResampler: live frames of any size resampled to 16 kHz without seams."""

from __future__ import annotations

import numpy as np
import pytest

from atelico.audio.resample import StreamResampler
from atelico.errors import AudioError


@pytest.mark.parametrize("from_hz", [8_000, 22_050, 44_100, 48_000])
def test_framed_resampling_is_seamless(from_hz: int) -> None:
    """A 440 Hz tone fed in random 5–120 ms frames comes out as the same tone at 16 kHz."""
    seconds = 2.0
    t = np.arange(int(seconds * from_hz)) / from_hz
    tone = (0.5 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
    resampler = StreamResampler(from_hz)
    rng = np.random.default_rng(from_hz)
    out, i = [], 0
    while i < len(tone):
        n = int(rng.integers(5, 121)) * from_hz // 1000
        out.append(resampler(tone[i:i + n]))
        i += n
    out.append(resampler.flush())
    y = np.concatenate(out)
    assert y.dtype == np.float32 and abs(len(y) - seconds * 16_000) <= 2
    expected = 0.5 * np.sin(2 * np.pi * 440 * np.arange(len(y)) / 16_000)
    inner = slice(200, len(y) - 200)  # the filter's edges at the very start and end
    assert np.abs(y[inner] - expected[inner]).max() < 0.01


def test_channels_are_averaged_and_16k_passes_through() -> None:
    """[samples, channels] input is downmixed; 16 kHz input is returned unchanged."""
    stereo = np.stack([np.full(160, 0.2, np.float32), np.full(160, 0.4, np.float32)], axis=1)
    np.testing.assert_allclose(StreamResampler(16_000)(stereo), np.full(160, 0.3), atol=1e-6)
    assert StreamResampler(16_000).flush().size == 0


def test_bad_rates_and_shapes_are_refused() -> None:
    """Rates outside 1–384 kHz and 3-D arrays are AudioErrors."""
    with pytest.raises(AudioError):
        StreamResampler(500)
    with pytest.raises(AudioError):
        StreamResampler(48_000)(np.zeros((2, 2, 2), np.float32))
