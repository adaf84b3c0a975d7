"""Text chunking: sentences, clauses, the short first chunk, and no word lost or repeated."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from atelico.engines.tts.text import (TextChunk, chunk_text, count_words, has_speakable,
                                      split_clauses, split_sentences)

PARAGRAPH = ("The old lighthouse keeper climbed the spiral stairs every evening, carrying a "
             "lantern and a small notebook. Tonight the sea was calm. He wrote three words "
             "and smiled.")


def test_sentences_split_at_stops_but_not_abbreviations() -> None:
    """Sentences end at . ! ? and newlines; 'Dr.' and initials do not end one."""
    text = "Dr. Smith met J. R. Tolkien! Did he?\nYes.  Really"
    assert split_sentences(text) == ["Dr. Smith met J. R. Tolkien!", "Did he?", "Yes.", "Really"]


def test_cjk_sentences_split_without_spaces() -> None:
    """Full-width stops end sentences even with no space after them."""
    assert split_sentences("你好，世界。今天天气很好！") == ["你好，世界。", "今天天气很好！"]


def test_clauses_keep_their_punctuation() -> None:
    """Clauses split after , ; : and dashes, the mark staying with its clause."""
    assert split_clauses("Well, I think so; maybe — not sure: yes") == [
        "Well,", "I think so;", "maybe —", "not sure:", "yes"]


def test_first_chunk_is_the_first_short_clause() -> None:
    """A long first sentence gives a short first chunk (its first clause when short)."""
    chunks = chunk_text("Well, the old lighthouse keeper climbed the stairs. Then he slept.",
                        max_units=500)
    assert chunks[0] == TextChunk("Well,", "clause")
    assert chunks[1].text == "the old lighthouse keeper climbed the stairs."
    assert chunks[1].boundary == "sentence"
    assert chunks[2].text == "Then he slept."


def test_first_chunk_falls_back_to_a_few_words() -> None:
    """Without an early clause boundary, the first chunk is the first few words."""
    chunks = chunk_text(PARAGRAPH, max_units=500, first_max_words=4)
    assert chunks[0] == TextChunk("The old lighthouse keeper", "word")
    assert count_words(chunks[0].text) < count_words(split_sentences(PARAGRAPH)[0])
    assert [c.text for c in chunks[2:]] == ["Tonight the sea was calm.",
                                           "He wrote three words and smiled."]


def test_long_sentence_respects_max_units() -> None:
    """A sentence over the budget is cut at clauses, then at words, each piece fitting."""
    sentence = ", ".join(["one two three four five six seven eight"] * 6) + "."
    chunks = chunk_text(sentence, max_units=60, first_max_words=None)
    assert len(chunks) > 1
    assert all(len(c.text) <= 60 for c in chunks)
    assert chunks[-1].boundary == "sentence"
    assert " ".join(c.text for c in chunks) == sentence


def test_empty_text_has_no_chunks() -> None:
    """Whitespace alone gives no chunks."""
    assert chunk_text(" \n\t ", max_units=100) == []


_word = st.text(alphabet=st.sampled_from("abcdefghij"), min_size=1, max_size=8)
_punct = st.sampled_from(["", "", "", ",", ".", "!", "?", ";", ":", " —"])


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(_word, _punct), min_size=1, max_size=80),
       st.integers(min_value=12, max_value=120), st.integers(min_value=1, max_value=8))
def test_chunks_keep_every_word_exactly_once(parts: list[tuple[str, str]], max_units: int,
                                             first: int) -> None:
    """Whatever the text, chunks hold the input's words in order, each exactly once."""
    text = " ".join(word + punct for word, punct in parts)
    chunks = chunk_text(text, max_units=max_units, first_max_words=first)
    assert " ".join(c.text for c in chunks).split() == text.split()
    assert all(len(c.text) <= max_units for c in chunks if len(c.text.split()) > 1)
    assert count_words(chunks[0].text) <= max(first + first // 2, 1)


def test_has_speakable_ignores_controls_zero_width_and_bare_punctuation() -> None:
    """Letters, digits and symbols count (also full-width ones); NUL, other controls,
    zero-width and bidi format characters, private-use code points and punctuation do not."""
    for text in ("a", "5", "%", "&", "\uff48\uff49", " \u200bHi\u200b ", "日本"):
        assert has_speakable(text), text
    for text in ("", "\x00", "\x00\x01\x7f\n\t", "\u200b\u200c\u200d\u2060\ufeff\u00ad\u200e",
                 "\ue000", "...!?", "\u200b.\u200b", "\"(—)\"", "。！"):
        assert not has_speakable(text), repr(text)
