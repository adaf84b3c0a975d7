"""Names of new voices: one strict pattern, built-in and existing custom voices refused up front."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from atelico.config import Settings, load_settings
from atelico.engines.tts.kokoro_voices import VoiceBank
from atelico.engines.tts.pocket_voices import check_voice_id
from atelico.engines.tts.voice_names import check_new_voice_name, check_voice_free
from atelico.errors import RequestError, VoiceError


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """A cache whose Kokoro voices asset holds one built-in voice, af_heart."""
    settings = load_settings(overrides={"models": {"cache_dir": tmp_path}}, env={})
    builtin = settings.models_dir / "kokoro-82m-voices" / "voices"
    builtin.mkdir(parents=True)
    np.zeros(510 * 256, "<f4").tofile(builtin / "af_heart.bin")
    return settings


@pytest.mark.parametrize("name", ["nl", "my_voice-2", "a", "9" * 64])
def test_good_names_pass(name: str) -> None:
    assert check_new_voice_name(name) == name


@pytest.mark.parametrize("name", ["nl\n", "nl\r\n", "\nnl", "Hero", "", "_x", "-x", "a" * 65, "../evil",
                                  "a/b", "x.bin", "caf\u00e9", "sp ace", None, 5])
def test_bad_names_are_voice_invalid_name(name: object) -> None:
    """A trailing newline (what ``re.match`` with ``$`` let through), upper case, paths,
    suffixes, non-ASCII and non-strings are refused with voice.invalid_name (400)."""
    with pytest.raises(RequestError) as err:
        check_new_voice_name(name)
    assert err.value.code == "voice.invalid_name" and err.value.http_status == 400
    assert err.value.details == {"field": "name"}


@pytest.mark.parametrize("engine,name", [("kokoro", "af_heart"), ("pocket", "alba")])
def test_builtin_names_are_taken_even_with_overwrite(settings: Settings, engine: str, name: str) -> None:
    for overwrite in (False, True):
        with pytest.raises(RequestError) as err:
            check_voice_free(engine, name, settings, overwrite=overwrite)
        assert err.value.code == "voice.exists" and err.value.http_status == 409


@pytest.mark.parametrize("engine,file", [("kokoro", "hero.bin"), ("kokoro", "hero.npy"),
                                         ("pocket", "hero.safetensors")])
def test_existing_custom_voice_needs_overwrite(settings: Settings, engine: str, file: str) -> None:
    """A custom voice of that name (any suffix the engine reads) is voice.exists (409) unless
    overwrite is asked for; a free name passes."""
    check_voice_free(engine, "hero", settings, overwrite=False)
    folder = settings.voices_dir / engine
    folder.mkdir(parents=True)
    (folder / file).write_bytes(b"x")
    with pytest.raises(RequestError) as err:
        check_voice_free(engine, "hero", settings, overwrite=False)
    assert err.value.code == "voice.exists" and "overwrite" in err.value.message
    check_voice_free(engine, "hero", settings, overwrite=True)


def test_engines_refuse_ids_with_a_trailing_newline(settings: Settings) -> None:
    """The engines' own id checks use ``\\Z``: a ``"nl\\n"`` Pocket id is voice.invalid and a
    Kokoro voice file whose stem ends in a newline is not listed."""
    with pytest.raises(VoiceError) as err:
        check_voice_id("nl\n")
    assert err.value.code == "voice.invalid"
    custom = settings.voices_dir / "kokoro"
    custom.mkdir(parents=True)
    np.zeros(510 * 256, "<f4").tofile(custom / "nl\n.bin")
    np.zeros(510 * 256, "<f4").tofile(custom / "nl.bin")
    bank = VoiceBank(settings.models_dir / "kokoro-82m-voices", custom)
    assert bank.rescan() == ["nl"]
