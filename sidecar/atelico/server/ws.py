"""The WebSocket adapter: one session per socket, requests multiplexed by id.

Each request runs as its own asyncio task and ends with exactly one terminal message
(``done``, ``error`` or ``cancelled``), whatever happens: bad input, a model failure, a
cancel, a disconnect (then nothing can be sent, but all work is cancelled).
"""

from __future__ import annotations

import asyncio
import logging
import threading
import uuid
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable

import numpy as np
from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from atelico import __version__
from atelico.audio.payload import to_float32 as payload_to_float32
from atelico.audio.pcm import float32_to_bytes
from atelico.audio.wav import encode_wav
from atelico.engines.base import (ARKIT_BLENDSHAPES, FACE_SAMPLE_RATE_HZ, SPEECH_STARTED,
                                  STT_SAMPLE_RATE_HZ, LiveEvent)
from atelico.errors import AtelicoError, Cancelled, LimitError, ProtocolError, RequestError
from atelico.protocol import face as face_proto
from atelico.protocol import session as sess
from atelico.protocol import stt as stt_proto
from atelico.protocol import tts as tts_proto
from atelico.protocol.audio_desc import AudioDescription
from atelico.protocol.envelope import Message, decode, encode, peek_id
from atelico.server import security
from atelico.service import CLIENT, Service, TtsPiece, TtsResult, engine_error

log = logging.getLogger(__name__)

Handler = Callable[["WsSession", Message, "Request"], Awaitable[Message]]
HANDLERS: dict[str, Handler] = {}
#: message types that feed an open request (same id) instead of opening one
STREAM_INPUTS = {stt_proto.LIVE_AUDIO, stt_proto.LIVE_STOP, face_proto.STREAM_AUDIO,
                 face_proto.STREAM_STOP, tts_proto.TEXT, tts_proto.TEXT_END}
#: the request types each stream input feeds
OPENERS = {stt_proto.LIVE_AUDIO: (stt_proto.LIVE_START,), stt_proto.LIVE_STOP: (stt_proto.LIVE_START,),
           face_proto.STREAM_AUDIO: (face_proto.STREAM_START,),
           face_proto.STREAM_STOP: (face_proto.STREAM_START,),
           tts_proto.TEXT: (tts_proto.SYNTHESIZE, tts_proto.SPEAK),
           tts_proto.TEXT_END: (tts_proto.SYNTHESIZE, tts_proto.SPEAK)}
STREAM_ENDS = {stt_proto.LIVE_STOP, face_proto.STREAM_STOP, tts_proto.TEXT_END}
INPUT_QUEUE_FRAMES = 256
INPUT_QUEUE_BYTES = 16 * 2**20  # audio waiting per live request, bounded
TEXT_QUEUE_PIECES = 4096  # streamed text waiting per speech request, bounded; text is
TEXT_QUEUE_BYTES = 2**20  # never dropped: past these the request ends with an error


def handles(*types: str) -> Callable[[Handler], Handler]:
    """Register a request handler; it returns the terminal ``done`` message (or raises)."""

    def register(fn: Handler) -> Handler:
        for t in types:
            if t in HANDLERS:
                raise ValueError(f"duplicate handler for {t!r}")
            HANDLERS[t] = fn
        return fn

    return register


def capabilities() -> list[str]:
    from atelico.audio.codecs import ENCODINGS

    return ["tts.synthesize", "speak", "tts.input_stream", "barge_in", "stt.transcribe", "stt.live",
            "face.run", "face.stream", "models.list", "voices.list", "ping", "cancel"] + [f"formats.{f}" for f in ENCODINGS]


@dataclass
class Request:
    """Book-keeping of one in-flight request."""

    id: str
    type: str
    cancel: threading.Event = field(default_factory=threading.Event)
    task: asyncio.Task | None = None
    inputs: asyncio.Queue | None = None  # for live/face streams
    dropped_frames: int = 0
    queued_bytes: int = 0
    #: barge-in: how much of a speech stream the client played, from its ``cancel``
    played_samples: int | None = None
    #: what the ``cancelled`` terminal reports (a speech stream: what was heard)
    report: Callable[["Request"], dict[str, Any]] | None = None

    def cancelled(self) -> Message:
        return sess.cancelled(self.id, self.report(self) if self.report is not None else None)


