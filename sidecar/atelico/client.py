"""Python client for the WebSocket protocol: ``AsyncClient`` (asyncio) and ``Client`` (blocking).

Requests are multiplexed on one socket. Each request method ends when its terminal message
arrives: ``done`` returns, ``error`` raises the matching :class:`atelico.errors.AtelicoError`,
``cancelled`` raises :class:`atelico.errors.Cancelled`. If the socket drops, every pending
request raises ``ConnectionLost`` (code ``connection.lost``); closing the client with requests
in flight ends each with ``client.closed``. A server frame that cannot be decoded closes the
connection (``connection.lost``). The client-side codes are listed in docs/protocol.md.
"""

from __future__ import annotations

import asyncio
import itertools
import threading
from dataclasses import dataclass, field
from typing import Any, AsyncIterator, Iterator

import numpy as np

from atelico import __version__, errors
from atelico.audio.pcm import bytes_to_float32, float32_to_bytes
from atelico.protocol import face as face_proto
from atelico.protocol import session as sess
from atelico.protocol import stt as stt_proto
from atelico.protocol import tts as tts_proto
from atelico.protocol.envelope import Message, decode, encode


class ConnectionLost(errors.AtelicoError):
    code = "connection.lost"
    http_status = 503


class ConnectionUnavailable(ConnectionLost):
    """The socket could not be opened (nothing listens, the upgrade was refused)."""

    code = "connection.unavailable"


class HandshakeTimeout(ConnectionLost):
    code = "connection.handshake_timeout"


class RequestTimeout(errors.AtelicoError):
    """No message for the request within its timeout (the client then sends ``cancel``)."""

    code = "request.timeout"
    http_status = 504


class ClientClosed(errors.AtelicoError):
    code = "client.closed"
    http_status = 503


_BY_PREFIX: list[tuple[str, type[errors.AtelicoError]]] = [
    ("request.input_too_long", errors.InputTooLong), ("request.", errors.RequestError),
    ("audio.", errors.AudioError), ("model.unknown", errors.UnknownModel),
    ("model.not_installed", errors.ModelNotInstalled), ("model.integrity", errors.ModelIntegrity),
    ("model.", errors.ModelLoadFailed), ("voice.", errors.VoiceError),
    ("language.", errors.LanguageError), ("protocol.", errors.ProtocolError),
    ("limits.", errors.LimitError), ("auth.", errors.AuthError), ("cancelled", errors.Cancelled),
    ("connection.unavailable", ConnectionUnavailable), ("connection.", ConnectionLost), ("engine.", errors.EngineError),
]


def error_from_wire(data: dict[str, Any]) -> errors.AtelicoError:
    """Rebuild the typed exception for an ``error`` message's data."""
    code = str(data.get("code", "internal"))
    cls = next((c for prefix, c in _BY_PREFIX if code.startswith(prefix)), errors.AtelicoError)
    return cls(str(data.get("message", code)), code=code, details=data.get("details") or {})


@dataclass
class SpeechChunkMsg:
    """A streamed chunk as received: float32 audio and its metadata."""

    sequence: int
    text: str
    audio: np.ndarray
    sample_rate_hz: int
    offset_samples: int
    words: list[dict[str, Any]]
    face: np.ndarray | None = None
    face_start_frame: int = 0


@dataclass
class Synthesis:
    """A whole synthesized utterance."""

    audio: np.ndarray
    sample_rate_hz: int
    words: list[dict[str, Any]] = field(default_factory=list)
    model: str = ""
    voice: str = ""

    @property
    def duration_s(self) -> float:
        return len(self.audio) / float(self.sample_rate_hz)


class _Pending:
    def __init__(self) -> None:
        self.queue: asyncio.Queue[Message | BaseException] = asyncio.Queue()


