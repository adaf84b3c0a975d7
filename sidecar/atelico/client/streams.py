"""Long-lived requests on an ``AsyncClient``: a speech stream to play and barge into, a live
transcription session."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any, AsyncIterator

import numpy as np

from atelico import errors
from atelico.audio.pcm import float32_to_bytes
from atelico.client.messages import Heard, SpeechChunkMsg, SpeechEvent, chunk_from_message
from atelico.protocol import session as sess
from atelico.protocol import stt as stt_proto
from atelico.protocol import tts as tts_proto
from atelico.protocol.envelope import Message

if TYPE_CHECKING:
    from atelico.client.connection import AsyncClient


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
                    c = chunk_from_message(msg)
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
