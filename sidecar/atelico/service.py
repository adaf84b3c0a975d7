"""Turns requests into engine calls; the one entry of HTTP, WebSocket, the CLI and the
in-process Engine.

Responsibilities:
- resolve model ids through the registry and check that each model is of the right kind;
- run the synchronous engines in the bounded, fair worker pool (:mod:`atelico.scheduler`),
  crossing into asyncio once (:meth:`Service.stream`), with admission control
  (``limits.busy``) and cancellation;
- assemble results as typed events: speech (:mod:`atelico.speech`), transcripts
  (:mod:`atelico.transcripts`), live and face streams (:mod:`atelico.streams`), voice clones
  (:mod:`atelico.cloning`).
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections import deque
from contextlib import ExitStack
from typing import IO, AsyncGenerator, Awaitable, Callable, Iterator, ParamSpec, TypedDict, TypeVar, cast

import numpy as np

from atelico.cloning import Cloner, CloneForm, Reference, decode_reference
from atelico.config import Settings
from atelico.engines.base import (FACE, FACE_SAMPLE_RATE_HZ, STT, STT_SAMPLE_RATE_HZ, TTS, FaceSpeechStream,
                                  FaceStreaming, TranscriptionInfo, TtsFaceAlignment)
from atelico.errors import AtelicoError, Cancelled, EngineError, LimitError, RequestError
from atelico.models.registry import ModelRegistry
from atelico.lifecycle import trim_freed_memory
from atelico.scheduler import CLIENT, Admission, FairPool, FairQueue, Flow, current_client
from atelico.speech import (FaceBlock, Held, SpeechDone, SpeechEvent, TtsPiece, TtsResult, Utterance,
                            check_audio, check_character)
from atelico.streams import FaceStream, LiveStream, live_vad
from atelico.transcripts import (WINDOW_S, AudioSource, Decoding, Transcript, TranscriptStep, speech_windows,
                                 stt_blocks, transcribe_windows)
from atelico.utterances import TextInput, speak_text_stream

log = logging.getLogger(__name__)
T = TypeVar("T")
P = ParamSpec("P")
_END = object()


class ErrorRecord(TypedDict):
    """One of the recent failures ``/v1/status`` reports."""

    time: float
    where: str
    code: str
    message: str


class Service:
    """The sidecar's request layer. One per process; owns the worker pool."""

    def __init__(self, settings: Settings, registry: ModelRegistry, *, pool: FairPool | None = None) -> None:
        self.settings = settings
        self.registry = registry
        self._pool = pool or FairPool(settings.models.workers, after_job=trim_freed_memory)
        self._admission = Admission(settings.limits.max_queue, settings.limits.max_queue_per_client)
        self.recent_errors: deque[ErrorRecord] = deque(maxlen=20)
        self.started_at = time.time()
        self.cloner = Cloner(settings, registry)

    # ------------------------------------------------------------------ lifecycle
    def close(self) -> None:
        self._pool.close()

    @property
    def queue_depth(self) -> int:
        return self._admission.admitted

    @property
    def requests_total(self) -> int:
        return self._admission.total

    def client_depth(self, client: str) -> int:
        """Queue slots ``client`` holds now (its jobs queued or running)."""
        return self._admission.held(client)

    def record_error(self, exc: AtelicoError, where: str) -> None:
        self.recent_errors.append({"time": time.time(), "where": where, "code": exc.code,
                                   "message": exc.message[:300]})

    # ------------------------------------------------------------------ executor bridge
    def _admit(self, client: str) -> None:
        """Take a queue slot for ``client`` or refuse (see :class:`atelico.scheduler.Admission`)."""
        self._admission.admit(client)

    def _release(self, client: str) -> None:
        self._admission.release(client)

    async def run(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run a short blocking call in the worker pool (admission-controlled)."""
        return await self._run_job(lambda: fn(*args, **kwargs), bulk=False)

    async def run_bulk(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Like :meth:`run`, for one long call that cannot be sliced (a whole clip): it runs
        in the bulk lane, which never takes the last free worker (see :class:`FairPool`)."""
        return await self._run_job(lambda: fn(*args, **kwargs), bulk=True)

    def run_call(self, fn: Callable[[], T]) -> Awaitable[T]:
        """:meth:`run` of a call without arguments (the streams' steps)."""
        return self._run_job(fn, bulk=False)

    async def _run_job(self, job: Callable[[], T], *, bulk: bool) -> T:
        flow = Flow()
        self._admit(flow.client)
        try:
            fut = self._pool.submit(job, flow, bulk=bulk)
        except RuntimeError:
            self._release(flow.client)
            raise LimitError("the sidecar is shutting down", code="limits.busy") from None
        # the slot is held until the job really ends (a cancelled await does not free a worker)
        fut.add_done_callback(lambda _f: self._release(flow.client))
        try:
            return await asyncio.wrap_future(fut)
        except AtelicoError:
            raise
        except Exception as exc:  # an engine crash becomes engine.failed for every transport
            raise engine_error(exc) from exc

    async def stream(self, gen_fn: Callable[[threading.Event], Iterator[T]],
                     cancel: threading.Event | None = None, *, bulk: bool = False) -> AsyncGenerator[T, None]:
        """Drive a synchronous generator in the worker pool and yield its items in asyncio.

        Each ``next()`` is one pool job of this request's flow, so between two chunks a
        worker may serve a newer request, and a consumer that stops reading holds no worker;
        one item is computed ahead. The generator receives a ``threading.Event`` that is set
        when the consumer stops (cancel, disconnect, error); the generator is then closed on a
        worker, so its ``finally`` blocks (model references) run. ``bulk`` steps (long
        windows of a whole-clip job) run in the bulk lane, which keeps a worker free for
        interactive requests.
        """
        flow = Flow()
        self._admit(flow.client)
        stop = cancel or threading.Event()
        gens: list[Iterator[T]] = []

        def step() -> T | object:
            if not gens:
                gens.append(iter(gen_fn(stop)))
            if stop.is_set():
                return _END
            return next(gens[0], _END)

        def close() -> None:
            for gen in gens:
                closer = getattr(gen, "close", None)  # generators have one; other iterators may not
                if closer is not None:
                    closer()

        def release(_f: object = None) -> None:
            try:
                self._pool.submit(close, flow, urgent=True).add_done_callback(
                    lambda _c: self._release(flow.client))
            except RuntimeError:  # pool closed at shutdown
                self._release(flow.client)

        try:
            pending = self._pool.submit(step, flow, bulk=bulk)
        except RuntimeError:
            self._release(flow.client)
            raise LimitError("the sidecar is shutting down", code="limits.busy") from None
        try:
            while True:
                try:
                    item = await asyncio.wrap_future(pending)
                except AtelicoError:
                    raise
                except Exception as exc:  # an engine crash mid-stream: engine.failed
                    raise engine_error(exc) from exc
                if item is _END:
                    break
                if isinstance(item, TtsPiece):  # speech to play: its deadline for the pool
                    flow.played(item.duration_s, self._pool.clock())
                pending = self._pool.submit(step, flow, bulk=bulk)
                yield cast(T, item)
        finally:
            stop.set()
            # close once no step runs (a generator cannot be closed while it executes)
            pending.add_done_callback(release)

    # ------------------------------------------------------------------ models
    def check_kind(self, model_id: str, kind: str) -> str:
        """The concrete id of ``model_id``, refused (``request.wrong_model_kind``) when it is
        not a model of ``kind`` ("tts", "stt" or "face")."""
        spec = self.registry.resolve(model_id)
        if spec.kind != kind:
            raise RequestError(f"model '{model_id}' is a {spec.kind} model, not {kind}",
                               code="request.wrong_model_kind", details={"field": "model"})
        return spec.id

    def voices(self, model_id: str | None = None) -> list[dict[str, str | bool | None]]:
        ids = [model_id] if model_id else [m["id"] for m in self.registry.list_models()
                                           if m["kind"] == "tts" and m["installed"]]
        out: list[dict[str, str | bool | None]] = []
        for mid in ids:
            spec_id = self.check_kind(mid, "tts")
            try:
                infos = self.registry.voices_without_loading(spec_id)  # a GET loads no model
                if infos is None:
                    with self.registry.acquire(spec_id, TTS) as engine:
                        infos = engine.voices()
                out.extend({"id": v.id, "model": spec_id, "language": v.language, "gender": v.gender,
                            "name": v.name, "custom": v.custom} for v in infos)
            except AtelicoError:
                if model_id:
                    raise
        return out

    def default_voice(self, model_id: str) -> str:
        """The voice a TTS model speaks with when a request names none."""
        with self.registry.acquire(model_id, TTS) as engine:
            return engine.default_voice

    # ------------------------------------------------------------------ TTS
    def utterance(self, *, model: str, voice: str | None, speed: float, language: str | None,
                  character: str | None) -> "Held":
        """One utterance whose text may come in several pieces (a language model writing it):
        offsets, word times, piece numbers and face frames continue from piece to piece.
        Holds the TTS (and face) model until ``close()``."""
        spec_id = self.check_kind(model, "tts")
        with ExitStack() as refs:
            engine = refs.enter_context(self.registry.acquire(spec_id, TTS))
            face_track: FaceSpeechStream | None = None
            if character:
                face = refs.enter_context(self.registry.acquire("face", FACE))
                check_character(face, character)
                if not isinstance(face, TtsFaceAlignment):
                    raise RequestError(f"the face model {face.model_id!r} cannot animate speech",
                                       code="request.invalid", details={"field": "character"})
                face_track = face.tts_face(character=character, sample_rate_hz=engine.sample_rate_hz)
            speech = Utterance(engine, spec_id, voice=voice or engine.default_voice, speed=speed,
                               language=language, face_track=face_track)
            return Held(speech, refs.pop_all())
        raise AssertionError("unreachable")  # ExitStack does not swallow exceptions

    def speech_events(self, *, model: str, text: str, voice: str | None, speed: float,
                      language: str | None, character: str | None, cancel: threading.Event
                      ) -> Iterator[SpeechEvent]:
        """Synchronous: the utterance's pieces (face frames on them when ``character``), its
        face tail, then :class:`SpeechDone`; nothing more once ``cancel`` is set."""
        held = self.utterance(model=model, voice=voice, speed=speed, language=language,
                              character=character)
        try:
            yield from held.obj.pieces(text, cancel)
            if cancel.is_set():
                return
            tail = held.obj.face_tail()
            if tail is not None:
                yield tail
            yield held.obj.done()
        finally:
            held.close()

    def tts_pieces(self, *, model: str, text: str, voice: str | None, speed: float,
                   language: str | None, cancel: threading.Event, character: str | None = None
                   ) -> Iterator[TtsPiece]:
        """Synchronous: the audio pieces only (transports without face tails or a done)."""
        for event in self.speech_events(model=model, text=text, voice=voice, speed=speed,
                                        language=language, character=character, cancel=cancel):
            if isinstance(event, TtsPiece):
                yield event

    def speak_stream(self, *, model: str, text: str, voice: str | None, speed: float = 1.0,
                     language: str | None = None, character: str | None = None,
                     cancel: threading.Event | None = None) -> AsyncGenerator[SpeechEvent, None]:
        """:meth:`speech_events` driven chunk by chunk through the pool."""
        return self.stream(lambda ev: self.speech_events(model=model, text=text, voice=voice, speed=speed,
                                                          language=language, character=character,
                                                          cancel=ev), cancel)

    def speak_text_stream(self, text: TextInput, *, model: str, voice: str | None, speed: float,
                          language: str | None, character: str | None) -> AsyncGenerator[SpeechEvent, None]:
        """Speech for text that is still being written (see :mod:`atelico.utterances`)."""
        return speak_text_stream(self, text, model=model, voice=voice, speed=speed,
                                 language=language, character=character)

    def synthesize(self, *, model: str, text: str, voice: str | None, speed: float = 1.0,
                   language: str | None = None, cancel: threading.Event | None = None) -> TtsResult:
        """Synchronous blocking synthesis of the whole text."""
        cancel = cancel or threading.Event()
        events = list(self.speech_events(model=model, text=text, voice=voice, speed=speed,
                                         language=language, character=None, cancel=cancel))
        if cancel.is_set():
            raise Cancelled("synthesis was cancelled")
        return TtsResult.from_events(events)

    async def synthesize_async(self, *, model: str, text: str, voice: str | None,
                               speed: float = 1.0, language: str | None = None,
                               cancel: threading.Event | None = None) -> TtsResult:
        """Blocking synthesis of the whole text, driven chunk by chunk through the pool."""
        events = [e async for e in self.speak_stream(model=model, text=text, voice=voice, speed=speed,
                                                     language=language, cancel=cancel)]
        if not events or not isinstance(events[-1], SpeechDone):
            raise Cancelled("synthesis was cancelled")
        return TtsResult.from_events(events)

    # ------------------------------------------------------------------ STT
    def transcribe(self, audio: np.ndarray, sample_rate_hz: int, *, model: str,
                   language: str | None = None, task: str = "transcribe", prompt: str | None = None,
                   temperature: float = 0.0, words: bool = False,
                   cancel: threading.Event | None = None) -> Transcript:
        """Synchronous transcription of a whole clip (any rate; resampled to 16 kHz)."""
        cancel = cancel or threading.Event()
        steps: list[TranscriptStep] = []
        for step in self.transcribe_steps(lambda: (audio, sample_rate_hz), model=model,
                                          language=language, task=task, prompt=prompt,
                                          temperature=temperature, words=words, cancel=cancel):
            steps.append(step)
            if cancel.is_set():
                raise Cancelled("transcription was cancelled")
        transcript = Transcript.from_steps(steps)
        if transcript is None:
            raise Cancelled("transcription was cancelled")
        return transcript

    def transcribe_steps(self, load_audio: Callable[[], AudioSource], *, model: str,
                         language: str | None = None, task: str = "transcribe",
                         prompt: str | None = None, temperature: float = 0.0, words: bool = False,
                         cancel: threading.Event) -> Iterator[TranscriptStep]:
        """Synchronous generator: each segment, then the ``TranscriptionInfo`` last.

        ``load_audio`` returns ``(samples, rate)`` or an :class:`~atelico.audio.decode.AudioStream`
        (an upload decoded block by block), opened at 16 kHz. Windows of at most
        :data:`~atelico.transcripts.WINDOW_S` are transcribed one by one (memory stays flat);
        driven by :meth:`stream`, every segment is its own pool job, so a short clip is never
        stuck behind a long one.
        """
        spec_id = self.check_kind(model, "stt")
        blocks = stt_blocks(load_audio(), self.settings.limits.max_audio_s)
        options = Decoding(language=language, task=task, prompt=prompt, temperature=temperature,
                           words=words)
        with self.registry.acquire(spec_id, STT) as engine:
            yield from transcribe_windows(engine, blocks, STT_SAMPLE_RATE_HZ, options, cancel)

    async def transcribe_async(self, load_audio: Callable[[], AudioSource], *, model: str,
                               cancel: threading.Event | None = None, language: str | None = None,
                               task: str = "transcribe", prompt: str | None = None,
                               temperature: float = 0.0, words: bool = False) -> Transcript:
        """Transcribe a clip (``load_audio`` decodes it on a worker), window by window."""
        steps = [step async for step in self.stream(
            lambda ev: self.transcribe_steps(load_audio, model=model, language=language, task=task,
                                             prompt=prompt, temperature=temperature, words=words,
                                             cancel=ev), cancel, bulk=True)]
        transcript = Transcript.from_steps(steps)
        if transcript is None:  # stopped before the end
            raise Cancelled("transcription was cancelled")
        return transcript

    async def live_stream(self, *, model: str, language: str | None, vad: str, partials: bool,
                          sample_rate_hz: int = STT_SAMPLE_RATE_HZ) -> LiveStream:
        """Open a live transcription holding a model reference; ``close()`` it when done."""
        spec_id = self.check_kind(model, "stt")
        vad_kind = live_vad(vad)

        def open_live() -> LiveStream:
            from atelico.engines.stt.live import SILERO_VAD, LiveTranscriber

            with ExitStack() as refs:
                engine = refs.enter_context(self.registry.acquire(spec_id, STT))
                silero = self.registry.part(SILERO_VAD) if vad_kind == "silero" else None
                live = LiveTranscriber.from_settings(engine, self.settings, language=language, vad=vad_kind,
                                                     partials=partials, sample_rate_hz=sample_rate_hz,
                                                     events=True, vad_model=silero)
                return LiveStream(live, self.run_call, refs.pop_all().close)
            raise AssertionError("unreachable")

        return await self.run(open_live)

    # ------------------------------------------------------------------ face
    def face(self, audio: np.ndarray, sample_rate_hz: int, *, character: str = "claire",
             text: str | None = None, model: str = "face") -> np.ndarray:
        """Synchronous: [N, 52] float32 ARKit weights at 30 fps."""
        check_audio(audio, sample_rate_hz, self.settings.limits.max_audio_s)
        spec_id = self.check_kind(model, "face")
        with self.registry.acquire(spec_id, FACE) as engine:
            check_character(engine, character)
            weights: np.ndarray = engine.run(audio, sample_rate_hz=sample_rate_hz, character=character,
                                             text=text)
            return weights

    async def face_stream(self, *, character: str, sample_rate_hz: int = FACE_SAMPLE_RATE_HZ,
                          model: str = "face") -> FaceStream:
        """Open a face stream holding a model reference; ``close()`` it when done."""
        spec_id = self.check_kind(model, "face")

        def open_face() -> FaceStream:
            with ExitStack() as refs:
                engine = refs.enter_context(self.registry.acquire(spec_id, FACE))
                check_character(engine, character)
                if not isinstance(engine, FaceStreaming):
                    raise RequestError(f"the face model {engine.model_id!r} cannot stream",
                                       code="request.invalid", details={"field": "model"})
                stream = engine.stream(character=character, sample_rate_hz=sample_rate_hz)
                return FaceStream(stream, sample_rate_hz, self.run_call, refs.pop_all().close)
            raise AssertionError("unreachable")

        return await self.run(open_face)

    # ------------------------------------------------------------------ voice cloning
    async def clone_reference(self, data: bytes | IO[bytes], request: CloneForm) -> Reference:
        """Decode a reference clip in the pool's bulk lane (never on the event loop): bounded,
        at the cloning rate, only the part the clone uses."""
        return await self.run_bulk(decode_reference, data, keep_s=request.max_seconds)


def engine_error(exc: BaseException) -> AtelicoError:
    """Map any exception to an AtelicoError (unknown ones become ``engine.failed``)."""
    if isinstance(exc, AtelicoError):
        return exc
    log.exception("engine failure", exc_info=exc)
    return EngineError(f"the model failed: {exc.__class__.__name__}: {exc}"[:500])


__all__ = ["CLIENT", "FACE_SAMPLE_RATE_HZ", "WINDOW_S", "FaceBlock", "FairPool", "FairQueue", "Flow",
           "Held", "Service", "SpeechDone", "SpeechEvent", "Transcript", "TranscriptionInfo", "TtsPiece",
           "TtsResult", "current_client", "engine_error", "speech_windows"]
