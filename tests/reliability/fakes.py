"""Fake engines for fault injection: fast, deterministic, slow or crashing on demand."""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import numpy as np

from atelico.config import Settings
from atelico.engines.base import (FACE_FPS, STT_SAMPLE_RATE_HZ, FaceFrames, Segment, SpeechChunk,
                                  TranscriptionInfo, VoiceInfo, WordTiming)
from atelico.errors import VoiceError
from atelico.models.catalog import ModelSpec

TTS_RATE_HZ = 24_000
VOICES = ("alpha", "beta")
#: text that makes the fake TTS crash after its first chunk
CRASH_WORD = "CRASHNOW"


@dataclass
class Knobs:
    """What the fakes do; tests set these (and ``reset()`` them) to inject faults."""

    tts_chunk_s: float = 0.0  # compute time per TTS chunk
    stt_s: float = 0.0  # compute time of a whole transcription
    stt_window_s: float = 0.0  # if > 0: compute time per window, one segment per window
    stt_window_len_s: float = 30.0  # audio per window
    face_s: float = 0.0
    load_s: float = 0.0
    #: if set, transcriptions wait for it (30 s at most) instead of ``stt_s``; windowed ones
    #: before their second window
    stt_hold: threading.Event | None = None


@dataclass
class Stats:
    """What the fakes saw: started/finished/closed streams, cancellations, loads."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    streams_started: int = 0
    streams_closed: int = 0  # generator finally ran (completed, cancelled or closed)
    cancels_seen: int = 0
    chunks: int = 0
    loads: list[str] = field(default_factory=list)
    transcriptions: int = 0  # started
    transcriptions_done: int = 0  # returned (all windows produced, for windowed ones)
    #: what the engines did, in order: ("start", clip_s), ("window", clip_s, index), ("done", clip_s)
    log: list[tuple[Any, ...]] = field(default_factory=list)

    def add(self, name: str, n: int = 1) -> None:
        with self.lock:
            setattr(self, name, getattr(self, name) + n)

    def note(self, *entry: Any) -> None:
        with self.lock:
            self.log.append(entry)


KNOBS = Knobs()
STATS = Stats()


def reset() -> None:
    """Back to instant engines and zeroed counters."""
    global KNOBS, STATS
    KNOBS.__dict__.update(Knobs().__dict__)
    fresh = Stats()
    for name in ("streams_started", "streams_closed", "cancels_seen", "chunks", "transcriptions",
                 "transcriptions_done"):
        setattr(STATS, name, getattr(fresh, name))
    STATS.loads.clear()
    STATS.log.clear()


def _sleep(seconds: float, cancel: threading.Event | None) -> bool:
    """Sleep like compute would; True if cancelled meanwhile."""
    if seconds <= 0:
        return bool(cancel and cancel.is_set())
    if cancel is None:
        time.sleep(seconds)
        return False
    return cancel.wait(seconds)


class FakeTts:
    """A TextToSpeech: one chunk per word, 0.05 s of a 220 Hz tone per word."""

    sample_rate_hz = TTS_RATE_HZ
    default_voice = "alpha"

    def __init__(self, model_id: str) -> None:
        self.model_id = model_id

    def voices(self) -> list[VoiceInfo]:
        return [VoiceInfo(v, "en-US", "female", v.title()) for v in VOICES]

    def synthesize(self, text: str, *, voice: str, speed: float = 1.0,
                   language: str | None = None,
                   cancel: threading.Event | None = None) -> Iterator[SpeechChunk]:
        if voice not in VOICES:
            code = "voice.invalid" if ("/" in voice or "\\" in voice or ".." in voice) else "voice.unknown"
            raise VoiceError(f"unknown voice {voice!r}", code=code, details={"known": list(VOICES)})
        return self._chunks(text.split(), speed, cancel)

    def _chunks(self, words: list[str], speed: float, cancel: threading.Event | None
                ) -> Iterator[SpeechChunk]:
        STATS.add("streams_started")
        try:
            n = max(1, int(0.05 * TTS_RATE_HZ / speed))
            tone = (0.2 * np.sin(2 * math.pi * 220 * np.arange(n) / TTS_RATE_HZ)).astype(np.float32)
            for i, word in enumerate(words):
                if _sleep(KNOBS.tts_chunk_s, cancel):
                    STATS.add("cancels_seen")
                    return
                if word == CRASH_WORD and i > 0:
                    raise RuntimeError("fake engine crashed mid-stream")
                STATS.add("chunks")
                yield SpeechChunk(sequence=i, text=word, audio=tone.copy(), sample_rate_hz=TTS_RATE_HZ,
                                  words=(WordTiming(word, 0.0, n / TTS_RATE_HZ),))
        finally:
            STATS.add("streams_closed")


class FakeStt:
    """A SpeechToText that 'hears' the clip's duration and RMS; takes ``KNOBS.stt_s``."""

    def __init__(self, model_id: str) -> None:
        self.model_id = model_id

    def transcribe(self, audio: np.ndarray, *, language: str | None = None,
                   task: str = "transcribe", prompt: str | None = None,
                   temperature: float = 0.0, word_timestamps: bool = False,
                   cancel: threading.Event | None = None, vad_filter: bool = True,
                   beam_size: int = 5, temperature_fallback: bool = True,
                   encoder_pad_s: float | None = None, batched: bool = False
                   ) -> tuple[Iterator[Segment], TranscriptionInfo]:
        STATS.add("transcriptions")
        duration_s = len(audio) / STT_SAMPLE_RATE_HZ
        STATS.note("start", duration_s)
        if KNOBS.stt_hold is not None and KNOBS.stt_window_s <= 0:
            KNOBS.stt_hold.wait(30)
        else:
            _sleep(KNOBS.stt_s, cancel)
        if KNOBS.stt_window_s > 0:  # lazily, window by window, like faster-whisper
            info = TranscriptionInfo(language or "en", 1.0, duration_s, self.model_id)
            return _windows(duration_s, cancel), info
        rms = float(np.sqrt(np.mean(np.square(audio)))) if len(audio) else 0.0
        seg = Segment(0, 0.0, duration_s, f"clip of {duration_s:.2f} seconds rms {rms:.3f}")
        info = TranscriptionInfo(language or "en", 1.0, duration_s, self.model_id)
        STATS.add("transcriptions_done")
        STATS.note("done", duration_s)
        return iter([seg]), info