class AsyncClient:
    """One WebSocket connection to a sidecar."""

    def __init__(self, ws: Any, welcome: dict[str, Any]) -> None:
        self._ws = ws
        self.welcome = welcome
        self._pending: dict[str, _Pending] = {}
        self._ids = itertools.count(1)
        self._reader = asyncio.create_task(self._read())
        self.connection_errors: list[errors.AtelicoError] = []
        self._lost: errors.AtelicoError | None = None
        self._closing = False

    @classmethod
    async def connect(cls, url: str, *, token: str | None = None, client: str = "python",
                      max_size: int = 64 * 2**20, handshake_timeout: float = 10.0) -> "AsyncClient":
        """Open the socket and do the hello/welcome handshake.

        Raises:
            ConnectionUnavailable: the socket could not be opened (``connection.unavailable``).
            HandshakeTimeout: no welcome within ``handshake_timeout`` s.
            AtelicoError: the server's handshake error (``protocol.version``, ``auth.invalid_token``).
        """
        import websockets

        try:
            ws = await websockets.connect(url, max_size=max_size, open_timeout=handshake_timeout,
                                          compression=None)  # raw audio barely compresses
        except (OSError, websockets.InvalidHandshake, asyncio.TimeoutError) as exc:
            raise ConnectionUnavailable(f"cannot connect to {url}: {exc}") from exc
        try:
            await ws.send(encode(sess.Hello(protocol=sess.PROTOCOL_VERSION, client=client,
                                            client_version=__version__, token=token).to_message()))
            reply = decode(await asyncio.wait_for(ws.recv(), handshake_timeout), max_frame_bytes=max_size)
        except asyncio.TimeoutError as exc:
            await ws.close()
            raise HandshakeTimeout(f"no welcome within {handshake_timeout} s") from exc
        except websockets.ConnectionClosed as exc:
            raise ConnectionUnavailable(f"the server closed the socket during the handshake: {exc}") from exc
        if reply.type == sess.ERROR:
            await ws.close()
            raise error_from_wire(reply.data)
        if reply.type != sess.WELCOME:
            await ws.close()
            raise errors.ProtocolError(f"expected 'welcome', got {reply.type!r}")
        return cls(ws, reply.data)

    async def close(self) -> None:
        """Close the socket; requests still in flight end with ``client.closed``."""
        self._closing = True
        await self._ws.close()
        try:
            await asyncio.wait_for(self._reader, 5)
        except (asyncio.TimeoutError, asyncio.CancelledError):
            self._reader.cancel()

    async def __aenter__(self) -> "AsyncClient":
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.close()

    # ------------------------------------------------------------------ plumbing
    async def _read(self) -> None:
        import websockets

        try:
            async for frame in self._ws:
                if isinstance(frame, str):
                    continue
                try:
                    msg = decode(frame, max_frame_bytes=2**31)
                except errors.ProtocolError as exc:
                    # A stream we cannot parse cannot be trusted: end the connection.
                    self.connection_errors.append(exc)
                    await self._ws.close(1002, "undecodable frame")
                    break
                if msg.id is None or msg.id not in self._pending:
                    if msg.type == sess.ERROR:
                        self.connection_errors.append(error_from_wire(msg.data))
                    continue
                self._pending[msg.id].queue.put_nowait(msg)
        except (websockets.ConnectionClosed, OSError):
            pass
        finally:
            self._lost = (ClientClosed("the client was closed") if self._closing
                          else ConnectionLost("the connection to the sidecar was lost"))
            for p in self._pending.values():
                p.queue.put_nowait(self._lost)

    def new_id(self) -> str:
        return f"py{next(self._ids)}"

    async def send(self, msg: Message) -> None:
        await self._ws.send(encode(msg))

    async def request(self, mtype: str, data: dict[str, Any], payload: bytes | None = None,
                      request_id: str | None = None, timeout: float | None = None) -> AsyncIterator[Message]:
        """Send a request and yield every message for it, the terminal ``done`` last.

        ``timeout``: seconds the request may go without a message; then it is cancelled on the
        server and raises ``RequestTimeout`` (its late messages are ignored).
        Raises the request's error, ``Cancelled``, ``ConnectionLost`` or ``ClientClosed``.
        """
        import websockets

        rid = request_id or self.new_id()
        if self._lost is not None:
            raise self._lost
        pending = self._pending[rid] = _Pending()
        try:
            try:
                await self.send(Message(mtype, data, id=rid, payload=payload))
            except websockets.ConnectionClosed:
                raise self._lost or ConnectionLost("the connection to the sidecar was lost") from None
            while True:
                try:
                    item = await asyncio.wait_for(pending.queue.get(), timeout)
                except asyncio.TimeoutError:
                    self._pending.pop(rid, None)
                    if self._lost is None:
                        await self.cancel(rid)
                    raise RequestTimeout(f"no answer within {timeout} s") from None
                if isinstance(item, BaseException):
                    raise item
                if item.type == sess.ERROR:
                    raise error_from_wire(item.data)
                if item.type == sess.CANCELLED:  # a barge-in's report rides in details
                    raise errors.Cancelled("the request was cancelled", details=dict(item.data or {}))
                yield item
                if item.type == sess.DONE:
                    return
        finally:
            self._pending.pop(rid, None)

    async def call(self, mtype: str, data: dict[str, Any], payload: bytes | None = None) -> Message:
        """A request whose only reply is its terminal message."""
        last = None
        async for msg in self.request(mtype, data, payload):
            last = msg
        assert last is not None
        return last

    async def cancel(self, request_id: str, *, played_samples: int | None = None) -> None:
        """Cancel a request; for a speech stream, ``played_samples`` (a barge-in) makes the
        server's ``cancelled`` report what was heard."""
        data = {} if played_samples is None else {"played_samples": int(played_samples)}
        await self.send(Message(sess.CANCEL, data, id=request_id))

    # ------------------------------------------------------------------ operations
    async def ping(self) -> float:
        import time

        rid = self.new_id()
        pending = self._pending[rid] = _Pending()
        start = time.perf_counter()
        try:
            await self.send(Message(sess.PING, {"t": 1}, id=rid))
            item = await asyncio.wait_for(pending.queue.get(), 10)
            if isinstance(item, BaseException):
                raise item
            return time.perf_counter() - start
        finally:
            self._pending.pop(rid, None)

    async def models(self) -> list[dict[str, Any]]:
        return (await self.call(sess.MODELS_LIST, {})).data["models"]

    async def voices(self, model: str | None = None) -> list[dict[str, Any]]:
        return (await self.call(sess.VOICES_LIST, {"model": model})).data["voices"]

    async def synthesize_stream(self, text: str, *, model: str = "tts", voice: str | None = None,
                                speed: float = 1.0, character: str | None = None,
                                request_id: str | None = None, **extra: Any) -> AsyncIterator[SpeechChunkMsg]:
        """Yield chunks as they are synthesized (with face frames when ``character`` is set)."""
        mtype = tts_proto.SPEAK if character else tts_proto.SYNTHESIZE
        data = {"model": model, "input": text, "voice": voice, "speed": speed, "stream": True,
                "sample_format": "f32le", **extra}
        if character:
            data["character"] = character
        async for msg in self.request(mtype, data, request_id=request_id):
            if msg.type == tts_proto.CHUNK:
                yield _chunk(msg)

    def speech(self, text: str = "", *, text_stream: bool = False, model: str = "tts",
               voice: str | None = None, speed: float = 1.0, character: str | None = None,
               **extra: Any) -> "SpeechStream":
        """A streamed utterance to play, stop and barge into (``async with``). With
        ``text_stream`` its text comes in pieces: ``await write(piece)`` as a language model
        produces it, then ``await end()``; speech starts once a clause is complete."""
        data: dict[str, Any] = {"model": model, "input": text, "voice": voice, "speed": speed,
                                "stream": True, "sample_format": "f32le", **extra}
        if text_stream:
            data["input_stream"] = True
        if character:
            data["character"] = character
        return SpeechStream(self, tts_proto.SPEAK if character else tts_proto.SYNTHESIZE, data)

    async def synthesize(self, text: str, *, model: str = "tts", voice: str | None = None,
                         speed: float = 1.0, **extra: Any) -> Synthesis:
        done = await self.call(tts_proto.SYNTHESIZE, {"model": model, "input": text, "voice": voice,
                                                      "speed": speed, "sample_format": "f32le", **extra})
        d = done.data
        return Synthesis(audio=bytes_to_float32(done.payload or b"", "f32le"), sample_rate_hz=d["sample_rate_hz"],
                         words=d.get("words", []), model=d.get("model", ""), voice=d.get("voice", ""))

    async def transcribe(self, audio: np.ndarray | bytes, sample_rate_hz: int = 16_000, *,
                         model: str = "whisper", encoding: str | None = None, **opts: Any) -> dict[str, Any]:
        """Transcribe float32 audio, or an encoded file's bytes with ``encoding='wav'`` etc."""
        if isinstance(audio, (bytes, bytearray)):
            data = {"model": model, "encoding": encoding or "wav", **opts}
            payload = bytes(audio)
        else:
            data = {"model": model, "sample_rate_hz": sample_rate_hz, "sample_format": "f32le",
                    "channels": 1, **opts}
            payload = float32_to_bytes(audio, "f32le")
        return (await self.call(stt_proto.TRANSCRIBE, data, payload)).data

    async def face(self, audio: np.ndarray, sample_rate_hz: int = 16_000, *, character: str = "claire",
                   text: str | None = None) -> np.ndarray:
        done = await self.call(face_proto.RUN, {"character": character, "text": text,
                                                "sample_rate_hz": sample_rate_hz,
                                                "sample_format": "f32le", "channels": 1},
                               float32_to_bytes(audio, "f32le"))
        return face_proto.weights_from_bytes(done.payload or b"").copy()

    def live(self, *, sample_rate_hz: int = 16_000, model: str = "whisper", language: str | None = None,
             vad: str = "silero", partials: bool = True) -> "LiveSession":
        return LiveSession(self, {"model": model, "language": language, "vad": vad, "partials": partials,
                                  "sample_rate_hz": sample_rate_hz, "sample_format": "f32le", "channels": 1})


