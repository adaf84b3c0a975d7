"""Pocket TTS chunking: token windows cut at sentences, then clauses, then words."""

from __future__ import annotations

import logging
import re

import pytest
from hypothesis import given, settings as hsettings, strategies as st

from atelico.engines.tts.pocket_chunking import chunk_for_pocket


def count_words(text: str) -> int:
    """A stand-in tokenizer: one token per word plus one per punctuation mark."""
    return len(text.split()) + len(re.findall(r"[^\w\s']", text))


def words_of(chunks: list[str]) -> list[str]:
    return " ".join(chunks).split()


def rejoin_dash_cuts(got: list[str], expected: list[str]) -> list[str]:
    """Undo the only allowed in-word cut: ``x—`` then ``y`` where the input had ``x—y``."""
    out: list[str] = []
    i = 0
    while i < len(got):
        word = got[i]
        want = expected[len(out)] if len(out) < len(expected) else None
        if (word.endswith("—") and i + 1 < len(got) and want is not None and word != want
                and word + got[i + 1] == want):
            word, i = want, i + 1
        out.append(word)
        i += 1
    return out


def clause(n: int, tag: str) -> str:
    return " ".join(f"{tag}{i}" for i in range(n))


def test_short_sentences_are_packed_after_a_first_chunk_on_its_own() -> None:
    """The first sentence is alone (fast first audio); later ones share chunks up to the window."""
    text = "Hello there. How are you? I am fine. Thanks for asking. See you soon."
    chunks = chunk_for_pocket(text, count_words, max_tokens=8, first_max_tokens=8)
    assert chunks == ["Hello there.", "How are you? I am fine.", "Thanks for asking. See you soon."]


def test_long_sentence_is_cut_at_clause_boundaries() -> None:
    """A sentence over the window is cut after its commas/semicolons/colons, clauses packed."""
    text = f"{clause(10, 'a')}, {clause(10, 'b')}; {clause(10, 'c')}: {clause(10, 'd')}."
    chunks = chunk_for_pocket(text, count_words, max_tokens=25, first_max_tokens=None)
    assert chunks == [f"{clause(10, 'a')}, {clause(10, 'b')};",
                      f"{clause(10, 'c')}: {clause(10, 'd')}."]
    assert all(count_words(c) <= 25 for c in chunks)


@pytest.mark.parametrize("dash", ["—", "–"])
def test_dashes_are_clause_boundaries(dash: str) -> None:
    """Em and en dashes (spaced) cut a long sentence like commas do."""
    text = f"{clause(12, 'a')} {dash} {clause(12, 'b')}."
    chunks = chunk_for_pocket(text, count_words, max_tokens=15, first_max_tokens=None)
    assert chunks == [f"{clause(12, 'a')} {dash}", f"{clause(12, 'b')}."]


def test_unspaced_em_dash_is_a_boundary_inside_a_word() -> None:
    """'cold—they' is cut after the dash: no character is lost, each half in one chunk."""
    text = f"{clause(12, 'a')}—{clause(12, 'b')}."
    chunks = chunk_for_pocket(text, count_words, max_tokens=15, first_max_tokens=None)
    assert chunks == [f"{clause(12, 'a')}—", f"{clause(12, 'b')}."]


def test_clause_longer_than_the_window_is_cut_between_words() -> None:
    """With no punctuation to cut at, words are packed into windows; none is split or lost."""
    text = clause(50, "w") + "."
    chunks = chunk_for_pocket(text, count_words, max_tokens=12, first_max_tokens=None)
    assert all(count_words(c) <= 12 for c in chunks)
    assert len(chunks) == 5  # 51 tokens in windows of 12
    assert words_of(chunks) == text.split()


def test_single_word_over_the_window_is_kept_whole_with_a_warning(
        caplog: pytest.LogCaptureFixture) -> None:
    """A word that alone exceeds the window cannot be cut: it becomes its own chunk."""
    long_word = "-".join(["x"] * 30)  # 59 tokens with the stand-in tokenizer
    text = f"Say {long_word} now."
    with caplog.at_level(logging.WARNING, logger="atelico.engines.tts.pocket_chunking"):
        chunks = chunk_for_pocket(text, count_words, max_tokens=10, first_max_tokens=None)
    assert long_word in chunks
    assert words_of(chunks) == text.split()
    assert any("cannot be cut" in r.getMessage() for r in caplog.records)


def test_first_chunk_is_cut_at_its_first_clauses_when_long() -> None:
    """A long first sentence gives up its leading clauses (within the first-chunk size)."""
    text = "Well, my friend, the road north is long and cold and full of wolves, they say."
    chunks = chunk_for_pocket(text, count_words, max_tokens=50, first_max_tokens=6)
    assert chunks[0] == "Well, my friend,"
    assert count_words(chunks[0]) <= 6
    assert words_of(chunks) == text.split()


def test_first_chunk_keeps_at_least_one_clause_and_is_never_cut_mid_clause() -> None:
    """First-chunk shortening never cuts inside a clause: a first clause over the size stays."""
    text = "The road north is long and cold, they say."
    chunks = chunk_for_pocket(text, count_words, max_tokens=50, first_max_tokens=3)
    assert chunks == ["The road north is long and cold,", "they say."]
    no_clause = "The road north is long and cold."
    assert chunk_for_pocket(no_clause, count_words, max_tokens=50, first_max_tokens=3) == [
        no_clause]


def test_newlines_end_sentences_and_whitespace_is_collapsed() -> None:
    """A line break ends a sentence even without punctuation; runs of spaces become one."""
    chunks = chunk_for_pocket("Title line\n\nFirst   sentence here.", count_words,
                              max_tokens=4, first_max_tokens=None)
    assert chunks == ["Title line", "First sentence here."]


def test_no_words_no_chunks() -> None:
    """Whitespace-only text gives no chunks."""
    assert chunk_for_pocket(" \n\t ", count_words) == []


_WORD = st.one_of(
    st.from_regex(r"[A-Za-z]{1,12}", fullmatch=True),
    st.from_regex(r"[A-Za-z]{1,8}[,;:.!?]", fullmatch=True),
    st.sampled_from(["—", "–", "Mr.", "3.5", "don't", "(yes)", '"Hi!"', "...", "e.g.",
                     "well—maybe"]),
)


@hsettings(max_examples=150, deadline=None)
@given(words=st.lists(_WORD, min_size=1, max_size=120),
       seps=st.lists(st.sampled_from([" ", "  ", "\n", " \n "]), min_size=120, max_size=120),
       max_tokens=st.integers(min_value=3, max_value=60),
       first=st.one_of(st.none(), st.integers(min_value=1, max_value=20)))
def test_every_word_lands_in_exactly_one_chunk(words: list[str], seps: list[str],
                                               max_tokens: int, first: int | None) -> None:
    """For any text: no character lost, duplicated or reordered; words stay whole (an
    unspaced em dash may cut one); chunks fit the window unless they are a single word."""
    text = "".join(w + s for w, s in zip(words, seps))
    chunks = chunk_for_pocket(text, count_words, max_tokens=max_tokens, first_max_tokens=first)
    assert rejoin_dash_cuts(words_of(chunks), text.split()) == text.split()
    for chunk in chunks:
        assert chunk == chunk.strip() and chunk
        assert count_words(chunk) <= max_tokens or len(chunk.split()) == 1
