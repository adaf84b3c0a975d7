"""``GET /v1/voices`` answers from the voice files: it never loads a TTS model (issue #16,
item 9: what an ``<img>`` tag or any tokenless GET sends used to load Kokoro)."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from atelico.engines.tts import kokoro_voices
from atelico.models.registry import ModelRegistry
from atelico.server.app import create_app
from tests.conftest import real_settings


@pytest.fixture
def settings():
    s = real_settings(preload=[])
    if not ModelRegistry(s).installed("kokoro"):
        pytest.skip("Kokoro is not installed (make)")
    return s


def test_plain_get_voices_without_a_token_loads_no_model(settings):
    registry = ModelRegistry(settings)
    app = create_app(settings, registry)
    with TestClient(app, base_url="http://127.0.0.1") as client:
        for path in ("/v1/voices", "/v1/voices?model=kokoro"):
            r = client.get(path, headers={"Sec-Fetch-Site": "same-origin", "Sec-Fetch-Dest": "image"})
            assert r.status_code == 200, r.text
            ids = {v["id"] for v in r.json()["data"] if v["model"] == "kokoro"}
            assert {"af_heart", "bm_george"} <= ids and len(ids) >= 54
        assert registry.loaded_ids() == []


def test_listed_voices_match_what_the_voice_bank_offers(tmp_path):
    """The lister (file names) and the loaded bank (tensors) agree, custom voices included,
    and a badly named or invalid custom file is left out by both."""
    builtin, custom = tmp_path / "builtin", tmp_path / "custom"
    builtin.mkdir()
    custom.mkdir()
    voice = kokoro_voices.np.zeros((kokoro_voices.VOICE_ROWS, kokoro_voices.STYLE_DIM), "f4")
    for name in ("af_heart", "bm_george"):
        kokoro_voices.save_voice_file(builtin / f"{name}.bin", voice + 0.1)
    kokoro_voices.save_voice_file(custom / "hero.bin", voice + 0.2)
    (custom / "broken.bin").write_bytes(b"not a voice")
    (custom / "af_heart.bin").write_bytes((voice + 0.3).astype("<f4").tobytes())  # shadows a built-in
    listed = kokoro_voices.list_voices(builtin, custom)
    assert listed == kokoro_voices.VoiceBank(builtin, custom).infos()
    assert [(v.id, v.custom) for v in listed] == [("af_heart", False), ("bm_george", False), ("hero", True)]
