"""Edge fades of synthesized audio (#18): free edges start and end at zero, joined ones stay."""

from __future__ import annotations

import numpy as np

from atelico.audio.pcm import EDGE_FADE_S, fade_edges

RATE = 24_000


def test_free_edges_start_and_end_at_zero_with_a_smooth_ramp() -> None:
    """A DC signal (the worst step) fades from exactly 0 up to full level within the fade."""
    x = np.full(RATE // 10, -0.37, np.float32)
    y = fade_edges(x, RATE)
    n = int(round(EDGE_FADE_S * RATE))
    assert y[0] == 0.0 and y[-1] == 0.0
    assert np.all(np.diff(np.abs(y[:n])) >= 0)  # monotonic raised cosine, no overshoot
    assert np.array_equal(y[n:-n], x[n:-n])  # the middle is untouched
    assert np.max(np.abs(np.diff(y))) < 0.37 / n * 2  # no jump larger than the ramp's slope
    assert np.array_equal(x, np.full(RATE // 10, -0.37, np.float32))  # input not modified


def test_joined_edges_are_left_alone() -> None:
    """head_s=0 / tail_s=0 keep an edge that is cross-faded into its neighbour."""
    x = np.full(1000, 0.5, np.float32)
    assert fade_edges(x, RATE, head_s=0)[0] == 0.5 and fade_edges(x, RATE, head_s=0)[-1] == 0.0
    assert fade_edges(x, RATE, tail_s=0)[-1] == 0.5 and fade_edges(x, RATE, tail_s=0)[0] == 0.0


def test_audio_shorter_than_the_fades() -> None:
    """Tiny or empty chunks are still zero at both ends and never grow."""
    assert len(fade_edges(np.zeros(0, np.float32), RATE)) == 0
    for n in (1, 2, 3, 50):
        y = fade_edges(np.ones(n, np.float32), RATE)
        assert len(y) == n and y[0] == 0.0 and y[-1] == 0.0
