"""``AsyncClient``: one WebSocket connection to a sidecar, requests multiplexed on it."""

from __future__ import annotations

import asyncio
import itertools
from typing import Any, AsyncIterator

import numpy as np

from atelico import __version__, errors
from atelico.audio.pcm import bytes_to_float32, float32_to_bytes
from atelico.client.errors import (ClientClosed, ConnectionLost, ConnectionUnavailable,
                                   HandshakeTimeout, RequestTimeout, error_from_wire)
from atelico.client.messages import SpeechChunkMsg, Synthesis, chunk_from_message
from atelico.client.streams import LiveSession, SpeechStream
from atelico.protocol import face as face_proto
from atelico.protocol import session as sess
from atelico.protocol import stt as stt_proto
from atelico.protocol import tts as tts_proto
from atelico.protocol.envelope import Message, decode, encode


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
            frame: Any = await asyncio.wait_for(ws.recv(), handshake_timeout)
            reply = decode(frame, max_frame_bytes=max_size)  # a text frame: protocol.text_frame
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
        models: list[dict[str, Any]] = (await self.call(sess.MODELS_LIST, {})).data["models"]
        return models

    async def voices(self, model: str | None = None) -> list[dict[str, Any]]:
        voices: list[dict[str, Any]] = (await self.call(sess.VOICES_LIST,
                                                        {"model": model})).data["voices"]
        return voices

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
                yield chunk_from_message(msg)

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
