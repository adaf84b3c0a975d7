"""Turns requests into engine calls; shared by HTTP, WebSocket and the in-process Engine.

Responsibilities:
- resolve model ids through the registry and check that each model is of the right kind;
- run the synchronous engines in a bounded, fair worker pool (:class:`FairPool`), crossing
  into asyncio once (:meth:`Service.stream`), with admission control (``limits.busy``) and
  cancellation;
- assemble results: PCM chunks with utterance-relative word times, face frames for ``speak``,
  transcription bodies.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextvars
import dataclasses
import itertools
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
                                  TranscriptionInfo, WordTiming, accepted_kwargs)
from atelico.engines.tts.text import TextFeed
from atelico.errors import AtelicoError, AudioError, Cancelled, EngineError, LimitError, RequestError
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

    @classmethod
    def from_pieces(cls, pieces: list[TtsPiece], *, model: str, voice: str) -> "TtsResult":
        """Join streamed pieces into one utterance (trailing face-only pieces add no audio)."""
        rate = pieces[0].sample_rate_hz if pieces else 24000
        audio = np.concatenate([p.audio for p in pieces]) if pieces else np.zeros(0, np.float32)
        return cls(audio=audio, sample_rate_hz=rate, words=[w for p in pieces for w in p.words],
                   model=model, voice=voice, pieces=pieces)


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


class Flow:
    """One request's account with the pool: its client and the worker seconds it has used.

    A stream of audio also has a ``deadline``: when a listener who started playing at its
    first piece runs out of audio (``None`` until the first piece, and for other work).
    """

    __slots__ = ("used_s", "client", "deadline", "_play_start", "_audio_s")

    def __init__(self, client: str | None = None) -> None:
        self.used_s = 0.0
        self.client = client if client is not None else current_client()
        self.deadline: float | None = None
        self._play_start: float | None = None
        self._audio_s = 0.0

    def played(self, audio_s: float, now: float) -> None:
        """Account ``audio_s`` seconds of audio handed out at ``now`` (perf_counter)."""
        if self._play_start is None:
            self._play_start = now
        self._audio_s += audio_s
        self.deadline = self._play_start + self._audio_s


#: who the running request belongs to (a WebSocket session, an HTTP connection); set by the
#: transports, read when a request's :class:`Flow` is made. ``None``: the in-process caller.
CLIENT: contextvars.ContextVar[str | None] = contextvars.ContextVar("atelico_client", default=None)


def current_client() -> str:
    return CLIENT.get() or "local"


class _ClientShare:
    """A client's virtual time in the queue and how many of its jobs are queued or running."""

    __slots__ = ("vtime", "jobs")

    def __init__(self, vtime: float) -> None:
        self.vtime = vtime
        self.jobs = 0


#: a client with more jobs than this queued or running in the pool is greedy (FairQueue)
GREEDY_JOBS = 3


