"""Capabilities as Protocols, and the plain data the engines exchange.

Engines are synchronous: they take NumPy audio and return iterators. The server crosses
into asyncio once, in :mod:`atelico.service`.
"""

from __future__ import annotations

import inspect
import threading
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Protocol, Sequence, runtime_checkable

import numpy as np

# shared with the protocol and the server, which never import engines/
from atelico.protocol.constants import ARKIT_BLENDSHAPES as ARKIT_BLENDSHAPES
from atelico.protocol.constants import FACE_FPS as FACE_FPS
from atelico.protocol.constants import FACE_SAMPLE_RATE_HZ as FACE_SAMPLE_RATE_HZ
from atelico.protocol.constants import SPEECH_STARTED as SPEECH_STARTED
from atelico.protocol.constants import SPEECH_STOPPED as SPEECH_STOPPED
from atelico.protocol.constants import STT_SAMPLE_RATE_HZ as STT_SAMPLE_RATE_HZ


@dataclass(frozen=True)
class WordTiming:
    """One word with times in seconds, relative to the start of the audio it belongs to."""

    word: str
    start_s: float
    end_s: float
    probability: float | None = None


@dataclass(frozen=True)
class PhonemeTiming:
    """One phone/phoneme (IPA for Kokoro, ARPAbet for pocketsphinx) with times in seconds."""

    phoneme: str
    start_s: float
    end_s: float


@dataclass(frozen=True)
class VoiceInfo:
    """A voice an engine can speak with."""

    id: str
    language: str  # BCP-47, e.g. "en-US"
    gender: str | None = None  # "female" | "male" | None
    name: str | None = None
    custom: bool = False  # True for cloned voices found under the cache's voices/


@dataclass(frozen=True)
class SpeechChunk:
    """One streamed piece of synthesized speech (a sentence or clause).

    ``audio`` is mono float32 in [-1, 1] at ``sample_rate_hz``. Word and phoneme times are
    relative to the start of this chunk's audio.
    """

    sequence: int
    text: str
    audio: np.ndarray
    sample_rate_hz: int
    words: tuple[WordTiming, ...] = ()
    phonemes: tuple[PhonemeTiming, ...] = ()

    @property
    def duration_s(self) -> float:
        return len(self.audio) / float(self.sample_rate_hz)


@dataclass(frozen=True)
class Segment:
    """A transcribed segment; times in seconds from the start of the input audio."""

    id: int
    start_s: float
    end_s: float
    text: str
    words: tuple[WordTiming, ...] = ()
    avg_logprob: float | None = None
    no_speech_prob: float | None = None
    temperature: float | None = None


@dataclass(frozen=True)
class TranscriptionInfo:
    """What the STT engine knows before the segments are consumed."""

    language: str
    language_probability: float
    duration_s: float
    model_id: str  # the model that actually served the request, e.g. "whisper-base"


@dataclass(frozen=True)
class LiveResult:
    """A live-transcription result: a partial (may change) or a final (never changes)."""

    segment_id: int
    text: str
    start_s: float
    end_s: float
    is_final: bool
    words: tuple[WordTiming, ...] = ()


@dataclass(frozen=True)
class LiveEvent:
    """An endpoint of speech on a live stream (``speech_started`` / ``speech_stopped``).

    ``segment_id`` is the id the utterance's final will carry (no final follows when the
    speech turned out to be noise); ``start_s`` is the onset, ``end_s`` (stopped only) the
    end of the last speech, seconds since the stream started.
    """

    kind: str
    segment_id: int
    start_s: float
    end_s: float | None = None


@runtime_checkable
class TextToSpeech(Protocol):
    """Text in, streamed speech chunks out."""

    model_id: str
    sample_rate_hz: int

    def voices(self) -> list[VoiceInfo]: ...

    def synthesize(self, text: str, *, voice: str, speed: float = 1.0,
                   language: str | None = None,
                   cancel: threading.Event | None = None) -> Iterator[SpeechChunk]:
        """Yield chunks in order; the first is short (a clause) so audio can start early.

        Raises VoiceError, LanguageError, RequestError before yielding anything when the
        request is invalid. Stops early (without error) when ``cancel`` is set.
        """
        ...


@runtime_checkable
class SpeechToText(Protocol):
    """Audio in (mono float32 16 kHz), segments out."""

    model_id: str

    def transcribe(self, audio: np.ndarray, *, language: str | None = None,
                   task: str = "transcribe", prompt: str | None = None,
                   temperature: float = 0.0, word_timestamps: bool = False,
                   cancel: threading.Event | None = None
                   ) -> tuple[Iterator[Segment], TranscriptionInfo]: ...


class LiveTranscriber(Protocol):
    """Incremental transcription of a live audio stream (16 kHz mono float32 frames)."""

    def push(self, audio: np.ndarray) -> list[LiveResult]: ...

    def finish(self) -> list[LiveResult]: ...


@runtime_checkable
class AudioToFace(Protocol):
    """Audio in, [N, 52] ARKit weights in [0, 1] at 30 fps out (N = ceil(duration * 30))."""

    model_id: str

    def characters(self) -> list[str]: ...

    def run(self, audio: np.ndarray, *, sample_rate_hz: int = FACE_SAMPLE_RATE_HZ,
            character: str = "claire", text: str | None = None,
            phonemes: Sequence[PhonemeTiming] | None = None) -> np.ndarray: ...


@dataclass
class FaceFrames:
    """A block of face frames: ``weights`` is float32 [frame_count, 52]."""

    start_frame: int
    weights: np.ndarray
    fps: int = FACE_FPS
    names: tuple[str, ...] = field(default=ARKIT_BLENDSHAPES)


def accepted_kwargs(fn: Callable[..., Any], names: set[str]) -> frozenset[str]:
    """Which of the optional keyword arguments ``names`` the callable ``fn`` accepts (all of
    them when it takes ``**kwargs``; none when its signature cannot be read)."""
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return frozenset()
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        return frozenset(names)
    return frozenset(names & params.keys())
