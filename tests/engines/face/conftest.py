"""Shared fixtures for the face engine tests: one engine, the recorded speech clips, alignments."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from atelico.engines.base import PhonemeTiming
from atelico.engines.face.model import FaceEngine

SPEECH_DIR = Path(__file__).resolve().parents[2] / "data" / "speech"


@dataclass(frozen=True)
class Clip:
    """A recorded utterance with its transcript."""

    name: str
    audio: np.ndarray  # float32 mono
    sample_rate_hz: int
    text: str

    @property
    def duration_s(self) -> float:
        return len(self.audio) / self.sample_rate_hz


def _load_clips() -> dict[str, Clip]:
    manifest = json.loads((SPEECH_DIR / "manifest.json").read_text())
    clips = {}
    for entry in manifest:
        audio, rate = sf.read(SPEECH_DIR / entry["file"], dtype="float32")
        name = Path(entry["file"]).stem
        clips[name] = Clip(name, audio, rate, entry["transcript"])
    return clips


@pytest.fixture(scope="session")
def clips() -> dict[str, Clip]:
    return _load_clips()


@pytest.fixture(scope="session")
def engine() -> FaceEngine:
    return FaceEngine()


@pytest.fixture(scope="session")
def alignments(engine: FaceEngine, clips: dict[str, Clip]) -> dict[str, list[PhonemeTiming]]:
    """Forced alignment of every clip to its transcript (pocketsphinx, ARPAbet)."""
    return {name: engine.phones(c.audio, c.sample_rate_hz, c.text) for name, c in clips.items()}