class FairQueue:
    """The pool's scheduling policy, with no threads and no clock (unit-testable).

    Two levels of fairness: first between *clients* (connections), then between the
    *flows* (requests) of the chosen client. A client's virtual time grows by the worker
    time its jobs use; the client with the smallest goes first. A client that becomes
    active enters at the queue's current level less a small credit (``new_client_credit_s``)
    and never below where it left off, so it cannot bank credit while idle, nor does it pay
    for its past: one client with 16 long streams cannot starve another with one short line
    (the short line goes first, then they alternate job by job). Within a client, the flow
    that used the least worker time goes first (ties: first come). ``urgent`` jobs
    (cleanup) go before all. Audio streams about to run dry (a flow whose ``deadline`` is
    less than ``starving_s`` after ``now``, see :meth:`take`) go next, the closest to
    starving first, whatever their client's share: a stream with audio to spare waits. A
    request's first job counts as starving too (nothing is playing yet), so a new stream is
    not held back behind streams that already play.
    Bulk jobs (unsliceable whole-clip work) are taken only while fewer than ``bulk_limit``
    run, so one worker always stays free for interactive work. The jobs of a *greedy*
    client, one with more than ``greedy_jobs`` jobs queued or running (many requests at
    once, e.g. 16 long syntheses), run in the bulk lane too: fair order alone still let a
    flood hold every worker, so the game's short line waited for a long chunk to end before
    it could start; now it starts on the free worker at once. One client's streams are
    sequential chunk by chunk, so a client with a few requests loses nothing.
    """

    #: clients remembered after they go idle (their virtual time), oldest forgotten first
    MAX_IDLE_CLIENTS = 4096

    def __init__(self, bulk_limit: int, *, new_client_credit_s: float = 0.1,
                 greedy_jobs: int | None = None, starving_s: float = 1.5) -> None:
        self.bulk_limit = bulk_limit
        self.greedy_jobs = GREEDY_JOBS if greedy_jobs is None else greedy_jobs
        self.starving_s = starving_s
        self.bulk_running = 0
        self.new_client_credit_s = new_client_credit_s
        self._waiting: list[tuple[int, Any, Flow, bool, bool]] = []  # seq, item, flow, bulk, urgent
        self._seq = itertools.count()
        self._clients: dict[str, _ClientShare] = {}  # clients with jobs queued or running
        self._idle: dict[str, float] = {}  # where idle clients left off (insertion = age)
        self._level = 0.0  # the active clients' smallest virtual time, never decreasing

    def _advance_level(self) -> None:
        if self._clients:
            self._level = max(self._level, min(c.vtime for c in self._clients.values()))

    def __len__(self) -> int:
        return len(self._waiting)

    def push(self, item: Any, flow: Flow, *, bulk: bool = False, urgent: bool = False) -> None:
        share = self._clients.get(flow.client)
        if share is None:
            self._advance_level()
            left_at = self._idle.pop(flow.client, float("-inf"))
            vtime = min(self._level, max(left_at, self._level - self.new_client_credit_s))
            share = self._clients[flow.client] = _ClientShare(vtime)
        share.jobs += 1
        self._waiting.append((next(self._seq), item, flow, bulk, urgent))

    def take(self, now: float | None = None) -> tuple[Any, Flow, bool] | None:
        """The next job to run (``None``: nothing runnable now); call :meth:`finished` after.

        ``now`` (the clock of the flows' deadlines) enables serving starving streams first.
        """
        best = None
        best_key: tuple[float, ...] | None = None
        for index, (seq, _item, flow, bulk, urgent) in enumerate(self._waiting):
            share = self._clients[flow.client]
            if (bulk or share.jobs > self.greedy_jobs) and not urgent and self.bulk_running >= self.bulk_limit:
                continue
            if now is None:
                slack = float("inf")
            elif flow.deadline is not None:
                # a stream already dry (the machine is slower than playback) ranks with new
                # requests, by fairness, instead of before everything forever
                slack = max(0.0, flow.deadline - now)
            else:  # a request never served yet: its listener is already waiting
                slack = 0.0 if flow.used_s == 0.0 else float("inf")
            tier = 0.0 if urgent else 1.0 if slack < self.starving_s else 2.0
            key = (tier, slack if tier == 1.0 else 0.0, share.vtime, flow.used_s, seq)
            if best_key is None or key < best_key:
                best, best_key = index, key
        if best is None:
            return None
        _seq, item, flow, bulk, urgent = self._waiting.pop(best)
        bulk = (bulk or self._clients[flow.client].jobs > self.greedy_jobs) and not urgent
        if bulk:
            self.bulk_running += 1
        return item, flow, bulk

    def finished(self, flow: Flow, bulk: bool, elapsed_s: float) -> None:
        """Account a taken job's worker time to its flow and client."""
        flow.used_s += elapsed_s
        if bulk:
            self.bulk_running -= 1
        share = self._clients[flow.client]
        share.vtime += elapsed_s
        share.jobs -= 1
        if share.jobs == 0:
            self._go_idle(flow.client, share)
        self._advance_level()

    def _go_idle(self, client: str, share: _ClientShare) -> None:
        del self._clients[client]
        self._idle[client] = share.vtime
        if len(self._idle) > self.MAX_IDLE_CLIENTS:
            del self._idle[next(iter(self._idle))]

    def drain(self) -> list[Any]:
        """Remove and return every waiting item (shutdown)."""
        items = [item for _seq, item, *_rest in self._waiting]
        for _seq, _item, flow, _bulk, _urgent in self._waiting:
            share = self._clients[flow.client]
            share.jobs -= 1
            if share.jobs == 0:
                self._go_idle(flow.client, share)
        self._waiting.clear()
        return items


