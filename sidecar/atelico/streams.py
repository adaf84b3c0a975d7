"""Open-ended streams through the service: live transcription and face animation.

Each holds its model (a registry reference) until :meth:`close`, and every step (push,
finish) is a job of the service's bounded worker pool. Outputs are typed events; the
transports only translate them into messages.
"""

from __future__ import annotations

from typing import Awaitable, Callable, Literal, Protocol, TypeVar, Union

import numpy as np

from atelico.engines.base import (FaceAudioStream, FaceFrames, LiveEvent, LiveResult, LiveTranscriber,
                                  LiveWarning)
from atelico.errors import RequestError
from atelico.speech import FaceBlock

T = TypeVar("T")
__all__ = ["FaceStream", "LiveEvent", "LiveOutput", "LiveResult", "LiveStream", "LiveWarning"]

#: what a live transcription reports: results (partials, finals), speech endpoints, warnings
LiveOutput = Union[LiveResult, LiveEvent, LiveWarning]


class Runner(Protocol):
    """Runs a blocking call in the service's pool (admission-controlled)."""

    def __call__(self, fn: Callable[[], T], /) -> Awaitable[T]: ...


class LiveStream:
    """One live transcription: audio in, :data:`LiveOutput` events out."""

    def __init__(self, live: LiveTranscriber, run: Runner, release: Callable[[], None]) -> None:
        self._live = live
        self._run = run
        self._release = release
        self.received_s = 0.0
        self.finals = 0

    async def push(self, audio: np.ndarray, sample_rate_hz: int) -> list[LiveOutput]:
        """Feed audio (resampled inside, with state); the events it completed."""
        self.received_s += len(audio) / sample_rate_hz
        return self._events(await self._run(lambda: self._live.push(audio)))

    async def finish(self) -> list[LiveOutput]:
        """The end of the audio: the last final and any warnings."""
        return self._events(await self._run(self._live.finish))

    def _events(self, results: list[LiveResult | LiveEvent]) -> list[LiveOutput]:
        out: list[LiveOutput] = list(results)
        self.finals += sum(isinstance(r, LiveResult) and r.is_final for r in results)
        out.extend(self._live.pop_warnings())
        return out

    def close(self) -> None:
        self._release()


class FaceStream:
    """One face stream: PCM in, :class:`FaceBlock` out (``offset_samples`` at the input rate)."""

    def __init__(self, stream: FaceAudioStream, sample_rate_hz: int, run: Runner,
                 release: Callable[[], None]) -> None:
        self._stream = stream
        self.sample_rate_hz = sample_rate_hz
        self._run = run
        self._release = release
        self.received_samples = 0
        self.frames_sent = 0

    async def push(self, audio: np.ndarray) -> FaceBlock | None:
        self.received_samples += len(audio)
        return self._block(await self._run(lambda: self._stream.push(audio)))

    async def finish(self) -> FaceBlock | None:
        return self._block(await self._run(self._stream.finish))

    def _block(self, frames: FaceFrames | None) -> FaceBlock | None:
        if frames is None or not len(frames.weights):
            return None
        self.frames_sent += int(frames.weights.shape[0])
        offset = int(round(frames.start_frame * self.sample_rate_hz / frames.fps))
        return FaceBlock(start_frame=frames.start_frame, weights=frames.weights, offset_samples=offset)

    def close(self) -> None:
        self._release()


def live_vad(vad: str) -> Literal["silero", "energy"]:
    """The voice-activity detector a live stream names (``request.invalid`` for others)."""
    if vad == "silero":
        return "silero"
    if vad == "energy":
        return "energy"
    raise RequestError(f"vad must be silero or energy, not {vad!r}", code="request.invalid",
                       details={"field": "vad"})
