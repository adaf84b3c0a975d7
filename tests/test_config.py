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
