"""Whether a text has anything to speak: the input rule of every synthesis request (the
engines split and speak only what passes)."""

from __future__ import annotations

import unicodedata

# Punctuation (category Po) that is only a pause or a tone, never a word, when alone.
_SILENT_PUNCT = frozenset(".,;:!?¡¿…·'\"、。，！？；：‼⁇⁈⁉")


def has_speakable(text: str) -> bool:
    """True if ``text`` holds something to say: a letter, digit or symbol (``%``, ``&`` and
    ``#`` included) once it is NFKC-normalised. Whitespace, sentence punctuation, quotes,
    brackets and dashes alone, control characters (``\\x00``), format
    characters (zero-width space/joiners, BOM, bidi marks), private-use and unassigned code
    points do not count. Engines may still find nothing to say in what passes (``♪``)."""
    if not isinstance(text, str):
        return False
    return any(unicodedata.category(ch)[0] in "LNS" or
               (unicodedata.category(ch) == "Po" and ch not in _SILENT_PUNCT)
               for ch in unicodedata.normalize("NFKC", text))
