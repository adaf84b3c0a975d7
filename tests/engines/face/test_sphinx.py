"""pocketsphinx phone timing: forced alignment of a transcript, and phone recognition."""

from __future__ import annotations

from atelico.engines.face.sphinx import letters_to_arpabet, normalize_words

from .conftest import Clip


def test_alignment_follows_the_transcript(engine, clips: dict[str, Clip]) -> None:
    """'go forward ten meters' aligns to its phones, in order, inside the clip."""
    clip = clips["goforward"]
    phones = engine.phones(clip.audio, clip.sample_rate_hz, clip.text)
    spoken = [p.phoneme for p in phones if p.phoneme != "SIL"]
    assert spoken[:4] == ["G", "OW", "F", "AO"]
    assert "T" in spoken and spoken[-1] == "Z"
    starts = [p.start_s for p in phones]
    assert starts == sorted(starts) and phones[-1].end_s <= clip.duration_s + 0.02
    assert phones[0].phoneme == "SIL" and phones[1].start_s > 0.3  # leading silence


def test_recognition_without_text(engine, clips: dict[str, Clip]) -> None:
    """With no transcript, phones are recognised and cover the speech."""
    clip = clips["arctic_a0007"]
    phones = engine.phones(clip.audio, clip.sample_rate_hz)
    spoken = [p for p in phones if p.phoneme not in ("SIL", "+NSN+", "+SPN+")]
    assert len(spoken) > 15
    assert sum(p.end_s - p.start_s for p in spoken) > 0.5 * clip.duration_s


def test_out_of_vocabulary_words_are_aligned(engine, clips: dict[str, Clip]) -> None:
    """A made-up word gets a spelled-out pronunciation instead of failing the alignment."""
    clip = clips["goforward"]
    phones = engine.phones(clip.audio, clip.sample_rate_hz, "go forward ten zorblax")
    assert len([p for p in phones if p.phoneme != "SIL"]) >= 10


def test_text_normalisation() -> None:
    """Punctuation goes, numbers are spelled, spelling-to-sound collapses doubles and silent e."""
    assert normalize_words("Go forward, 10 meters! 42") == [
        "go", "forward", "ten", "meters", "forty", "two"]
    assert letters_to_arpabet("Atelico") == "AE T EH L IH K AA"
    assert letters_to_arpabet("shappe") == "SH AE P"