class FairPool:
    """Worker threads that run jobs in the order :class:`FairQueue` picks.

    Every job belongs to a :class:`Flow` (one request of one client). Streams are sliced
    into one job per chunk (:meth:`Service.stream`), so a long synthesis yields the worker
    between chunks. Jobs that cannot be sliced (a whole-clip transcription, face for a clip)
    go to the *bulk* lane, which runs on at most ``workers - 1`` threads: one worker always
    stays free for interactive work (with ``workers == 1`` one extra thread is kept for it).
    """

    def __init__(self, workers: int, *, name: str = "atelico-worker") -> None:
        self.bulk_limit = max(1, workers - 1)
        self._cond = threading.Condition()
        self._queue = FairQueue(self.bulk_limit)
        self._closed = False
        self.threads = [threading.Thread(target=self._work, name=f"{name}-{i}", daemon=True)
                        for i in range(max(workers, self.bulk_limit + 1))]
        for thread in self.threads:
            thread.start()

    def submit(self, fn: Callable[[], T], flow: Flow, *, bulk: bool = False,
               urgent: bool = False) -> "concurrent.futures.Future[T]":
        """Queue ``fn``; ``urgent`` jobs (cleanup) go first. Raises RuntimeError once closed."""
        fut: concurrent.futures.Future[T] = concurrent.futures.Future()
        with self._cond:
            if self._closed:
                raise RuntimeError("the worker pool is closed")
            self._queue.push((fut, fn), flow, bulk=bulk, urgent=urgent)
            self._cond.notify_all()
        return fut

    def close(self) -> None:
        """Cancel the queued jobs and let the workers exit (running jobs finish)."""
        with self._cond:
            self._closed = True
            for fut, _fn in self._queue.drain():
                fut.cancel()
            self._cond.notify_all()

    def _work(self) -> None:
        while True:
            with self._cond:
                job = self._queue.take(time.perf_counter())
                while job is None:
                    if self._closed:
                        return
                    self._cond.wait()
                    job = self._queue.take(time.perf_counter())
            (fut, fn), flow, bulk = job
            started = time.perf_counter()
            try:
                if fut.set_running_or_notify_cancel():
                    try:
                        result = fn()
                    except BaseException as exc:  # delivered to the awaiting request
                        fut.set_exception(exc)
                    else:
                        fut.set_result(result)
            finally:
                with self._cond:
                    self._queue.finished(flow, bulk, time.perf_counter() - started)
                    self._cond.notify_all()


