"""Whole-clip transcription, window by window: the windows, the shifted segments, the result.

faster-whisper computes the features of everything it is given at once (about 1 MB per
second of audio), so a clip is cut into windows of at most :data:`WINDOW_S` at its quietest
moments and each window is transcribed on its own: memory stays flat however long the file.
"""

from __future__ import annotations

import dataclasses
import threading
from dataclasses import dataclass
from typing import Iterator, Protocol, Union

import numpy as np

from atelico.audio.resample import resample
from atelico.engines.base import STT_SAMPLE_RATE_HZ, Segment, SpeechToText, TranscriptionInfo
from atelico.errors import AudioError
from atelico.speech import check_audio

#: longest window transcribed at once; windows end at the quietest moment of their last third
WINDOW_S = 30.0
_CUT_FRAME_S = 0.05

#: what a transcription yields: each segment, then the ``TranscriptionInfo`` last
TranscriptStep = Union[Segment, TranscriptionInfo]
class AudioStreamSource(Protocol):
    """An upload decoded block by block (:class:`atelico.audio.decode.AudioStream`)."""

    rate: int

    def blocks(self) -> Iterator[np.ndarray]: ...


#: what a transcription's ``load_audio`` returns: samples and their rate, or a decoded stream
AudioSource = Union[tuple[np.ndarray, int], AudioStreamSource]
#: a transcript's JSON body (``text``, ``language``, ``duration``, ``model``, ``segments``)
TranscriptBody = dict[str, object]


@dataclass
class Transcript:
    """A finished transcription."""

    segments: list[Segment]
    info: TranscriptionInfo

    @property
    def text(self) -> str:
        return " ".join(s.text.strip() for s in self.segments if s.text.strip()).strip()

    @classmethod
    def from_steps(cls, steps: list[TranscriptStep]) -> "Transcript | None":
        """The transcript of finished steps; ``None`` when they stopped before the end."""
        if not steps or not isinstance(steps[-1], TranscriptionInfo):
            return None
        return cls([s for s in steps if isinstance(s, Segment)], steps[-1])

    def to_dict(self, *, words: bool = False) -> TranscriptBody:
        segs = []
        for s in self.segments:
            seg: dict[str, object] = {"id": s.id, "start": round(s.start_s, 3), "end": round(s.end_s, 3),
                                      "text": s.text.strip()}
            if words:
                seg["words"] = [{"word": w.word.strip(), "start": round(w.start_s, 3),
                                 "end": round(w.end_s, 3), "probability": w.probability}
                                for w in s.words]
            segs.append(seg)
        return {"text": self.text, "language": self.info.language,
                "duration": round(self.info.duration_s, 3), "model": self.info.model_id,
                "segments": segs}


@dataclass(frozen=True)
class Decoding:
    """The decoding options of one transcription."""

    language: str | None = None
    task: str = "transcribe"
    prompt: str | None = None
    temperature: float = 0.0
    words: bool = False


def stt_blocks(source: AudioSource, max_audio_s: float) -> Iterator[np.ndarray]:
    """16 kHz blocks of a clip (checked and resampled) or of a stream (decoded lazily)."""
    if isinstance(source, tuple):
        audio, sample_rate_hz = source
        check_audio(audio, sample_rate_hz, max_audio_s)
        audio16 = resample(audio, sample_rate_hz, STT_SAMPLE_RATE_HZ)
        return (audio16[i:i + STT_SAMPLE_RATE_HZ] for i in range(0, len(audio16), STT_SAMPLE_RATE_HZ))
    # an AudioStream: probed (and refused early) by load_audio, decoded lazily here
    if source.rate != STT_SAMPLE_RATE_HZ:
        raise ValueError("transcription needs an AudioStream opened at 16 kHz")
    return source.blocks()


def transcribe_windows(engine: SpeechToText, blocks: Iterator[np.ndarray], rate: int,
                       options: Decoding, cancel: threading.Event) -> Iterator[TranscriptStep]:
    """Transcribe ``blocks`` (mono float32 at ``rate``) window by window: each segment in the
    whole clip's time line and numbering, then the ``TranscriptionInfo``; nothing more once
    ``cancel`` is set. The language detected in the first window is kept for the others."""
    language = options.language
    info: TranscriptionInfo | None = None
    index = 0
    total = 0
    for offset, window in speech_windows(blocks, rate):
        if cancel.is_set():
            return
        total = offset + len(window)
        segments, w_info = engine.transcribe(
            window, language=language, task=options.task,
            prompt=options.prompt if offset == 0 else None, temperature=options.temperature,
            word_timestamps=options.words, cancel=cancel,
            batched=True)  # VAD + batched decoding (faster than window by window)
        if info is None or (info.language_probability == 0 and w_info.language_probability > 0):
            info = w_info
            if language is None and w_info.language_probability > 0:
                language = w_info.language  # detected once, kept for the next windows
        for seg in segments:
            yield shifted(seg, offset / rate, index)
            index += 1
    if info is None:
        raise AudioError("the audio holds no samples", code="audio.empty")
    yield dataclasses.replace(info, duration_s=total / rate)


def speech_windows(blocks: Iterator[np.ndarray], rate: int, window_s: float = WINDOW_S
                   ) -> Iterator[tuple[int, np.ndarray]]:
    """Cut a stream of blocks into ``(offset_samples, window)`` pieces of at most ``window_s``.

    A window that would run longer ends at the quietest 50 ms of its last third (a pause
    between words or sentences), so no word is cut in two when there is any pause; only
    the current window and the blocks after it are held.
    """
    limit = int(window_s * rate)
    pending: list[np.ndarray] = []
    held = 0
    offset = 0
    for block in blocks:
        pending.append(np.asarray(block, np.float32))
        held += len(block)
        while held > limit:
            buf = np.concatenate(pending)
            cut = _quietest_cut(buf[:limit], rate)
            yield offset, buf[:cut]
            offset += cut
            pending, held = [buf[cut:]], len(buf) - cut
    if held:
        yield offset, np.concatenate(pending)


def _quietest_cut(window: np.ndarray, rate: int) -> int:
    frame = max(1, int(_CUT_FRAME_S * rate))
    first = (2 * len(window) // 3) // frame
    n = len(window) // frame
    if n - first < 1:
        return len(window)
    energy = np.square(window[first * frame:n * frame].reshape(-1, frame)).mean(axis=1)
    return int((first + int(np.argmin(energy))) * frame + frame // 2)


def shifted(seg: Segment, offset_s: float, index: int) -> Segment:
    """A window's segment in the whole file's time line, numbered in the whole transcript."""
    if not offset_s:
        return dataclasses.replace(seg, id=index)
    moved = dataclasses.replace(
        seg, id=index, start_s=seg.start_s + offset_s, end_s=seg.end_s + offset_s,
        words=tuple(dataclasses.replace(w, start_s=w.start_s + offset_s, end_s=w.end_s + offset_s)
                    for w in seg.words))
    seek = getattr(seg, "seek", None)  # faster-whisper's own segments carry their seek
    if seek is not None:
        moved = dataclasses.replace(moved, seek=seek + int(round(offset_s * 100)))  # type: ignore[call-arg]
    return moved