class WsSession:
    """Drives one WebSocket: handshake, dispatch, terminal guarantees, cleanup."""

    def __init__(self, ws: WebSocket, service: Service,
                 admit: Callable[[], AtelicoError | None] | None = None) -> None:
        self.ws = ws
        self.service = service
        self.settings = service.settings
        self.requests: dict[str, Request] = {}
        self._send_lock = asyncio.Lock()
        self._terminal_sends: set[asyncio.Task] = set()
        self.closed = False
        self.session_id = uuid.uuid4().hex[:12]
        #: called once the client is authenticated; an error refuses the session (busy)
        self._admit = admit

    # ------------------------------------------------------------------ sending
    async def send(self, msg: Message) -> None:
        """Send one frame. A cancel of the sending task never cuts a frame (or a terminal
        message) short: the write itself is shielded, the caller still sees the cancel."""
        if self.closed:
            return
        await asyncio.shield(self._send_now(encode(msg)))

    async def _send_now(self, data: bytes) -> None:
        async with self._send_lock:
            if self.closed:
                return
            try:
                await self.ws.send_bytes(data)
            except (WebSocketDisconnect, RuntimeError, OSError):
                self.closed = True

    async def finish(self, req: Request, msg: Message) -> None:
        """Send the request's single terminal message (no-op if it already ended)."""
        if self.requests.get(req.id) is not req:
            return
        del self.requests[req.id]
        await self.send(msg)

    # ------------------------------------------------------------------ lifecycle
    async def run(self) -> None:
        CLIENT.set(f"ws:{self.session_id}")  # the request tasks' share of the queue
        try:
            if not await self._handshake():
                return
            while True:
                event = await self.ws.receive()
                if event["type"] == "websocket.disconnect":
                    break
                if event.get("bytes") is None:
                    await self.send(sess.error(None, ProtocolError(
                        "text frames are not part of the protocol: send binary msgpack",
                        code="protocol.text_frame")))
                    continue
                if not await self._on_frame(event["bytes"]):
                    break
        except WebSocketDisconnect:
            pass
        finally:
            await self._teardown()

    async def _handshake(self) -> bool:
        deadline_s = self.settings.limits.hello_timeout_s
        try:
            event = await asyncio.wait_for(self.ws.receive(), deadline_s)
        except (asyncio.TimeoutError, TimeoutError):
            await self._refuse(ProtocolError(f"no hello within {deadline_s:g} s",
                                             code="protocol.hello_timeout"), 1008)
            return False
        if event["type"] == "websocket.disconnect":
            return False
        try:
            frame = event.get("bytes")
            if frame is None:
                raise ProtocolError("the first message must be a binary 'hello'",
                                    code="protocol.hello_required")
            msg = decode(frame, max_frame_bytes=self.settings.limits.max_frame_bytes)
            hello = sess.Hello.from_message(msg)
            security.check_hello(self.ws.scope, hello.token, self.settings)  # once: upgrade or hello
        except AtelicoError as exc:
            await self._refuse(exc, 1008)
            return False
        busy = self._admit() if self._admit is not None else None
        if busy is not None:  # authenticated, but the server holds its maximum of sessions
            await self._refuse(busy, 1013)
            return False
        models = await asyncio.get_running_loop().run_in_executor(
            None, self.service.registry.list_models)
        limits = self.settings.limits
        await self.send(sess.welcome(
            server_version=__version__, session=self.session_id, models=models,
            capabilities=capabilities(),
            limits={"max_frame_bytes": limits.max_frame_bytes, "max_in_flight": limits.max_in_flight,
                    "max_input_chars": limits.max_input_chars, "max_audio_s": limits.max_audio_s}))
        log.info("session %s: client %s %s", self.session_id, hello.client, hello.client_version)
        return True

    async def _refuse(self, exc: AtelicoError, close_code: int) -> None:
        """End the handshake: the error message, then a close frame whose reason is the code."""
        await self.send(sess.error(None, exc))
        await self._close(close_code, exc.code)

    async def _close(self, code: int, reason: str | None = None) -> None:
        self.closed = True
        if self.ws.application_state != WebSocketState.DISCONNECTED:
            try:
                await self.ws.close(code, reason)
            except Exception:  # already gone
                pass

    async def _teardown(self) -> None:
        self.closed = True
        for req in list(self.requests.values()):
            req.cancel.set()
            if req.task is not None:
                req.task.cancel()
        tasks = [r.task for r in self.requests.values() if r.task is not None]
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        self.requests.clear()
        if self._terminal_sends:
            await asyncio.gather(*self._terminal_sends, return_exceptions=True)

    # ------------------------------------------------------------------ dispatch
    async def _on_frame(self, frame: bytes) -> bool:
        """Handle one frame; False ends the session."""
        try:
            msg = decode(frame, max_frame_bytes=self.settings.limits.max_frame_bytes)
        except ProtocolError as exc:
            rid = peek_id(frame) if exc.code != "protocol.frame_too_large" else None
            await self._fail_frame(rid, exc)
            if exc.code == "protocol.frame_too_large":
                await self._close(1009)
                return False
            return True
        if msg.type == sess.PING:
            await self.send(sess.pong(msg.id, msg.data))
            return True
        if msg.type == sess.CANCEL:
            try:
                played = sess.played_samples(msg)
            except AtelicoError as exc:
                await self.send(sess.error(None, exc))
                return True
            self._cancel(msg.id, played)
            return True
        if msg.type == sess.HELLO:
            await self.send(sess.error(msg.id, ProtocolError("hello was already received",
                                                             code="protocol.unexpected")))
            return True
        if msg.type in STREAM_INPUTS:
            await self._feed(msg)
            return True
        if msg.id is None:
            await self.send(sess.error(None, RequestError(
                f"'{msg.type}' needs a request id", code="request.missing_id")))
            return True
        if msg.id in self.requests:
            # the open request keeps its id; only this frame is refused
            await self.send(sess.error(None, RequestError(
                f"request id {msg.id!r} is already in flight", code="request.duplicate_id",
                details={"id": msg.id})))
            return True
        handler = HANDLERS.get(msg.type)
        if handler is None:
            await self.send(sess.error(msg.id, ProtocolError(
                f"unknown message type {msg.type!r}", code="protocol.unknown_type",
                details={"known": sorted(HANDLERS)})))
            return True
        if len(self.requests) >= self.settings.limits.max_in_flight:
            await self.send(sess.error(msg.id, LimitError(
                f"more than {self.settings.limits.max_in_flight} requests in flight on this socket",
                code="limits.too_many_requests")))
            return True
        req = Request(id=msg.id, type=msg.type)
        if msg.type in (stt_proto.LIVE_START, face_proto.STREAM_START):
            req.inputs = asyncio.Queue(maxsize=INPUT_QUEUE_FRAMES + 1)
        elif msg.type in (tts_proto.SYNTHESIZE, tts_proto.SPEAK) and msg.data.get("input_stream") is True:
            req.inputs = asyncio.Queue()  # bounded by _feed (TEXT_QUEUE_*)
        self.requests[req.id] = req
        req.task = asyncio.create_task(self._run_request(handler, msg, req))
        req.task.add_done_callback(lambda task: self._task_ended(req, task))
        return True

    async def _fail_frame(self, rid: str | None, exc: AtelicoError) -> None:
        if rid is not None and rid in self.requests:
            # never end an in-flight request because of an unrelated bad frame
            rid = None
        await self.send(sess.error(rid, exc))

    async def _run_request(self, handler: Handler, msg: Message, req: Request) -> None:
        try:
            result = await handler(self, msg, req)
            await self.finish(req, result)
        except (asyncio.CancelledError, Cancelled):
            await self.finish(req, req.cancelled())
        except BaseException as exc:  # every failure becomes the terminal error
            err = engine_error(exc)
            self.service.record_error(err, msg.type)
            await self.finish(req, sess.error(req.id, err))
            if not isinstance(exc, Exception):
                raise
        finally:
            req.cancel.set()

    def _task_ended(self, req: Request, task: asyncio.Task) -> None:
        """The backstop of the one-terminal promise: a task cancelled before it first ran
        never entered ``_run_request``'s ``try``, so nothing answered it. Answer it here
        (``cancelled``) and free its id; a task that did run has already finished it."""
        req.cancel.set()
        if self.requests.get(req.id) is not req:
            return
        del self.requests[req.id]
        if task.cancelled():
            msg = req.cancelled()
        else:  # cannot happen (_run_request answers every outcome); never stay silent
            msg = sess.error(req.id, engine_error(task.exception() or RuntimeError(
                "the request ended without an answer")))
        if self.closed:
            return
        sending = asyncio.get_running_loop().create_task(self.send(msg))
        self._terminal_sends.add(sending)
        sending.add_done_callback(self._terminal_sends.discard)

    def _cancel(self, rid: str | None, played_samples: int | None = None) -> None:
        req = self.requests.get(rid or "")
        if req is None:
            return  # already ended: ignored as the spec says
        if req.played_samples is None:
            req.played_samples = played_samples
        req.cancel.set()
        if req.inputs is not None:
            _put_nowait(req.inputs, None)
        if req.task is not None:
            req.task.cancel()

    async def _feed(self, msg: Message) -> None:
        req = self.requests.get(msg.id or "")
        openers = OPENERS[msg.type]
        if req is None or req.type not in openers or req.inputs is None:
            await self.send(sess.error(None, RequestError(
                f"'{msg.type}' for id {msg.id!r} that has no open '{openers[0]}'"
                + (" with input_stream" if msg.type.startswith("tts.") else ""),
                code="request.unknown_id", details={"id": msg.id})))
            return
        if msg.type in STREAM_ENDS:
            _put_nowait(req.inputs, None)  # the end always gets through (the queue keeps a slot)
            return
        item: bytes | str | None = msg.payload
        size = len(msg.payload or b"")
        if msg.type == tts_proto.TEXT:
            try:
                item = tts_proto.read_text_piece((msg.data or {}).get("text", ""),
                                                 max_input_chars=self.settings.limits.max_input_chars)
            except AtelicoError as exc:  # the piece is refused; the stream stays open
                await self.send(sess.error(None, exc))
                return
            size = len(item.encode())
            if item and (req.inputs.qsize() >= TEXT_QUEUE_PIECES
                         or req.queued_bytes + size > TEXT_QUEUE_BYTES):
                req.inputs.put_nowait(LimitError(
                    f"more than {TEXT_QUEUE_PIECES} text pieces or {TEXT_QUEUE_BYTES} bytes of text "
                    "wait to be spoken: send text no faster than it can be spoken",
                    code="limits.input_queue_full"))
                return
        if item:
            if (req.inputs.qsize() >= INPUT_QUEUE_FRAMES
                    or req.queued_bytes + size > INPUT_QUEUE_BYTES):
                req.dropped_frames += 1  # bounded: the consumer reports it as a warning
                return
            req.queued_bytes += size
            req.inputs.put_nowait(item)


