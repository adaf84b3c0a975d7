"""Phone sets (ARPAbet from pocketsphinx, IPA from Kokoro/misaki/espeak) mapped onto visemes."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Literal, Sequence

from atelico.engines.base import PhonemeTiming

PhoneSet = Literal["auto", "arpabet", "ipa"]

#: Viseme classes used by :mod:`atelico.engines.face.articulation` (one articulatory target each).
VISEMES: tuple[str, ...] = (
    "sil", "PP", "BB", "FF", "TH", "DD", "LL", "SS", "SH", "KK", "HH", "RR", "WW", "YY",
    "AA", "AE", "AH", "AX", "AO", "OH", "EH", "IH", "IY", "UH", "UW", "ER",
)

# ARPAbet (stress digits stripped) -> visemes; diphthongs become two halves.
_ARPABET: dict[str, tuple[str, ...]] = {
    "P": ("PP",), "B": ("BB",), "M": ("BB",),
    "F": ("FF",), "V": ("FF",), "TH": ("TH",), "DH": ("TH",),
    "T": ("DD",), "D": ("DD",), "N": ("DD",), "L": ("LL",),
    "S": ("SS",), "Z": ("SS",),
    "SH": ("SH",), "ZH": ("SH",), "CH": ("SH",), "JH": ("SH",),
    "K": ("KK",), "G": ("KK",), "NG": ("KK",), "HH": ("HH",),
    "R": ("RR",), "W": ("WW",), "Y": ("YY",),
    "AA": ("AA",), "AE": ("AE",), "AH": ("AH",), "AO": ("AO",),
    "EH": ("EH",), "IH": ("IH",), "IY": ("IY",), "UH": ("UH",), "UW": ("UW",), "ER": ("ER",),
    "AY": ("AA", "IY"), "AW": ("AA", "UW"), "EY": ("EH", "IY"), "OW": ("OH", "UW"),
    "OY": ("AO", "IY"),
}
ARPABET_PHONES = frozenset(_ARPABET)
_ARPABET_SILENCE = frozenset({"SIL", "SP", "SPN", "NSN", "<SIL>", "<S>", "</S>", ""})

# IPA symbols (after normalisation) -> visemes. Misaki's own letters for English
# diphthongs (A=eɪ, I=aɪ, O=oʊ, Q=əʊ, W=aʊ, Y=ɔɪ) are listed with the IPA spellings.
_IPA: dict[str, tuple[str, ...]] = {
    # consonants
    "p": ("PP",), "b": ("BB",), "m": ("BB",), "ɸ": ("PP",), "β": ("FF",),
    "f": ("FF",), "v": ("FF",), "ʋ": ("FF",), "ɱ": ("FF",),
    "θ": ("TH",), "ð": ("TH",),
    "t": ("DD",), "d": ("DD",), "n": ("DD",), "ɾ": ("DD",), "ʈ": ("DD",), "ɖ": ("DD",),
    "ɳ": ("DD",), "ɲ": ("DD",), "r": ("DD",),
    "l": ("LL",), "ɫ": ("LL",), "ɭ": ("LL",), "ʎ": ("LL",), "ɬ": ("LL",),
    "s": ("SS",), "z": ("SS",), "ts": ("SS",), "dz": ("SS",), "ʦ": ("SS",), "ʣ": ("SS",),
    "ʃ": ("SH",), "ʒ": ("SH",), "tʃ": ("SH",), "dʒ": ("SH",), "ʧ": ("SH",), "ʤ": ("SH",),
    "ɕ": ("SH",), "ʑ": ("SH",), "tɕ": ("SH",), "dʑ": ("SH",), "ʨ": ("SH",), "ʥ": ("SH",),
    "ç": ("SH",), "ʂ": ("SH",), "ʐ": ("SH",),
    "k": ("KK",), "g": ("KK",), "ɡ": ("KK",), "ŋ": ("KK",), "c": ("KK",), "ɟ": ("KK",),
    "q": ("KK",), "x": ("KK",), "ɣ": ("KK",), "χ": ("KK",), "ʁ": ("KK",), "ɢ": ("KK",),
    "h": ("HH",), "ɦ": ("HH",), "ʔ": ("HH",), "ħ": ("HH",),
    "ɹ": ("RR",), "ɻ": ("RR",), "ʀ": ("RR",), "ɽ": ("RR",),
    "w": ("WW",), "ʍ": ("WW",), "ɥ": ("WW",), "ɰ": ("WW",), "j": ("YY",), "ʝ": ("YY",),
    # monophthongs
    "a": ("AA",), "ɑ": ("AA",), "ä": ("AA",), "ɒ": ("AO",), "æ": ("AE",), "ɶ": ("AE",),
    "ʌ": ("AH",), "ɐ": ("AH",), "ə": ("AX",), "ᵊ": ("AX",), "ɘ": ("AX",), "ɵ": ("UH",),
    "ɔ": ("AO",), "o": ("OH",), "e": ("EH",), "ɛ": ("EH",), "œ": ("EH",), "ø": ("UH",),
    "ɪ": ("IH",), "ᵻ": ("IH",), "ɨ": ("IH",), "i": ("IY",), "y": ("UW",), "ʏ": ("UH",),
    "ʊ": ("UH",), "u": ("UW",), "ɯ": ("UH",), "ɤ": ("AX",),
    "ɜ": ("ER",), "ɝ": ("ER",), "ɚ": ("ER",),
    # diphthongs (IPA spellings and misaki's single letters)
    "eɪ": ("EH", "IY"), "A": ("EH", "IY"), "aɪ": ("AA", "IY"), "I": ("AA", "IY"),
    "oʊ": ("OH", "UW"), "O": ("OH", "UW"), "əʊ": ("AX", "UW"), "Q": ("AX", "UW"),
    "aʊ": ("AA", "UW"), "W": ("AA", "UW"), "ɔɪ": ("AO", "IY"), "Y": ("AO", "IY"),
    "ɪə": ("IH", "AX"), "ʊə": ("UH", "AX"), "eə": ("EH", "AX"), "ɛə": ("EH", "AX"),
}
# Marks dropped before lookup: stress, length, aspiration/palatalisation/labialisation.
_IPA_STRIP = frozenset("ˈˌːˑʰʲʷ'ˀ")
# Symbols that are pauses rather than sounds (word gaps, punctuation, pad tokens).
_PAUSE_CHARS = frozenset(" \t\n.,;:!?…—–-\"'“”‘’()[]«»¡¿$")
_VOWEL_VISEMES = frozenset({"AA", "AE", "AH", "AX", "AO", "OH", "EH", "IH", "IY", "UH", "UW",
                            "ER"})


@dataclass(frozen=True)
class VisemeSegment:
    """One viseme held from ``start_s`` to ``end_s``; ``stress`` is 0 (none), 1 or 2."""

    viseme: str
    start_s: float
    end_s: float
    stress: int = 0

    @property
    def is_vowel(self) -> bool:
        return self.viseme in _VOWEL_VISEMES


def is_vowel_viseme(viseme: str) -> bool:
    """True for the visemes of vowels (they own the jaw)."""
    return viseme in _VOWEL_VISEMES


def detect_phone_set(phonemes: Sequence[PhonemeTiming]) -> Literal["arpabet", "ipa"]:
    """ARPAbet when every symbol is upper-case ASCII from the ARPAbet inventory, else IPA.

    Misaki's upper-case diphthong letters (``A I O Q W Y``) collide with ARPAbet glides, so a
    sequence is only taken as ARPAbet if nothing in it is lower-case or non-ASCII.
    """
    for p in phonemes:
        sym = p.phoneme.strip()
        if not sym.isascii() or any(ch.islower() for ch in sym):
            return "ipa"
        base = sym.rstrip("012").strip("+")
        if base.upper() not in ARPABET_PHONES and base.upper() not in _ARPABET_SILENCE \
                and base.upper() not in ("NSN", "SPN", "BREATH", "COUGH", "NOISE", "UM", "UH"):
            return "ipa"
    return "arpabet"


def _normalize_ipa(symbol: str) -> str:
    return "".join(ch for ch in unicodedata.normalize("NFD", symbol)
                   if ch not in _IPA_STRIP and not unicodedata.combining(ch)
                   and ch != "\u0361" and ch != "\u035c")


def _ipa_visemes(symbol: str) -> tuple[str, ...] | None:
    """Visemes for one IPA token; ``None`` for a token that takes no time of its own (stress)."""
    if symbol and all(ch in "ˈˌ" for ch in symbol):
        return None
    if not symbol or all(ch in _PAUSE_CHARS for ch in symbol):
        return ("sil",)
    base = _normalize_ipa(symbol)
    if not base:
        return None
    if base in _IPA:
        return _IPA[base]
    out: list[str] = []
    i = 0
    while i < len(base):  # longest match first over two-character symbols
        if base[i:i + 2] in _IPA:
            out.extend(_IPA[base[i:i + 2]])
            i += 2
            continue
        ch = base[i]
        if ch in _IPA:
            out.extend(_IPA[ch])
        elif ch in _PAUSE_CHARS:
            out.append("sil")
        elif ch.isalpha():
            out.append("AX")  # an unknown letter: a neutral, half-open mouth
        i += 1
    return tuple(out) or ("sil",)


def _arpabet_visemes(symbol: str) -> tuple[tuple[str, ...], int]:
    sym = symbol.strip().upper()
    stress = int(sym[-1]) if sym and sym[-1] in "012" else 0
    base = sym.rstrip("012")
    if base in _ARPABET:
        return _ARPABET[base], stress
    return ("sil",), 0  # SIL, +NSN+, +SPN+, <sil>, fillers: a resting mouth


def to_viseme_segments(phonemes: Sequence[PhonemeTiming], phone_set: PhoneSet = "auto",
                       offset_s: float = 0.0) -> list[VisemeSegment]:
    """Turn timed phones into timed visemes (diphthongs split 55/45), shifted by ``offset_s``.

    Stress marks that Kokoro times as tokens of their own hand their time and their stress to
    the phone that follows. Segments come back sorted by start time, zero-length ones dropped.
    """
    if phone_set == "auto":
        phone_set = detect_phone_set(phonemes)
    out: list[VisemeSegment] = []
    pending_start: float | None = None
    pending_stress = 0
    for p in sorted(phonemes, key=lambda q: q.start_s):
        start_s, end_s = float(p.start_s) + offset_s, float(p.end_s) + offset_s
        if not end_s > start_s and not (pending_start is not None and end_s > pending_start):
            continue
        visemes, stress = _visemes_of(p.phoneme, phone_set)
        if visemes is None:  # a bare stress mark: give its time and stress to the next phone
            pending_start = start_s if pending_start is None else pending_start
            pending_stress = max(pending_stress, stress)
            continue
        if pending_start is not None:
            start_s = min(start_s, pending_start)
            stress = stress or pending_stress
            pending_start, pending_stress = None, 0
        out.extend(_timed(visemes, start_s, end_s, stress))
    return [s for s in out if s.end_s > s.start_s]


def _visemes_of(symbol: str, phone_set: PhoneSet) -> tuple[tuple[str, ...] | None, int]:
    """A phone's visemes (``None``: a bare IPA stress mark) and its stress (1 primary, 2
    secondary, 0 none)."""
    if phone_set == "arpabet":
        return _arpabet_visemes(symbol)
    found = _ipa_visemes(symbol)
    if found is None:
        return None, 1 if "ˈ" in symbol else 2
    return found, 1 if "ˈ" in symbol else 2 if "ˌ" in symbol else 0


def _timed(visemes: tuple[str, ...], start_s: float, end_s: float, stress: int
           ) -> list[VisemeSegment]:
    """One phone's span shared among its visemes (diphthongs split 55/45)."""
    if len(visemes) == 1:
        return [VisemeSegment(visemes[0], start_s, end_s, stress)]
    cuts = [start_s] + [start_s + (end_s - start_s) * f
                        for f in _split_points(len(visemes))] + [end_s]
    return [VisemeSegment(v, a, b, stress) for v, a, b in zip(visemes, cuts[:-1], cuts[1:])]


def _split_points(n: int) -> list[float]:
    if n == 2:
        return [0.55]
    return [i / n for i in range(1, n)]
