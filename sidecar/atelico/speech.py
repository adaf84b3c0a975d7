"""Speech out of the service: the typed events of one utterance and the utterance itself.

A speech stream is a sequence of :data:`SpeechEvent`: :class:`TtsPiece` (audio with word
times and, for ``speak``, face frames), at most one :class:`FaceBlock` (the face frames
that outlast the audio), then one :class:`SpeechDone`. Pieces are numbered here, once, from
0 across the whole utterance; the transports send those numbers as they are.
"""

from __future__ import annotations

import threading
from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import Callable, Iterator, Union

import numpy as np

from atelico.engines.base import (AudioToFace, FaceSpeechStream, SpeechChunk, TextToSpeech, VoiceInfo,
                                  VoiceLanguages, WordTiming)
from atelico.engines.tts.text import TextFeed
from atelico.errors import AudioError, RequestError

#: one word of a piece: ``{"word", "start_s", "end_s"}``, seconds from the utterance's start
Word = dict[str, "str | float"]


@dataclass
class TtsPiece:
    """One synthesized chunk, ready for any transport."""

    sequence: int  # 0, 1, … across the utterance
    text: str
    audio: np.ndarray  # float32 mono
    sample_rate_hz: int
    offset_samples: int
    words: list[Word]
    face: np.ndarray | None = None  # [frames, 52] for speak
    face_start_frame: int = 0

    @property
    def duration_s(self) -> float:
        return len(self.audio) / float(self.sample_rate_hz)


@dataclass(frozen=True)
class FaceBlock:
    """Face frames on no audio of their own: the trailing frames of a ``speak`` utterance, or
    a block of a face stream. ``offset_samples``: where the block starts in the audio."""

    start_frame: int
    weights: np.ndarray  # float32 [frames, 52]
    offset_samples: int


@dataclass(frozen=True)
class SpeechDone:
    """The end of an utterance: what spoke it and how much was said."""

    model: str
    voice: str
    chunks: int
    samples: int
    sample_rate_hz: int

    @property
    def duration_s(self) -> float:
        return self.samples / float(self.sample_rate_hz)


SpeechEvent = Union[TtsPiece, FaceBlock, SpeechDone]


@dataclass
class TtsResult:
    """A whole utterance (blocking synthesis)."""

    audio: np.ndarray
    sample_rate_hz: int
    words: list[Word]
    model: str
    voice: str
    pieces: list[TtsPiece] = field(default_factory=list)

    @property
    def duration_s(self) -> float:
        return len(self.audio) / float(self.sample_rate_hz)

    @classmethod
    def from_pieces(cls, pieces: list[TtsPiece], *, model: str, voice: str) -> "TtsResult":
        """Join streamed pieces into one utterance."""
        rate = pieces[0].sample_rate_hz if pieces else 24000
        audio = np.concatenate([p.audio for p in pieces]) if pieces else np.zeros(0, np.float32)
        return cls(audio=audio, sample_rate_hz=rate, words=[w for p in pieces for w in p.words],
                   model=model, voice=voice, pieces=pieces)

    @classmethod
    def from_events(cls, events: list[SpeechEvent]) -> "TtsResult":
        """Join a finished speech stream (its :class:`SpeechDone` names model and voice)."""
        done = events[-1] if events else None
        if not isinstance(done, SpeechDone):
            raise ValueError("the speech stream did not end")
        return cls.from_pieces([e for e in events if isinstance(e, TtsPiece)], model=done.model,
                               voice=done.voice)


