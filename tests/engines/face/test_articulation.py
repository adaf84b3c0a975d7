"""Coarticulation: neighbours shape free articulators, hard constraints always hold."""

from __future__ import annotations

import numpy as np

from atelico.engines.face.articulation import P, blend, closure_floors
from atelico.engines.face.phones import VisemeSegment


def _segs(spec: list[tuple[str, float, float]]) -> list[VisemeSegment]:
    return [VisemeSegment(v, a, b) for v, a, b in spec]


def test_consonant_takes_lip_rounding_from_its_vowel() -> None:
    """The /k/ of 'coo' is rounded, the /k/ of 'key' is spread (the lips are free on /k/)."""
    times = np.array([0.25])
    coo = blend(_segs([("sil", 0.0, 0.2), ("KK", 0.2, 0.3), ("UW", 0.3, 0.6)]), times)
    key = blend(_segs([("sil", 0.0, 0.2), ("KK", 0.2, 0.3), ("IY", 0.3, 0.6)]), times)
    assert coo[0, P["pucker"]] > 0.4 and key[0, P["pucker"]] < 0.05
    assert key[0, P["spread"]] > coo[0, P["spread"]] + 0.2


def test_bilabial_wins_the_lips_but_not_the_jaw() -> None:
    """In 'ama' the lips seal on /m/ while the jaw stays partly open from the vowels."""
    segs = _segs([("AA", 0.0, 0.3), ("BB", 0.3, 0.4), ("AA", 0.4, 0.7)])
    out = blend(segs, np.array([0.15, 0.35, 0.55]))
    assert out[1, P["close"]] > 0.8 and out[0, P["close"]] < 0.1
    assert 0.15 < out[1, P["jaw"]] < out[0, P["jaw"]]


def test_far_from_any_phone_the_face_rests() -> None:
    """Long silence pulls every articulator back to zero."""
    out = blend(_segs([("AA", 0.0, 0.3), ("sil", 0.3, 3.0)]), np.array([2.0]))
    assert np.all(out < 1e-3)


def test_short_closure_still_gets_a_frame() -> None:
    """A /p/ shorter than a frame falls between frame instants yet still seals one frame."""
    times = np.arange(30) / 30.0
    floors = closure_floors(_segs([("PP", 0.505, 0.525)]), times)
    assert floors[:, P["close"]].max() >= 0.95
    assert np.count_nonzero(floors[:, P["close"]]) == 1
    assert floors[15, P["close"]] >= 0.95  # 0.5 s is the nearest frame instant
