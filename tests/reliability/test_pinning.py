"""Preloaded models stay loaded through long idle periods, and /health/ready says so."""

from __future__ import annotations

from pathlib import Path

from starlette.testclient import TestClient

from atelico.models.registry import ModelRegistry
from atelico.server.app import create_app
from tests.reliability import fakes
from tests.reliability.conftest import fake_settings


class Clock:
    def __init__(self) -> None:
        self.now_s = 50.0

    def __call__(self) -> float:
        return self.now_s


def _app(tmp_path: Path, clock: Clock, **models: object):
    settings = fake_settings(tmp_path)
    settings = settings.model_copy(update={"models": settings.models.model_copy(update={
        "preload": ["tts"], "idle_unload_s": 600.0, **models})})
    registry = ModelRegistry(settings, catalog=fakes.catalog(), defaults=fakes.DEFAULTS, clock=clock)
    return create_app(settings, registry), registry


def _ready(client: TestClient) -> dict:
    import time

    deadline = time.monotonic() + 10
    while True:
        r = client.get("/health/ready")
        if r.json()["status"] != "loading" or time.monotonic() > deadline:
            return r.json() | {"http": r.status_code}
        time.sleep(0.02)


def test_preloaded_model_is_still_loaded_and_ready_after_an_idle_hour(tmp_path, tally):
    """Regression: after 10 idle minutes the preloaded model was unloaded while
    /health/ready still said ready; now it stays loaded (no reload on the next line)."""
    tally.fault()  # an idle hour
    clock = Clock()
    app, registry = _app(tmp_path, clock)
    with TestClient(app, base_url="http://127.0.0.1") as client:
        assert _ready(client)["models"] == ["fake-tts"]
        clock.now_s += 3600
        assert registry.unload_idle() == []
        body = _ready(client)
        assert body["http"] == 200 and body["status"] == "ready" and body["models"] == ["fake-tts"]
        assert tally.check(fakes.STATS.loads == ["fake-tts"], "preloaded model reloaded after an idle hour")


def test_with_the_opt_in_an_idle_preloaded_model_unloads_and_ready_lists_none(tmp_path):
    clock = Clock()
    app, registry = _app(tmp_path, clock, unload_preloaded=True)
    with TestClient(app, base_url="http://127.0.0.1") as client:
        assert _ready(client)["models"] == ["fake-tts"]
        clock.now_s += 600
        assert registry.unload_idle() == ["fake-tts"]
        assert _ready(client)["models"] == []  # the truth: nothing is loaded now
