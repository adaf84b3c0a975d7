"""The WebSocket request handlers: each parses its request, calls the service and turns the
service's typed events into protocol messages. Every handler returns the request's
terminal ``done`` message (or raises; the session turns that into ``error``/``cancelled``).
"""

from __future__ import annotations

import asyncio
import threading
from contextlib import aclosing
from dataclasses import dataclass, field
from typing import Any, AsyncGenerator, Awaitable, Callable, Protocol

import numpy as np

from atelico.audio.payload import to_float32
from atelico.audio.pcm import float32_to_bytes
from atelico.audio.wav import encode_wav
from atelico.config import Settings
from atelico.errors import AtelicoError, AudioError, Cancelled
from atelico.protocol import face as face_proto
from atelico.protocol import session as sess
from atelico.protocol import stt as stt_proto
from atelico.protocol import tts as tts_proto
from atelico.protocol.constants import (ARKIT_BLENDSHAPES, FACE_SAMPLE_RATE_HZ, SPEECH_STARTED,
                                        STT_SAMPLE_RATE_HZ)
from atelico.protocol.envelope import Message
from atelico.service import Service
from atelico.speech import FaceBlock, SpeechDone, SpeechEvent, TtsPiece, TtsResult, Word
from atelico.streams import LiveEvent, LiveOutput, LiveWarning

#: what a speech request's text queue holds: a piece, an error to raise, ``None`` at the end
TextItem = str | AtelicoError | None


@dataclass
class Request:
    """Book-keeping of one in-flight request."""

    id: str
    type: str
    cancel: threading.Event = field(default_factory=threading.Event)
    task: asyncio.Task[None] | None = None
    audio: asyncio.Queue[bytes | None] | None = None  # live/face streams: frames, None at the end
    text: asyncio.Queue[TextItem] | None = None  # speech with input_stream
    dropped_frames: int = 0
    queued_bytes: int = 0
    #: barge-in: how much of a speech stream the client played, from its ``cancel``
    played_samples: int | None = None
    #: what the ``cancelled`` terminal reports (a speech stream: what was heard)
    report: Callable[["Request"], dict[str, Any]] | None = None

    def cancelled(self) -> Message:
        return sess.cancelled(self.id, self.report(self) if self.report is not None else None)


class Session(Protocol):
    """What a handler uses of its WebSocket session."""

    service: Service
    settings: Settings

    async def send(self, msg: Message) -> None: ...


Handler = Callable[[Session, Message, Request], Awaitable[Message]]
HANDLERS: dict[str, Handler] = {}


def handles(*types: str) -> Callable[[Handler], Handler]:
    """Register a request handler; it returns the terminal ``done`` message (or raises)."""

    def register(fn: Handler) -> Handler:
        for t in types:
            if t in HANDLERS:
                raise ValueError(f"duplicate handler for {t!r}")
            HANDLERS[t] = fn
        return fn

    return register


# ---------------------------------------------------------------------- lists
@handles(sess.MODELS_LIST)
async def _models(s: Session, msg: Message, req: Request) -> Message:
    models = await s.service.run(s.service.registry.list_models)
    return sess.done(req.id, {"models": models})


@handles(sess.VOICES_LIST)
async def _voices(s: Session, msg: Message, req: Request) -> Message:
    from atelico.protocol.fields import Fields

    model = Fields(msg.data).str("model", None, max_len=128)
    voices = await s.service.run(s.service.voices, model)
    return sess.done(req.id, {"voices": voices})


# ---------------------------------------------------------------------- speech
def _audio_bytes(audio: np.ndarray, rate: int, sample_format: str, encoding: str) -> bytes:
    return encode_wav(audio, rate) if encoding == "wav" else float32_to_bytes(audio, sample_format)


