"""Phone sets to visemes: IPA (Kokoro/misaki/espeak) and ARPAbet (pocketsphinx)."""

from __future__ import annotations

from atelico.engines.base import PhonemeTiming
from atelico.engines.face.phones import detect_phone_set, to_viseme_segments


def _visemes(symbols: list[str], phone_set: str = "auto") -> list[str]:
    phones = [PhonemeTiming(s, i * 0.1, (i + 1) * 0.1) for i, s in enumerate(symbols)]
    return [seg.viseme for seg in to_viseme_segments(phones, phone_set)]


def test_both_phone_sets_reach_the_same_visemes() -> None:
    """'mob, feel, shoe' in IPA and in ARPAbet give the same mouth shapes."""
    ipa = _visemes(["m", "ɑ", "b", "f", "i", "l", "ʃ", "u"])
    arpa = _visemes(["M", "AA1", "B", "F", "IY1", "L", "SH", "UW1"])
    assert ipa == arpa == ["BB", "AA", "BB", "FF", "IY", "LL", "SH", "UW"]


def test_phone_set_detection() -> None:
    """Lower-case or non-ASCII means IPA; upper-case ARPAbet (with SIL, +NSN+) stays ARPAbet."""
    def timed(symbols: list[str]) -> list[PhonemeTiming]:
        return [PhonemeTiming(s, 0.0, 0.1) for s in symbols]

    assert detect_phone_set(timed(["SIL", "HH", "AH0", "+NSN+", "W", "Y"])) == "arpabet"
    assert detect_phone_set(timed(["h", "ə", "l", "oʊ"])) == "ipa"
    assert detect_phone_set(timed(["W", "ɪ"])) == "ipa"  # misaki's W is the diphthong aʊ


def test_diphthongs_split_and_misaki_letters() -> None:
    """aɪ / misaki I / ARPAbet AY become an open vowel then a spread one, split 55/45."""
    for symbol in ("aɪ", "I", "AY"):
        segs = to_viseme_segments([PhonemeTiming(symbol, 1.0, 1.2)],
                                  "arpabet" if symbol == "AY" else "ipa")
        assert [s.viseme for s in segs] == ["AA", "IY"]
        assert abs(segs[0].end_s - 1.11) < 1e-9 and segs[1].end_s == 1.2


def test_marks_pauses_and_stress_tokens() -> None:
    """Stress/length marks fold into the phone; a lone stress token lends its time and stress."""
    phones = [PhonemeTiming("ˈ", 0.0, 0.05), PhonemeTiming("ɑː", 0.05, 0.2),
              PhonemeTiming(" ", 0.2, 0.3), PhonemeTiming("t͡ʃ", 0.3, 0.4),
              PhonemeTiming("pʰ", 0.4, 0.5), PhonemeTiming("?", 0.5, 0.6)]
    segs = to_viseme_segments(phones, "ipa", offset_s=1.0)
    assert [s.viseme for s in segs] == ["AA", "sil", "SH", "PP", "sil"]
    assert segs[0].start_s == 1.0 and segs[0].stress == 1


def test_unknown_symbols_never_crash() -> None:
    """Unknown letters get a neutral half-open mouth; noise phones and fillers rest the mouth."""
    assert _visemes(["ж", "ɑ"], "ipa") == ["AX", "AA"]
    assert _visemes(["+NSN+", "+SPN+", "SIL"], "arpabet") == ["sil", "sil", "sil"]