def _chunk(msg: Message) -> SpeechChunkMsg:
    d = msg.data
    face = d.get("face")
    return SpeechChunkMsg(
        sequence=d["sequence"], text=d["text"],
        audio=bytes_to_float32(msg.payload or b"", d["sample_format"]),
        sample_rate_hz=d["sample_rate_hz"], offset_samples=d["offset_samples"], words=d["words"],
        face=face_proto.weights_from_bytes(face["weights"]) if face else None,
        face_start_frame=face["start_frame"] if face else 0)


@dataclass
class Heard:
    """What the player heard of a stopped speech stream (a barge-in)."""

    played_samples: int
    played_s: float
    text: str
    words: list[dict[str, Any]]

    @classmethod
    def from_data(cls, d: dict[str, Any]) -> "Heard":
        return cls(played_samples=int(d.get("played_samples", 0)), played_s=float(d.get("played_s", 0.0)),
                   text=str(d.get("text", "")), words=list(d.get("words", [])))


class SpeechStream:
    """One streamed utterance (``AsyncClient.speech``): ``chunks()`` as they are synthesized,
    ``write``/``end`` for text written in pieces, ``barge_in`` to stop it and learn what was
    heard. The socket's messages for it are read in the background from ``async with`` on."""

    def __init__(self, client: AsyncClient, mtype: str, data: dict[str, Any]) -> None:
        self.client = client
        self.id = client.new_id()
        self._mtype, self._data = mtype, data
        self._chunks: asyncio.Queue[SpeechChunkMsg | None] = asyncio.Queue()
        self._terminal: asyncio.Future[Message | BaseException] | None = None
        self._reader: asyncio.Task[None] | None = None
        self.words: list[dict[str, Any]] = []  # of the chunks received
        self.received_samples = 0
        self.sample_rate_hz = 24000
        #: the terminal ``done`` data (None until it came, or when the stream was cancelled)
        self.done: dict[str, Any] | None = None

    async def __aenter__(self) -> "SpeechStream":
        self._terminal = asyncio.get_running_loop().create_future()
        self._reader = asyncio.create_task(self._read())
        await asyncio.sleep(0)  # the request is on the wire before the caller writes text
        return self

    async def __aexit__(self, *exc: Any) -> None:
        if self._reader is not None and not self._reader.done():
            await self.client.cancel(self.id)
            await asyncio.gather(self._reader, return_exceptions=True)

    async def _read(self) -> None:
        assert self._terminal is not None
        try:
            async for msg in self.client.request(self._mtype, self._data, request_id=self.id):
                if msg.type == tts_proto.CHUNK:
                    c = _chunk(msg)
                    self.words.extend(c.words)
                    self.sample_rate_hz = c.sample_rate_hz
                    self.received_samples = c.offset_samples + len(c.audio)
                    self._chunks.put_nowait(c)
                elif msg.type == sess.DONE:
                    self.done = dict(msg.data)
                    self._terminal.set_result(msg)
        except BaseException as exc:  # error, cancelled (with its report) or connection lost
            if not self._terminal.done():
                self._terminal.set_result(exc)
            if not isinstance(exc, Exception):
                raise
        finally:
            self._chunks.put_nowait(None)

    async def write(self, text: str) -> None:
        """Add a piece of the text (``text_stream`` only)."""
        await self.client.send(Message(tts_proto.TEXT, {"text": text}, id=self.id))

    async def end(self) -> None:
        """No more text (``text_stream`` only): the rest is spoken, then the stream ends."""
        await self.client.send(Message(tts_proto.TEXT_END, {}, id=self.id))

    async def chunks(self) -> AsyncIterator[SpeechChunkMsg]:
        """Chunks in order; ends with the stream (raises its error, if it failed)."""
        while True:
            c = await self._chunks.get()
            if c is None:
                break
            yield c
        assert self._terminal is not None
        result = self._terminal.result() if self._terminal.done() else None
        if isinstance(result, BaseException) and not isinstance(result, errors.Cancelled):
            raise result

    async def wait(self) -> dict[str, Any]:
        """Until the stream ends: its ``done`` data (raises its error or ``Cancelled``)."""
        assert self._terminal is not None
        result = await asyncio.shield(self._terminal)
        if isinstance(result, BaseException):
            raise result
        return dict(result.data)

    async def barge_in(self, played_samples: int) -> Heard:
        """Stop the stream after ``played_samples`` were played: what the player heard.

        While the server still speaks, its ``cancelled`` reports it; a stream already done
        (audio still playing on the client) is answered here by the same rule."""
        assert self._terminal is not None
        if not self._terminal.done():
            await self.client.cancel(self.id, played_samples=played_samples)
            result = await asyncio.shield(self._terminal)
            if isinstance(result, errors.Cancelled) and "played_samples" in result.details:
                return Heard.from_data(result.details)
        return Heard.from_data(tts_proto.heard(self.words, played_samples=played_samples,
                                               sent_samples=self.received_samples,
                                               sample_rate_hz=self.sample_rate_hz))


