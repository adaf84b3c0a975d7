"""The WebSocket adapter: one session per socket, requests multiplexed by id.

Each request runs as its own asyncio task (a handler of :mod:`atelico.server.ws_handlers`)
and ends with exactly one terminal message (``done``, ``error`` or ``cancelled``), whatever
happens: bad input, a model failure, a cancel, a disconnect (then nothing can be sent, but
all work is cancelled).
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from typing import Callable, TypeVar

from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from atelico import __version__
from atelico.errors import AtelicoError, Cancelled, LimitError, ProtocolError, RequestError
from atelico.protocol import face as face_proto
from atelico.protocol import session as sess
from atelico.protocol import stt as stt_proto
from atelico.protocol import tts as tts_proto
from atelico.protocol.envelope import Message, decode, encode, peek_id
from atelico.server import security
from atelico.server.ws_handlers import HANDLERS, Handler, Request, TextItem
from atelico.service import CLIENT, Service, engine_error

log = logging.getLogger(__name__)
T = TypeVar("T")

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


def capabilities() -> list[str]:
    from atelico.audio.codecs import ENCODINGS

    return ["tts.synthesize", "speak", "tts.input_stream", "barge_in", "stt.transcribe", "stt.live",
            "face.run", "face.stream", "models.list", "voices.list", "ping", "cancel"] + [f"formats.{f}" for f in ENCODINGS]


class WsSession:
    """Drives one WebSocket: handshake, dispatch, terminal guarantees, cleanup."""

    def __init__(self, ws: WebSocket, service: Service,
                 admit: Callable[[], AtelicoError | None] | None = None) -> None:
        self.ws = ws
        self.service = service
        self.settings = service.settings
        self.requests: dict[str, Request] = {}
        self._send_lock = asyncio.Lock()
        self._terminal_sends: set[asyncio.Task[None]] = set()
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
        if msg.type in (sess.PING, sess.CANCEL, sess.HELLO):
            await self._on_control(msg)
        elif msg.type in STREAM_INPUTS:
            await self._feed(msg)
        else:
            refusal = self._refusal(msg)
            if refusal is not None:
                await self.send(refusal)
            else:
                self._open(msg, HANDLERS[msg.type])
        return True

    async def _on_control(self, msg: Message) -> None:
        """``ping``, ``cancel`` and a late ``hello``: answered at once, no request opened."""
        if msg.type == sess.PING:
            await self.send(sess.pong(msg.id, msg.data))
        elif msg.type == sess.CANCEL:
            try:
                played = sess.played_samples(msg)
            except AtelicoError as exc:
                await self.send(sess.error(None, exc))
                return
            self._cancel(msg.id, played)
        else:
            await self.send(sess.error(msg.id, ProtocolError("hello was already received",
                                                             code="protocol.unexpected")))

    def _refusal(self, msg: Message) -> Message | None:
        """Why a request cannot open (its error message), or ``None``."""
        if msg.id is None:
            return sess.error(None, RequestError(f"'{msg.type}' needs a request id",
                                                 code="request.missing_id"))
        if msg.id in self.requests:
            # the open request keeps its id; only this frame is refused
            return sess.error(None, RequestError(
                f"request id {msg.id!r} is already in flight", code="request.duplicate_id",
                details={"id": msg.id}))
        if msg.type not in HANDLERS:
            return sess.error(msg.id, ProtocolError(
                f"unknown message type {msg.type!r}", code="protocol.unknown_type",
                details={"known": sorted(HANDLERS)}))
        if len(self.requests) >= self.settings.limits.max_in_flight:
            return sess.error(msg.id, LimitError(
                f"more than {self.settings.limits.max_in_flight} requests in flight on this socket",
                code="limits.too_many_requests"))
        return None

    def _open(self, msg: Message, handler: Handler) -> None:
        """Start a request's task (its input queue first, for streams)."""
        assert msg.id is not None
        req = Request(id=msg.id, type=msg.type)
        if msg.type in (stt_proto.LIVE_START, face_proto.STREAM_START):
            req.audio = asyncio.Queue(maxsize=INPUT_QUEUE_FRAMES + 1)
        elif msg.type in (tts_proto.SYNTHESIZE, tts_proto.SPEAK) and msg.data.get("input_stream") is True:
            req.text = asyncio.Queue()  # bounded by _feed_text (TEXT_QUEUE_*)
        self.requests[req.id] = req
        task = req.task = asyncio.create_task(self._run_request(handler, msg, req))
        task.add_done_callback(lambda done: self._task_ended(req, done))

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

    def _task_ended(self, req: Request, task: "asyncio.Task[None]") -> None:
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
        if req.audio is not None:
            _put_nowait(req.audio, None)
        if req.text is not None:
            _put_nowait(req.text, None)
        if req.task is not None:
            req.task.cancel()

    async def _feed(self, msg: Message) -> None:
        """A stream input: audio for a live/face stream, text for a speech request."""
        req = self.requests.get(msg.id or "")
        openers = OPENERS[msg.type]
        is_text = msg.type.startswith("tts.")
        if req is None or req.type not in openers or (req.text if is_text else req.audio) is None:
            await self.send(sess.error(None, RequestError(
                f"'{msg.type}' for id {msg.id!r} that has no open '{openers[0]}'"
                + (" with input_stream" if is_text else ""),
                code="request.unknown_id", details={"id": msg.id})))
            return
        if req.text is not None:
            await self._feed_text(req, req.text, msg)
        elif req.audio is not None:
            self._feed_audio(req, req.audio, msg)

    def _feed_audio(self, req: Request, queue: "asyncio.Queue[bytes | None]", msg: Message) -> None:
        """Audio frames are dropped past the bounds (the consumer reports it as a warning)."""
        if msg.type in STREAM_ENDS:
            _put_nowait(queue, None)  # the end always gets through (the queue keeps a slot)
            return
        if not msg.payload:
            return
        size = len(msg.payload)
        if queue.qsize() >= INPUT_QUEUE_FRAMES or req.queued_bytes + size > INPUT_QUEUE_BYTES:
            req.dropped_frames += 1
            return
        req.queued_bytes += size
        queue.put_nowait(msg.payload)

    async def _feed_text(self, req: Request, queue: "asyncio.Queue[TextItem]", msg: Message) -> None:
        """Text is never dropped: past the bounds the request ends with an error."""
        if msg.type in STREAM_ENDS:
            queue.put_nowait(None)
            return
        try:
            text = tts_proto.read_text_piece((msg.data or {}).get("text", ""),
                                             max_input_chars=self.settings.limits.max_input_chars)
        except AtelicoError as exc:  # the piece is refused; the stream stays open
            await self.send(sess.error(None, exc))
            return
        if not text:
            return
        size = len(text.encode())
        if queue.qsize() >= TEXT_QUEUE_PIECES or req.queued_bytes + size > TEXT_QUEUE_BYTES:
            queue.put_nowait(LimitError(
                f"more than {TEXT_QUEUE_PIECES} text pieces or {TEXT_QUEUE_BYTES} bytes of text "
                "wait to be spoken: send text no faster than it can be spoken",
                code="limits.input_queue_full"))
            return
        req.queued_bytes += size
        queue.put_nowait(text)


def _put_nowait(q: "asyncio.Queue[T]", item: T) -> None:
    try:
        q.put_nowait(item)
    except asyncio.QueueFull:
        pass


async def serve_ws(ws: WebSocket, service: Service,
                   admit: Callable[[], AtelicoError | None] | None = None) -> None:
    """Entry point used by the app: accept (after the security checks) and run a session;
    ``admit`` is asked once the client has authenticated (see :class:`WsSession`)."""
    await ws.accept()
    await WsSession(ws, service, admit).run()
