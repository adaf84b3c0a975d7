"""Text chunking for streamed TTS: sentences, clauses and a short first chunk.

Shared by the TTS engines. The public API is :class:`TextChunk`, :func:`split_sentences`,
:func:`split_clauses`, :func:`chunk_text`, :func:`has_speakable` and :class:`TextFeed`. Every function only *splits*: the chunks'
words, in order, are exactly the input's whitespace-separated words (nothing is dropped,
duplicated or rewritten), so a chunk's text can be shown as a caption as-is.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable, Literal

from atelico.protocol.text import has_speakable as has_speakable  # the one input rule

Boundary = Literal["sentence", "clause", "word"]

# Characters of scripts written without spaces between words (CJK, kana).
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff66-\uff9f]")
# A sentence ends at . ! ? … (plus closing quotes/brackets) before whitespace, or right after
# a full-width stop.
_SENTENCE_END = re.compile(r"[.!?…]+[\"'”’»)\]]*(?=\s)|[。！？]+[」』”’）]*")
# Clause ends: , ; : (before whitespace), full-width comma/semicolon/colon, or a dash.
_CLAUSE_END = re.compile(r"[,;:](?=\s)|[，、；：]|\s[—–]\s?|—")
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


class TextFeed:
    """Text that arrives in pieces (tokens from a language model), handed out for synthesis
    as soon as a part of it is complete: through the last sentence end, newline, or clause end
    (``,`` ``;`` ``:`` or a dash) that closes at least ``min_clause_words`` words. A piece of
    text without any boundary is cut at its last space once it holds ``max_chars``
    characters (anywhere, if it has no space), so the buffer stays bounded.

    The pieces' words, in order, are exactly the words written (as in :func:`chunk_text`).
    """

    def __init__(self, *, min_clause_words: int = 3, max_chars: int = 400) -> None:
        self.min_clause_words = min_clause_words
        self.max_chars = max_chars
        self._buf = ""

    @property
    def pending(self) -> str:
        """Text written but not yet handed out."""
        return self._buf

    def write(self, piece: str) -> list[str]:
        """Add a piece of text; return the parts now complete (zero or one)."""
        self._buf += piece
        return self._take(self._cut())

    def end(self) -> list[str]:
        """No more text: return what is left."""
        return self._take(len(self._buf))

    def _take(self, cut: int) -> list[str]:
        if cut <= 0:
            return []
        part, self._buf = self._buf[:cut], self._buf[cut:]
        part = " ".join(part.split())
        return [part] if has_speakable(part) else []

    def _cut(self) -> int:
        buf = self._buf
        cut = buf.rfind("\n") + 1
        for match in _SENTENCE_END.finditer(buf):
            if match.group().startswith(".") and _is_abbreviation(buf[:match.start()]):
                continue
            cut = max(cut, match.end())
        for match in _CLAUSE_END.finditer(buf, cut):
            if count_words(buf[cut:match.end()]) >= self.min_clause_words:
                cut = match.end()
        if len(buf) - cut >= self.max_chars:
            space = buf.rfind(" ", cut, len(buf))
            cut = space + 1 if space > cut else len(buf)
        return cut


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
