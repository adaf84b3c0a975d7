"""Kokoro in every language whose phonemizer is installed, and a clear error when one is not."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from atelico.engines.tts.g2p import G2P
from atelico.engines.tts.kokoro import KokoroEngine
from atelico.engines.tts.kokoro_voices import VoiceBank
from atelico.errors import LanguageError
from tests.engines.tts.conftest import rms

pytestmark = pytest.mark.slow

PHRASES = {
    "bf_emma": "Good morning, how are you?",
    "ef_dora": "Buenos días, ¿cómo estás?",
    "ff_siwis": "Bonjour, comment allez-vous?",
    "hf_alpha": "नमस्ते, आप कैसे हैं?",
    "if_sara": "Buongiorno, come stai?",
    "pf_dora": "Bom dia, como você está?",
    "jf_alpha": "こんにちは、お元気ですか。",
    "zf_xiaobei": "你好，你今天好吗？",
}


@pytest.mark.parametrize("voice", sorted(PHRASES))
def test_each_language_speaks(kokoro: KokoroEngine, voice: str) -> None:
    """A short greeting in the voice's language is non-silent speech of plausible length."""
    chunk = kokoro.synthesize_all(PHRASES[voice], voice=voice)
    assert 0.6 < chunk.duration_s < 6.0
    assert rms(chunk.audio) > 0.02
    assert chunk.phonemes and chunk.words


@pytest.mark.parametrize("module,language,package", [("misaki.zh", "zh", "misaki[zh]"),
                                                     ("misaki.ja", "ja", "misaki[ja]"),
                                                     ("misaki.espeak", "fr", "espeakng")])
def test_missing_phonemizer_is_a_clear_language_error(kokoro: KokoroEngine,
                                                      kokoro_assets: dict[str, Path],
                                                      monkeypatch: pytest.MonkeyPatch,
                                                      module: str, language: str,
                                                      package: str) -> None:
    """When a language's G2P package cannot be imported, synthesis names it, yields nothing."""
    monkeypatch.setitem(sys.modules, module, None)  # makes `import module` fail
    engine = KokoroEngine(kokoro.backend, VoiceBank(kokoro_assets["kokoro-82m-voices"]),
                          g2p=G2P())
    with pytest.raises(LanguageError) as err:
        engine.synthesize("Hello there.", voice="af_heart", language=language)
    assert err.value.code == "language.unsupported"
    assert package in err.value.message
    assert err.value.details["missing"]
