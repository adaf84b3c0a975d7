"""The WER helper normalises text and counts word edits correctly."""

from __future__ import annotations

import pytest

from tests.helpers.wer import normalize, number_to_words, word_error_rate


def test_normalize_spells_numbers_abbreviations_and_drops_punctuation() -> None:
    """Case, punctuation, hyphens, digits and 'Mr.' do not count as errors."""
    assert normalize("Mr. Dashwood, ill-disposed; go forward 10 metres!") == [
        "mister", "dashwood", "ill", "disposed", "go", "forward", "ten", "meters"]


@pytest.mark.parametrize(("n", "words"), [
    (0, "zero"), (21, "twenty one"), (105, "one hundred five"),
    (1250, "one thousand two hundred fifty")])
def test_number_to_words(n: int, words: str) -> None:
    """Integers are spelt the way they are spoken."""
    assert number_to_words(n) == words


def test_word_error_rate_counts_substitutions_deletions_insertions() -> None:
    """One substitution and one deletion over four reference words is 0.5; extra words count."""
    assert word_error_rate("a b c d", "a x c") == 0.5
    assert word_error_rate("a b", "a b c d") == 1.0
    assert word_error_rate("Hello, World.", "hello world") == 0.0
    assert word_error_rate("", "") == 0.0
    assert word_error_rate("", "words") == 1.0
