"""Kokoro's phoneme tokens and the timing of a rendered chunk from its per-token durations."""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

from atelico.audio.pcm import fade_edges
from atelico.engines.base import PhonemeTiming, WordTiming

from .g2p import Phonemized
from .kokoro_windows import FRAME_SAMPLES, SAMPLE_RATE_HZ

log = logging.getLogger(__name__)

#: One duration frame of the model (600 samples): 25 ms at 24 kHz.
FRAME_S = FRAME_SAMPLES / SAMPLE_RATE_HZ
#: Most phoneme tokens one inference takes (the context is 512 with the two pad tokens).
MAX_PHONEME_TOKENS = 510

# Timing corrections measured against forced alignment (see the models notes): the audio
# runs ~50 ms ahead of the duration boundaries; the last phoneme absorbs the trailing
# silence, so its duration is capped; a space token carries the next word's onset.
AUDIO_LEAD_S = 0.05
LAST_PHONEME_CAP_S = 0.2
#: Silence kept after a chunk's speech, by what follows it.
PAUSE_AFTER_S: dict[str, float] = {"sentence": 0.3, "clause": 0.15, "word": 0.04, "end": 0.15}
FADE_S = 0.008

# Kokoro v1.0's phoneme vocabulary (config.json "vocab"): symbol -> token id.
_VOCAB_SYMBOLS = (';:,.!?—…"()“” \u0303ʣʥʦʨᵝꭧAIOQSTWYᵊabcdefhijklmnopqrstuvwxyz'
                  'ɑɐɒæβɔɕçɖðʤəɚɛɜɟɡɥɨɪʝɯɰŋɳɲɴøɸθœɹɾɻʁɽʂʃʈʧʊʋʌɣɤχʎʒʔˈˌːʰʲ↓→↗↘ᵻ')
_VOCAB_IDS = (
    1, 2, 3, 4, 5, 6, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 31,
    33, 35, 36, 39, 41, 42, 43, 44, 45, 46, 47, 48, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59,
    60, 61, 62, 63, 64, 65, 66, 67, 68, 69, 70, 71, 72, 75, 76, 77, 78, 80, 81, 82, 83, 85,
    86, 87, 90, 92, 99, 101, 102, 103, 110, 111, 112, 113, 114, 115, 116, 118, 119, 120, 123,
    125, 126, 128, 129, 130, 131, 132, 133, 135, 136, 138, 139, 140, 142, 143, 147, 148, 156,
    157, 158, 162, 164, 169, 171, 172, 173, 177,
)
VOCAB: dict[str, int] = dict(zip(_VOCAB_SYMBOLS, _VOCAB_IDS, strict=True))

_PUNCT = frozenset(';:,.!?—…"()“”')
_STRESS = frozenset("ˈˌ")
_MODIFIERS = frozenset("ːʰʲ\u0303")  # belong to the phoneme before them
_TONES = frozenset("↓→↗↘")
_SILENT = _PUNCT | _STRESS | _TONES | {" "}  # tokens that are no sound of their own
#: misaki's one-letter symbols spelled out in IPA.
_IPA = {"A": "eɪ", "I": "aɪ", "W": "aʊ", "Y": "ɔɪ", "O": "oʊ", "Q": "əʊ", "T": "ɾ", "ᵊ": "ə",
        "ʤ": "dʒ", "ʧ": "tʃ", "ʣ": "dz", "ʦ": "ts", "ʥ": "dʑ", "ʨ": "tɕ", "ᵻ": "ɪ", "S": "s",
        "ᵝ": "β", "ꭧ": "ɚ"}


@dataclass(frozen=True)
class Rendered:
    """A chunk's kept audio and its word and phoneme times (seconds into that audio)."""

    audio: np.ndarray
    words: tuple[WordTiming, ...]
    phonemes: tuple[PhonemeTiming, ...]


def align(phonemized: Phonemized, positions: Sequence[int], durations: np.ndarray,
          audio: np.ndarray, speed: float, pause_s: float) -> Rendered:
    """Trim a chunk's silence and time its words and phonemes from per-token durations.

    ``positions[i]`` is the character of ``phonemized.phonemes`` that token ``i`` came from;
    ``durations`` has one entry per token plus the two pads. The leading pad (silence) is cut,
    the speech is kept until the (capped) end of its last phoneme, then ``pause_s`` of the
    model's own trailing audio (zero-padded if it is shorter). Times are seconds relative to
    the returned audio.
    """
    frames = np.asarray(durations, dtype=np.int64)
    edges = np.concatenate([[0], np.cumsum(frames)])
    starts, ends = edges[1:-2].astype(np.float64), edges[2:-1].astype(np.float64)
    chars = [phonemized.phonemes[p] for p in positions]
    speech_end_frames = _cap_last_phoneme(chars, starts, ends, speed, float(edges[1]))
    begin_s = max(0.0, edges[1] * FRAME_S - AUDIO_LEAD_S)
    kept = _keep(audio, begin_s, speech_end_frames * FRAME_S - AUDIO_LEAD_S + pause_s)
    rel = _relative(begin_s, len(kept) / SAMPLE_RATE_HZ)
    return Rendered(kept, _word_times(phonemized, positions, starts, ends, rel),
                    _phone_times(chars, starts, ends, rel))


