"""The whole spoken conversation through a real sidecar (#19): a recorded question streamed
live → ``stt.speech.started`` / ``stt.speech.stopped`` → its final → a scripted reply written
word by word (as a language model would) → speech with face frames → a second recording
barges in on its ``stt.speech.started`` → the reply ends with the words the player heard.

The audio comes from a stand-in microphone, as a game's does: 100 ms frames at real-time
pace, silence between the recordings, never a pause in the stream. Every wait is on an event
and bounded; an ``stt.warning`` (audio skipped) fails at once, naming it."""

from __future__ import annotations

import asyncio
import collections
import json
from pathlib import Path
from typing import AsyncIterator, Callable

import numpy as np
import pytest

from atelico.audio.codecs import decode_file
from atelico.client import AsyncClient, SpeechEvent
from atelico.protocol.envelope import Message
from atelico.errors import Cancelled
from tests.conftest import TEST_TOKEN
from tests.helpers.wer import word_error_rate as wer

pytestmark = pytest.mark.slow

SPEECH = Path(__file__).resolve().parents[1] / "data" / "speech"
MANIFEST = {m["file"]: m for m in json.loads((SPEECH / "manifest.json").read_text())}
QUESTION = "sense_and_sensibility_01_austen_64kb-0880.wav"  # "he was not an ill disposed young man"
BARGE_IN = "goforward.wav"  # "go forward ten meters"
REPLY = ("No, he was not, traveller. But his wife was another matter entirely, and the whole "
         "village knew it. Sit by the fire and I will tell you how it began.")
FRAME = 1600  # 100 ms at 16 kHz


def _clip(name: str) -> np.ndarray:
    audio, rate = decode_file((SPEECH / name).read_bytes())
    assert rate == 16000
    return audio.astype(np.float32)


WAIT_S = 120  # per awaited event: a clear failure instead of the suite's 300 s timeout


class Mic:
    """A microphone on a live session: one 100 ms frame per 100 ms of wall time, the clips
    given to :meth:`say` in order, silence otherwise (a real mic never stops sending)."""

    def __init__(self, live) -> None:
        self.live = live
        self.frames: collections.deque[np.ndarray] = collections.deque()
        self.task: asyncio.Task[None] | None = None

    def say(self, audio: np.ndarray) -> None:
        self.frames.extend(audio[start:start + FRAME] for start in range(0, len(audio), FRAME))

    async def __aenter__(self) -> "Mic":
        self.task = asyncio.create_task(self._run())
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self.task is not None
        self.task.cancel()
        await asyncio.gather(self.task, return_exceptions=True)

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        silence = np.zeros(FRAME, np.float32)
        next_at = loop.time()
        while True:
            await self.live.send(self.frames.popleft() if self.frames else silence)
            next_at += FRAME / 16000
            await asyncio.sleep(max(0.0, next_at - loop.time()))


async def _until(results: AsyncIterator[Message], what: str,
                 wanted: Callable[[Message], bool], seen: list[str] | None = None) -> Message:
    """The first message of ``results`` that is ``wanted``; fails naming ``what`` after
    WAIT_S without it, or at once on a warning (the server skipped audio)."""
    while True:
        try:
            msg = await asyncio.wait_for(results.__anext__(), WAIT_S)
        except (asyncio.TimeoutError, TimeoutError):
            raise AssertionError(f"no {what} within {WAIT_S} s (seen: {seen})") from None
        except StopAsyncIteration:
            raise AssertionError(f"the live session ended before {what} (seen: {seen})") from None
        if seen is not None:
            seen.append(msg.type)
        assert msg.type != "stt.warning", f"waiting for {what}, the server skipped audio: {msg.data}"
        if wanted(msg):
            return msg


async def _within(aw, what: str):
    """``await aw``, failing naming ``what`` after WAIT_S."""
    try:
        return await asyncio.wait_for(aw, WAIT_S)
    except (asyncio.TimeoutError, TimeoutError):
        raise AssertionError(f"no {what} within {WAIT_S} s") from None


def _is_final(msg: Message) -> bool:
    return msg.type == "stt.final"


def _is_started(msg: Message) -> bool:
    event = SpeechEvent.from_message(msg)
    return event is not None and event.started


async def test_question_reply_and_barge_in_through_one_sidecar(live_server) -> None:
    async with await AsyncClient.connect(live_server.ws, token=TEST_TOKEN) as client:
        async with client.live(model="whisper") as live:
            results = live.results()
            async with Mic(live) as mic:
                mic.say(np.concatenate([np.zeros(8000, np.float32), _clip(QUESTION)]))
                events: list[str] = []
                final = await _until(results, "the question's stt.final", _is_final, events)
                assert events.index("stt.speech.started") < events.index("stt.speech.stopped") < len(events) - 1
                assert wer(MANIFEST[QUESTION]["transcript"], final.data["text"]) <= 0.2

                # the game's language model answers word by word; the NPC speaks with a face
                async with client.speech(text_stream=True, voice="am_adam", character="james") as sp:
                    for i, word in enumerate(REPLY.split(" ")):
                        await sp.write(word if i == 0 else " " + word)
                    chunks = sp.chunks()
                    heard_chunks = [await _within(chunks.__anext__(), "first speech chunk")]
                    while sum(len(c.words) for c in heard_chunks) < 4:
                        heard_chunks.append(await _within(chunks.__anext__(), "next speech chunk"))
                    assert all(c.face is not None and len(c.face) for c in heard_chunks)
                    # the NPC has played what arrived so far when the player talks over it
                    played = heard_chunks[-1].offset_samples + len(heard_chunks[-1].audio)

                    mic.say(_clip(BARGE_IN))
                    started = SpeechEvent.from_message(
                        await _until(results, "the barge-in's stt.speech.started", _is_started))
                    assert started is not None and live.speaking
                    heard = await _within(sp.barge_in(played), "barge-in answer")  # the instant the player talks
                    with pytest.raises(Cancelled):
                        await _within(sp.wait(), "end of the reply")  # still open (no end): the server stopped it

                words = [w["word"] for c in heard_chunks for w in c.words]
                assert heard.played_samples == played
                assert [w["word"] for w in heard.words] == words[:len(heard.words)]
                assert len(heard.words) >= 3
                assert REPLY.replace(",", "").startswith(heard.text.replace(",", ""))

                # the barge-in utterance is transcribed too
                second = await _until(results, "the barge-in's stt.final", _is_final)
                assert wer(MANIFEST[BARGE_IN]["transcript"], second.data["text"]) <= 0.25
            await live.stop()
            tail: list[str] = []
            await _until(results, "the session's done", lambda msg: msg.type == "done", tail)
            assert tail[-1] == "done"