def _put_nowait(q: asyncio.Queue, item: Any) -> None:
    try:
        q.put_nowait(item)
    except asyncio.QueueFull:
        pass


# ---------------------------------------------------------------------- handlers
@handles(sess.MODELS_LIST)
async def _models(s: WsSession, msg: Message, req: Request) -> Message:
    models = await asyncio.get_running_loop().run_in_executor(None, s.service.registry.list_models)
    return sess.done(req.id, {"models": models})


@handles(sess.VOICES_LIST)
async def _voices(s: WsSession, msg: Message, req: Request) -> Message:
    from atelico.protocol.fields import Fields

    model = Fields(msg.data).str("model", None, max_len=128)
    voices = await s.service.run(s.service.voices, model)
    return sess.done(req.id, {"voices": voices})


def _audio_bytes(audio: np.ndarray, rate: int, sample_format: str, encoding: str) -> bytes:
    return encode_wav(audio, rate) if encoding == "wav" else float32_to_bytes(audio, sample_format)


class _SpeechOut:
    """Sends one synthesis request's pieces (chunks with face frames, or the whole audio at
    the end) and keeps what a barge-in reports: the words of the audio already sent."""

    def __init__(self, s: WsSession, req: Request, r: tts_proto.SynthesizeRequest) -> None:
        self.s, self.req, self.r = s, req, r
        self.pieces: list[TtsPiece] = []
        self.chunks = 0
        self.total_samples = 0
        self.sent_samples = 0
        self.sent_words: list[dict[str, Any]] = []
        self.rate = 24000
        req.report = self.heard

    def heard(self, req: Request) -> dict[str, Any]:
        if req.played_samples is None:
            return {}
        return tts_proto.heard(self.sent_words, played_samples=req.played_samples,
                               sent_samples=self.sent_samples, sample_rate_hz=self.rate)

    async def add(self, piece: TtsPiece) -> None:
        s, r, rid = self.s, self.r, self.req.id
        self.rate = piece.sample_rate_hz
        self.total_samples = piece.offset_samples + len(piece.audio)
        if not r.stream:
            self.pieces.append(piece)
            return
        face = None
        if piece.face is not None:
            face = face_proto.face_block(piece.face_start_frame, piece.face)
        if piece.sequence < 0:  # trailing face frames only
            if face is not None:
                await s.send(face_proto.frames(rid, start_frame=piece.face_start_frame,
                                               weights=piece.face, offset_samples=piece.offset_samples))
            return
        await s.send(tts_proto.chunk(
            rid, sequence=self.chunks, text=piece.text, offset_samples=piece.offset_samples,
            duration_s=round(piece.duration_s, 6), sample_rate_hz=piece.sample_rate_hz,
            sample_format=r.sample_format, encoding=r.encoding,
            words=piece.words if r.words else [],
            audio=_audio_bytes(piece.audio, piece.sample_rate_hz, r.sample_format, r.encoding),
            face=face))
        self.chunks += 1
        self.sent_samples = self.total_samples
        self.sent_words.extend(piece.words)

    def done(self, model_id: str, voice: str) -> Message:
        r, rid = self.r, self.req.id
        if r.stream:
            return sess.done(rid, {"chunks": self.chunks, "duration_s": round(self.total_samples / self.rate, 6),
                                   "sample_rate_hz": self.rate, "model": model_id, "voice": voice})
        whole = TtsResult.from_pieces(self.pieces, model=model_id, voice=voice)
        return sess.done(rid, {"duration_s": round(whole.duration_s, 6), "sample_rate_hz": whole.sample_rate_hz,
                               "sample_format": r.sample_format, "channels": 1, "encoding": r.encoding,
                               "words": whole.words if r.words else [], "model": model_id, "voice": voice},
                         payload=_audio_bytes(whole.audio, whole.sample_rate_hz, r.sample_format, r.encoding))


