"""Whisper segments: faster-whisper's turned into ours, hallucinations dropped, short windows."""

from __future__ import annotations

import dataclasses
import logging
import re
import threading
from dataclasses import dataclass
from typing import Any, Iterable, Iterator

from atelico.engines.base import Segment, WordTiming

log = logging.getLogger(__name__)

# Hallucination guards (see the WhisperEngine docstring).
NO_SPEECH_THRESHOLD = 0.6
LOG_PROB_THRESHOLD = -1.0
GUARD_NO_SPEECH_PROB = 0.6  # a segment this likely to be non-speech ...
GUARD_AVG_LOGPROB = -0.5  # ... and this unsure of its words is dropped
COMPRESSION_RATIO_THRESHOLD = 2.4
MAX_REPEATS = 4  # an n-gram repeated more often than this in a row is a decoding loop


@dataclass(frozen=True)
class WhisperSegment(Segment):
    """A :class:`Segment` plus the decoder details OpenAI's ``verbose_json`` reports."""

    seek: int = 0
    tokens: tuple[int, ...] = ()
    compression_ratio: float | None = None


#: a batched chunk is cut after a word ending a sentence, or where the words pause this long
SPLIT_PAUSE_S = 0.6


def split_at_sentences(seg: WhisperSegment) -> list[WhisperSegment]:
    """One batched chunk's segment as sentence-sized segments, from its word times."""
    pieces: list[list[WordTiming]] = [[]]
    for word in seg.words:
        last = pieces[-1][-1] if pieces[-1] else None
        if last is not None and (last.word.endswith((".", "?", "!"))
                                 or word.start_s - last.end_s >= SPLIT_PAUSE_S):
            pieces.append([])
        pieces[-1].append(word)
    if len(pieces) <= 1:
        return [seg]
    return [dataclasses.replace(seg, start_s=words[0].start_s, end_s=words[-1].end_s,
                                text=" ".join(w.word for w in words), words=tuple(words),
                                tokens=())
            for words in pieces]


_WORD_RE = re.compile(r"\S+")
_NON_WORD_RE = re.compile(r"[^\w']")


def unrepeated(tokens: list[str], min_words: int = 3) -> list[int]:
    """Indices of ``tokens`` (words as Whisper writes them) to keep once every sentence of at
    least ``min_words`` words that comes again right after itself is kept once.

    A short live utterance decoded with digital-silence padding can come out as "Go forward
    10 meters. Go forward 10 meters." (whisper-tiny.en, seen on a 2-core AMD EPYC); a person
    rarely says the same whole sentence twice in a row, a decoder loop often does.
    """
    sentences: list[list[int]] = [[]]
    for i, token in enumerate(tokens):
        sentences[-1].append(i)
        if token.endswith((".", "?", "!")):
            sentences.append([])

    def key(indices: list[int]) -> tuple[str, ...]:
        return tuple(_NON_WORD_RE.sub("", tokens[i]).lower() for i in indices)

    keep: list[int] = []
    previous: tuple[str, ...] = ()
    for indices in sentences:
        current = key(indices)
        if not (len(current) >= min_words and current == previous):
            keep += indices
        previous = current
    return keep


def collapse_repeats(text: str, max_repeats: int = MAX_REPEATS) -> str:
    """Cut a phrase of 1–8 words repeated more than ``max_repeats`` times in a row to one copy.

    Whisper sometimes loops ("the the the the the ..."); legitimate speech rarely repeats a
    phrase five times in a row.
    """
    words = _WORD_RE.findall(text)
    if len(words) <= max_repeats:
        return text
    changed = False
    for n in range(1, 9):
        i = 0
        out: list[str] = []
        while i < len(words):
            phrase = words[i:i + n]
            count = 1
            while words[i + count * n:i + (count + 1) * n] == phrase and len(phrase) == n:
                count += 1
            if count > max_repeats:
                out.extend(phrase)
                i += count * n
                changed = True
            else:
                out.append(words[i])
                i += 1
        words = out
    return " ".join(words) if changed else text


