"""Registry: lazy, shared, reference-counted loading; one load at a time; idle unload."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest

from atelico.config import Settings
from atelico.errors import ModelIntegrity, ModelLoadFailed, ModelNotInstalled, UnknownModel
from atelico.models.assets import asset_dir
from atelico.models.catalog import ModelSpec
from atelico.models.registry import ModelRegistry

from . import fakes
from .conftest import make_settings

FAKE_LOADER = "tests.models.fakes:load"


class Clock:
    """A hand-driven monotonic clock, seconds."""

    def __init__(self) -> None:
        self.now_s = 1000.0

    def __call__(self) -> float:
        return self.now_s


pytestmark = pytest.mark.usefixtures("fresh_log")


def _specs(*extra: ModelSpec) -> list[ModelSpec]:
    return [ModelSpec(id="fake-tts", kind="tts", loader=FAKE_LOADER, aliases=("ft",),
                      default=True),
            ModelSpec(id="fake-stt", kind="stt", loader=FAKE_LOADER), *extra]


def _registry(settings: Settings, *extra: ModelSpec, clock: Clock | None = None,
              idle_unload_s: float = 60.0) -> ModelRegistry:
    settings = make_settings(settings.models.cache_dir, offline=True, idle_unload_s=idle_unload_s)
    return ModelRegistry(settings, catalog=_specs(*extra), defaults={"tts": ["fake-tts"]},
                         clock=clock or Clock())


def _acquire_in_threads(registry: ModelRegistry, model_id: str, n: int
                        ) -> tuple[list[Any], list[BaseException]]:
    """n threads acquire at the same moment; returns engines and errors."""
    barrier = threading.Barrier(n)
    engines: list[Any] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def worker() -> None:
        barrier.wait()
        try:
            with registry.acquire(model_id) as engine:
                with lock:
                    engines.append(engine)
        except BaseException as exc:  # noqa: BLE001 - collected for the assertions
            with lock:
                errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=10)
        assert not t.is_alive(), "acquire blocked"
    return engines, errors


def test_nothing_loads_until_acquired(settings: Settings) -> None:
    """Creating a registry and listing models loads nothing."""
    registry = _registry(settings)
    assert [m["loaded"] for m in registry.list_models()] == [False, False]
    assert registry.loaded_ids() == [] and fakes.LOG.calls == []


def test_concurrent_acquires_share_one_load(settings: Settings) -> None:
    """Four threads acquiring a model at once cause exactly one load and share the engine."""
    fakes.LOG.behaviour["fake-tts"] = fakes.slow(0.3)
    registry = _registry(settings)
    engines, errors = _acquire_in_threads(registry, "in-memory::ft", 4)
    assert errors == []
    assert fakes.LOG.count("fake-tts") == 1
    assert len(engines) == 4 and all(e is engines[0] for e in engines)
    assert registry.loaded_ids() == ["fake-tts"]
    with registry.acquire("tts") as again:
        assert again is engines[0]
    assert fakes.LOG.count("fake-tts") == 1


def test_different_models_load_independently(settings: Settings) -> None:
    """A slow load of one model does not hold up acquiring another."""
    started = threading.Event()
    release = threading.Event()

    def block(attempt: int) -> None:
        started.set()
        release.wait(5)

    fakes.LOG.behaviour["fake-tts"] = block
    registry = _registry(settings)
    def hold() -> None:
        with registry.acquire("fake-tts"):
            pass

    t = threading.Thread(target=hold)
    t.start()
    assert started.wait(5)
    t0 = time.perf_counter()
    with registry.acquire("fake-stt") as engine:
        assert engine.model_id == "fake-stt"
    assert time.perf_counter() - t0 < 1.0
    release.set()
    t.join(5)


def test_idle_unload_waits_for_refcount_zero_and_idle_time(settings: Settings) -> None:
    """A model in use is never unloaded; once released it goes after idle_unload_s."""
    clock = Clock()
    registry = _registry(settings, clock=clock, idle_unload_s=10.0)
    with registry.acquire("fake-tts") as engine:
        with registry.acquire("fake-tts"):
            pass
        clock.now_s += 100
        assert registry.unload_idle() == []  # still held by the outer acquire
    released_at = clock.now_s
    assert registry.unload_idle(now=released_at + 9.9) == []
    assert registry.loaded_ids() == ["fake-tts"] and not engine.closed
    assert registry.unload_idle(now=released_at + 10.0) == ["fake-tts"]
    assert engine.closed and registry.loaded_ids() == []
    with registry.acquire("fake-tts") as reloaded:
        assert reloaded is not engine
    assert fakes.LOG.count("fake-tts") == 2


def test_idle_unload_zero_means_never(settings: Settings) -> None:
    """idle_unload_s = 0 keeps models loaded forever."""
    registry = _registry(settings, idle_unload_s=0.0)
    with registry.acquire("fake-tts"):
        pass
    assert registry.unload_idle(now=1e12) == []
    assert registry.loaded_ids() == ["fake-tts"]


def test_reaper_thread_unloads_idle_models(settings: Settings) -> None:
    """start() runs a reaper that unloads an idle model by itself; close() stops it."""
    registry = ModelRegistry(make_settings(settings.models.cache_dir, idle_unload_s=0.2),
                             catalog=_specs())
    registry.start()
    try:
        with registry.acquire("fake-tts") as engine:
            time.sleep(0.5)
            assert registry.loaded_ids() == ["fake-tts"]  # in use: kept
        deadline = time.monotonic() + 5
        while registry.loaded_ids() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert registry.loaded_ids() == [] and engine.closed
    finally:
        registry.close()
    assert not any(t.name == "atelico-model-reaper" for t in threading.enumerate())


def test_failed_load_reaches_every_waiter_and_is_retried(settings: Settings) -> None:
    """One failing load raises ModelLoadFailed in all concurrent acquirers; the next retries."""
    def fail_first(attempt: int) -> None:
        time.sleep(0.3)
        if attempt == 1:
            raise RuntimeError("CUDA out of memory (simulated)")

    fakes.LOG.behaviour["fake-tts"] = fail_first
    registry = _registry(settings)
    engines, errors = _acquire_in_threads(registry, "fake-tts", 3)
    assert engines == [] and len(errors) == 3
    assert all(isinstance(e, ModelLoadFailed) and e.code == "model.load_failed" for e in errors)
    assert all("CUDA out of memory (simulated)" in e.message for e in errors)
    assert fakes.LOG.count("fake-tts") == 1
    assert registry.loaded_ids() == []
    with registry.acquire("fake-tts") as engine:
        assert engine.model_id == "fake-tts"
    assert fakes.LOG.count("fake-tts") == 2


def test_model_errors_from_loaders_keep_their_code(settings: Settings) -> None:
    """A loader's ModelNotInstalled reaches the caller as itself (HTTP 424), not wrapped."""
    def not_installed(attempt: int) -> None:
        raise ModelNotInstalled("offline: install pip package x")

    fakes.LOG.behaviour["fake-stt"] = not_installed
    registry = _registry(settings)
    with pytest.raises(ModelNotInstalled, match="install pip package x"):
        with registry.acquire("fake-stt"):
            pass