def _cap_last_phoneme(chars: list[str], starts: np.ndarray, ends: np.ndarray, speed: float,
                      lead_frames: float) -> float:
    """Cap the last phoneme (it absorbs the trailing silence) in ``ends``; the frame where
    the speech ends."""
    speech = [i for i, ch in enumerate(chars) if ch not in _SILENT]
    if not speech:
        return float(ends[-1]) if len(ends) else lead_frames
    last = speech[-1]
    cap_frames = max(2.0, math.ceil(LAST_PHONEME_CAP_S / FRAME_S / speed))
    ends[last] = min(ends[last], starts[last] + cap_frames)
    return float(ends[last])


def _keep(audio: np.ndarray, begin_s: float, end_s: float) -> np.ndarray:
    """``audio`` from ``begin_s`` to ``end_s``, faded at its free tail, zero-padded to length."""
    begin = int(round(begin_s * SAMPLE_RATE_HZ))
    end = int(round(end_s * SAMPLE_RATE_HZ))
    # free edges start and end at zero (the cut lands mid-waveform): no click, no DC step
    kept = fade_edges(audio[begin:min(end, len(audio))], SAMPLE_RATE_HZ, tail_s=FADE_S)
    if len(kept) < end - begin:
        kept = np.concatenate([kept, np.zeros(end - begin - len(kept), np.float32)])
    return kept


def _relative(begin_s: float, duration_s: float) -> Callable[[float], float]:
    """Frame index -> seconds into the kept audio, clamped to it."""
    def rel(frame: float) -> float:
        return float(min(duration_s, max(0.0, frame * FRAME_S - AUDIO_LEAD_S - begin_s)))
    return rel


def _word_times(phonemized: Phonemized, positions: Sequence[int], starts: np.ndarray,
                ends: np.ndarray, rel: Callable[[float], float]) -> tuple[WordTiming, ...]:
    token_at = {p: i for i, p in enumerate(positions)}
    words: list[WordTiming] = []
    for span in phonemized.words:
        inside = [token_at[c] for c in range(span.start, span.end) if c in token_at]
        if not inside:
            continue
        onset = _onset_token(phonemized, span.start, token_at)
        start = starts[onset] if onset is not None else starts[inside[0]]
        start_s, end_s = rel(start), rel(ends[inside[-1]])
        if words and start_s < words[-1].end_s:
            start_s = words[-1].end_s
        words.append(WordTiming(span.word, start_s, max(start_s, end_s)))
    return tuple(words)


def _onset_token(phonemized: Phonemized, start: int, token_at: dict[int, int]) -> int | None:
    """The space token before a word, which carries the word's onset."""
    if start > 0 and phonemized.phonemes[start - 1] == " ":
        return token_at.get(start - 1)
    return None


def _phone_times(chars: list[str], starts: np.ndarray, ends: np.ndarray,
                 rel: Callable[[float], float]) -> tuple[PhonemeTiming, ...]:
    """One timing per phoneme: stress marks and spaces start the next one early, length
    marks and tones extend the previous one, punctuation is no phoneme."""
    phones: list[PhonemeTiming] = []
    pending: float | None = None
    for i, ch in enumerate(chars):
        if ch in _PUNCT:
            pending = None
        elif ch == " " or ch in _STRESS:
            pending = starts[i] if pending is None else pending
        elif ch in _MODIFIERS or ch in _TONES:
            if phones:
                prev = phones[-1]
                symbol = prev.phoneme + (ch if ch in _MODIFIERS else "")
                phones[-1] = PhonemeTiming(symbol, prev.start_s, max(prev.end_s, rel(ends[i])))
        else:
            start_s = rel(starts[i] if pending is None else pending)
            phones.append(PhonemeTiming(_IPA.get(ch, ch), start_s, max(start_s, rel(ends[i]))))
            pending = None
    return tuple(phones)


def token_ids(phonemized: Phonemized) -> tuple[list[int], list[int]]:
    """Token ids of the phoneme string and the character index each came from."""
    ids: list[int] = []
    positions: list[int] = []
    for index, ch in enumerate(phonemized.phonemes):
        token = VOCAB.get(ch)
        if token is not None:
            ids.append(token)
            positions.append(index)
    return ids, positions


def chunk_tokens(phonemized: Phonemized) -> tuple[list[int], list[int]]:
    """:func:`token_ids`, cut to the :data:`MAX_PHONEME_TOKENS` one inference takes."""
    ids, positions = token_ids(phonemized)
    if len(ids) > MAX_PHONEME_TOKENS:
        log.warning("Kokoro chunk of %d phoneme tokens truncated to %d", len(ids),
                    MAX_PHONEME_TOKENS)
        ids, positions = ids[:MAX_PHONEME_TOKENS], positions[:MAX_PHONEME_TOKENS]
    return ids, positions
