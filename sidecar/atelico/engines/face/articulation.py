"""Visemes to articulator curves with coarticulation (dominance blending, Cohen & Massaro 1993).

The face is driven by a few articulator parameters rather than by visemes directly:

============  ==============================================================
``jaw``       jaw opening (0 closed, 1 wide open)
``close``     lip seal (bilabials /p b m/)
``pucker``    lip protrusion (/u w/, /ʃ/)
``funnel``    open rounding (/o ɔ/, /ʃ/)
``spread``    lip corners pulled back (/i/, /s/)
``lowlip``    lower lip tucked under the upper teeth (/f v/)
``tongue``    tongue tip between the teeth (/θ ð/)
``puff``      air pressure behind closed lips (/p/, a little /b/)
============  ==============================================================

Each viseme gives every parameter a *target* and a *strength*. A segment's influence on a
parameter decays as ``exp(-(d / tau) ** 1.5)`` with the distance ``d`` (seconds) from the
segment, with a time constant ``tau`` per parameter: rounding reaches furthest ahead (anticipatory rounding), the tongue
least. At each frame a parameter is the strength-weighted mean of the targets around it, so a
consonant that does not care about the lips (/k/, /h/, /t/) takes them from its neighbours
("coo" is rounded through the /k/), while one that does (/p/ seals, /s/ narrows the jaw) wins.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from atelico.engines.face.phones import VISEMES, VisemeSegment

PARAMS: tuple[str, ...] = ("jaw", "close", "pucker", "funnel", "spread", "lowlip", "tongue",
                           "puff")
P = {name: i for i, name in enumerate(PARAMS)}

# (target, strength) per parameter; a parameter a viseme does not name gets (0, _FREE).
# Bilabials and labiodentals are near-hard constraints on the lips (strength > 1).
_FREE = 0.06
_TARGETS: dict[str, dict[str, tuple[float, float]]] = {
    "sil": {p: (0.0, 0.6) for p in PARAMS},
    "PP": {"jaw": (0.10, 0.5), "close": (1.0, 3.0), "pucker": (0.0, 0.3), "funnel": (0.0, 0.6),
           "spread": (0.0, 0.3), "lowlip": (0.0, 0.8), "tongue": (0.0, 0.5), "puff": (0.6, 1.0)},
    "BB": {"jaw": (0.10, 0.5), "close": (1.0, 3.0), "pucker": (0.0, 0.3), "funnel": (0.0, 0.6),
           "spread": (0.0, 0.3), "lowlip": (0.0, 0.8), "tongue": (0.0, 0.5), "puff": (0.2, 0.6)},
    "FF": {"jaw": (0.12, 0.6), "close": (0.0, 1.0), "lowlip": (1.0, 2.0), "funnel": (0.0, 0.6),
           "pucker": (0.0, 0.3), "spread": (0.1, 0.2), "tongue": (0.0, 0.5)},
    "TH": {"jaw": (0.2, 0.6), "close": (0.0, 1.0), "tongue": (1.0, 1.0), "lowlip": (0.0, 0.6),
           "pucker": (0.0, 0.3)},
    "DD": {"jaw": (0.22, 0.35), "close": (0.0, 0.8), "tongue": (0.0, 0.3)},
    "LL": {"jaw": (0.28, 0.4), "close": (0.0, 0.8), "tongue": (0.25, 0.6)},
    "SS": {"jaw": (0.06, 0.9), "close": (0.0, 0.9), "spread": (0.35, 0.5), "funnel": (0.0, 0.3),
           "lowlip": (0.0, 0.4)},
    "SH": {"jaw": (0.10, 0.8), "close": (0.0, 0.9), "funnel": (0.75, 0.9), "pucker": (0.45, 0.8),
           "spread": (0.0, 0.8)},
    "KK": {"jaw": (0.25, 0.3), "close": (0.0, 0.6)},
    "HH": {"jaw": (0.3, 0.1), "close": (0.0, 0.5)},
    "RR": {"jaw": (0.15, 0.5), "close": (0.0, 0.8), "pucker": (0.5, 0.7), "funnel": (0.35, 0.6),
           "spread": (0.0, 0.5)},
    "WW": {"jaw": (0.08, 0.6), "close": (0.0, 0.7), "pucker": (0.95, 1.0), "funnel": (0.3, 0.7),
           "spread": (0.0, 0.9)},
    "YY": {"jaw": (0.12, 0.5), "spread": (0.5, 0.6), "pucker": (0.0, 0.5)},
}
# Vowels own the jaw (strength 1) and shape the lips firmly (0.6).
_VOWELS: dict[str, tuple[float, float, float, float]] = {  # jaw, spread, pucker, funnel
    "AA": (0.85, 0.10, 0.0, 0.0), "AE": (0.70, 0.45, 0.0, 0.0), "AH": (0.55, 0.10, 0.0, 0.0),
    "AX": (0.35, 0.05, 0.0, 0.0), "AO": (0.70, 0.0, 0.25, 0.55), "OH": (0.50, 0.0, 0.45, 0.75),
    "EH": (0.50, 0.40, 0.0, 0.0), "IH": (0.32, 0.45, 0.0, 0.0), "IY": (0.18, 0.75, 0.0, 0.0),
    "UH": (0.28, 0.0, 0.50, 0.45), "UW": (0.14, 0.0, 0.95, 0.35), "ER": (0.28, 0.0, 0.35, 0.35),
}
for _v, (_jaw, _spread, _pucker, _funnel) in _VOWELS.items():
    _TARGETS[_v] = {"jaw": (_jaw, 1.0 if _v != "AX" else 0.6), "close": (0.0, 0.7),
                    "spread": (_spread, 0.6), "pucker": (_pucker, 0.6), "funnel": (_funnel, 0.6),
                    "lowlip": (0.0, 0.6), "tongue": (0.0, 0.4), "puff": (0.0, 0.6)}

_TARGET = np.zeros((len(VISEMES), len(PARAMS)))
_STRENGTH = np.full((len(VISEMES), len(PARAMS)), _FREE)
for _i, _name in enumerate(VISEMES):
    for _p, (_t, _s) in _TARGETS[_name].items():
        _TARGET[_i, P[_p]] = _t
        _STRENGTH[_i, P[_p]] = _s
_VIS_INDEX = {name: i for i, name in enumerate(VISEMES)}

# Reach of a segment's influence before (anticipation) and after (carry-over) it, seconds.
_TAU_PRE = np.array([0.070, 0.045, 0.100, 0.100, 0.070, 0.045, 0.030, 0.030])
_TAU_POST = np.array([0.060, 0.035, 0.060, 0.060, 0.050, 0.035, 0.030, 0.020])
_SHAPE = 1.5  # dominance falls as exp(-(d/tau)^1.5): broad nearby, negligible 4 tau away
_REST_STRENGTH = 0.02  # a faint pull towards the neutral face everywhere
_SHORT_PAUSE_S = 0.12  # pauses shorter than this barely close the mouth between words
_BLOCK = 512


def blend(segments: Sequence[VisemeSegment], times_s: np.ndarray,
          articulation: float = 1.0) -> np.ndarray:
    """Articulator curves ``[len(times_s), len(PARAMS)]`` in [0, 1] at the given instants.

    Args:
        segments: timed visemes (any order).
        times_s: frame instants in seconds, same time base as ``segments``.
        articulation: > 1 crisper (influence reaches less far), < 1 slurred.
    """
    n = len(times_s)
    out = np.zeros((n, len(PARAMS)))
    if n == 0 or not segments:
        return out
    starts = np.array([s.start_s for s in segments])
    ends = np.array([s.end_s for s in segments])
    vis = np.array([_VIS_INDEX[s.viseme] for s in segments])
    target = _TARGET[vis].copy()
    strength = _STRENGTH[vis].copy()
    short_pause = (vis == _VIS_INDEX["sil"]) & (ends - starts < _SHORT_PAUSE_S)
    strength[short_pause] *= 0.25
    stress = np.array([s.stress if s.is_vowel else 0 for s in segments])
    jaw = P["jaw"]
    target[stress == 1, jaw] = np.minimum(1.0, target[stress == 1, jaw] * 1.12)
    strength[stress == 1, jaw] *= 1.3
    tau_pre = _TAU_PRE / max(articulation, 1e-3)
    tau_post = _TAU_POST / max(articulation, 1e-3)
    reach_s = 6.0 * max(tau_pre.max(), tau_post.max())
    for b0 in range(0, n, _BLOCK):
        t = np.asarray(times_s[b0:b0 + _BLOCK], dtype=np.float64)
        near = (ends > t[0] - reach_s) & (starts < t[-1] + reach_s)
        num = np.zeros((len(t), len(PARAMS)))
        den = np.full((len(t), len(PARAMS)), _REST_STRENGTH)
        if near.any():
            before = np.maximum(starts[near][None, :] - t[:, None], 0.0)  # [T, S]
            after = np.maximum(t[:, None] - ends[near][None, :], 0.0)
            reach = before[:, :, None] / tau_pre + after[:, :, None] / tau_post
            decay = np.exp(-reach ** _SHAPE)
            dom = decay * strength[near][None, :, :]  # [T, S, P]
            num = np.einsum("tsp,sp->tp", dom, target[near])
            den = den + dom.sum(axis=1)
        out[b0:b0 + len(t)] = num / den
    return np.clip(out, 0.0, 1.0)


def closure_floors(segments: Sequence[VisemeSegment], times_s: np.ndarray) -> np.ndarray:
    """Minimum values ``[len(times_s), len(PARAMS)]`` that hard constraints impose.

    A bilabial seals the lips (``close`` ≥ 0.95) and a labiodental tucks the lower lip
    (``lowlip`` ≥ 0.85) at every frame inside the segment; a segment shorter than a frame
    gets its nearest frame, so no /p/ is ever skipped.
    """
    floors = np.zeros((len(times_s), len(PARAMS)))
    if len(times_s) == 0:
        return floors
    t = np.asarray(times_s, dtype=np.float64)
    step_s = float(t[1] - t[0]) if len(t) > 1 else 1.0
    for seg in segments:
        if seg.viseme in ("PP", "BB"):
            param, floor = P["close"], 0.95
        elif seg.viseme == "FF":
            param, floor = P["lowlip"], 0.85
        else:
            continue
        lo = int(np.searchsorted(t, seg.start_s - 1e-9))
        hi = int(np.searchsorted(t, seg.end_s - 1e-9))
        if hi > lo:
            floors[lo:hi, param] = floor
        else:
            mid = 0.5 * (seg.start_s + seg.end_s)
            k = int(np.clip(np.argmin(np.abs(t - mid)), 0, len(t) - 1))
            if abs(t[k] - mid) <= step_s:
                floors[k, param] = floor
    return floors
