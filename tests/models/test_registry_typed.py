"""The registry's typed seams: kind keys, sub-model parts, catalog voice listers."""

from __future__ import annotations

import threading

import pytest

from atelico.config import Settings
from atelico.engines.base import FACE, STT, TTS, Part
from atelico.errors import RequestError
from atelico.models.catalog import ModelSpec, default_catalog
from atelico.models.loading import import_callable
from atelico.models.registry import ModelRegistry

from . import fakes
from .conftest import make_settings

FAKE_LOADER = "tests.models.fakes:load"


pytestmark = pytest.mark.usefixtures("fresh_log")


def _registry(settings: Settings, *specs: ModelSpec) -> ModelRegistry:
    return ModelRegistry(make_settings(settings.models.cache_dir, offline=True),
                         catalog=list(specs or (
                             ModelSpec(id="fake-tts", kind="tts", loader=FAKE_LOADER),
                             ModelSpec(id="fake-stt", kind="stt", loader=FAKE_LOADER))))


def test_acquire_with_a_kind_yields_that_model(settings: Settings) -> None:
    registry = _registry(settings)
    with registry.acquire("fake-tts", TTS) as engine:
        assert isinstance(engine, fakes.FakeEngine) and engine.model_id == "fake-tts"
    assert registry.engine_kind("fake-stt", STT) == "fake-stt"


def test_a_model_of_another_kind_is_refused_before_any_load(settings: Settings) -> None:
    registry = _registry(settings)
    for call in (lambda: registry.acquire("fake-tts", STT),
                 lambda: registry.engine_kind("fake-stt", FACE)):
        with pytest.raises(RequestError) as info:
            call()
        assert info.value.code == "request.wrong_model_kind"
        assert info.value.details == {"field": "model"}
    assert fakes.LOG.calls == [] and registry.loaded_ids() == []


def test_a_part_loads_once_for_every_caller_and_closes_with_the_registry(
        settings: Settings) -> None:
    loads: list[int] = []
    lock = threading.Lock()

    def load(_settings: Settings) -> fakes.FakePart:
        with lock:
            loads.append(1)
            return fakes.FakePart(len(loads))

    part = Part("fake-part", load)
    registry = _registry(settings)
    barrier = threading.Barrier(6)
    got: list[fakes.FakePart] = []

    def worker() -> None:
        barrier.wait()
        got.append(registry.part(part))

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=10)
    assert len(got) == 6 and all(p is got[0] for p in got) and loads == [1]
    assert registry.loaded_parts() == ["fake-part"]
    registry.close()
    assert got[0].closed and registry.loaded_parts() == []
    assert registry.part(part).loads == 2  # a closed registry loads it again on demand


def test_a_failed_part_load_raises_and_the_next_call_tries_again(settings: Settings) -> None:
    attempts: list[int] = []

    def load(_settings: Settings) -> fakes.FakePart:
        attempts.append(1)
        if len(attempts) == 1:
            raise OSError("disk hiccup")
        return fakes.FakePart(len(attempts))

    registry = _registry(settings)
    part = Part("flaky", load)
    with pytest.raises(OSError):
        registry.part(part)
    assert registry.loaded_parts() == []
    assert registry.part(part).loads == 2


def test_voices_come_from_the_catalog_lister_without_a_load(settings: Settings) -> None:
    listed = ModelSpec(id="fake-tts", kind="tts", loader=FAKE_LOADER,
                       voice_lister="tests.models.fakes:list_voices")
    plain = ModelSpec(id="plain-tts", kind="tts", loader=FAKE_LOADER)
    registry = _registry(settings, listed, plain)
    voices = registry.voices_without_loading("fake-tts")
    assert voices is not None and [v.id for v in voices] == ["fake-tts-voice"]
    assert fakes.LOG.calls == ["list:fake-tts"]  # listed, never loaded
    assert registry.voices_without_loading("plain-tts") is None  # no lister: ask the engine
    with registry.acquire("fake-tts", TTS):
        assert registry.voices_without_loading("fake-tts") is None  # loaded: ask the engine


def test_the_shipped_catalog_names_callable_voice_listers() -> None:
    specs = [s for s in default_catalog().models if s.voice_lister]
    assert [s.id for s in specs] == ["kokoro"]
    for spec in specs:
        assert callable(import_callable(spec.voice_lister or ""))
