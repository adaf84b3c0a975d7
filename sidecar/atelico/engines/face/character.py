"""Face characters: animation styles stored as JSON data files.

A character file (``<name>.json``) holds::

    name          the id clients pass as ``character`` (lower case)
    description   one sentence on the style, for people
    amplitude     gains on the mouth: jaw (jawOpen), lips (closure, press, roll, lower-lip
                  tuck), rounding (pucker, funnel), spread (stretch, smile), press
                  (mouthPress at a closure, 0..1)
    articulation  how far a phone's shape reaches into its neighbours: > 1 crisp, < 1 slurred
    smoothing     attack_s / release_s time constants of the curves (seconds)
    blink         per_minute (mean rate), duration_s (one blink), double_chance (0..1)
    brows         activity (0..1.5, how much brows follow emphasis and pitch) and asymmetry
                  (-0.5..0.5; > 0 the left brow rises more, < 0 the right) — the only
                  left/right difference a character may have; everything below the brows
                  stays exactly symmetric
    gaze          amount (0..0.3, size of small gaze shifts) and interval_s (mean time
                  between them)
    seed          integer seed of the blink and gaze schedules (same input, same face)

Built-in characters live next to this module in ``characters/``; users add or override
characters by dropping files in ``<cache_dir>/face/characters/``.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Iterable

from pydantic import BaseModel, ConfigDict, Field, ValidationError

logger = logging.getLogger(__name__)

BUILTIN_DIR = Path(__file__).with_name("characters")


class Amplitude(BaseModel):
    model_config = ConfigDict(extra="forbid")
    jaw: float = Field(1.0, ge=0.0, le=2.0)
    lips: float = Field(1.0, ge=0.0, le=2.0)
    rounding: float = Field(1.0, ge=0.0, le=2.0)
    spread: float = Field(1.0, ge=0.0, le=2.0)
    press: float = Field(0.7, ge=0.0, le=1.0)


class Smoothing(BaseModel):
    model_config = ConfigDict(extra="forbid")
    attack_s: float = Field(0.03, ge=0.0, le=0.5)
    release_s: float = Field(0.06, ge=0.0, le=1.0)


class Blink(BaseModel):
    model_config = ConfigDict(extra="forbid")
    per_minute: float = Field(16.0, ge=0.0, le=60.0)
    duration_s: float = Field(0.22, ge=0.08, le=0.6)
    double_chance: float = Field(0.1, ge=0.0, le=1.0)


class Brows(BaseModel):
    model_config = ConfigDict(extra="forbid")
    activity: float = Field(0.6, ge=0.0, le=1.5)
    asymmetry: float = Field(0.0, ge=-0.5, le=0.5)


class Gaze(BaseModel):
    model_config = ConfigDict(extra="forbid")
    amount: float = Field(0.08, ge=0.0, le=0.3)
    interval_s: float = Field(2.0, ge=0.3, le=30.0)


class Character(BaseModel):
    """One animation style (see the module docstring for the fields)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_\-]{0,63}$")
    description: str = ""
    amplitude: Amplitude = Field(default_factory=Amplitude)
    articulation: float = Field(1.0, ge=0.3, le=3.0)
    smoothing: Smoothing = Field(default_factory=Smoothing)
    blink: Blink = Field(default_factory=Blink)
    brows: Brows = Field(default_factory=Brows)
    gaze: Gaze = Field(default_factory=Gaze)
    seed: int = Field(0, ge=0)


def load_character_file(path: Path) -> Character:
    """Read and validate one character file (``ValueError`` on anything malformed)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        character = Character.model_validate(data)
    except (OSError, json.JSONDecodeError, ValidationError) as exc:
        raise ValueError(f"{path}: not a valid face character ({exc})") from exc
    if character.name != path.stem.lower():
        raise ValueError(f"{path}: name {character.name!r} does not match the file name")
    return character


def load_characters(dirs: Iterable[Path]) -> dict[str, Character]:
    """All characters found in ``dirs`` (later directories override earlier ones).

    A malformed user file is skipped with a warning rather than hiding every other character.
    """
    found: dict[str, Character] = {}
    for directory in dirs:
        if not directory.is_dir():
            continue
        for path in sorted(directory.glob("*.json")):
            try:
                character = load_character_file(path)
            except ValueError as exc:
                logger.warning("skipping face character: %s", exc)
                continue
            found[character.name] = character
    return found
