"""The language guard (#18): text in a script the voice cannot read is language.mismatch."""

from __future__ import annotations

import pytest

from atelico.engines.tts import language_guard
from atelico.engines.tts.kokoro_voices import voice_info
from atelico.errors import LanguageError

KOKORO_IDS = ["af_heart", "af_alloy", "am_adam", "bf_emma", "bm_george", "jf_alpha", "jm_kumo",
              "zf_xiaobei", "zm_yunxi", "ef_dora", "ff_siwis", "hf_alpha", "if_sara", "pf_dora"]
VOICES = [voice_info(v) for v in KOKORO_IDS]


def check(text: str, voice: str, language: str | None = None) -> str | None:
    return language_guard.check(text, voice=voice, voice_language=voice_info(voice).language,
                                language=language, voices=lambda: VOICES, model="kokoro")


MISMATCHES = [
    # (text, voice, language, voices that must be offered, voices that must not)
    ("你好，欢迎来到我们的村庄。", "am_adam", None, {"zf_xiaobei", "zm_yunxi"}, {"af_heart"}),
    ("こんにちは、元気ですか？", "af_heart", None, {"jf_alpha", "jm_kumo"}, {"zf_xiaobei"}),
    ("Stay close to the fire.", "jf_alpha", None, {"af_heart", "bm_george"}, {"jm_kumo"}),
    ("Stay close to the fire.", "zm_yunxi", None, {"af_heart"}, {"zf_xiaobei"}),
    ("カタカナとひらがな。", "zf_xiaobei", None, {"jf_alpha"}, {"zm_yunxi"}),
    ("Bonjour à tous.", "af_heart", "fr", {"ff_siwis"}, {"af_heart"}),
    ("Hello there.", "af_heart", "ja", {"jf_alpha", "jm_kumo"}, {"af_heart"}),
    ("Hello 東京.", "af_heart", None, {"jf_alpha", "zf_xiaobei"}, {"af_heart"}),
    ("नमस्ते दोस्तों", "bf_emma", None, {"hf_alpha"}, {"bf_emma"}),
]


@pytest.mark.parametrize("text,voice,language,offered,not_offered", MISMATCHES)
def test_each_mismatch_is_language_mismatch_listing_the_voices_that_fit(
        text: str, voice: str, language: str | None, offered: set[str], not_offered: set[str]) -> None:
    with pytest.raises(language_guard.LanguageMismatch) as err:
        check(text, voice, language)
    e = err.value
    assert e.code == "language.mismatch" and e.http_status == 400
    assert offered <= set(e.details["voices"]) and not (not_offered & set(e.details["voices"]))
    assert e.details["voice"] == voice
    assert sorted(offered)[0] in e.message  # the message names voices that fit


def test_a_script_no_voice_reads_says_so() -> None:
    with pytest.raises(language_guard.LanguageMismatch) as err:
        check("안녕하세요", "af_heart")
    assert err.value.details["voices"] == [] and "no installed voice" in err.value.message


@pytest.mark.parametrize("text,voice,language", [
    ("Look out!", "af_heart", None),
    ("Look out!", "af_heart", "en-GB"),          # en-US voice, British G2P: same language
    ("A tomato.", "bm_george", "en-US"),
    ("你好，世界。", "zf_xiaobei", None),
    ("OK，我们走吧。", "zm_yunxi", None),        # Chinese with a Latin word
    ("東京へ行きます。", "jf_alpha", "ja"),
    ("東京", "jf_alpha", None),                   # kanji only: Japanese can be all Han
    ("¿Dónde está la estación?", "ef_dora", None),
    ("Ça va très bien.", "ff_siwis", "fr-FR"),
    ("1, 2, 3 !", "jf_alpha", None),              # no letters: nothing to judge
    ("π ≈ 3.14 and µs", "af_heart", None),        # Greek letters are not judged
    ("Ｈｅｌｌｏ.", "af_heart", None),               # full-width Latin is Latin
])
def test_matching_text_passes_and_keeps_the_callers_language(text: str, voice: str,
                                                             language: str | None) -> None:
    assert check(text, voice, language) == language


def test_a_language_no_voice_speaks_stays_language_unsupported() -> None:
    with pytest.raises(LanguageError) as err:
        check("Guten Tag.", "af_heart", "de")
    assert err.value.code == "language.unsupported"
    assert not isinstance(err.value, language_guard.LanguageMismatch)


def test_an_empty_language_is_no_language() -> None:
    assert check("Hello.", "af_heart", " ") is None