def test_corrupt_asset_is_never_loaded(tiny_settings: Settings) -> None:
    """A model whose asset fails its hash raises ModelIntegrity and its loader never runs."""
    spec = ModelSpec(id="fake-whisper", kind="stt", loader=FAKE_LOADER,
                     assets=("whisper-tiny.en-ct2",))
    registry = _registry(tiny_settings, spec)
    with registry.acquire("fake-whisper") as engine:  # clean: loads with the verified dir
        assert engine.assets == {"whisper-tiny.en-ct2":
                                 asset_dir("whisper-tiny.en-ct2", tiny_settings)}
    registry.close()
    model_bin = asset_dir("whisper-tiny.en-ct2", tiny_settings) / "model.bin"
    with open(model_bin, "r+b") as fh:
        fh.seek(4096)
        fh.write(b"\xde\xad\xbe\xef")
    fakes.LOG.calls.clear()
    registry = _registry(tiny_settings, spec)
    for _ in range(2):
        with pytest.raises(ModelIntegrity, match="model.bin"):
            with registry.acquire("fake-whisper"):
                pass
    assert fakes.LOG.calls == []


def test_missing_python_package_is_not_installed(settings: Settings) -> None:
    """A model whose engine package is absent says which pip package to install."""
    spec = ModelSpec(id="fake-needs-pkg", kind="tts", loader=FAKE_LOADER,
                     requires=("atelico-test-not-installed",))
    registry = _registry(settings, spec)
    assert registry.installed("fake-needs-pkg") is False
    with pytest.raises(ModelNotInstalled, match="pip install atelico-test-not-installed"):
        with registry.acquire("fake-needs-pkg"):
            pass
    assert fakes.LOG.calls == []


def test_unknown_loader_module_is_a_load_failure(settings: Settings) -> None:
    """A loader path that does not import fails as ModelLoadFailed naming the model."""
    spec = ModelSpec(id="fake-broken", kind="face", loader="atelico.engines.nope:load")
    registry = _registry(settings, spec)
    with pytest.raises(ModelLoadFailed, match="fake-broken"):
        with registry.acquire("fake-broken"):
            pass


def test_preload_loads_and_reports_failures(settings: Settings) -> None:
    """preload loads what it can and returns the failures by id instead of raising."""
    registry = _registry(settings)
    failures = registry.preload(["tts", "no-such-model"])
    assert registry.loaded_ids() == ["fake-tts"]
    assert list(failures) == ["no-such-model"]
    assert isinstance(failures["no-such-model"], UnknownModel)


def test_list_models_shows_loaded_state(settings: Settings) -> None:
    """list_models reports loaded=True for a loaded model, and generic ids as aliases."""
    registry = _registry(settings)
    with registry.acquire("fake-tts"):
        listed = {m["id"]: m for m in registry.list_models()}
    assert listed["fake-tts"]["loaded"] is True and listed["fake-stt"]["loaded"] is False
    assert listed["fake-tts"]["aliases"] == ["tts", "ft"]
    assert listed["fake-tts"]["installed"] is True


@pytest.mark.slow
def test_real_engines_load_through_the_registry(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """`whisper` and `tts` load the real engines from a fresh cache, each exactly once."""
    from atelico.engines.base import SpeechToText, TextToSpeech

    tgz = Path.home() / ".cache" / "atelico" / "downloads" / "kokoro-js-1.2.1.tgz"
    if tgz.is_file():
        monkeypatch.setenv("ATELICO_KOKORO_JS_TGZ", str(tgz))
    settings = make_settings(tmp_path / "cache", threads=1)
    registry = ModelRegistry(settings)
    with registry.acquire("in-memory::whisper") as stt:
        assert isinstance(stt, SpeechToText)
        assert stt.model_id == "whisper-base"  # the concrete model that serves `whisper`
    with registry.acquire("tts") as tts, registry.acquire("kokoro-82m") as same:
        assert isinstance(tts, TextToSpeech) and same is tts
        assert tts.model_id == "kokoro"
        assert len(tts.voices()) >= 54
    assert registry.loaded_ids() == ["kokoro", "whisper-base"]
    assert registry.installed("whisper") and registry.installed("tts")
    registry.close()
    assert registry.loaded_ids() == []
