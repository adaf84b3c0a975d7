"""The language guard (#18): refuse text a voice cannot read instead of speaking letter names.

One rule, applied by :meth:`atelico.service.Service.tts_pieces` for every transport (HTTP,
WebSocket, the in-process :class:`atelico.engine.Engine`):

1. ``language`` given by the caller must be one the voice speaks, in any regional variant
   (an ``en-US`` voice may take ``en-GB`` G2P and the reverse; ``fr`` with ``af_heart`` is
   refused). A language no voice of the model speaks stays ``language.unsupported``.
2. The text's letters must be in a script of the language it is read in (the caller's
   ``language``, else the voice's): Latin for English, Spanish, French, Italian and
   Portuguese; kana or Han for Japanese; Han for Chinese; Devanagari for Hindi. Japanese,
   Chinese and Hindi text may also hold Latin words, but not only Latin ones. Text with no
   letters (digits, symbols) passes. Greek letters and scripts outside the table are not
   judged (``π``, ``µ`` read as symbols).

Either failure is :class:`LanguageMismatch` (``language.mismatch``, HTTP 400) whose details
list the voices that fit.
"""

from __future__ import annotations

import unicodedata
from typing import Callable, Iterable

from atelico.engines.base import VoiceInfo
from atelico.errors import LanguageError

#: Scripts a language is written in: its own (at least one letter needed) and the others it
#: may mix in. Keys are primary language subtags.
NATIVE: dict[str, frozenset[str]] = {
    "en": frozenset({"latin"}), "es": frozenset({"latin"}), "fr": frozenset({"latin"}),
    "it": frozenset({"latin"}), "pt": frozenset({"latin"}), "de": frozenset({"latin"}),
    "ja": frozenset({"kana", "han"}), "zh": frozenset({"han"}), "hi": frozenset({"devanagari"}),
    "ko": frozenset({"hangul"}), "ru": frozenset({"cyrillic"}),
}
MIXED_IN: dict[str, frozenset[str]] = {"ja": frozenset({"latin"}), "zh": frozenset({"latin"}),
                                       "hi": frozenset({"latin"})}
#: Scripts the guard judges (by the first word of a letter's Unicode name).
_SCRIPT_OF_NAME = {"LATIN": "latin", "CJK": "han", "IDEOGRAPHIC": "han", "HIRAGANA": "kana",
                   "KATAKANA": "kana", "KATAKANA-HIRAGANA": "kana", "HANGUL": "hangul", "DEVANAGARI": "devanagari",
                   "CYRILLIC": "cyrillic", "ARABIC": "arabic", "HEBREW": "hebrew", "THAI": "thai"}
_BASE_ALIASES = {"cmn": "zh", "jp": "ja"}
MAX_LISTED = 8  # voices named in the message (details list them all)


class LanguageMismatch(LanguageError):
    """The text's script, or the requested language, is not one the voice speaks."""

    code = "language.mismatch"
    http_status = 400


def base_language(tag: str) -> str:
    """``en-GB`` -> ``en``, ``pt_BR`` -> ``pt``, ``cmn`` -> ``zh``."""
    base = tag.strip().lower().replace("_", "-").split("-")[0]
    return _BASE_ALIASES.get(base, base)


def letter_scripts(text: str) -> set[str]:
    """The judged scripts of the letters in ``text`` (see the module doc)."""
    if text.isascii():
        return {"latin"} if any(c.isalpha() for c in text) else set()
    found: set[str] = set()
    for ch in set(text):
        if not unicodedata.category(ch).startswith("L"):
            continue
        words = unicodedata.name(ch, "").split(" ")
        if words[0] in ("HALFWIDTH", "FULLWIDTH") and len(words) > 1:
            words = words[1:]  # ｶ HALFWIDTH KATAKANA …, Ａ FULLWIDTH LATIN …
        script = _SCRIPT_OF_NAME.get(words[0])
        if script:
            found.add(script)
    return found


def reads(language: str, scripts: set[str]) -> bool:
    """True if text with letters in ``scripts`` can be read in ``language``."""
    base = base_language(language)
    native = NATIVE.get(base)
    if native is None or not scripts:
        return True
    return bool(scripts & native) and scripts <= native | MIXED_IN.get(base, frozenset())


def check(text: str, *, voice: str, voice_language: str, language: str | None,
          voices: Callable[[], Iterable[VoiceInfo]], model: str = "") -> str | None:
    """Apply the rule; return the language to synthesize with (the caller's, or None).

    Raises:
        LanguageMismatch: ``language.mismatch`` with ``details.voices`` (ids that fit).
        LanguageError: ``language.unsupported`` for a ``language`` no voice of the model speaks.
    """
    if language is not None and not language.strip():
        language = None
    if language is not None and base_language(language) != base_language(voice_language):
        wanted = base_language(language)
        fit = [v.id for v in voices() if base_language(v.language) == wanted]
        if not fit:
            raise LanguageError(f"{model or 'this model'} has no voice that speaks {language!r}",
                                details={"language": language, "voice": voice})
        raise _mismatch(f"voice {voice!r} speaks {voice_language}, not {language!r}", fit,
                        voice=voice, voice_language=voice_language, language=language)
    spoken = language or voice_language
    scripts = letter_scripts(text)
    if reads(spoken, scripts):
        return language
    infos = list(voices())
    fit = [v.id for v in infos if reads(v.language, scripts)]
    names = sorted(scripts)
    raise _mismatch(f"the text is written in {'/'.join(names)} letters, which voice "
                    f"{voice!r} ({spoken}) cannot read", fit, voice=voice,
                    voice_language=spoken, scripts=names,
                    languages=sorted({v.language for v in infos if v.id in set(fit)}))


def _mismatch(reason: str, fit: list[str], **details: object) -> LanguageMismatch:
    if fit:
        shown = ", ".join(fit[:MAX_LISTED]) + (", …" if len(fit) > MAX_LISTED else "")
        advice = f"; voices that fit: {shown}"
    else:
        advice = "; no installed voice speaks it"
    return LanguageMismatch(reason + advice, details={**details, "voices": fit})