@handles(tts_proto.SYNTHESIZE, tts_proto.SPEAK)
async def _synthesize(s: WsSession, msg: Message, req: Request) -> Message:
    speak = msg.type == tts_proto.SPEAK
    r = tts_proto.SynthesizeRequest.from_data(msg.data, max_input_chars=s.settings.limits.max_input_chars,
                                              speak=speak)
    model_id = s.service.check_kind(r.model, "tts")
    svc = s.service
    out = _SpeechOut(s, req, r)
    if r.input_stream:
        await _speak_streamed_text(s, req, r, out)
    else:
        def gen(cancel: threading.Event):
            return svc.tts_pieces(model=r.model, text=r.input, voice=r.voice, speed=r.speed,
                                  language=r.language, character=r.character, cancel=cancel)

        async for piece in svc.stream(gen, req.cancel):
            await out.add(piece)
    voice = r.voice or await svc.run(svc.default_voice, model_id)
    return out.done(model_id, voice)


async def _speak_streamed_text(s: WsSession, req: Request, r: tts_proto.SynthesizeRequest,
                               out: _SpeechOut) -> None:
    """Text written as it comes (``tts.text`` pieces, then ``tts.text.end``): each part is
    spoken as soon as it is complete, continuing one utterance (offsets, words, face)."""
    svc = s.service
    assert req.inputs is not None
    held = await svc.run(svc.utterance, model=r.model, voice=r.voice, speed=r.speed,
                         language=r.language, character=r.character)
    speech = held.obj
    ready = deque(speech.write(r.input))
    ended = False

    def take(item: str | AtelicoError | None) -> bool:
        """Feed one queued item; True at the end of the text."""
        if isinstance(item, AtelicoError):
            raise item
        if item is None:
            ready.extend(speech.end_text())
            return True
        req.queued_bytes -= len(item.encode())
        ready.extend(speech.write(item))
        return False

    try:
        while True:
            while not ended and not req.inputs.empty():  # all text already here, without waiting
                ended = take(req.inputs.get_nowait())
            if not ready and not ended:
                ended = take(await req.inputs.get())
                continue
            if not ready:
                break
            text = ready.popleft()
            # a fresh event per part: stream() sets its event when the part is over
            async for piece in svc.stream(lambda ev, text=text: speech.pieces(text, ev)):
                await out.add(piece)
        tail = await svc.run(speech.face_tail)
        if tail is not None:
            await out.add(tail)
    finally:
        held.close()