@dataclass(frozen=True)
class SpeechEvent:
    """An endpoint of the player's speech on a live stream (``stt.speech.started`` /
    ``stt.speech.stopped``): ``started`` is True at the onset; times are seconds since the
    stream began (``end_time`` only when stopped)."""

    started: bool
    segment_id: int
    start_time: float
    end_time: float | None = None

    @classmethod
    def from_message(cls, msg: Message) -> "SpeechEvent | None":
        """The event a live-stream message carries, or ``None`` for any other message."""
        if msg.type not in (stt_proto.SPEECH_STARTED, stt_proto.SPEECH_STOPPED):
            return None
        end = msg.data.get("end_time")
        return cls(started=msg.type == stt_proto.SPEECH_STARTED,
                   segment_id=int(msg.data.get("segment_id", 0)),
                   start_time=float(msg.data.get("start_time", 0.0)),
                   end_time=None if end is None else float(end))


class LiveSession:
    """A live transcription: ``await send(audio)`` frames, ``await stop()``, read ``results()``.

    ``results()`` yields every message: ``stt.speech.started`` (the player began talking:
    duck or stop the NPC), partials, ``stt.speech.stopped``, finals, warnings, then ``done``;
    :meth:`SpeechEvent.from_message` reads the endpoint events, and :attr:`speaking` follows
    them while ``results()`` is read.
    """

    def __init__(self, client: AsyncClient, start: dict[str, Any]) -> None:
        self.client = client
        self.id = client.new_id()
        self._start = start
        self._iter: AsyncIterator[Message] | None = None
        #: True between ``stt.speech.started`` and ``stt.speech.stopped`` (as read so far)
        self.speaking = False

    async def __aenter__(self) -> "LiveSession":
        self._iter = self.client.request(stt_proto.LIVE_START, self._start, request_id=self.id)
        self._first = asyncio.ensure_future(self._iter.__anext__())
        await asyncio.sleep(0)
        return self

    async def __aexit__(self, *exc: Any) -> None:
        if not self._first.done():
            self._first.cancel()

    async def send(self, audio: np.ndarray) -> None:
        await self.client.send(Message(stt_proto.LIVE_AUDIO, {}, id=self.id,
                                       payload=float32_to_bytes(audio, "f32le")))

    async def stop(self) -> None:
        await self.client.send(Message(stt_proto.LIVE_STOP, {}, id=self.id))

    async def results(self) -> AsyncIterator[Message]:
        """Every message of the session: speech events, partials, finals, warnings, then
        ``done``."""
        assert self._iter is not None
        try:
            msg = await self._first
        except StopAsyncIteration:
            return
        self._track(msg)
        yield msg
        async for msg in self._iter:
            self._track(msg)
            yield msg

    def _track(self, msg: Message) -> None:
        event = SpeechEvent.from_message(msg)
        if event is not None:
            self.speaking = event.started