class Utterance:
    """Speech for one utterance, text piece by text piece: each piece's chunks continue the
    previous ones (sample offsets, word times, one face stream, piece numbers), so a reply
    written by a language model plays as one utterance."""

    def __init__(self, engine: TextToSpeech, model_id: str, *, voice: str, speed: float,
                 language: str | None, face_track: FaceSpeechStream | None = None) -> None:
        self.engine = engine
        self.model_id = model_id
        self.voice = voice
        self.speed = speed
        self.language = language
        self.sample_rate_hz: int = engine.sample_rate_hz
        self.offset_samples = 0
        self.chunks = 0
        self._face = face_track
        self._feed = TextFeed()

    def write(self, text: str) -> list[str]:
        """Streamed input: add a piece of text; return the parts complete enough to speak."""
        return self._feed.write(text)

    def end_text(self) -> list[str]:
        """Streamed input is over: the rest of the text, to speak."""
        return self._feed.end()

    def pieces(self, text: str, cancel: threading.Event) -> Iterator[TtsPiece]:
        """Speak ``text``, continuing the utterance; stops (quietly) once ``cancel`` is set."""
        language = check_language(self.engine, self.model_id, text, self.voice, self.language)
        for chunk in self.engine.synthesize(text, voice=self.voice, speed=self.speed,
                                            language=language, cancel=cancel):
            if cancel.is_set():
                return
            piece = _piece(chunk, self.chunks, self.offset_samples)
            if self._face is not None:
                piece.face_start_frame, piece.face = self._face.push(chunk)
            self.offset_samples += len(chunk.audio)
            self.chunks += 1
            yield piece

    def face_tail(self) -> FaceBlock | None:
        """The trailing face frames (rounding up to a whole frame), if any."""
        if self._face is None:
            return None
        tail = self._face.finish()
        if tail is None or not len(tail[1]):
            return None
        return FaceBlock(start_frame=tail[0], weights=tail[1], offset_samples=self.offset_samples)

    def done(self) -> SpeechDone:
        return SpeechDone(model=self.model_id, voice=self.voice, chunks=self.chunks,
                          samples=self.offset_samples, sample_rate_hz=self.sample_rate_hz)


class Held:
    """An utterance that keeps its registry references (TTS, face) until ``close()``."""

    def __init__(self, obj: Utterance, refs: ExitStack) -> None:
        self.obj = obj
        self._refs = refs

    def close(self) -> None:
        self._refs.close()


def check_language(engine: TextToSpeech, model_id: str, text: str, voice: str,
                   language: str | None) -> str | None:
    """The language guard (one rule for every transport; see ``language_guard``)."""
    if not isinstance(engine, VoiceLanguages):  # an engine that cannot tell is not judged
        return language
    from atelico.engines.tts import language_guard

    voices: Callable[[], list[VoiceInfo]] = engine.voices
    return language_guard.check(text, voice=voice, voice_language=engine.voice_language(voice),
                                language=language, voices=voices, model=model_id)


def check_character(engine: AudioToFace, character: str | None) -> None:
    known = engine.characters()
    if character not in known:
        raise RequestError(f"unknown face character {character!r}; known: {', '.join(known)}",
                           code="face.unknown_character", details={"known": known, "field": "character"})


def check_audio(audio: np.ndarray, sample_rate_hz: int, max_audio_s: float) -> None:
    if audio.size == 0:
        raise AudioError("the audio holds no samples", code="audio.empty")
    if len(audio) / sample_rate_hz > max_audio_s:
        raise AudioError(f"audio is {len(audio) / sample_rate_hz:.1f} s; the limit is {max_audio_s:.0f} s",
                         code="audio.too_long", details={"max_audio_s": max_audio_s})


def _words(words: tuple[WordTiming, ...], offset_s: float) -> list[Word]:
    return [{"word": w.word, "start_s": round(w.start_s + offset_s, 3),
             "end_s": round(w.end_s + offset_s, 3)} for w in words]


def _piece(chunk: SpeechChunk, sequence: int, offset_samples: int) -> TtsPiece:
    offset_s = offset_samples / float(chunk.sample_rate_hz)
    return TtsPiece(sequence=sequence, text=chunk.text,
                    audio=np.asarray(chunk.audio, dtype=np.float32),
                    sample_rate_hz=chunk.sample_rate_hz, offset_samples=offset_samples,
                    words=_words(chunk.words, offset_s))
