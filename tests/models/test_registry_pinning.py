"""Preloaded models are pinned: idle unloading keeps them unless the user opts in."""

from __future__ import annotations

from atelico.config import Settings
from atelico.models.registry import ModelRegistry

from . import fakes
from .conftest import make_settings
from .test_registry import Clock, _specs


def _registry(settings: Settings, clock: Clock, **models: object) -> ModelRegistry:
    settings = make_settings(settings.models.cache_dir, offline=True, idle_unload_s=600.0, **models)
    return ModelRegistry(settings, catalog=_specs(), defaults={"tts": ["fake-tts"]}, clock=clock)


def test_preloaded_model_stays_loaded_after_hours_idle_others_unload(settings: Settings) -> None:
    """A model preloaded (here through the generic id ``tts``) is still loaded after 3 idle
    hours, its engine never closed, nothing reloaded; a model loaded on demand goes after
    the idle timeout as before."""
    clock = Clock()
    registry = _registry(settings, clock)
    assert registry.preload(["tts"]) == {}
    with registry.acquire("fake-stt"):
        pass
    assert registry.pinned_ids() == ["fake-tts"]
    clock.now_s += 3 * 3600
    assert registry.unload_idle() == ["fake-stt"]
    assert registry.loaded_ids() == ["fake-tts"]
    with registry.acquire("fake-tts") as engine:
        assert not engine.closed
    assert fakes.LOG.count("fake-tts") == 1  # loaded once, at preload


def test_opting_in_unloads_preloaded_models_when_idle(settings: Settings) -> None:
    clock = Clock()
    registry = _registry(settings, clock, unload_preloaded=True)
    assert registry.preload(["fake-tts"]) == {}
    assert registry.pinned_ids() == []
    clock.now_s += 599.0
    assert registry.unload_idle() == []
    clock.now_s += 1.0
    assert registry.unload_idle() == ["fake-tts"] and registry.loaded_ids() == []
