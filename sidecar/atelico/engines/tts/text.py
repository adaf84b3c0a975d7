"""Text chunking for streamed TTS: sentences, clauses and a short first chunk.

Shared by the TTS engines. The public API is :class:`TextChunk`, :func:`split_sentences`,
:func:`split_clauses`, :func:`chunk_text` and :func:`has_speakable`. Every function only *splits*: the chunks'
words, in order, are exactly the input's whitespace-separated words (nothing is dropped,
duplicated or rewritten), so a chunk's text can be shown as a caption as-is.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Callable, Literal

Boundary = Literal["sentence", "clause", "word"]

# Characters of scripts written without spaces between words (CJK, kana).
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff66-\uff9f]")
# A sentence ends at . ! ? … (plus closing quotes/brackets) before whitespace, or right after
# a full-width stop.
_SENTENCE_END = re.compile(r"[.!?…]+[\"'”’»)\]]*(?=\s)|[。！？]+[」』”’）]*")
# Clause ends: , ; : (before whitespace), full-width comma/semicolon/colon, or a dash.
_CLAUSE_END = re.compile(r"[,;:](?=\s)|[，、；：]|\s[—–]\s?|—")
# Punctuation (category Po) that is only a pause or a tone, never a word, when alone.
_SILENT_PUNCT = frozenset(".,;:!?¡¿…·'\"、。，！？；：‼⁇⁈⁉")
# Words before a period that do not end a sentence.
_ABBREVIATIONS = frozenset(
    "mr mrs ms dr st jr sr vs etc e.g i.e prof gen col lt sgt capt no fig mt approx".split())


@dataclass(frozen=True)
class TextChunk:
    """One piece of text to synthesize and what ends it.

    ``boundary`` tells how the text continues after the chunk: ``sentence`` (a sentence or
    paragraph ended), ``clause`` (a comma, semicolon, colon or dash), ``word`` (a forced split
    between two words). Engines use it to choose the pause after the chunk.
    """

    text: str
    boundary: Boundary


def split_sentences(text: str) -> list[str]:
    """Split text into sentences; newlines always end one. Whitespace inside is collapsed."""
    out: list[str] = []
    for line in text.splitlines():
        line = " ".join(line.split())
        start = 0
        for match in _SENTENCE_END.finditer(line):
            end = match.end()
            if match.group().startswith(".") and _is_abbreviation(line[start:match.start()]):
                continue
            piece = line[start:end].strip()
            if piece:
                out.append(piece)
            start = end
        rest = line[start:].strip()
        if rest:
            out.append(rest)
    return out


def split_clauses(sentence: str) -> list[str]:
    """Split one sentence after each comma, semicolon, colon or dash (kept in the clause)."""
    out: list[str] = []
    start = 0
    for match in _CLAUSE_END.finditer(sentence):
        piece = sentence[start:match.end()].strip()
        if piece:
            out.append(piece)
        start = match.end()
    rest = sentence[start:].strip()
    if rest:
        out.append(rest)
    return out


def chunk_text(text: str, *, max_units: int, measure: Callable[[str], int] = len,
               first_max_words: int | None = 6) -> list[TextChunk]:
    """Cut text into chunks for streaming synthesis.

    Chunks are whole sentences. A sentence whose ``measure`` exceeds ``max_units`` is cut at
    clause boundaries (packing clauses together while they fit), and a clause that still does
    not fit is cut between words. When ``first_max_words`` is set and the first chunk has
    more words than that, it is split so that audio can start early: at its first clause
    boundary when that clause is short enough (at most 1.5 times ``first_max_words``
    words), otherwise after ``first_max_words`` words.

    Args:
        text: the input; any whitespace, newlines end sentences.
        max_units: the most units (characters, phoneme tokens, ...) a chunk may measure.
        measure: counts the units of a piece of text (default: characters).
        first_max_words: longest first chunk in words (CJK: characters); None keeps it whole.

    Returns:
        The chunks in order; empty when the text has no words.
    """
    chunks: list[TextChunk] = []
    for sentence in split_sentences(text):
        if measure(sentence) <= max_units:
            chunks.append(TextChunk(sentence, "sentence"))
            continue
        pieces = _pack(split_clauses(sentence), max_units, measure, _join_for(sentence))
        fitted: list[TextChunk] = []
        for piece in pieces:
            if measure(piece) <= max_units:
                fitted.append(TextChunk(piece, "clause"))
            else:
                words = _pack(_words(piece), max_units, measure, _join_for(piece))
                fitted.extend(TextChunk(w, "word") for w in words[:-1])
                fitted.append(TextChunk(words[-1], "clause"))
        fitted[-1] = TextChunk(fitted[-1].text, "sentence")
        chunks.extend(fitted)
    if chunks and first_max_words:
        chunks[:1] = _split_first(chunks[0], first_max_words)
    return chunks


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


def count_words(text: str) -> int:
    """Words in text; in scripts without spaces (CJK) each character counts as a word."""
    return len(_words(text))


def _is_abbreviation(before: str) -> bool:
    word = before.rsplit(None, 1)[-1] if before.strip() else ""
    word = word.lower().rstrip(".")
    return word in _ABBREVIATIONS or (len(word) == 1 and word.isalpha())


def _join_for(text: str) -> str:
    return "" if (" " not in text and _CJK.search(text)) else " "


def _words(text: str) -> list[str]:
    """Whitespace words; a space-less CJK run is split into its characters."""
    words: list[str] = []
    for word in text.split():
        if _CJK.search(word):
            words.extend(_cjk_units(word))
        else:
            words.append(word)
    return words


def _cjk_units(word: str) -> list[str]:
    """Characters, keeping trailing punctuation and non-CJK runs attached to the unit before."""
    units: list[str] = []
    for ch in word:
        if _CJK.match(ch) or not units:
            units.append(ch)
        else:
            units[-1] += ch
    return units


def _pack(pieces: list[str], max_units: int, measure: Callable[[str], int],
          sep: str) -> list[str]:
    """Greedily join consecutive pieces while the join still fits."""
    out: list[str] = []
    for piece in pieces:
        if out and measure(out[-1] + sep + piece) <= max_units:
            out[-1] = out[-1] + sep + piece
        else:
            out.append(piece)
    return out


def _split_first(chunk: TextChunk, max_words: int) -> list[TextChunk]:
    words = _words(chunk.text)
    if len(words) <= max_words:
        return [chunk]
    sep = _join_for(chunk.text)
    clauses = split_clauses(chunk.text)
    if len(clauses) > 1 and count_words(clauses[0]) <= max_words + max_words // 2:
        head, tail = clauses[0], sep.join(clauses[1:])
        return [TextChunk(head, "clause"), TextChunk(tail, chunk.boundary)]
    head, tail = sep.join(words[:max_words]), sep.join(words[max_words:])
    return [TextChunk(head, "word"), TextChunk(tail, chunk.boundary)]