class _SpeechOut:
    """Sends one synthesis request's events (chunks with face frames, or the whole audio at
    the end) and keeps what a barge-in reports: the words of the audio already sent."""

    def __init__(self, s: Session, req: Request, r: tts_proto.SynthesizeRequest) -> None:
        self.s, self.req, self.r = s, req, r
        self.pieces: list[TtsPiece] = []
        self.sent_samples = 0
        self.sent_words: list[Word] = []
        self.rate = 24000
        self.done: SpeechDone | None = None
        req.report = self.heard

    def heard(self, req: Request) -> dict[str, Any]:
        if req.played_samples is None:
            return {}
        return tts_proto.heard(self.sent_words, played_samples=req.played_samples,
                               sent_samples=self.sent_samples, sample_rate_hz=self.rate)

    async def add(self, event: SpeechEvent) -> None:
        if isinstance(event, SpeechDone):
            self.done = event
        elif isinstance(event, FaceBlock):
            if self.r.stream:
                await self.s.send(face_proto.frames(self.req.id, start_frame=event.start_frame,
                                                    weights=event.weights,
                                                    offset_samples=event.offset_samples))
        else:
            self.rate = event.sample_rate_hz
            if self.r.stream:
                await self._send_chunk(event)
            else:
                self.pieces.append(event)

    async def _send_chunk(self, piece: TtsPiece) -> None:
        r = self.r
        face = face_proto.face_block(piece.face_start_frame, piece.face) if piece.face is not None else None
        await self.s.send(tts_proto.chunk(
            self.req.id, sequence=piece.sequence, text=piece.text, offset_samples=piece.offset_samples,
            duration_s=round(piece.duration_s, 6), sample_rate_hz=piece.sample_rate_hz,
            sample_format=r.sample_format, encoding=r.encoding, words=piece.words if r.words else [],
            audio=_audio_bytes(piece.audio, piece.sample_rate_hz, r.sample_format, r.encoding),
            face=face))
        self.sent_samples = piece.offset_samples + len(piece.audio)
        self.sent_words.extend(piece.words)

    def terminal(self) -> Message:
        r, rid, done = self.r, self.req.id, self.done
        if done is None:  # the stream stopped before its end: only a cancel does that
            raise Cancelled("synthesis was cancelled")
        if r.stream:
            return sess.done(rid, {"chunks": done.chunks, "duration_s": round(done.duration_s, 6),
                                   "sample_rate_hz": done.sample_rate_hz, "model": done.model,
                                   "voice": done.voice})
        whole = TtsResult.from_pieces(self.pieces, model=done.model, voice=done.voice)
        return sess.done(rid, {"duration_s": round(whole.duration_s, 6), "sample_rate_hz": whole.sample_rate_hz,
                               "sample_format": r.sample_format, "channels": 1, "encoding": r.encoding,
                               "words": whole.words if r.words else [], "model": done.model,
                               "voice": done.voice},
                         payload=_audio_bytes(whole.audio, whole.sample_rate_hz, r.sample_format, r.encoding))


class _QueuedText:
    """A speech request's text queue, as the service's ``TextInput``."""

    def __init__(self, req: Request, queue: asyncio.Queue[TextItem]) -> None:
        self.req, self.queue = req, queue

    def ready(self) -> list[str | None]:
        out: list[str | None] = []
        while not self.queue.empty():
            out.append(self._take(self.queue.get_nowait()))
        return out

    async def wait(self) -> list[str | None]:
        return [self._take(await self.queue.get())]

    def _take(self, item: TextItem) -> str | None:
        if isinstance(item, AtelicoError):
            raise item
        if item is not None:
            self.req.queued_bytes -= len(item.encode())
        return item


@handles(tts_proto.SYNTHESIZE, tts_proto.SPEAK)
async def _synthesize(s: Session, msg: Message, req: Request) -> Message:
    r = tts_proto.SynthesizeRequest.from_data(msg.data, max_input_chars=s.settings.limits.max_input_chars,
                                              speak=msg.type == tts_proto.SPEAK)
    svc = s.service
    svc.check_kind(r.model, "tts")
    out = _SpeechOut(s, req, r)
    events: AsyncGenerator[SpeechEvent, None]
    if r.input_stream:
        assert req.text is not None
        first = [r.input] if r.input else []
        text = _QueuedText(req, req.text)
        events = svc.speak_text_stream(_Prefixed(first, text), model=r.model, voice=r.voice,
                                       speed=r.speed, language=r.language, character=r.character)
    else:
        events = svc.speak_stream(model=r.model, text=r.input, voice=r.voice, speed=r.speed,
                                  language=r.language, character=r.character, cancel=req.cancel)
    async with aclosing(events) as stream:
        async for event in stream:
            await out.add(event)
    return out.terminal()


class _Prefixed:
    """A text input whose first pieces are already known (the request's own ``input``)."""

    def __init__(self, first: list[str], rest: _QueuedText) -> None:
        self._first: list[str | None] = list(first)
        self._rest = rest

    def ready(self) -> list[str | None]:
        first, self._first = self._first, []
        return first + self._rest.ready()

    async def wait(self) -> list[str | None]:
        return await self._rest.wait()


