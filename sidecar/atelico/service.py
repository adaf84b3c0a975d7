"""Turns requests into engine calls; shared by HTTP, WebSocket and the in-process Engine.

Responsibilities:
- resolve model ids through the registry and check that each model is of the right kind;
- run the synchronous engines in a bounded worker pool, crossing into asyncio once
  (:meth:`Service.stream`), with admission control (``limits.busy``) and cancellation;
- assemble results: PCM chunks with utterance-relative word times, face frames for ``speak``,
  transcription bodies.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any, AsyncIterator, Callable, Iterator, TypeVar

import numpy as np

from atelico.audio.pcm import resample
from atelico.config import Settings
from atelico.engines.base import (FACE_SAMPLE_RATE_HZ, STT_SAMPLE_RATE_HZ, Segment, SpeechChunk,
                                  TranscriptionInfo, WordTiming)
from atelico.errors import AtelicoError, Cancelled, EngineError, LimitError, RequestError
from atelico.models.registry import ModelRegistry

log = logging.getLogger(__name__)
T = TypeVar("T")

_END = object()


@dataclass
class TtsPiece:
    """One synthesized chunk, ready for any transport."""

    sequence: int
    text: str
    audio: np.ndarray  # float32 mono
    sample_rate_hz: int
    offset_samples: int
    words: list[dict[str, Any]]
    face: np.ndarray | None = None  # [frames, 52] for speak
    face_start_frame: int = 0

    @property
    def duration_s(self) -> float:
        return len(self.audio) / float(self.sample_rate_hz)


@dataclass
class TtsResult:
    """A whole utterance (blocking synthesis)."""

    audio: np.ndarray
    sample_rate_hz: int
    words: list[dict[str, Any]]
    model: str
    voice: str
    pieces: list[TtsPiece] = field(default_factory=list)

    @property
    def duration_s(self) -> float:
        return len(self.audio) / float(self.sample_rate_hz)


@dataclass
class Transcript:
    """A finished transcription."""

    segments: list[Segment]
    info: TranscriptionInfo

    @property
    def text(self) -> str:
        return " ".join(s.text.strip() for s in self.segments if s.text.strip()).strip()

    def to_dict(self, *, words: bool = False) -> dict[str, Any]:
        segs = []
        for s in self.segments:
            seg: dict[str, Any] = {"id": s.id, "start": round(s.start_s, 3), "end": round(s.end_s, 3),
                                   "text": s.text.strip()}
            if words:
                seg["words"] = [{"word": w.word.strip(), "start": round(w.start_s, 3),
                                 "end": round(w.end_s, 3), "probability": w.probability}
                                for w in s.words]
            segs.append(seg)
        return {"text": self.text, "language": self.info.language,
                "duration": round(self.info.duration_s, 3), "model": self.info.model_id,
                "segments": segs}


class Service:
    """The sidecar's request layer. One per process; owns the worker pool."""

    def __init__(self, settings: Settings, registry: ModelRegistry) -> None:
        self.settings = settings
        self.registry = registry
        self._pool = concurrent.futures.ThreadPoolExecutor(
            max_workers=settings.models.workers, thread_name_prefix="atelico-worker")
        self._admitted = 0
        self._lock = threading.Lock()
        self.recent_errors: deque[dict[str, Any]] = deque(maxlen=20)
        self.started_at = time.time()
        self.requests_total = 0

    # ------------------------------------------------------------------ lifecycle
    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)

    @property
    def queue_depth(self) -> int:
        return self._admitted

    def record_error(self, exc: AtelicoError, where: str) -> None:
        self.recent_errors.append({"time": time.time(), "where": where, "code": exc.code,
                                   "message": exc.message[:300]})

    # ------------------------------------------------------------------ executor bridge
    def _admit(self) -> None:
        with self._lock:
            if self._admitted >= self.settings.limits.max_queue:
                raise LimitError(f"the sidecar is busy ({self._admitted} jobs queued or running); "
                                 "retry shortly", code="limits.busy",
                                 details={"queued": self._admitted})
            self._admitted += 1
            self.requests_total += 1

    def _release(self) -> None:
        with self._lock:
            self._admitted -= 1

    async def run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run a blocking call in the worker pool (admission-controlled)."""
        self._admit()
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._pool, lambda: fn(*args, **kwargs))
        finally:
            self._release()

    async def stream(self, gen_fn: Callable[[threading.Event], Iterator[T]],
                     cancel: threading.Event | None = None, *, buffer: int = 8) -> AsyncIterator[T]:
        """Drive a synchronous generator in the worker pool and yield its items in asyncio.

        The generator receives a ``threading.Event`` that is set when the consumer stops
        (cancel, disconnect, error): engines check it between chunks. At most ``buffer``
        items wait in between (backpressure blocks the worker, not memory).
        """
        self._admit()
        cancel = cancel or threading.Event()
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[Any] = asyncio.Queue(maxsize=buffer)

        def put(item: Any) -> bool:
            fut = asyncio.run_coroutine_threadsafe(queue.put(item), loop)
            while True:
                try:
                    fut.result(timeout=0.1)
                    return True
                except concurrent.futures.TimeoutError:
                    if cancel.is_set():
                        fut.cancel()
                        return False
                except (concurrent.futures.CancelledError, RuntimeError):
                    return False

        def worker() -> None:
            try:
                for item in gen_fn(cancel):
                    if cancel.is_set() or not put(item):
                        return
                put(_END)
            except BaseException as exc:  # delivered to the consumer, never lost
                put(exc)

        task = loop.run_in_executor(self._pool, worker)
        try:
            while True:
                item = await queue.get()
                if item is _END:
                    break
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            cancel.set()
            while not queue.empty():
                queue.get_nowait()
            task.add_done_callback(lambda _f: self._release())

    # ------------------------------------------------------------------ models
    def check_kind(self, model_id: str, kind: str) -> str:
        spec = self.registry.resolve(model_id)
        if spec.kind != kind:
            raise RequestError(f"model '{model_id}' is a {spec.kind} model, not {kind}",
                               code="request.wrong_model_kind", details={"field": "model"})
        return spec.id

    def voices(self, model_id: str | None = None) -> list[dict[str, Any]]:
        ids = [model_id] if model_id else [m["id"] for m in self.registry.list_models()
                                           if m["kind"] == "tts" and m["installed"]]
        out = []
        for mid in ids:
            spec_id = self.check_kind(mid, "tts")
            try:
                with self.registry.acquire(spec_id) as engine:
                    for v in engine.voices():
                        out.append({"id": v.id, "model": spec_id, "language": v.language,
                                    "gender": v.gender, "name": v.name, "custom": v.custom})
            except AtelicoError:
                if model_id:
                    raise
        return out

    # ------------------------------------------------------------------ TTS
    def tts_pieces(self, *, model: str, text: str, voice: str | None, speed: float,
                   language: str | None, character: str | None, cancel: threading.Event
                   ) -> Iterator[TtsPiece]:
        """Synchronous: synthesize and yield pieces (with face frames when ``character``)."""
        spec_id = self.check_kind(model, "tts")
        with self.registry.acquire(spec_id) as engine:
            voice = voice or _default_voice(engine)
            face_ctx = self.registry.acquire("face") if character else None
            face_engine = face_ctx.__enter__() if face_ctx else None
            try:
                offset = 0
                face_stream = None
                if face_engine is not None:
                    _check_character(face_engine, character)
                    face_stream = face_engine.tts_face(character=character,
                                                       sample_rate_hz=engine.sample_rate_hz)
                for chunk in engine.synthesize(text, voice=voice, speed=speed, language=language,
                                               cancel=cancel):
                    if cancel.is_set():
                        return
                    piece = _piece(chunk, offset)
                    if face_stream is not None:
                        piece.face_start_frame, piece.face = face_stream.push(chunk)
                    offset += len(chunk.audio)
                    yield piece
                if face_stream is not None:
                    tail = face_stream.finish()
                    if tail is not None and len(tail[1]):
                        # trailing frames (rounding up to a whole frame) ride on an empty piece
                        yield TtsPiece(sequence=-1, text="", audio=np.zeros(0, np.float32),
                                       sample_rate_hz=engine.sample_rate_hz, offset_samples=offset,
                                       words=[], face=tail[1], face_start_frame=tail[0])
            finally:
                if face_ctx is not None:
                    face_ctx.__exit__(None, None, None)

    def synthesize(self, *, model: str, text: str, voice: str | None, speed: float = 1.0,
                   language: str | None = None, cancel: threading.Event | None = None) -> TtsResult:
        """Synchronous blocking synthesis of the whole text."""
        cancel = cancel or threading.Event()
        spec_id = self.check_kind(model, "tts")
        pieces = list(self.tts_pieces(model=model, text=text, voice=voice, speed=speed,
                                      language=language, character=None, cancel=cancel))
        if cancel.is_set():
            raise Cancelled("synthesis was cancelled")
        rate = pieces[0].sample_rate_hz if pieces else 24000
        audio = np.concatenate([p.audio for p in pieces]) if pieces else np.zeros(0, np.float32)
        words = [w for p in pieces for w in p.words]
        with self.registry.acquire(spec_id) as engine:
            used_voice = voice or _default_voice(engine)
        return TtsResult(audio=audio, sample_rate_hz=rate, words=words, model=spec_id,
                         voice=used_voice, pieces=pieces)

    # ------------------------------------------------------------------ STT
    def transcribe(self, audio: np.ndarray, sample_rate_hz: int, *, model: str,
                   language: str | None = None, task: str = "transcribe", prompt: str | None = None,
                   temperature: float = 0.0, words: bool = False,
                   cancel: threading.Event | None = None) -> Transcript:
        """Synchronous transcription of a whole clip (any rate; resampled to 16 kHz)."""
        _check_audio(audio, sample_rate_hz, self.settings.limits.max_audio_s)
        spec_id = self.check_kind(model, "stt")
        audio16 = resample(audio, sample_rate_hz, STT_SAMPLE_RATE_HZ)
        with self.registry.acquire(spec_id) as engine:
            segments, info = engine.transcribe(audio16, language=language, task=task, prompt=prompt,
                                               temperature=temperature, word_timestamps=words,
                                               cancel=cancel)
            out = []
            for seg in segments:
                out.append(seg)
                if cancel is not None and cancel.is_set():
                    raise Cancelled("transcription was cancelled")
        return Transcript(out, info)

    def live_transcriber(self, *, model: str, language: str | None, vad: str, partials: bool):
        """Create a live transcriber holding a model reference; call ``close()`` when done."""
        spec_id = self.check_kind(model, "stt")
        ctx = self.registry.acquire(spec_id)
        engine = ctx.__enter__()
        try:
            from atelico.engines.stt.live import LiveTranscriber

            live = LiveTranscriber(engine, language=language, vad=vad, partials=partials,
                                   max_lag_s=self.settings.limits.live_max_lag_s)
        except BaseException:
            ctx.__exit__(None, None, None)
            raise
        return _Held(live, ctx)

    # ------------------------------------------------------------------ face
    def face(self, audio: np.ndarray, sample_rate_hz: int, *, character: str = "claire",
             text: str | None = None, model: str = "face") -> np.ndarray:
        """Synchronous: [N, 52] float32 ARKit weights at 30 fps."""
        _check_audio(audio, sample_rate_hz, self.settings.limits.max_audio_s)
        spec_id = self.check_kind(model, "face")
        with self.registry.acquire(spec_id) as engine:
            _check_character(engine, character)
            return engine.run(audio, sample_rate_hz=sample_rate_hz, character=character, text=text)

    def face_stream(self, *, character: str, sample_rate_hz: int, model: str = "face"):
        spec_id = self.check_kind(model, "face")
        ctx = self.registry.acquire(spec_id)
        engine = ctx.__enter__()
        try:
            _check_character(engine, character)
            stream = engine.stream(character=character, sample_rate_hz=sample_rate_hz)
        except BaseException:
            ctx.__exit__(None, None, None)
            raise
        return _Held(stream, ctx)


class _Held:
    """An object that keeps a registry reference until ``close()``."""

    def __init__(self, obj: Any, ctx: Any) -> None:
        self.obj = obj
        self._ctx = ctx
        self._closed = False

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._ctx.__exit__(None, None, None)


def _default_voice(engine: Any) -> str:
    return getattr(engine, "default_voice", None) or engine.voices()[0].id


def _check_character(engine: Any, character: str | None) -> None:
    known = engine.characters()
    if character not in known:
        raise RequestError(f"unknown face character {character!r}; known: {', '.join(known)}",
                           code="face.unknown_character", details={"known": known, "field": "character"})


def _check_audio(audio: np.ndarray, sample_rate_hz: int, max_audio_s: float) -> None:
    from atelico.errors import AudioError

    if audio.size == 0:
        raise AudioError("the audio holds no samples", code="audio.empty")
    if len(audio) / sample_rate_hz > max_audio_s:
        raise AudioError(f"audio is {len(audio) / sample_rate_hz:.1f} s; the limit is {max_audio_s:.0f} s",
                         code="audio.too_long", details={"max_audio_s": max_audio_s})


def _words(words: tuple[WordTiming, ...], offset_s: float) -> list[dict[str, Any]]:
    return [{"word": w.word, "start_s": round(w.start_s + offset_s, 3),
             "end_s": round(w.end_s + offset_s, 3)} for w in words]


def _piece(chunk: SpeechChunk, offset_samples: int) -> TtsPiece:
    offset_s = offset_samples / float(chunk.sample_rate_hz)
    return TtsPiece(sequence=chunk.sequence, text=chunk.text,
                    audio=np.asarray(chunk.audio, dtype=np.float32),
                    sample_rate_hz=chunk.sample_rate_hz, offset_samples=offset_samples,
                    words=_words(chunk.words, offset_s))


def engine_error(exc: BaseException) -> AtelicoError:
    """Map any exception to an AtelicoError (unknown ones become ``engine.failed``)."""
    if isinstance(exc, AtelicoError):
        return exc
    log.exception("engine failure", exc_info=exc)
    return EngineError(f"the model failed: {exc.__class__.__name__}: {exc}"[:500])


__all__ = ["Service", "TtsPiece", "TtsResult", "Transcript", "engine_error", "FACE_SAMPLE_RATE_HZ"]