class Service:
    """The sidecar's request layer. One per process; owns the worker pool."""

    def __init__(self, settings: Settings, registry: ModelRegistry) -> None:
        self.settings = settings
        self.registry = registry
        self._pool = FairPool(settings.models.workers)
        self._admitted = 0
        self._per_client: dict[str, int] = {}  # queue slots held per client
        self._lock = threading.Lock()
        self.recent_errors: deque[dict[str, Any]] = deque(maxlen=20)
        self.started_at = time.time()
        self.requests_total = 0

    # ------------------------------------------------------------------ lifecycle
    def close(self) -> None:
        self._pool.close()

    @property
    def queue_depth(self) -> int:
        return self._admitted

    def client_depth(self, client: str) -> int:
        """Queue slots ``client`` holds now (its jobs queued or running)."""
        with self._lock:
            return self._per_client.get(client, 0)

    def record_error(self, exc: AtelicoError, where: str) -> None:
        self.recent_errors.append({"time": time.time(), "where": where, "code": exc.code,
                                   "message": exc.message[:300]})

    # ------------------------------------------------------------------ executor bridge
    def _admit(self, client: str) -> None:
        """Take a queue slot for ``client`` or refuse: ``limits.busy`` when the whole queue is
        full, ``limits.client_queue_full`` when this client holds its share: a fixed cap per
        client and, for the queue's last eighth, no more than an equal share of the queue
        (at most half the cap), so those slots stay for the other clients."""
        limits = self.settings.limits
        with self._lock:
            if self._admitted >= limits.max_queue:
                raise LimitError(f"the sidecar is busy ({self._admitted} jobs queued or running); "
                                 "retry shortly", code="limits.busy",
                                 details={"queued": self._admitted})
            held = self._per_client.get(client, 0)
            active = len(self._per_client) + (0 if held else 1)
            reserve = max(1, limits.max_queue // 8)
            equal_share = max(1, min(limits.max_queue_per_client // 2, limits.max_queue // active))
            if held >= limits.max_queue_per_client or (
                    self._admitted >= limits.max_queue - reserve and held >= equal_share):
                raise LimitError(f"this connection already has {held} jobs queued or running; "
                                 "wait for one to end", code="limits.client_queue_full",
                                 details={"queued": held, "max_queue_per_client":
                                          limits.max_queue_per_client})
            self._admitted += 1
            self._per_client[client] = held + 1
            self.requests_total += 1

    def _release(self, client: str) -> None:
        with self._lock:
            self._admitted -= 1
            left = self._per_client[client] - 1
            if left:
                self._per_client[client] = left
            else:
                del self._per_client[client]

    async def run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run a short blocking call in the worker pool (admission-controlled)."""
        return await self._run_job(lambda: fn(*args, **kwargs), bulk=False)

    async def run_bulk(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Like :meth:`run`, for one long call that cannot be sliced (a whole clip): it runs
        in the bulk lane, which never takes the last free worker (see :class:`FairPool`)."""
        return await self._run_job(lambda: fn(*args, **kwargs), bulk=True)

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
                     cancel: threading.Event | None = None, *, bulk: bool = False) -> AsyncIterator[T]:
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
        cancel = cancel or threading.Event()
        gens: list[Iterator[T]] = []

        def step() -> Any:
            if not gens:
                gens.append(iter(gen_fn(cancel)))
            if cancel.is_set():
                return _END
            return next(gens[0], _END)

        def close() -> None:
            for gen in gens:
                getattr(gen, "close", lambda: None)()

        def release(_f: Any = None) -> None:
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
                    flow.played(item.duration_s, time.perf_counter())
                pending = self._pool.submit(step, flow, bulk=bulk)
                yield item
        finally:
            cancel.set()
            # close once no step runs (a generator cannot be closed while it executes)
            pending.add_done_callback(release)

    async def synthesize_async(self, *, model: str, text: str, voice: str | None,
                               speed: float = 1.0, language: str | None = None,
                               cancel: threading.Event | None = None) -> TtsResult:
        """Blocking synthesis of the whole text, driven chunk by chunk through the pool."""
        cancel = cancel or threading.Event()
        spec_id = self.check_kind(model, "tts")

        def gen(ev: threading.Event) -> Iterator[TtsPiece]:
            return self.tts_pieces(model=spec_id, text=text, voice=voice, speed=speed,
                                   language=language, character=None, cancel=ev)

        pieces = [p async for p in self.stream(gen, cancel)]
        used_voice = voice or await self.run(self.default_voice, spec_id)
        return TtsResult.from_pieces(pieces, model=spec_id, voice=used_voice)

    def default_voice(self, model_id: str) -> str:
        """The voice a TTS model speaks with when a request names none."""
        with self.registry.acquire(model_id) as engine:
            return _default_voice(engine)

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
                infos = self.registry.voices_without_loading(spec_id)  # a GET loads no model
                if infos is None:
                    with self.registry.acquire(spec_id) as engine:
                        infos = engine.voices()
                out.extend({"id": v.id, "model": spec_id, "language": v.language, "gender": v.gender,
                            "name": v.name, "custom": v.custom} for v in infos)
            except AtelicoError:
                if model_id:
                    raise
        return out

    # ------------------------------------------------------------------ TTS
    def tts_pieces(self, *, model: str, text: str, voice: str | None, speed: float,
                   language: str | None, character: str | None, cancel: threading.Event
                   ) -> Iterator[TtsPiece]:
        """Synchronous: synthesize and yield pieces (with face frames when ``character``)."""
        utterance = self.utterance(model=model, voice=voice, speed=speed, language=language,
                                   character=character)
        try:
            yield from utterance.obj.pieces(text, cancel)
            if cancel.is_set():
                return
            tail = utterance.obj.face_tail()
            if tail is not None:
                yield tail
        finally:
            utterance.close()

    def utterance(self, *, model: str, voice: str | None, speed: float, language: str | None,
                  character: str | None) -> "_Held":
        """One utterance whose text may come in several pieces (a language model writing it):
        offsets, word times and face frames continue from piece to piece. Holds the TTS (and
        face) model until ``close()``."""
        spec_id = self.check_kind(model, "tts")
        ctx = self.registry.acquire(spec_id)
        face_ctx = None
        try:
            engine = ctx.__enter__()
            face_stream = None
            if character:
                face_ctx = self.registry.acquire("face")
                face_engine = face_ctx.__enter__()
                _check_character(face_engine, character)
                face_stream = face_engine.tts_face(character=character,
                                                   sample_rate_hz=engine.sample_rate_hz)
            speech = Utterance(engine, spec_id, voice=voice or _default_voice(engine), speed=speed,
                               language=language, face_stream=face_stream)
        except BaseException:
            if face_ctx is not None:
                face_ctx.__exit__(None, None, None)
            ctx.__exit__(None, None, None)
            raise
        return _Held(speech, ctx, face_ctx)

    def synthesize(self, *, model: str, text: str, voice: str | None, speed: float = 1.0,
                   language: str | None = None, cancel: threading.Event | None = None) -> TtsResult:
        """Synchronous blocking synthesis of the whole text."""
        cancel = cancel or threading.Event()
        spec_id = self.check_kind(model, "tts")
        pieces = list(self.tts_pieces(model=model, text=text, voice=voice, speed=speed,
                                      language=language, character=None, cancel=cancel))
        if cancel.is_set():
            raise Cancelled("synthesis was cancelled")
        return TtsResult.from_pieces(pieces, model=spec_id, voice=voice or self.default_voice(spec_id))

    # ------------------------------------------------------------------ STT
    def transcribe(self, audio: np.ndarray, sample_rate_hz: int, *, model: str,
                   language: str | None = None, task: str = "transcribe", prompt: str | None = None,
                   temperature: float = 0.0, words: bool = False,
                   cancel: threading.Event | None = None) -> Transcript:
        """Synchronous transcription of a whole clip (any rate; resampled to 16 kHz)."""
        cancel = cancel or threading.Event()
        steps = self.transcribe_steps(lambda: (audio, sample_rate_hz), model=model, language=language,
                                      task=task, prompt=prompt, temperature=temperature, words=words,
                                      cancel=cancel)
        items = []
        for item in steps:
            items.append(item)
            if cancel.is_set():
                raise Cancelled("transcription was cancelled")
        return Transcript(items[:-1], items[-1])

    def transcribe_steps(self, load_audio: Callable[[], Any], *, model: str,
                         language: str | None = None, task: str = "transcribe",
                         prompt: str | None = None, temperature: float = 0.0, words: bool = False,
                         cancel: threading.Event) -> Iterator[Any]:
        """Synchronous generator: each segment, then the ``TranscriptionInfo`` last.

        ``load_audio`` returns ``(samples, rate)`` or an :class:`~atelico.audio.decode.AudioStream`
        (an upload decoded block by block). The audio is cut into windows of at most
        :data:`WINDOW_S` at its quietest moments and each window is transcribed on its own,
        so memory stays flat however long the file (faster-whisper computes the features of
        everything it is given at once: about 1 MB per second of audio). Driven by
        :meth:`stream`, every segment is its own pool job, so a short clip is never stuck
        behind a long one (fair scheduling between requests).
        """
        spec_id = self.check_kind(model, "stt")
        source = load_audio()
        if isinstance(source, tuple):
            audio, sample_rate_hz = source
            _check_audio(audio, sample_rate_hz, self.settings.limits.max_audio_s)
            audio16 = resample(audio, sample_rate_hz, STT_SAMPLE_RATE_HZ)
            blocks: Iterator[np.ndarray] = (audio16[i:i + STT_SAMPLE_RATE_HZ]
                                            for i in range(0, len(audio16), STT_SAMPLE_RATE_HZ))
        else:  # an AudioStream: probed (and refused early) by load_audio, decoded lazily here
            if source.rate != STT_SAMPLE_RATE_HZ:
                raise ValueError("transcribe_steps needs an AudioStream opened at 16 kHz")
            blocks = source.blocks()
        with self.registry.acquire(spec_id) as engine:
            # VAD + batched decoding where the engine has it (faster than window by window)
            batched = ({"batched": True} if "batched" in accepted_kwargs(engine.transcribe, {"batched"})
                       else {})
            info: TranscriptionInfo | None = None
            index = 0
            total = 0
            for offset, window in speech_windows(blocks, STT_SAMPLE_RATE_HZ):
                if cancel.is_set():
                    return
                total = offset + len(window)
                segments, w_info = engine.transcribe(
                    window, language=language, task=task, prompt=prompt if offset == 0 else None,
                    temperature=temperature, word_timestamps=words, cancel=cancel, **batched)
                if info is None or (info.language_probability == 0 and w_info.language_probability > 0):
                    info = w_info
                    if language is None and w_info.language_probability > 0:
                        language = w_info.language  # detected once, kept for the next windows
                offset_s = offset / STT_SAMPLE_RATE_HZ
                for seg in segments:
                    yield _shifted(seg, offset_s, index)
                    index += 1
            if info is None:
                raise AudioError("the audio holds no samples", code="audio.empty")
            yield dataclasses.replace(info, duration_s=total / STT_SAMPLE_RATE_HZ)

    async def transcribe_async(self, load_audio: Callable[[], Any], *,
                               model: str, cancel: threading.Event | None = None,
                               **options: Any) -> Transcript:
        """Transcribe a clip (``load_audio`` decodes it on a worker), window by window."""
        cancel = cancel or threading.Event()
        items = [item async for item in self.stream(
            lambda ev: self.transcribe_steps(load_audio, model=model, cancel=ev, **options), cancel,
            bulk=True)]
        if not items or not isinstance(items[-1], TranscriptionInfo):  # stopped before the end
            raise Cancelled("transcription was cancelled")
        return Transcript(list(items[:-1]), items[-1])

    def live_transcriber(self, *, model: str, language: str | None, vad: str, partials: bool,
                         sample_rate_hz: int = STT_SAMPLE_RATE_HZ):
        """Create a live transcriber holding a model reference; call ``close()`` when done."""
        spec_id = self.check_kind(model, "stt")
        ctx = self.registry.acquire(spec_id)
        engine = ctx.__enter__()
        try:
            from atelico.engines.stt.live import LiveTranscriber

            live = LiveTranscriber.from_settings(engine, self.settings, language=language, vad=vad,
                                                 partials=partials, sample_rate_hz=sample_rate_hz,
                                                 events=True)
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

    def __init__(self, obj: Any, *ctxs: Any) -> None:
        self.obj = obj
        self._ctxs = ctxs
        self._closed = False

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            for ctx in reversed(self._ctxs):
                if ctx is not None:
                    ctx.__exit__(None, None, None)


class Utterance:
    """Speech for one utterance, text piece by text piece: each piece's chunks continue the
    previous ones (sample offsets, word times, one face stream), so a reply written by a
    language model plays as one utterance."""

    def __init__(self, engine: Any, model_id: str, *, voice: str, speed: float,
                 language: str | None, face_stream: Any = None) -> None:
        self.engine = engine
        self.model_id = model_id
        self.voice = voice
        self.speed = speed
        self.language = language
        self.sample_rate_hz: int = engine.sample_rate_hz
        self.offset_samples = 0
        self._face = face_stream
        self._feed = TextFeed()

    def write(self, text: str) -> list[str]:
        """Streamed input: add a piece of text; return the parts complete enough to speak."""
        return self._feed.write(text)

    def end_text(self) -> list[str]:
        """Streamed input is over: the rest of the text, to speak."""
        return self._feed.end()

    def pieces(self, text: str, cancel: threading.Event) -> Iterator[TtsPiece]:
        language = _check_language(self.engine, self.model_id, text, self.voice, self.language)
        for chunk in self.engine.synthesize(text, voice=self.voice, speed=self.speed,
                                            language=language, cancel=cancel):
            if cancel.is_set():
                return
            piece = _piece(chunk, self.offset_samples)
            if self._face is not None:
                piece.face_start_frame, piece.face = self._face.push(chunk)
            self.offset_samples += len(chunk.audio)
            yield piece

    def face_tail(self) -> TtsPiece | None:
        """The trailing face frames (rounding up to a whole frame), on an empty piece."""
        if self._face is None:
            return None
        tail = self._face.finish()
        if tail is None or not len(tail[1]):
            return None
        return TtsPiece(sequence=-1, text="", audio=np.zeros(0, np.float32),
                        sample_rate_hz=self.sample_rate_hz, offset_samples=self.offset_samples,
                        words=[], face=tail[1], face_start_frame=tail[0])


def _default_voice(engine: Any) -> str:
    return getattr(engine, "default_voice", None) or engine.voices()[0].id


def _check_language(engine: Any, model_id: str, text: str, voice: str, language: str | None
                    ) -> str | None:
    """The language guard (one rule for every transport; see ``language_guard``)."""
    voice_language = getattr(engine, "voice_language", None)
    if voice_language is None:  # an engine that cannot tell its voices' language is not judged
        return language
    from atelico.engines.tts import language_guard

    return language_guard.check(text, voice=voice, voice_language=voice_language(voice),
                                language=language, voices=engine.voices, model=model_id)


def _check_character(engine: Any, character: str | None) -> None:
    known = engine.characters()
    if character not in known:
        raise RequestError(f"unknown face character {character!r}; known: {', '.join(known)}",
                           code="face.unknown_character", details={"known": known, "field": "character"})


def _check_audio(audio: np.ndarray, sample_rate_hz: int, max_audio_s: float) -> None:
    if audio.size == 0:
        raise AudioError("the audio holds no samples", code="audio.empty")
    if len(audio) / sample_rate_hz > max_audio_s:
        raise AudioError(f"audio is {len(audio) / sample_rate_hz:.1f} s; the limit is {max_audio_s:.0f} s",
                         code="audio.too_long", details={"max_audio_s": max_audio_s})


#: longest window transcribed at once; windows end at the quietest moment of their last third
WINDOW_S = 30.0
_CUT_FRAME_S = 0.05


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


def _shifted(seg: Segment, offset_s: float, index: int) -> Segment:
    """A window's segment in the whole file's time line, numbered in the whole transcript."""
    changes: dict[str, Any] = {"id": index}
    if offset_s:
        changes.update(start_s=seg.start_s + offset_s, end_s=seg.end_s + offset_s,
                       words=tuple(dataclasses.replace(w, start_s=w.start_s + offset_s,
                                                       end_s=w.end_s + offset_s) for w in seg.words))
        if hasattr(seg, "seek"):
            changes["seek"] = getattr(seg, "seek") + int(round(offset_s * 100))
    return dataclasses.replace(seg, **changes)


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
