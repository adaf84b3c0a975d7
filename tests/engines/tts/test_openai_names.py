"""OpenAI's model ids and voice names resolve to ours (#18, #19), without loading a model."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from atelico.engines.tts.kokoro_voices import DEFAULT_VOICE, OPENAI_VOICES, VoiceBank
from atelico.models.catalog import default_catalog


def _write(folder: Path, name: str, value: float) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    np.full((510, 1, 256), value, dtype=np.float32).tofile(folder / f"{name}.bin")


@pytest.mark.parametrize("openai_id", ["tts-1", "tts-1-hd", "gpt-4o-mini-tts"])
def test_openai_tts_models_mean_kokoro(openai_id: str) -> None:
    catalog = default_catalog()
    assert [s.id for s in catalog.candidates(openai_id)] == [s.id for s in catalog.candidates("tts")]
    assert catalog.candidates(f"in-memory::{openai_id}")[0].id == "kokoro"
    assert openai_id in catalog.known_ids()


@pytest.mark.parametrize("openai_id", ["whisper-1", "gpt-4o-transcribe", "gpt-4o-mini-transcribe"])
def test_openai_stt_models_mean_the_default_whisper(openai_id: str) -> None:
    catalog = default_catalog()
    assert catalog.candidates(openai_id) == catalog.candidates("whisper")
    assert catalog.candidates(openai_id)[0].kind == "stt"


def test_every_openai_voice_maps_to_a_kokoro_voice_of_the_same_name_or_the_default() -> None:
    """alloy -> af_alloy, onyx -> am_onyx, fable -> bm_fable; no match -> the documented default."""
    assert {k: v for k, v in OPENAI_VOICES.items() if v.endswith("_" + k)} == {
        "alloy": "af_alloy", "nova": "af_nova", "echo": "am_echo", "onyx": "am_onyx",
        "fable": "bm_fable"}
    rest = {v for k, v in OPENAI_VOICES.items() if not v.endswith("_" + k)}
    assert rest == {DEFAULT_VOICE, "am_michael"}
    assert {"alloy", "ash", "ballad", "coral", "echo", "fable", "nova", "onyx", "sage",
            "shimmer", "verse"} <= set(OPENAI_VOICES)


def test_voice_bank_resolves_openai_names_and_a_custom_voice_of_that_name_wins(tmp_path: Path) -> None:
    builtin, custom = tmp_path / "voices", tmp_path / "custom"
    for value, name in enumerate(["af_alloy", "af_heart", "am_michael", "bm_fable"], start=1):
        _write(builtin, name, float(value))
    bank = VoiceBank(builtin, custom)
    tensor, code = bank.resolve("alloy")
    assert code == "a" and tensor[0, 0] == 1.0
    assert bank.resolve("fable")[1] == "b"  # British: fable is bm_fable
    assert bank.resolve("shimmer")[0][0, 0] == 2.0 and bank.resolve("verse")[0][0, 0] == 3.0
    assert bank.resolve("alloy(1)+fable(1)")[0][0, 0] == pytest.approx(2.5)
    _write(custom, "alloy", 9.0)
    bank.rescan()
    assert bank.resolve("alloy")[0][0, 0] == 9.0