@handles(stt_proto.TRANSCRIBE)
async def _transcribe(s: WsSession, msg: Message, req: Request) -> Message:
    r = stt_proto.TranscribeRequest.from_data(msg.data)
    s.service.check_kind(r.model, "stt")
    max_s = s.settings.limits.max_audio_s

    t = await s.service.transcribe_async(
        lambda: payload_to_float32(r.audio, msg.payload, max_duration_s=max_s), model=r.model,
        language=r.language, task=r.task, prompt=r.prompt, temperature=r.temperature,
        words=r.words, cancel=req.cancel)
    return sess.done(req.id, t.to_dict(words=r.words))


@handles(stt_proto.LIVE_START)
async def _live(s: WsSession, msg: Message, req: Request) -> Message:
    r = stt_proto.LiveStart.from_data(msg.data)
    s.service.check_kind(r.model, "stt")
    held = await s.service.run(s.service.live_transcriber, model=r.model, language=r.language,
                               vad=r.vad, partials=r.partials,
                               sample_rate_hz=r.audio.sample_rate_hz or STT_SAMPLE_RATE_HZ)
    assert req.inputs is not None
    desc: AudioDescription = r.audio
    received_s = 0.0
    finals = 0
    loop = asyncio.get_running_loop()
    try:
        while True:
            item = await req.inputs.get()
            req.queued_bytes -= len(item) if item else 0
            if req.dropped_frames:
                dropped, req.dropped_frames = req.dropped_frames, 0
                await s.send(stt_proto.warning(req.id, code="stt.behind", dropped_s=0.0,
                                               message=f"{dropped} audio frames dropped: the input "
                                               "queue was full"))
            if item is None:
                results = await loop.run_in_executor(None, held.obj.finish)
            else:
                audio, rate = payload_to_float32(desc, item)
                received_s += len(audio) / rate
                results = await s.service.run(held.obj.push, audio)  # resampled with state inside
            for res in results:
                if isinstance(res, LiveEvent):
                    await s.send(stt_proto.speech_event(
                        req.id, started=res.kind == SPEECH_STARTED, segment_id=res.segment_id,
                        start_time=round(res.start_s, 3),
                        end_time=None if res.end_s is None else round(res.end_s, 3)))
                    continue
                finals += int(res.is_final)
                await s.send(stt_proto.result(
                    req.id, segment_id=res.segment_id, text=res.text, start_time=round(res.start_s, 3),
                    end_time=round(res.end_s, 3), is_final=res.is_final,
                    words=[{"word": w.word.strip(), "start": round(w.start_s, 3), "end": round(w.end_s, 3)}
                           for w in res.words]))
            for warn in _drain_warnings(held.obj):
                await s.send(stt_proto.warning(req.id, code="stt.behind", message=warn["message"],
                                               dropped_s=warn["dropped_s"]))
            if item is None:
                return sess.done(req.id, {"segments": finals, "duration": round(received_s, 3)})
    finally:
        held.close()


