"""Word error rate with light text normalisation, for checking transcripts against references."""

from __future__ import annotations

import re
import unicodedata

_ONES = ("zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
         "fifteen sixteen seventeen eighteen nineteen").split()
_TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()

#: Spoken forms of common abbreviations and British/American spelling pairs.
_WORD_MAP: dict[str, str] = {
    "mr": "mister", "mrs": "missus", "dr": "doctor", "st": "saint", "vs": "versus",
    "metres": "meters", "metre": "meter", "colour": "color", "colours": "colors",
    "ok": "okay", "percent": "per cent",
}


def number_to_words(n: int) -> str:
    """Spell a non-negative integer below one billion in English (``21`` -> ``twenty one``)."""
    if n < 0:
        return "minus " + number_to_words(-n)
    if n < 20:
        return _ONES[n]
    if n < 100:
        tens, ones = divmod(n, 10)
        return _TENS[tens] + ("" if ones == 0 else " " + _ONES[ones])
    if n < 1000:
        hundreds, rest = divmod(n, 100)
        return _ONES[hundreds] + " hundred" + ("" if rest == 0 else " " + number_to_words(rest))
    for size, name in ((1_000_000, "million"), (1000, "thousand")):
        if n >= size:
            high, rest = divmod(n, size)
            return (number_to_words(high) + " " + name
                    + ("" if rest == 0 else " " + number_to_words(rest)))
    raise ValueError(f"number too large to spell: {n}")


def normalize(text: str) -> list[str]:
    """Lowercase, strip accents and punctuation, spell numbers and abbreviations; return words.

    Hyphens and slashes split words (``ill-disposed`` -> ``ill disposed``); apostrophes are
    dropped (``don't`` -> ``dont``); digits become words (``10`` -> ``ten``; ``1,000`` ->
    ``one thousand``).
    """
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).lower()
    text = re.sub(r"(?<=\d),(?=\d{3}\b)", "", text)  # thousands separators
    text = re.sub(r"['\u2019`]", "", text)
    text = re.sub(r"\d+", lambda m: " " + number_to_words(int(m.group())) + " ", text)
    text = re.sub(r"[^a-z ]+", " ", text)
    words: list[str] = []
    for word in text.split():
        words.extend(_WORD_MAP.get(word, word).split())
    return words


def edit_distance(reference: list[str], hypothesis: list[str]) -> int:
    """Levenshtein distance between two word lists (substitutions, deletions, insertions)."""
    previous = list(range(len(hypothesis) + 1))
    for i, ref_word in enumerate(reference, start=1):
        current = [i] + [0] * len(hypothesis)
        for j, hyp_word in enumerate(hypothesis, start=1):
            current[j] = min(previous[j] + 1, current[j - 1] + 1,
                             previous[j - 1] + (ref_word != hyp_word))
        previous = current
    return previous[-1]


def word_error_rate(reference: str, hypothesis: str) -> float:
    """WER of ``hypothesis`` against ``reference`` after :func:`normalize`.

    Returns edits / reference words; an empty reference gives 0.0 for an empty hypothesis and
    1.0 otherwise.
    """
    ref, hyp = normalize(reference), normalize(hypothesis)
    if not ref:
        return 0.0 if not hyp else 1.0
    return edit_distance(ref, hyp) / len(ref)
