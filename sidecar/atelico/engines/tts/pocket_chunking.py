"""Pocket TTS text chunking: SentencePiece-token windows cut at sentences, clauses, then words.

Pocket TTS was trained on single sentences of at most ~50 SentencePiece tokens; longer input
makes it skip or garble words. :func:`chunk_for_pocket` therefore:

1. splits the text into sentences (:func:`atelico.engines.tts.text.split_sentences`);
2. cuts a sentence longer than ``max_tokens`` at its clause boundaries (``, ; : — –``),
   packing consecutive clauses while they fit, and a clause that still does not fit between
   words (a single word longer than the window is kept whole: it cannot be cut);
3. keeps the first piece on its own, cut at its first clause boundaries when it is longer
   than ``first_max_tokens``, so the first audio comes quickly;
4. packs the following pieces greedily into chunks of at most ``max_tokens`` tokens, as the
   ``pocket_tts`` package does, so short sentences do not each pay the per-chunk overhead.

Chunking only splits and joins with single spaces: the chunks' whitespace-separated words,
in order, are exactly the input's, so every word is spoken once and a chunk can be shown as
a caption.
"""

from __future__ import annotations

import logging
from typing import Callable

from atelico.engines.tts.text import split_clauses, split_sentences

log = logging.getLogger(__name__)

#: The window Pocket TTS was trained on; more degrades the audio.
TRAINED_MAX_TOKENS = 50
#: Default size of the first chunk, in tokens (about a dozen English words).
FIRST_CHUNK_MAX_TOKENS = 16

TokenCounter = Callable[[str], int]


def chunk_for_pocket(text: str, count_tokens: TokenCounter, *,
                     max_tokens: int = TRAINED_MAX_TOKENS,
                     first_max_tokens: int | None = FIRST_CHUNK_MAX_TOKENS) -> list[str]:
    """Cut text into the chunks Pocket TTS generates one at a time.

    Args:
        text: any text; newlines end sentences, other whitespace is collapsed.
        count_tokens: the model tokenizer's token count of a piece of text.
        max_tokens: the most tokens a chunk may have (except a single over-long word).
        first_max_tokens: target size of the first chunk; it is cut only at clause
            boundaries (never mid-clause). ``None`` treats the first chunk like the others.

    Returns:
        The chunks in order; empty when the text has no words.
    """
    if max_tokens < 1:
        raise ValueError(f"max_tokens must be positive, got {max_tokens}")
    pieces: list[str] = []
    for sentence in split_sentences(text):
        pieces.extend(_fit_sentence(sentence, count_tokens, max_tokens))
    if not pieces:
        return []
    chunks: list[str] = []
    rest = pieces
    if first_max_tokens is not None:
        first, tail = _short_first(pieces[0], count_tokens, min(first_max_tokens, max_tokens))
        chunks.append(first)
        rest = ([tail] if tail else []) + pieces[1:]
    chunks.extend(_pack(rest, count_tokens, max_tokens))
    for chunk in chunks:
        tokens = count_tokens(chunk)
        if tokens > max_tokens:
            log.warning("pocket chunk has %d tokens (window %d): a single word that cannot be "
                        "cut: %.40r", tokens, max_tokens, chunk)
    return chunks


def _fit_sentence(sentence: str, count_tokens: TokenCounter, max_tokens: int) -> list[str]:
    """The sentence itself, or clause packs, or word packs: each within ``max_tokens``."""
    if count_tokens(sentence) <= max_tokens:
        return [sentence]
    out: list[str] = []
    for piece in _pack(split_clauses(sentence), count_tokens, max_tokens):
        if count_tokens(piece) <= max_tokens:
            out.append(piece)
        else:
            out.extend(_pack(piece.split(), count_tokens, max_tokens))
    return out


def _short_first(piece: str, count_tokens: TokenCounter, first_max_tokens: int
                 ) -> tuple[str, str]:
    """Split the first piece after its leading clauses that fit ``first_max_tokens``.

    At least one clause is taken; a piece with one clause is returned whole.
    """
    if count_tokens(piece) <= first_max_tokens:
        return piece, ""
    clauses = split_clauses(piece)
    if len(clauses) < 2:
        return piece, ""
    taken = 1
    while (taken < len(clauses) - 1
           and count_tokens(" ".join(clauses[:taken + 1])) <= first_max_tokens):
        taken += 1
    return " ".join(clauses[:taken]), " ".join(clauses[taken:])


def _pack(pieces: list[str], count_tokens: TokenCounter, max_tokens: int) -> list[str]:
    """Greedily join consecutive pieces with a space while the join still fits."""
    out: list[str] = []
    for piece in pieces:
        if out and count_tokens(out[-1] + " " + piece) <= max_tokens:
            out[-1] = out[-1] + " " + piece
        else:
            out.append(piece)
    return out