def _drain_warnings(live: Any) -> list[dict[str, Any]]:
    pop = getattr(live, "pop_warnings", None)
    if pop is None:
        return []
    out = []
    for w in pop():
        if isinstance(w, dict):
            out.append({"message": str(w.get("message", "fell behind")), "dropped_s": float(w.get("dropped_s", 0.0))})
        else:
            out.append({"message": str(getattr(w, "message", w)), "dropped_s": float(getattr(w, "dropped_s", 0.0))})
    return out


@handles(face_proto.RUN)
async def _face(s: WsSession, msg: Message, req: Request) -> Message:
    r = face_proto.FaceRequest.from_data(msg.data)
    s.service.check_kind(r.model, "face")

    def work() -> tuple[np.ndarray, float]:
        audio, rate = payload_to_float32(r.audio, msg.payload, max_duration_s=s.settings.limits.max_audio_s)
        weights = s.service.face(audio, rate, character=r.character, text=r.text, model=r.model)
        return weights, len(audio) / rate

    weights, duration = await s.service.run_bulk(work)
    return sess.done(req.id, {"fps": face_proto.FPS, "frame_count": int(weights.shape[0]),
                              "channels": face_proto.CHANNELS, "names": list(ARKIT_BLENDSHAPES),
                              "duration": round(duration, 6)},
                     payload=face_proto.weights_to_bytes(weights))


