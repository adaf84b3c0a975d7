"""Phone timing from audio with pocketsphinx: forced alignment to a transcript, or phone recognition."""

from __future__ import annotations

import logging
import re
import threading
from typing import Any

import numpy as np

from atelico.engines.base import FACE_SAMPLE_RATE_HZ, PhonemeTiming
from atelico.errors import EngineError

logger = logging.getLogger(__name__)

_FRAME_S = 0.01  # pocketsphinx frames are 10 ms
_ONES = ("zero one two three four five six seven eight nine ten eleven twelve thirteen "
         "fourteen fifteen sixteen seventeen eighteen nineteen").split()
_TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()

# Crude spelling-to-sound rules for words the dictionary lacks (names, made-up words): good
# enough for a mouth, which only needs roughly the right shapes at roughly the right times.
_GRAPHEMES: tuple[tuple[str, str], ...] = (
    ("tch", "CH"), ("sch", "S K"), ("igh", "AY"), ("th", "TH"), ("sh", "SH"), ("ch", "CH"),
    ("ph", "F"), ("wh", "W"), ("ck", "K"), ("ng", "NG"), ("qu", "K W"), ("ee", "IY"),
    ("ea", "IY"), ("oo", "UW"), ("ou", "AW"), ("ow", "OW"), ("oa", "OW"), ("ai", "EY"),
    ("ay", "EY"), ("oi", "OY"), ("oy", "OY"), ("au", "AO"), ("aw", "AO"), ("ie", "IY"),
    ("a", "AE"), ("b", "B"), ("c", "K"), ("d", "D"), ("e", "EH"), ("f", "F"), ("g", "G"),
    ("h", "HH"), ("i", "IH"), ("j", "JH"), ("k", "K"), ("l", "L"), ("m", "M"), ("n", "N"),
    ("o", "AA"), ("p", "P"), ("q", "K"), ("r", "R"), ("s", "S"), ("t", "T"), ("u", "AH"),
    ("v", "V"), ("w", "W"), ("x", "K S"), ("y", "IY"), ("z", "Z"),
)


def _number_words(digits: str) -> list[str]:
    value = int(digits)
    if len(digits) > 1 and digits.startswith("0") or value >= 100:
        return [_ONES[int(d)] for d in digits]
    if value < 20:
        return [_ONES[value]]
    tens, ones = divmod(value, 10)
    return [_TENS[tens]] + ([_ONES[ones]] if ones else [])


def normalize_words(text: str) -> list[str]:
    """Lower-case words for the aligner: punctuation dropped, numbers spelled out."""
    words: list[str] = []
    for token in re.findall(r"[A-Za-z]+(?:'[A-Za-z]+)*|\d+", text):
        words.extend(_number_words(token) if token.isdigit() else [token.lower()])
    return words


def letters_to_arpabet(word: str) -> str:
    """A pronunciation guessed from spelling (doubled letters and a final silent e collapsed)."""
    w = re.sub(r"[^a-z]", "", word.lower())
    if len(w) > 3 and w.endswith("e") and w[-2] not in "aeiouy":
        w = w[:-1]
    w = re.sub(r"([bcdfgklmnprstvz])\1", r"\1", w)
    phones: list[str] = []
    i = 0
    while i < len(w):
        for graph, arpa in _GRAPHEMES:
            if w.startswith(graph, i):
                phones.extend(arpa.split())
                i += len(graph)
                break
        else:
            i += 1
    return " ".join(phones) or "AH"


def _to_int16_bytes(audio: np.ndarray) -> bytes:
    peak = float(np.max(np.abs(audio))) if len(audio) else 0.0
    scale = 32767.0 / peak if peak > 1.0 else 32767.0  # keep clipped/hot input in range
    return (np.clip(audio * scale, -32768, 32767)).astype("<i2").tobytes()


def _decode(decoder: Any, data: bytes) -> None:
    # Noise removal and cepstral mean normalisation adapt across utterances; reset them so the same audio always
    # gives the same phones, whatever was decoded before.
    decoder.reinit_feat()  # resets the front end: noise tracking and CMN start afresh
    decoder.start_utt()
    decoder.process_raw(data, full_utt=True)
    decoder.end_utt()


class PhoneDecoder:
    """Two pocketsphinx decoders (aligner and phone recogniser) for 16 kHz audio.

    Thread-safe: each decoder is used under its own lock (a decoder holds one utterance).
    """

    def __init__(self) -> None:
        from pocketsphinx import Decoder, get_model_path

        self._align = Decoder(samprate=FACE_SAMPLE_RATE_HZ, loglevel="ERROR", lm=None)
        self._phones = Decoder(samprate=FACE_SAMPLE_RATE_HZ, loglevel="ERROR", lm=None,
                               allphone=get_model_path("en-us/en-us-phone.lm.bin"),
                               backtrace=True)  # narrower beams lose the path on some voices
        self._align_lock = threading.Lock()
        self._phones_lock = threading.Lock()

    def align(self, audio: np.ndarray, text: str) -> list[PhonemeTiming]:
        """ARPAbet phones of ``text`` timed against ``audio`` (float32, 16 kHz).

        Raises:
            EngineError: the transcript could not be aligned to the audio at all.
        """
        words = normalize_words(text)
        if not words:
            return []
        data = _to_int16_bytes(audio)
        with self._align_lock:
            for word in set(words):
                if self._align.lookup_word(word) is None:
                    self._align.add_word(word, letters_to_arpabet(word), True)
            try:
                self._align.set_align_text(" ".join(words))
                _decode(self._align, data)  # word pass
                self._align.set_alignment()
                _decode(self._align, data)  # phone pass
                alignment = self._align.get_alignment()
            except RuntimeError as exc:
                raise EngineError(f"forced alignment failed: {exc}",
                                  details={"words": len(words)}) from exc
            if alignment is None:
                raise EngineError("forced alignment found no path through the transcript")
            return [PhonemeTiming(phone.name, phone.start * _FRAME_S,
                                  (phone.start + phone.duration) * _FRAME_S)
                    for word in alignment for phone in word]

    def recognize(self, audio: np.ndarray) -> list[PhonemeTiming]:
        """ARPAbet phones recognised from ``audio`` (float32, 16 kHz) with no transcript."""
        data = _to_int16_bytes(audio)
        with self._phones_lock:
            _decode(self._phones, data)
            return [PhonemeTiming(seg.word, seg.start_frame * _FRAME_S,
                                  (seg.end_frame + 1) * _FRAME_S)
                    for seg in (self._phones.seg() or ())]
