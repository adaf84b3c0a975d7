"""Articulator curves to ARKit-52 weights, plus secondary motion (blinks, gaze, brows)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from atelico.engines.base import ARKIT_BLENDSHAPES
from atelico.engines.face.articulation import P
from atelico.engines.face.character import Character

IDX = {name: i for i, name in enumerate(ARKIT_BLENDSHAPES)}

#: Channels that must stay exactly left/right symmetric (everything below the eyes and brows).
SYMMETRIC_PAIRS: tuple[tuple[str, str], ...] = tuple(
    (left, left[:-4] + "Right") for left in ARKIT_BLENDSHAPES
    if left.endswith("Left") and not left.startswith(("eye", "brow"))
) + (("mouthLeft", "mouthRight"), ("jawLeft", "jawRight"))

#: Channels that move only with the mouth (zero on a silent, neutral face).
MOUTH_CHANNELS: tuple[str, ...] = tuple(
    n for n in ARKIT_BLENDSHAPES if n.startswith(("jaw", "mouth", "cheek", "nose", "tongue")))


def _both(weights: np.ndarray, stem: str, values: np.ndarray) -> None:
    weights[:, IDX[stem + "Left"]] = values
    weights[:, IDX[stem + "Right"]] = values


def mouth_weights(params: np.ndarray, character: Character) -> np.ndarray:
    """ARKit weights ``[N, 52]`` for the lower face from articulator curves ``[N, PARAMS]``.

    ``mouthClose`` is ARKit's lip seal *relative to the open jaw* (a rig shows closed lips when
    it equals ``jawOpen``), so it is the closure times the jaw opening; ``mouthPress`` and the
    lip rolls carry the visible pressure of a bilabial. Every pair is written once to both
    sides, which keeps the lower face exactly symmetric.
    """
    n = len(params)
    w = np.zeros((n, len(ARKIT_BLENDSHAPES)))
    amp = character.amplitude
    jaw, close, pucker, funnel = (params[:, P[k]] for k in ("jaw", "close", "pucker", "funnel"))
    spread, lowlip, tongue, puff = (params[:, P[k]] for k in ("spread", "lowlip", "tongue",
                                                              "puff"))
    open_lips = 1.0 - close
    w[:, IDX["jawOpen"]] = jaw
    w[:, IDX["mouthClose"]] = close * jaw
    _both(w, "mouthPress", amp.press * amp.lips * close)
    w[:, IDX["mouthRollLower"]] = amp.lips * (0.3 * close + 0.55 * lowlip)
    w[:, IDX["mouthRollUpper"]] = amp.lips * (0.2 * close + 0.1 * lowlip)
    w[:, IDX["mouthShrugLower"]] = amp.lips * (0.35 * lowlip + 0.15 * close)
    w[:, IDX["mouthShrugUpper"]] = 0.2 * pucker + 0.1 * close
    w[:, IDX["mouthFunnel"]] = funnel
    w[:, IDX["mouthPucker"]] = pucker
    _both(w, "mouthStretch", 0.45 * spread)
    _both(w, "mouthSmile", 0.22 * spread)
    _both(w, "mouthDimple", 0.1 * spread)
    _both(w, "mouthLowerDown", (0.3 * jaw + 0.15 * spread) * open_lips)
    _both(w, "mouthUpperUp", 0.18 * spread * open_lips + 0.2 * lowlip)
    _both(w, "cheekSquint", 0.12 * spread)
    _both(w, "noseSneer", 0.06 * spread + 0.05 * lowlip)
    w[:, IDX["cheekPuff"]] = 0.35 * puff
    w[:, IDX["tongueOut"]] = 0.45 * tongue
    w[:, IDX["jawForward"]] = 0.12 * lowlip + 0.08 * pucker
    return w


def _smooth01(x: np.ndarray) -> np.ndarray:
    t = np.clip(x, 0.0, 1.0)
    smooth: np.ndarray = t * t * (3.0 - 2.0 * t)
    return smooth


@dataclass
class EventSchedule:
    """Random events (blinks, gaze shifts) at absolute times, drawn lazily from a seeded RNG.

    The schedule depends only on the seed and the rate, never on how the timeline is cut into
    blocks, so streaming, chunked and offline runs show the same blinks at the same instants.
    """

    seed: int
    mean_interval_s: float
    first_after_s: float = 0.6
    min_interval_s: float = 0.8
    double_chance: float = 0.0
    events: list[tuple[float, float, float]] = field(default_factory=list)  # t, a, b

    def __post_init__(self) -> None:
        self._rng = np.random.default_rng(self.seed)
        self._next_s = self.first_after_s + self._rng.uniform(0.0, self.mean_interval_s)

    def until(self, end_s: float) -> list[tuple[float, float, float]]:
        """All events up to ``end_s`` (each ``(time_s, a, b)`` with two random draws)."""
        if not np.isfinite(self.mean_interval_s) or self.mean_interval_s <= 0:
            return self.events
        while self._next_s <= end_s:
            a, b = self._rng.standard_normal(2)
            self.events.append((self._next_s, float(a), float(b)))
            if self._rng.uniform() < self.double_chance:
                self.events.append((self._next_s + 0.32, float(a), float(b)))
                self._next_s += 0.32
            shape = 3.0
            gap = self._rng.gamma(shape, self.mean_interval_s / shape)
            self._next_s += max(self.min_interval_s, gap)
        return self.events


def blink_curve(times_s: np.ndarray, schedule: EventSchedule, duration_s: float) -> np.ndarray:
    """Eyelid closure per frame: fast close (35% of the blink), slower open."""
    out = np.zeros(len(times_s))
    if len(times_s) == 0:
        return out
    close_s, open_s = 0.35 * duration_s, 0.65 * duration_s
    for t0, _, _ in schedule.until(float(times_s[-1])):
        if t0 < times_s[0] - duration_s:
            continue  # over before this block
        u = times_s - t0
        shape = np.where(u < close_s, _smooth01(u / close_s),
                         1.0 - _smooth01((u - close_s) / open_s))
        out = np.maximum(out, np.where((u >= 0) & (u <= duration_s), shape, 0.0))
    return out


def gaze_curves(times_s: np.ndarray, schedule: EventSchedule,
                amount: float) -> tuple[np.ndarray, np.ndarray]:
    """Small held gaze offsets (x: + towards the character's left, y: + up), quick saccades."""
    x = np.zeros(len(times_s))
    y = np.zeros(len(times_s))
    if len(times_s) == 0 or amount <= 0:
        return x, y
    events = schedule.until(float(times_s[-1]))
    # events whose saccade ended before this block only matter through the last of them
    done = [i for i, (t0, _, _) in enumerate(events) if t0 + 0.05 <= times_s[0]]
    for t0, a, b in events[done[-1] if done else 0:]:
        step = _smooth01((times_s - t0) / 0.05)  # a saccade takes ~50 ms
        x = x * (1.0 - step) + step * float(np.clip(a, -2, 2)) * amount
        y = y * (1.0 - step) + step * float(np.clip(b, -2, 2)) * amount * 0.5
    return x, y


def add_upper_face(weights: np.ndarray, blink: np.ndarray, gaze_x: np.ndarray,
                   gaze_y: np.ndarray, brow: np.ndarray, brow_down: np.ndarray,
                   spread: np.ndarray, character: Character) -> None:
    """Write eyes and brows into ``weights`` (in place); the asymmetry lives only here."""
    asym = character.brows.asymmetry
    _both(weights, "eyeBlink", blink)
    weights[:, IDX["eyeLookOutLeft"]] = np.maximum(gaze_x, 0.0)
    weights[:, IDX["eyeLookInRight"]] = np.maximum(gaze_x, 0.0)
    weights[:, IDX["eyeLookInLeft"]] = np.maximum(-gaze_x, 0.0)
    weights[:, IDX["eyeLookOutRight"]] = np.maximum(-gaze_x, 0.0)
    _both(weights, "eyeLookUp", np.maximum(gaze_y, 0.0))
    _both(weights, "eyeLookDown", np.maximum(-gaze_y, 0.0) + 0.1 * blink)
    _both(weights, "eyeSquint", 0.15 * spread + 0.25 * brow_down)
    _both(weights, "eyeWide", 0.25 * brow * (1.0 - blink))
    weights[:, IDX["browInnerUp"]] = 0.7 * brow
    weights[:, IDX["browOuterUpLeft"]] = 0.55 * brow * (1.0 + asym)
    weights[:, IDX["browOuterUpRight"]] = 0.55 * brow * (1.0 - asym)
    weights[:, IDX["browDownLeft"]] = brow_down * (1.0 - 0.5 * asym)
    weights[:, IDX["browDownRight"]] = brow_down * (1.0 + 0.5 * asym)
