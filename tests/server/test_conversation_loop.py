"""The whole spoken conversation through a real sidecar (#19): a recorded question streamed
live → ``stt.speech.started`` / ``stt.speech.stopped`` → its final → a scripted reply written
word by word (as a language model would) → speech with face frames → a second recording
barges in on its ``stt.speech.started`` → the reply ends with the words the player heard.

The audio is sent as fast as the socket takes it (the VAD and the decoder only see samples,
not wall time), so the test waits on events, never on the clock."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import numpy as np
import pytest

from atelico.audio.codecs import decode_file
from atelico.client import AsyncClient, SpeechEvent
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


async def _send(live, audio: np.ndarray) -> None:
    for start in range(0, len(audio), FRAME):
        await live.send(audio[start:start + FRAME])


async def test_question_reply_and_barge_in_through_one_sidecar(live_server) -> None:
    silence = np.zeros(16000, np.float32)
    async with await AsyncClient.connect(live_server.ws, token=TEST_TOKEN) as client:
        async with client.live(model="whisper") as live:
            results = live.results()
            await _send(live, np.concatenate([silence[:8000], _clip(QUESTION), silence]))
            events: list[str] = []
            final = None
            async for msg in results:  # until the question's final
                events.append(msg.type)
                if msg.type == "stt.final":
                    final = msg
                    break
            assert final is not None
            assert events.index("stt.speech.started") < events.index("stt.speech.stopped") < len(events) - 1
            assert wer(MANIFEST[QUESTION]["transcript"], final.data["text"]) <= 0.2

            # the game's language model answers word by word; the NPC speaks with a face
            async with client.speech(text_stream=True, voice="am_adam", character="james") as sp:
                for i, word in enumerate(REPLY.split(" ")):
                    await sp.write(word if i == 0 else " " + word)
                chunks = sp.chunks()
                heard_chunks = [await asyncio.wait_for(chunks.__anext__(), 120)]
                while sum(len(c.words) for c in heard_chunks) < 4:
                    heard_chunks.append(await asyncio.wait_for(chunks.__anext__(), 120))
                assert all(c.face is not None and len(c.face) for c in heard_chunks)
                # the NPC has played what arrived so far when the player talks over it
                played = heard_chunks[-1].offset_samples + len(heard_chunks[-1].audio)

                await _send(live, np.concatenate([_clip(BARGE_IN), silence]))
                started = None
                async for msg in results:
                    event = SpeechEvent.from_message(msg)
                    if event is not None and event.started:
                        started = event
                        break
                assert started is not None and live.speaking
                heard = await sp.barge_in(played)  # the instant the player starts talking
                with pytest.raises(Cancelled):
                    await sp.wait()  # still open (the reply had no end): the server stopped it

            words = [w["word"] for c in heard_chunks for w in c.words]
            assert heard.played_samples == played
            assert [w["word"] for w in heard.words] == words[:len(heard.words)]
            assert len(heard.words) >= 3
            assert REPLY.replace(",", "").startswith(heard.text.replace(",", ""))

            second = None
            async for msg in results:  # the barge-in utterance is transcribed too
                if msg.type == "stt.final":
                    second = msg
                    break
            assert second is not None
            assert wer(MANIFEST[BARGE_IN]["transcript"], second.data["text"]) <= 0.25
            await live.stop()
            tail = [msg.type async for msg in results]
            assert tail[-1] == "done"
