"""The service on its own: a real registry over the fake engines (tests/reliability/fakes.py),
no server, no socket. Typed speech events, numbering, streamed text, live and face streams
through the worker pool."""

from __future__ import annotations

import concurrent.futures
import threading
from pathlib import Path
from typing import Callable, Iterator, TypeVar

import numpy as np
import pytest

from atelico.config import load_settings
from atelico.errors import Cancelled, RequestError
from atelico.models.registry import ModelRegistry
from atelico.scheduler import FairPool, Flow
from atelico.service import Service
from atelico.speech import FaceBlock, SpeechDone, SpeechEvent, TtsPiece
from tests.reliability import fakes

T = TypeVar("T")
CHUNK = int(0.05 * fakes.TTS_RATE_HZ)  # the fake TTS speaks 0.05 s per word


class CountingPool(FairPool):
    """A FairPool that counts the jobs submitted to it (which work went through the pool)."""

    def __init__(self, workers: int) -> None:
        super().__init__(workers)
        self.submitted = 0

    def submit(self, fn: Callable[[], T], flow: Flow, *, bulk: bool = False,
               urgent: bool = False) -> "concurrent.futures.Future[T]":
        self.submitted += 1
        return super().submit(fn, flow, bulk=bulk, urgent=urgent)


@pytest.fixture
def service(tmp_path: Path) -> Iterator[Service]:
    fakes.reset()
    settings = load_settings({"models": {"cache_dir": str(tmp_path), "workers": 2, "idle_unload_s": 0,
                                         "preload": []}}, env={})
    registry = ModelRegistry(settings, catalog=fakes.catalog(), defaults=fakes.DEFAULTS)
    svc = Service(settings, registry, pool=CountingPool(2))
    yield svc
    svc.close()
    registry.close()


def pieces_of(events: list[SpeechEvent]) -> list[TtsPiece]:
    return [e for e in events if isinstance(e, TtsPiece)]


def test_speech_events_are_numbered_once_and_end_with_done(service: Service) -> None:
    events = list(service.speech_events(model="fake-tts", text="one two three", voice=None, speed=1.0,
                                        language=None, character=None, cancel=threading.Event()))
    pieces = pieces_of(events)
    assert [p.sequence for p in pieces] == [0, 1, 2]
    assert [p.offset_samples for p in pieces] == [0, CHUNK, 2 * CHUNK]
    assert [p.words[0]["start_s"] for p in pieces] == [0.0, 0.05, 0.1]  # utterance-relative
    assert events[-1] == SpeechDone(model="fake-tts", voice="alpha", chunks=3, samples=3 * CHUNK,
                                    sample_rate_hz=fakes.TTS_RATE_HZ)
    assert len(events) == 4


def test_the_audio_only_pieces_drop_the_done(service: Service) -> None:
    pieces = list(service.tts_pieces(model="fake-tts", text="a b", voice="beta", speed=1.0, language=None,
                                     cancel=threading.Event()))
    assert [type(p) for p in pieces] == [TtsPiece, TtsPiece]


def test_a_model_of_the_wrong_kind_is_refused(service: Service) -> None:
    with pytest.raises(RequestError) as wrong:
        service.check_kind("fake-stt", "tts")
    assert wrong.value.code == "request.wrong_model_kind"


async def test_synthesize_async_names_the_voice_it_spoke_with(service: Service) -> None:
    result = await service.synthesize_async(model="fake-tts", text="hello there", voice=None)
    assert (result.model, result.voice, len(result.audio)) == ("fake-tts", "alpha", 2 * CHUNK)
    assert [w["word"] for w in result.words] == ["hello", "there"]


async def test_a_cancelled_synthesis_has_no_done_and_raises(service: Service) -> None:
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(Cancelled):
        await service.synthesize_async(model="fake-tts", text="never spoken", voice=None, cancel=cancel)


class ScriptedText:
    """A TextInput: what is ``ready`` at each call, then what ``wait`` delivers."""

    def __init__(self, ready: list[list[str | None]], waits: list[list[str | None]]) -> None:
        self._ready, self._waits = ready, waits

    def ready(self) -> list[str | None]:
        return self._ready.pop(0) if self._ready else []

    async def wait(self) -> list[str | None]:
        return self._waits.pop(0)


async def test_streamed_text_is_one_utterance(service: Service) -> None:
    """Text in pieces (some ready at once, some waited for): the pieces continue one another
    (numbers, sample offsets) and the done counts them all."""
    text = ScriptedText(ready=[["Stay close to the fire. ", "The wolves"]],
                        waits=[[" are out tonight."], [None]])
    events = [e async for e in service.speak_text_stream(text, model="fake-tts", voice=None, speed=1.0,
                                                         language=None, character=None)]
    pieces = pieces_of(events)
    assert " ".join(p.text for p in pieces) == "Stay close to the fire. The wolves are out tonight."
    assert [p.sequence for p in pieces] == list(range(len(pieces)))
    assert [p.offset_samples for p in pieces] == [i * CHUNK for i in range(len(pieces))]
    done = events[-1]
    assert isinstance(done, SpeechDone) and done.chunks == len(pieces) == 10


async def test_face_streams_report_where_each_block_starts(service: Service) -> None:
    stream = await service.face_stream(character="claire", sample_rate_hz=16_000, model="fake-face")
    try:
        first = await stream.push(np.zeros(16_000, np.float32))  # 1 s: 30 frames
        second = await stream.push(np.zeros(8_000, np.float32))  # 0.5 s: 15 more
        nothing = await stream.push(np.zeros(100, np.float32))  # not a whole frame yet
        tail = await stream.finish()  # rounds up to a whole frame
    finally:
        stream.close()
    assert isinstance(first, FaceBlock) and (first.start_frame, len(first.weights), first.offset_samples) == (0, 30, 0)
    assert second is not None and (second.start_frame, second.offset_samples) == (30, 16_000)
    assert nothing is None
    assert tail is not None and (tail.start_frame, len(tail.weights), tail.offset_samples) == (45, 1, 24_000)
    assert stream.frames_sent == 46


async def test_a_face_stream_refuses_an_unknown_character(service: Service) -> None:
    with pytest.raises(RequestError) as unknown:
        await service.face_stream(character="nobody", model="fake-face")
    assert unknown.value.code == "face.unknown_character"


async def test_live_transcription_pushes_and_finishes_in_the_pool(service: Service) -> None:
    """Every step of a live stream (open, push, finish) is a job of the service's pool."""
    pool = service._pool
    assert isinstance(pool, CountingPool)
    live = await service.live_stream(model="fake-stt", language="en", vad="energy", partials=False)
    try:
        opened = pool.submitted
        assert opened == 1
        await live.push(np.zeros(8_000, np.float32), 16_000)
        assert pool.submitted == opened + 1
        await live.finish()
        assert pool.submitted == opened + 2
    finally:
        live.close()
    assert live.received_s == pytest.approx(0.5)
    assert live.finals == 0  # silence: nothing was said


async def test_an_unknown_vad_is_a_request_error(service: Service) -> None:
    with pytest.raises(RequestError) as bad:
        await service.live_stream(model="fake-stt", language=None, vad="webrtc", partials=True)
    assert bad.value.details.get("field") == "vad"
