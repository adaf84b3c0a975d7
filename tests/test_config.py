"""The config tree: CLI overrides > ATELICO_* env (nested and the reference's flat names) > defaults."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from atelico.config import load_settings


def test_defaults_bind_loopback_on_11434():
    """The default bind is 127.0.0.1:11434 with no token."""
    s = load_settings(env={})
    assert (s.server.host, s.server.port, s.server.token) == ("127.0.0.1", 11434, None)


def test_reference_flat_names_and_nested_sections():
    """ATELICO_KOKORO_QUANT/TTS_DTYPE/POCKET_TTS_MAX_TOKENS and ATELICO_<SECTION>__<FIELD> apply."""
    s = load_settings(env={"ATELICO_KOKORO_QUANT": "fp32", "ATELICO_TTS_DTYPE": "bf16",
                           "ATELICO_POCKET_TTS_MAX_TOKENS": "40", "ATELICO_SERVER__PORT": "9000",
                           "ATELICO_MODELS__PRELOAD": '["tts", "whisper"]', "ATELICO_CACHE_DIR": "/tmp/x"})
    assert s.models.kokoro_quant == "fp32" and s.models.tts_dtype == "bf16"
    assert s.models.pocket_tts_max_tokens == 40 and s.server.port == 9000
    assert s.models.preload == ["tts", "whisper"] and str(s.models_dir) == "/tmp/x/models"


def test_cli_overrides_win_and_bad_values_are_refused():
    """Overrides beat env vars; out-of-range values fail validation."""
    s = load_settings({"server": {"port": 0}}, env={"ATELICO_SERVER__PORT": "9000"})
    assert s.server.port == 0
    with pytest.raises(ValidationError):
        load_settings(env={"ATELICO_TTS_DTYPE": "int3"})


def test_a_given_environment_is_the_only_one_read(monkeypatch, tmp_path):
    """load_settings(env=...) reads that mapping and nothing of os.environ: the process's
    ATELICO_* variables and XDG_CACHE_HOME change nothing; env=None reads os.environ."""
    monkeypatch.setenv("ATELICO_SERVER__PORT", "9999")
    monkeypatch.setenv("ATELICO_TOKEN", "from-the-process")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "process"))
    s = load_settings(env={})
    assert (s.server.port, s.server.token) == (11434, None)
    assert tmp_path not in s.models.cache_dir.parents
    s = load_settings(env={"XDG_CACHE_HOME": str(tmp_path / "given")})
    assert s.models.cache_dir == tmp_path / "given" / "atelico"
    s = load_settings()
    assert (s.server.port, s.server.token) == (9999, "from-the-process")
    assert s.models.cache_dir == tmp_path / "process" / "atelico"


def test_env_lists_flat_names_and_empty_values():
    """Lists are JSON or comma-separated; a nested name beats its flat alias; an empty value
    is unset."""
    s = load_settings(env={"ATELICO_MODELS__PRELOAD": "tts, whisper", "ATELICO_PORT": "9001",
                           "ATELICO_SERVER__PORT": "9002", "ATELICO_TOKEN": "",
                           "ATELICO_SERVER__ALLOWED_ORIGINS": '["http://a.test"]'})
    assert s.models.preload == ["tts", "whisper"] and s.server.port == 9002
    assert s.server.token is None and s.server.allowed_origins == ["http://a.test"]
    assert load_settings(env={"ATELICO_PORT": "9001"}).server.port == 9001
