"""Comparing two renders of the same speech whose window cuts may differ (the Kokoro pacer
sizes windows from the clock): the loudness contour, not the samples."""

from __future__ import annotations

import numpy as np


def contour_correlation(a: np.ndarray, b: np.ndarray, hop: int = 1200) -> float:
    """Correlation of the RMS per ``hop`` samples (50 ms at 24 kHz) of two equally long signals."""
    assert a.shape == b.shape, (a.shape, b.shape)
    n = len(a) // hop * hop
    env = [np.sqrt(np.mean(np.asarray(x[:n], np.float64).reshape(-1, hop) ** 2, axis=1)) for x in (a, b)]
    return float(np.corrcoef(env[0], env[1])[0, 1])
