"""Shared STT fixtures: offline settings, the real Whisper models (loaded once) and test speech."""

from __future__ import annotations

import importlib
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from atelico.config import Settings, load_settings
from atelico.engines.stt.whisper import WhisperEngine
from atelico.models.assets import ensure_asset
from atelico.models.catalog import default_catalog

SPEECH_DIR = Path(__file__).resolve().parents[2] / "data" / "speech"
SAMPLE_RATE_HZ = 16_000


@dataclass(frozen=True)
class Clip:
    """A recorded test utterance and its reference transcript."""

    name: str
    audio: np.ndarray  # mono float32 16 kHz
    transcript: str

    @property
    def duration_s(self) -> float:
        return len(self.audio) / SAMPLE_RATE_HZ


def read_clip(name: str) -> np.ndarray:
    audio, rate = sf.read(SPEECH_DIR / name, dtype="float32", always_2d=False)
    assert rate == SAMPLE_RATE_HZ and audio.ndim == 1
    return audio


@pytest.fixture(scope="session")
def clips() -> dict[str, Clip]:
    """Every clip of tests/data/speech/manifest.json, keyed by file stem."""
    manifest = json.loads((SPEECH_DIR / "manifest.json").read_text())
    return {Path(e["file"]).stem: Clip(Path(e["file"]).stem, read_clip(e["file"]), e["transcript"])
            for e in manifest}


@pytest.fixture(scope="session")
def stt_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Offline settings with a private cache; 2 threads like the machines CI runs on."""
    cache = tmp_path_factory.mktemp("stt-cache")
    return load_settings(overrides={"models": {"cache_dir": cache, "offline": True,
                                               "threads": 2}}, env={})


def load_catalog_model(model_id: str, settings: Settings) -> WhisperEngine:
    """Load ``model_id`` the way the registry does: its catalog assets and loader path."""
    spec = default_catalog().model(model_id)
    assets = {asset_id: ensure_asset(asset_id, settings, progress=False)
              for asset_id in spec.assets}
    module_name, _, func = spec.loader.partition(":")
    engine = getattr(importlib.import_module(module_name), func)(spec, assets, settings)
    assert isinstance(engine, WhisperEngine)
    return engine


@pytest.fixture(scope="session")
def base_engine(stt_settings: Settings) -> WhisperEngine:
    """whisper-base (multilingual), int8 on CPU."""
    return load_catalog_model("whisper-base", stt_settings)


@pytest.fixture(scope="session")
def tiny_en_engine(stt_settings: Settings) -> WhisperEngine:
    """whisper-tiny.en (English only), int8 on CPU."""
    return load_catalog_model("whisper-tiny.en", stt_settings)
