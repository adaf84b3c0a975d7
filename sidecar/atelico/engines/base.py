"""Engine contracts as Protocols, and the plain data the engines exchange.

Every engine of a kind satisfies its kind's protocol (:class:`TextToSpeech`,
:class:`SpeechToText`, :class:`AudioToFace`); what only some engines can do is a small
capability protocol of its own (:class:`VoiceCloning`, :class:`TtsFaceAlignment`, ...), checked
with ``isinstance``. :data:`TTS`, :data:`STT` and :data:`FACE` are the typed keys
``ModelRegistry.acquire`` takes. Engines are synchronous: they take NumPy audio and return
iterators. The server crosses into asyncio once, in :mod:`atelico.service`.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import (TYPE_CHECKING, Callable, Generic, Iterator, Literal, Protocol, Sequence,
                    TypeVar, runtime_checkable)

import numpy as np

# shared with the protocol and the server, which never import engines/
from atelico.protocol.constants import ARKIT_BLENDSHAPES as ARKIT_BLENDSHAPES
from atelico.protocol.constants import FACE_FPS as FACE_FPS
from atelico.protocol.constants import FACE_SAMPLE_RATE_HZ as FACE_SAMPLE_RATE_HZ
from atelico.protocol.constants import SPEECH_STARTED as SPEECH_STARTED
from atelico.protocol.constants import SPEECH_STOPPED as SPEECH_STOPPED
from atelico.protocol.constants import STT_SAMPLE_RATE_HZ as STT_SAMPLE_RATE_HZ

if TYPE_CHECKING:
    from atelico.config import Settings


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


@dataclass(frozen=True)
class LiveWarning:
    """Compute fell behind real time and audio is dropped to catch up (``stt.behind``): one
    warning when dropping starts (``dropped_s`` 0, ``end_s == start_s``), one when it ends."""

    code: str
    message: str
    dropped_s: float
    start_s: float  # stream time where dropping began
    end_s: float  # stream time where it ended


@dataclass
class FaceFrames:
    """A block of face frames: ``weights`` is float32 [frame_count, 52]."""

    start_frame: int
    weights: np.ndarray
    fps: int = FACE_FPS
    names: tuple[str, ...] = field(default=ARKIT_BLENDSHAPES)


@dataclass(frozen=True)
class CloneOptions:
    """How to clone a voice: the clip's first ``max_seconds`` are used; ``generations``,
    ``population`` and ``elite`` size an evolutionary search (engines without one ignore them)."""

    max_seconds: float = 30.0
    overwrite: bool = False
    generations: int = 10
    population: int = 8
    elite: int = 2


@dataclass(frozen=True)
class CloneProgress:
    """Reported after each step of a clone; ``best_distance`` falls as the clone gets closer."""

    generation: int  # 1-based
    generations: int
    best_distance: float
    initial_distance: float


@dataclass(frozen=True)
class ClonedVoice:
    """A voice made by cloning: its id, the file it lives in and (evolutionary search only)
    how close it got to the reference (0 = identical speaker features)."""

    voice_id: str
    path: Path
    best_distance: float | None = None
    initial_distance: float | None = None


# ---------------------------------------------------------------------------- text to speech

@runtime_checkable
class TextToSpeech(Protocol):
    """Text in, streamed speech chunks out."""

    @property
    def model_id(self) -> str: ...

    @property
    def sample_rate_hz(self) -> int: ...

    @property
    def default_voice(self) -> str:
        """The voice a request that names none is spoken with."""
        ...

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
class VoiceLanguages(Protocol):
    """A TTS engine that knows which language each of its voices speaks."""

    def voice_language(self, voice: str) -> str:
        """The voice's BCP-47 language (raises VoiceError for an unknown voice)."""
        ...


@runtime_checkable
class VoiceRescan(Protocol):
    """A TTS engine whose voice list can change while it is loaded (cloned voices)."""

    def rescan_voices(self) -> list[str]:
        """Pick up voices added on disk; returns the custom voice ids."""
        ...


@runtime_checkable
class VoiceCloning(Protocol):
    """A TTS engine that makes a new voice from a reference clip."""

    def clone_voice(self, reference: np.ndarray, sample_rate_hz: int, voice_id: str, *,
                    options: CloneOptions = CloneOptions(),
                    progress: Callable[[CloneProgress], None] | None = None,
                    cancel: threading.Event | None = None) -> ClonedVoice:
        """Clone ``reference`` (mono float) into voice ``voice_id``, listed at once.

        Raises RequestError/VoiceError (bad or taken name), AudioError (no usable speech),
        Cancelled (``cancel`` was set), ModelNotInstalled (weights that cannot clone).
        """
        ...


