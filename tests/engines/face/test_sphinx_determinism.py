"""Phone timing does not depend on what the shared decoders processed before."""

from __future__ import annotations

from pathlib import Path

from atelico.audio.codecs import decode_file
from atelico.engines.face.sphinx import PhoneDecoder

SPEECH = Path(__file__).resolve().parents[2] / "data" / "speech"


def test_same_audio_gives_the_same_phones_after_other_audio():
    """Recognition and alignment of a clip are identical before and after decoding another clip
    (pocketsphinx's noise tracking and CMN are reset per utterance)."""
    a, _ = decode_file((SPEECH / "goforward.wav").read_bytes())
    b, _ = decode_file((SPEECH / "arctic_a0007.wav").read_bytes())
    decoder = PhoneDecoder()
    first = decoder.recognize(a)
    aligned = decoder.align(a, "go forward ten meters")
    decoder.recognize(b)
    assert decoder.recognize(a) == first
    assert decoder.align(a, "go forward ten meters") == aligned
