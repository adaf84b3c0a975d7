"""Shared fixtures: settings on the real asset cache, and one real sidecar per test session."""

from __future__ import annotations

import os

import pytest

from atelico.config import Settings, load_settings

TEST_TOKEN = "test-token-0123456789"


def real_settings(**models: object) -> Settings:
    """Settings on the user's asset cache (where the offline models are assembled once)."""
    overrides: dict = {"models": {"idle_unload_s": 0, "workers": 2, **models}}
    return load_settings(overrides, env={k: v for k, v in os.environ.items() if k == "ATELICO_CACHE_DIR"})


@pytest.fixture(scope="session")
def live_server():
    """A real sidecar (real models, token required) on 127.0.0.1:<free port> for the session."""
    from tests.server.live import ServerThread

    settings = real_settings(preload=["tts"])
    settings = settings.model_copy(update={
        "server": settings.server.model_copy(update={"token": TEST_TOKEN}),
        # Live STT drops audio once compute is more than live_max_lag_s behind real time
        # (stt.behind). On a loaded CI box a decode can take longer than the utterance, and a
        # functional test whose words were skipped checks nothing; speed lives in bench/ and
        # the dropping itself in tests/engines/stt/test_live.py (fake clock).
        "limits": settings.limits.model_copy(update={"live_max_lag_s": 120.0})})
    server = ServerThread(settings)
    server.wait_ready()
    yield server.live
    server.stop()