def _windows(duration_s: float, cancel: threading.Event | None) -> Iterator[Segment]:
    start = 0.0
    index = 0
    while start < duration_s:
        if index == 1 and KNOBS.stt_hold is not None:
            KNOBS.stt_hold.wait(30)
        _sleep(KNOBS.stt_window_s, cancel)
        end = min(duration_s, start + KNOBS.stt_window_len_s)
        STATS.note("window", duration_s, index)
        yield Segment(index, start, end, f"window {index}")
        start, index = end, index + 1
    STATS.add("transcriptions_done")
    STATS.note("done", duration_s)


class FakeFace:
    """An AudioToFace returning a ramp of ceil(duration*30) frames."""

    def __init__(self, model_id: str) -> None:
        self.model_id = model_id

    def characters(self) -> list[str]:
        return ["claire"]

    def run(self, audio: np.ndarray, *, sample_rate_hz: int = 16_000, character: str = "claire",
            text: str | None = None, phonemes: Any = None) -> np.ndarray:
        time.sleep(KNOBS.face_s)
        frames = math.ceil(len(audio) / sample_rate_hz * FACE_FPS)
        return np.tile(np.linspace(0, 1, 52, dtype=np.float32), (frames, 1))

    def stream(self, *, character: str, sample_rate_hz: int) -> "FakeFaceStream":
        return FakeFaceStream(self, sample_rate_hz)

    def tts_face(self, character: str | None = None, sample_rate_hz: int = 24_000) -> "FakeTtsFace":
        """Face frames for TTS chunks, as the real engine's track gives them (``speak``)."""
        return FakeTtsFace(FakeFaceStream(self, sample_rate_hz))


class FakeTtsFace:
    """The real track's shape: ``(start_frame, weights)`` per chunk, laid end to end, and the
    frames of the audio's last fraction of a frame at ``finish``."""

    def __init__(self, stream: "FakeFaceStream") -> None:
        self.stream = stream

    def push(self, chunk: SpeechChunk) -> tuple[int, np.ndarray]:
        block = self.stream.push(chunk.audio)
        if block is None:
            return self.stream.frames, np.zeros((0, 52), np.float32)
        return block.start_frame, block.weights

    def finish(self) -> tuple[int, np.ndarray] | None:
        block = self.stream.finish()
        return None if block is None else (block.start_frame, block.weights)


class FakeFaceStream:
    """Streaming face: one frame per whole 1/30 s of audio pushed."""

    def __init__(self, face: FakeFace, sample_rate_hz: int) -> None:
        self.face, self.rate, self.samples, self.frames = face, sample_rate_hz, 0, 0

    def push(self, audio: np.ndarray) -> FaceFrames | None:
        self.samples += len(audio)
        return self._emit(self.samples * FACE_FPS // self.rate)

    def finish(self) -> FaceFrames | None:
        return self._emit(math.ceil(self.samples * FACE_FPS / self.rate))

    def _emit(self, total: int) -> FaceFrames | None:
        if total <= self.frames:
            return None
        block = FaceFrames(self.frames, np.full((total - self.frames, 52), 0.5, np.float32))
        self.frames = total
        return block


def load_tts(spec: ModelSpec, assets: dict[str, Path], settings: Settings) -> FakeTts:
    STATS.loads.append(spec.id)
    time.sleep(KNOBS.load_s)
    return FakeTts(spec.id)


def load_stt(spec: ModelSpec, assets: dict[str, Path], settings: Settings) -> FakeStt:
    STATS.loads.append(spec.id)
    return FakeStt(spec.id)


def load_face(spec: ModelSpec, assets: dict[str, Path], settings: Settings) -> FakeFace:
    STATS.loads.append(spec.id)
    return FakeFace(spec.id)


def load_broken(spec: ModelSpec, assets: dict[str, Path], settings: Settings) -> Any:
    """A loader whose weights are 'corrupt': every load fails."""
    STATS.loads.append(spec.id)
    raise RuntimeError("fake weights are corrupt")


def catalog(*extra: ModelSpec) -> list[ModelSpec]:
    """The fake catalog: fake-tts, fake-stt, fake-face, broken-tts (+ ``extra``)."""
    mod = __name__
    return [ModelSpec(id="fake-tts", kind="tts", loader=f"{mod}:load_tts"),
            ModelSpec(id="fake-stt", kind="stt", loader=f"{mod}:load_stt"),
            ModelSpec(id="fake-face", kind="face", loader=f"{mod}:load_face"),
            ModelSpec(id="broken-tts", kind="tts", loader=f"{mod}:load_broken"), *extra]


DEFAULTS = {"tts": ["fake-tts"], "whisper": ["fake-stt"], "face": ["fake-face"]}
