"""``Client``: the blocking client, the same operations run on a private event-loop thread."""

from __future__ import annotations

import asyncio
import threading
from typing import Any, AsyncIterator, Coroutine, Iterator, TypeVar

import numpy as np

from atelico.client.connection import AsyncClient
from atelico.client.messages import Heard, SpeechChunkMsg, Synthesis
from atelico.client.streams import SpeechStream

T = TypeVar("T")


class Client:
    """Blocking client: the same operations, run on a private event loop thread."""

    def __init__(self, url: str, *, token: str | None = None, client: str = "python-sync") -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="atelico-client", daemon=True)
        self._thread.start()
        self._async: AsyncClient = self._run(AsyncClient.connect(url, token=token, client=client))

    def _run(self, coro: Coroutine[Any, Any, T], timeout: float | None = 600) -> T:
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
                yield self._client._run(_next(it))
            except StopAsyncIteration:
                return

    def wait(self) -> dict[str, Any]:
        return self._client._run(self.stream.wait())

    def barge_in(self, played_samples: int) -> Heard:
        return self._client._run(self.stream.barge_in(played_samples))


async def _next(it: AsyncIterator[T]) -> T:
    return await it.__anext__()
