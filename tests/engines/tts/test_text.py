"""Text chunking: sentences, clauses, the short first chunk, and no word lost or repeated."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from atelico.engines.tts.text import (TextChunk, TextFeed, chunk_text, count_words,
                                      has_speakable, split_clauses, split_sentences)

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


# ---------------------------------------------------------------- TextFeed (streamed input)
def _feed_all(pieces: list[str], **kw) -> tuple[list[str], list[list[str]]]:
    """Write pieces one by one: every part handed out, and what each write handed out."""
    feed = TextFeed(**kw)
    per_write = [feed.write(p) for p in pieces]
    parts = [part for out in per_write for part in out] + feed.end()
    return parts, per_write


def test_feed_hands_out_a_sentence_once_the_next_word_starts() -> None:
    """"fire." may still become "fire.5": a sentence is complete when whitespace follows it."""
    feed = TextFeed()
    assert feed.write("Stay close to the fire.") == []
    assert feed.write(" The") == ["Stay close to the fire."]
    assert feed.pending == " The"
    assert feed.end() == ["The"]


def test_feed_cuts_clauses_of_enough_words_only() -> None:
    feed = TextFeed(min_clause_words=3)
    assert feed.write("Well, ") == []  # one word before the comma: wait for more
    assert feed.write("traveller, the road is long, ") == ["Well, traveller, the road is long,"]
    assert feed.end() == []


def test_feed_keeps_abbreviations_decimals_and_newlines_right() -> None:
    parts, per_write = _feed_all(["Dr. ", "Smith paid 3", ".", "5 gold. ", "Line one\n", "two"])
    assert per_write[1] == [] and per_write[2] == []  # "Dr." and "3." end no sentence
    assert parts == ["Dr. Smith paid 3.5 gold.", "Line one", "two"]


def test_feed_bounds_its_buffer_without_boundaries() -> None:
    feed = TextFeed(max_chars=40)
    out = [part for _ in range(30) for part in feed.write("word ")]
    assert out and all(len(p) <= 40 for p in out)
    assert len(feed.pending) < 40
    assert TextFeed(max_chars=10).write("x" * 25) == ["x" * 25]  # no space at all: cut anyway


def test_feed_hands_out_exactly_the_words_written_however_the_text_is_split() -> None:
    """Token boundaries anywhere (mid-word, mid-punctuation): the same words, in order."""
    import random

    latin = ("Stay close to the fire, traveller. The night is long; the wolves are hungry — "
             "and Dr. Vale paid 3.5 gold for this map!\nRun, now.")
    cjk = "日本語のテキスト。次の文、そして最後の文です。"
    rng = random.Random(7)
    for text in (latin, cjk):
        for _ in range(200):
            cuts = sorted(rng.sample(range(1, len(text)), rng.randint(1, 20)))
            pieces = [text[a:b] for a, b in zip([0, *cuts], [*cuts, len(text)])]
            parts, _ = _feed_all(pieces, min_clause_words=rng.randint(1, 5), max_chars=rng.randint(20, 200))
            if text is latin:
                assert " ".join(parts).split() == text.split()
            else:  # no spaces: the same characters, cut only after a full-width mark
                assert "".join(parts) == text
                assert all(p[-1] in "。、" for p in parts[:-1])


def test_feed_drops_parts_with_nothing_to_say() -> None:
    parts, _ = _feed_all(["...", " ", "\n", "!? ", "ok."])
    assert parts == ["ok."]