class Client:
    """Blocking client: the same operations, run on a private event loop thread."""

    def __init__(self, url: str, *, token: str | None = None, client: str = "python-sync") -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="atelico-client", daemon=True)
        self._thread.start()
        self._async: AsyncClient = self._run(AsyncClient.connect(url, token=token, client=client))

    def _run(self, coro: Any, timeout: float | None = 600) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    def close(self) -> None:
        try:
            self._run(self._async.close(), timeout=10)
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(5)

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    @property
    def welcome(self) -> dict[str, Any]:
        return self._async.welcome

    def models(self) -> list[dict[str, Any]]:
        return self._run(self._async.models())

    def voices(self, model: str | None = None) -> list[dict[str, Any]]:
        return self._run(self._async.voices(model))

    def synthesize(self, text: str, **kw: Any) -> Synthesis:
        return self._run(self._async.synthesize(text, **kw))

    def synthesize_stream(self, text: str, **kw: Any) -> Iterator[SpeechChunkMsg]:
        """Yield chunks as they arrive (the socket is read on the client's own thread)."""
        import queue

        out: queue.Queue[Any] = queue.Queue(maxsize=64)
        end = object()

        async def pump() -> None:
            try:
                async for c in self._async.synthesize_stream(text, **kw):
                    await asyncio.get_running_loop().run_in_executor(None, out.put, c)
                out.put(end)
            except BaseException as exc:  # delivered to the caller's thread
                out.put(exc)

        asyncio.run_coroutine_threadsafe(pump(), self._loop)
        while True:
            item = out.get(timeout=600)
            if item is end:
                return
            if isinstance(item, BaseException):
                raise item
            yield item

    def speech(self, text: str = "", **kw: Any) -> "BlockingSpeech":
        """A streamed utterance (see ``AsyncClient.speech``), driven from this thread."""
        return BlockingSpeech(self, self._async.speech(text, **kw))

    def transcribe(self, audio: np.ndarray | bytes, sample_rate_hz: int = 16_000, **kw: Any) -> dict[str, Any]:
        return self._run(self._async.transcribe(audio, sample_rate_hz, **kw))

    def face(self, audio: np.ndarray, sample_rate_hz: int = 16_000, **kw: Any) -> np.ndarray:
        return self._run(self._async.face(audio, sample_rate_hz, **kw))

    def ping(self) -> float:
        return self._run(self._async.ping())


class BlockingSpeech:
    """``SpeechStream`` for the blocking ``Client``: ``with client.speech(...) as sp``,
    ``sp.write(piece)``, ``sp.end()``, ``for chunk in sp.chunks()``, ``sp.barge_in(n)``."""

    def __init__(self, client: Client, stream: SpeechStream) -> None:
        self._client, self.stream = client, stream
        self._chunks: AsyncIterator[SpeechChunkMsg] | None = None

    def __enter__(self) -> "BlockingSpeech":
        self._client._run(self.stream.__aenter__())
        return self

    def __exit__(self, *exc: Any) -> None:
        self._client._run(self.stream.__aexit__(*exc))

    def write(self, text: str) -> None:
        self._client._run(self.stream.write(text))

    def end(self) -> None:
        self._client._run(self.stream.end())

    def chunks(self) -> Iterator[SpeechChunkMsg]:
        it = self.stream.chunks()
        while True:
            try:
                yield self._client._run(it.__anext__())
            except StopAsyncIteration:
                return

    def wait(self) -> dict[str, Any]:
        return self._client._run(self.stream.wait())

    def barge_in(self, played_samples: int) -> Heard:
        return self._client._run(self.stream.barge_in(played_samples))
