"""Shared Kokoro fixtures: the real int8 model loaded once per session, and Whisper to listen."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from atelico.config import Settings, load_settings
from atelico.engines.tts.kokoro import KokoroEngine, load
from atelico.errors import ModelNotInstalled
from atelico.models.assets import ensure_asset
from atelico.models.catalog import default_catalog

KOKORO_ASSETS = ("kokoro-82m-onnx-int8", "kokoro-82m-voices")


def asset_settings() -> Settings:
    """Settings for finding assets: the real cache (ATELICO_CACHE_DIR honoured), offline."""
    return load_settings(overrides={"models": {"offline": True}})


def ensure_or_skip(asset_id: str) -> Path:
    try:
        return ensure_asset(asset_id, asset_settings(), progress=False)
    except ModelNotInstalled as exc:  # pragma: no cover - depends on the machine
        pytest.skip(f"asset {asset_id} unavailable offline: {exc.message}")


@pytest.fixture(scope="session")
def kokoro_assets() -> dict[str, Path]:
    """The verified Kokoro asset directories (assembled from installed packages if needed)."""
    return {asset_id: ensure_or_skip(asset_id) for asset_id in KOKORO_ASSETS}


@pytest.fixture(scope="session")
def kokoro_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Settings whose (empty) cache holds this session's cloned voices; 2 intra-op threads."""
    cache = tmp_path_factory.mktemp("kokoro-cache")
    return load_settings(overrides={"models": {"cache_dir": cache, "threads": 2}}, env={})


@pytest.fixture(scope="session")
def kokoro(kokoro_assets: dict[str, Path], kokoro_settings: Settings) -> KokoroEngine:
    """The real Kokoro-82M int8 engine, loaded once through the catalog's loader."""
    spec = default_catalog().model("kokoro")
    return load(spec, kokoro_assets, kokoro_settings)


@pytest.fixture(scope="session")
def whisper() -> Any:
    """faster-whisper tiny.en (int8, CPU) from the offline asset, to transcribe speech back."""
    from faster_whisper import WhisperModel

    model_dir = ensure_or_skip("whisper-tiny.en-ct2")
    return WhisperModel(str(model_dir), device="cpu", compute_type="int8", cpu_threads=2)


@pytest.fixture(scope="session")
def whisper_base() -> Any:
    """faster-whisper base (int8, the sidecar's default STT model), to transcribe back."""
    from faster_whisper import WhisperModel

    model_dir = ensure_or_skip("whisper-base-int8-ct2")
    return WhisperModel(str(model_dir), device="cpu", compute_type="int8", cpu_threads=2)


def transcribe(whisper: Any, audio_24k: np.ndarray) -> str:
    """Transcribe 24 kHz Kokoro audio with Whisper (resampled to 16 kHz)."""
    from scipy.signal import resample_poly

    audio = resample_poly(audio_24k, 2, 3).astype(np.float32)
    segments, _ = whisper.transcribe(audio, language="en", beam_size=5,
                                     condition_on_previous_text=False)
    return " ".join(segment.text.strip() for segment in segments)


def rms(audio: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(audio, dtype=np.float64)))) if len(audio) else 0.0