def is_hallucination(no_speech_prob: float, avg_logprob: float, compression_ratio: float) -> bool:
    """The segment guard: likely silence decoded with low confidence, or a looping text."""
    if no_speech_prob >= GUARD_NO_SPEECH_PROB and avg_logprob < GUARD_AVG_LOGPROB:
        return True
    return compression_ratio > COMPRESSION_RATIO_THRESHOLD


class _EncoderWindow(threading.local):
    """Per thread: how many feature frames past the audio the next encoder call pads to
    (``None``: the full 30 s window). faster-whisper pads every window with its module's
    ``pad_or_trim``; :func:`_install_short_windows` wraps it to read this."""

    pad_frames: int | None = None


_ENCODER_WINDOW = _EncoderWindow()
_SHORT_WINDOWS = threading.Lock()


def _install_short_windows() -> bool:
    """Wrap faster-whisper's window padding once; False where its layout is unknown."""
    import faster_whisper.transcribe as fwt

    with _SHORT_WINDOWS:
        original = getattr(fwt, "pad_or_trim", None)
        if original is None:
            return False
        if getattr(original, "_atelico", False):
            return True

        def pad_or_trim(array: Any, length: int = 3000, *, axis: int = -1) -> Any:
            pad = _ENCODER_WINDOW.pad_frames
            if pad is not None:
                length = min(length, array.shape[axis] + pad)
            return original(array, length, axis=axis)

        pad_or_trim._atelico = True  # type: ignore[attr-defined]
        fwt.pad_or_trim = pad_or_trim
        return True


_END = object()


def _next_window(iterator: Iterator[Any], pad_frames: int | None) -> Any:
    """The next faster-whisper segment, its window encoded with ``pad_frames`` of padding;
    ``_END`` when there are no more."""
    _ENCODER_WINDOW.pad_frames = pad_frames
    try:
        return next(iterator, _END)
    finally:
        _ENCODER_WINDOW.pad_frames = None


def _segment(seg: Any, index: int, text: str) -> WhisperSegment:
    """One kept faster-whisper segment as ours, its word list without a repeated sentence."""
    words = tuple(WordTiming(word=w.word.strip(), start_s=float(w.start), end_s=float(w.end),
                             probability=float(w.probability))
                  for w in (seg.words or ()) if w.word.strip())
    words = tuple(words[i] for i in unrepeated([w.word for w in words]))
    return WhisperSegment(
        id=index, start_s=float(seg.start), end_s=float(seg.end),
        text=text, words=words, avg_logprob=float(seg.avg_logprob),
        no_speech_prob=float(seg.no_speech_prob),
        temperature=float(seg.temperature) if seg.temperature is not None else None,
        seek=int(seg.seek), tokens=tuple(int(t) for t in seg.tokens),
        compression_ratio=float(seg.compression_ratio))


def _guarded(segments: Iterable[Any], cancel: threading.Event | None,
             pad_frames: int | None = None) -> Iterator[WhisperSegment]:
    """Convert faster-whisper segments, drop hallucinations, renumber, honour ``cancel``;
    with ``pad_frames``, each window is encoded with only that much padding."""
    index = 0
    previous: list[str] = []
    iterator = iter(segments)
    if pad_frames is not None and not _install_short_windows():
        pad_frames = None
    while cancel is None or not cancel.is_set():
        seg = _next_window(iterator, pad_frames)
        if seg is _END:
            return
        tokens = collapse_repeats(seg.text.strip()).split()
        text = " ".join(tokens[i] for i in unrepeated(tokens))
        if not text or is_hallucination(seg.no_speech_prob, seg.avg_logprob,
                                        seg.compression_ratio):
            log.debug("dropped segment %r (no_speech=%.2f logprob=%.2f ratio=%.2f)", text,
                      seg.no_speech_prob, seg.avg_logprob, seg.compression_ratio)
            continue
        if previous[-2:] == [text, text]:  # the same segment a third time: a decoding loop
            continue
        previous.append(text)
        yield _segment(seg, index, text)
        index += 1
