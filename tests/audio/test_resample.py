"""The NumPy polyphase resampler matches SciPy's resample_poly (the bundle ships without SciPy)."""

from __future__ import annotations

import numpy as np
import pytest

from atelico.audio.pcm import resample, resample_poly

scipy_signal = pytest.importorskip("scipy.signal")


@pytest.mark.parametrize("n,up,down", [(1000, 2, 3), (44_100, 160, 441), (5, 3, 2), (1, 1, 2),
                                        (48_000, 1, 3), (1000, 3, 1), (777, 2048, 1),
                                        (9000, 1, 2048), (100, 7, 5), (2, 2047, 2048), (3, 5, 1),
                                        (600, 4, 6)])
def test_matches_scipy(n, up, down):
    x = np.random.default_rng(n).standard_normal(n)
    ours = resample_poly(x, up, down)
    ref = scipy_signal.resample_poly(x, up, down)
    assert ours.shape == ref.shape
    np.testing.assert_allclose(ours, ref, rtol=0, atol=1e-12)


def test_resample_uses_it_for_rate_conversion():
    x = np.sin(np.linspace(0, 200, 24_000)).astype(np.float32)
    y = resample(x, 24_000, 16_000)
    assert y.dtype == np.float32 and len(y) == 16_000
    np.testing.assert_allclose(y, scipy_signal.resample_poly(x, 2, 3), atol=1e-6)


def test_identity_and_bad_shape():
    x = np.arange(4.0)
    np.testing.assert_array_equal(resample_poly(x, 3, 3), x)
    with pytest.raises(ValueError):
        resample_poly(np.zeros((2, 2)), 2, 1)
