"""Fixtures for the model catalog, asset cache and registry tests: throwaway caches only."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any, Iterator

import pytest

from atelico.config import Settings, load_settings
from atelico.models.assets import ensure_asset


@pytest.fixture
def fresh_log() -> Iterator[None]:
    """The fake loaders' log, empty, with no injected behaviour (cleared again after)."""
    from . import fakes

    fakes.LOG.calls.clear()
    fakes.LOG.behaviour.clear()
    yield
    fakes.LOG.behaviour.clear()


def make_settings(cache_dir: Path, **models: Any) -> Settings:
    """Settings with a private cache, ignoring the caller's ATELICO_* environment."""
    return load_settings(overrides={"models": {"cache_dir": cache_dir, **models}}, env={})


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Offline settings with an empty cache under the test's tmp dir."""
    return make_settings(tmp_path / "cache", offline=True)


@pytest.fixture(scope="session")
def tiny_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A cache holding whisper-tiny.en-ct2 assembled once from its installed package."""
    cache = tmp_path_factory.mktemp("tiny-cache")
    ensure_asset("whisper-tiny.en-ct2", make_settings(cache, offline=True), progress=False)
    return cache


@pytest.fixture
def tiny_settings(tiny_cache: Path, tmp_path: Path) -> Settings:
    """Offline settings whose cache holds a private copy of whisper-tiny.en-ct2."""
    cache = tmp_path / "cache"
    shutil.copytree(tiny_cache, cache)
    return make_settings(cache, offline=True)