# ---------------------------------------------------------------------------- speech to text

@runtime_checkable
class SpeechToText(Protocol):
    """Audio in (mono float32 16 kHz), segments out.

    The decoding knobs after ``cancel`` tune speed against accuracy; an engine that has no
    such knob accepts and ignores it.
    """

    @property
    def model_id(self) -> str: ...

    def transcribe(self, audio: np.ndarray, *, language: str | None = None,
                   task: str = "transcribe", prompt: str | None = None,
                   temperature: float = 0.0, word_timestamps: bool = False,
                   cancel: threading.Event | None = None, vad_filter: bool = True,
                   beam_size: int = 5, temperature_fallback: bool = True,
                   encoder_pad_s: float | None = None, batched: bool = False
                   ) -> tuple[Iterator[Segment], TranscriptionInfo]: ...


@runtime_checkable
class RequestChecks(Protocol):
    """An STT engine that validates a request's language and task before any audio."""

    def check_request(self, language: str | None, task: str) -> str | None:
        """The normalised language code (raises LanguageError / RequestError)."""
        ...


class LiveTranscriber(Protocol):
    """Incremental transcription of a live audio stream (16 kHz mono float32 frames)."""

    def push(self, audio: np.ndarray) -> list[LiveResult | LiveEvent]: ...

    def finish(self) -> list[LiveResult | LiveEvent]: ...

    def pop_warnings(self) -> list[LiveWarning]:
        """Return and clear the warnings gathered since the last call."""
        ...


# ---------------------------------------------------------------------------- audio to face

@runtime_checkable
class AudioToFace(Protocol):
    """Audio in, [N, 52] ARKit weights in [0, 1] at 30 fps out (N = ceil(duration * 30))."""

    @property
    def model_id(self) -> str: ...

    def characters(self) -> list[str]: ...

    def run(self, audio: np.ndarray, *, sample_rate_hz: int = FACE_SAMPLE_RATE_HZ,
            character: str = "claire", text: str | None = None,
            phonemes: Sequence[PhonemeTiming] | None = None) -> np.ndarray: ...


class FaceAudioStream(Protocol):
    """Face frames for audio arriving in pieces."""

    def push(self, audio: np.ndarray) -> FaceFrames | None:
        """Add audio; the frames it completed, if any."""
        ...

    def finish(self) -> FaceFrames | None:
        """The remaining frames up to ``ceil(duration * fps)``."""
        ...


class FaceSpeechStream(Protocol):
    """Face frames for the chunks of one synthesized utterance (their phonemes drive the mouth)."""

    def push(self, chunk: SpeechChunk) -> tuple[int, np.ndarray]:
        """``(start_frame, weights)`` for the chunk; chunks are laid end to end."""
        ...

    def finish(self) -> tuple[int, np.ndarray] | None: ...


@runtime_checkable
class FaceStreaming(Protocol):
    """A face engine that animates live audio as it arrives."""

    def stream(self, *, character: str, sample_rate_hz: int) -> FaceAudioStream: ...


@runtime_checkable
class TtsFaceAlignment(Protocol):
    """A face engine that animates TTS chunks from their phoneme timings."""

    def tts_face(self, *, character: str, sample_rate_hz: int) -> FaceSpeechStream: ...


# ---------------------------------------------------------------------------- all engines

@runtime_checkable
class Closeable(Protocol):
    """An engine holding resources beyond memory; the registry calls ``close`` on unload."""

    def close(self) -> None: ...


Engine = TextToSpeech | SpeechToText | AudioToFace
E = TypeVar("E", TextToSpeech, SpeechToText, AudioToFace)


class EngineKind(Generic[E]):
    """A model kind of the catalog as a typed key: ``registry.acquire(id, TTS)`` yields a
    :class:`TextToSpeech`."""

    __slots__ = ("name",)

    def __init__(self, name: Literal["tts", "stt", "face"]) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"EngineKind({self.name!r})"


TTS: EngineKind[TextToSpeech] = EngineKind("tts")
STT: EngineKind[SpeechToText] = EngineKind("stt")
FACE: EngineKind[AudioToFace] = EngineKind("face")

P = TypeVar("P")


@dataclass(frozen=True)
class Part(Generic[P]):
    """A sub-model engines share that is no catalog model (e.g. Silero VAD's ONNX session):
    ``registry.part(SILERO_VAD)`` loads it once with ``load(settings)`` and keeps it until
    the registry closes."""

    id: str
    load: Callable[["Settings"], P]