@handles(face_proto.STREAM_START)
async def _face_stream(s: WsSession, msg: Message, req: Request) -> Message:
    r = face_proto.FaceRequest.from_data(msg.data)
    if r.audio.encoding != "pcm":
        from atelico.errors import AudioError

        raise AudioError("face streams take raw PCM frames", code="audio.unsupported_format")
    s.service.check_kind(r.model, "face")
    rate = r.audio.sample_rate_hz or FACE_SAMPLE_RATE_HZ
    held = await s.service.run(s.service.face_stream, character=r.character, sample_rate_hz=rate,
                               model=r.model)
    assert req.inputs is not None
    received = 0
    frames_sent = 0
    try:
        while True:
            item = await req.inputs.get()
            req.queued_bytes -= len(item) if item else 0
            if item is None:
                block = await s.service.run(held.obj.finish)
            else:
                audio, _ = payload_to_float32(r.audio, item)
                received += len(audio)
                block = await s.service.run(held.obj.push, audio)
            if block is not None and len(block.weights):
                await s.send(face_proto.frames(req.id, start_frame=block.start_frame, weights=block.weights,
                                               offset_samples=int(round(block.start_frame * rate / 30))))
                frames_sent += int(block.weights.shape[0])
            if item is None:
                return sess.done(req.id, {"frame_count": frames_sent})
    finally:
        held.close()


async def serve_ws(ws: WebSocket, service: Service,
                   admit: Callable[[], AtelicoError | None] | None = None) -> None:
    """Entry point used by the app: accept (after the security checks) and run a session;
    ``admit`` is asked once the client has authenticated (see :class:`WsSession`)."""
    await ws.accept()
    await WsSession(ws, service, admit).run()