# ---------------------------------------------------------------------- speech to text
@handles(stt_proto.TRANSCRIBE)
async def _transcribe(s: Session, msg: Message, req: Request) -> Message:
    r = stt_proto.TranscribeRequest.from_data(msg.data)
    s.service.check_kind(r.model, "stt")
    max_s = s.settings.limits.max_audio_s

    t = await s.service.transcribe_async(
        lambda: to_float32(r.audio, msg.payload, max_duration_s=max_s), model=r.model,
        language=r.language, task=r.task, prompt=r.prompt, temperature=r.temperature,
        words=r.words, cancel=req.cancel)
    return sess.done(req.id, t.to_dict(words=r.words))


def _live_message(rid: str, out: LiveOutput) -> Message:
    if isinstance(out, LiveWarning):
        return stt_proto.warning(rid, code=out.code, message=out.message, dropped_s=out.dropped_s)
    if isinstance(out, LiveEvent):
        return stt_proto.speech_event(rid, started=out.kind == SPEECH_STARTED, segment_id=out.segment_id,
                                      start_time=round(out.start_s, 3),
                                      end_time=None if out.end_s is None else round(out.end_s, 3))
    return stt_proto.result(
        rid, segment_id=out.segment_id, text=out.text, start_time=round(out.start_s, 3),
        end_time=round(out.end_s, 3), is_final=out.is_final,
        words=[{"word": w.word.strip(), "start": round(w.start_s, 3), "end": round(w.end_s, 3)}
               for w in out.words])


async def _dropped_warning(s: Session, req: Request) -> None:
    if req.dropped_frames:
        dropped, req.dropped_frames = req.dropped_frames, 0
        await s.send(stt_proto.warning(req.id, code="stt.behind", dropped_s=0.0,
                                       message=f"{dropped} audio frames dropped: the input "
                                       "queue was full"))


async def _next_frame(req: Request) -> bytes | None:
    assert req.audio is not None
    item = await req.audio.get()
    req.queued_bytes -= len(item) if item else 0
    return item


@handles(stt_proto.LIVE_START)
async def _live(s: Session, msg: Message, req: Request) -> Message:
    r = stt_proto.LiveStart.from_data(msg.data)
    live = await s.service.live_stream(model=r.model, language=r.language, vad=r.vad, partials=r.partials,
                                       sample_rate_hz=r.audio.sample_rate_hz or STT_SAMPLE_RATE_HZ)
    try:
        while True:
            item = await _next_frame(req)
            await _dropped_warning(s, req)
            if item is None:
                outputs = await live.finish()
            else:
                audio, rate = to_float32(r.audio, item)
                outputs = await live.push(audio, rate)
            for out in outputs:
                await s.send(_live_message(req.id, out))
            if item is None:
                return sess.done(req.id, {"segments": live.finals, "duration": round(live.received_s, 3)})
    finally:
        live.close()


# ---------------------------------------------------------------------- face
@handles(face_proto.RUN)
async def _face(s: Session, msg: Message, req: Request) -> Message:
    r = face_proto.FaceRequest.from_data(msg.data)
    s.service.check_kind(r.model, "face")

    def work() -> tuple[np.ndarray, float]:
        audio, rate = to_float32(r.audio, msg.payload, max_duration_s=s.settings.limits.max_audio_s)
        weights = s.service.face(audio, rate, character=r.character, text=r.text, model=r.model)
        return weights, len(audio) / rate

    weights, duration = await s.service.run_bulk(work)
    return sess.done(req.id, {"fps": face_proto.FPS, "frame_count": int(weights.shape[0]),
                              "channels": face_proto.CHANNELS, "names": list(ARKIT_BLENDSHAPES),
                              "duration": round(duration, 6)},
                     payload=face_proto.weights_to_bytes(weights))


@handles(face_proto.STREAM_START)
async def _face_stream(s: Session, msg: Message, req: Request) -> Message:
    r = face_proto.FaceRequest.from_data(msg.data)
    if r.audio.encoding != "pcm":
        raise AudioError("face streams take raw PCM frames", code="audio.unsupported_format")
    stream = await s.service.face_stream(character=r.character, model=r.model,
                                         sample_rate_hz=r.audio.sample_rate_hz or FACE_SAMPLE_RATE_HZ)
    try:
        while True:
            item = await _next_frame(req)
            if item is None:
                block = await stream.finish()
            else:
                block = await stream.push(to_float32(r.audio, item)[0])
            if block is not None:
                await s.send(face_proto.frames(req.id, start_frame=block.start_frame, weights=block.weights,
                                               offset_samples=block.offset_samples))
            if item is None:
                return sess.done(req.id, {"frame_count": stream.frames_sent})
    finally:
        stream.close()
