"""The conversation joints on a real sidecar: text written in pieces as a language model
produces it (``input_stream`` + ``tts.text`` … ``tts.text.end``) and barge-in (a ``cancel``
with ``played_samples`` whose ``cancelled`` reports what was heard)."""

from __future__ import annotations

import asyncio

import pytest

from atelico.client import AsyncClient, Heard
from atelico.errors import Cancelled
from atelico.protocol import tts as tts_proto
from atelico.protocol.envelope import Message, decode, encode
from tests.conftest import TEST_TOKEN
from tests.server.test_ws import raw, until_terminal

pytestmark = pytest.mark.slow

REPLY = ("Stay close to the fire, traveller. The night is long and the wolves are hungry, "
         "so keep your blade near. Dawn comes soon.")
FRAME = 800  # samples of one 30 fps face frame at 24 kHz


def _tokens(text: str) -> list[str]:
    """Split like a language model's stream: words with their leading space, some cut in two."""
    out: list[str] = []
    for i, word in enumerate(text.split(" ")):
        piece = word if i == 0 else " " + word
        out.extend([piece[:3], piece[3:]] if len(piece) > 6 else [piece])
    return out


async def test_streamed_text_is_spoken_as_one_utterance_before_the_text_ends(live_server) -> None:
    """Speech starts while the reply is still being written, and the parts join into one
    utterance: contiguous samples, ordered word times, the words written, one face stream."""
    async with await AsyncClient.connect(live_server.ws, token=TEST_TOKEN) as client:
        async with client.speech(text_stream=True, voice="af_heart", character="claire") as sp:
            tokens = _tokens(REPLY)
            first_sentence = len(_tokens("Stay close to the fire, traveller.")) + 1  # + " The"
            for tok in tokens[:first_sentence]:
                await sp.write(tok)
            chunks = sp.chunks()
            first = await asyncio.wait_for(chunks.__anext__(), 120)  # before the rest is written
            for tok in tokens[first_sentence:]:
                await sp.write(tok)
            await sp.end()
            got = [first] + [c async for c in chunks]
            done = await sp.wait()
    assert done["chunks"] == len(got)
    offset = 0
    for c in got:
        assert c.offset_samples == offset
        offset += len(c.audio)
    assert done["duration_s"] == pytest.approx(offset / 24000, abs=1e-5)
    words = [w for c in got for w in c.words]
    starts = [w["start_s"] for w in words]
    assert starts == sorted(starts) and words[-1]["end_s"] <= offset / 24000 + 0.05
    assert " ".join(c.text for c in got).split() == REPLY.split()
    frames = [(c.face_start_frame, len(c.face)) for c in got if c.face is not None]
    for (start, count), (nxt, _) in zip(frames, frames[1:]):
        assert nxt == start + count  # no gap, no overlap across parts
    assert frames[0][0] == 0
    assert REPLY.startswith(first.text)


async def test_a_barge_in_reports_the_words_heard(live_server) -> None:
    """Cancel with played_samples while the server still speaks: the cancelled terminal
    carries the position and the words at least half played, nothing else follows."""
    async with await AsyncClient.connect(live_server.ws, token=TEST_TOKEN) as client:
        async with client.speech(REPLY + " " + REPLY, voice="af_heart") as sp:
            chunks = sp.chunks()
            words: list[dict] = []
            while len(words) < 3:  # the first chunks (windows) may hold a word or two each
                words += (await asyncio.wait_for(chunks.__anext__(), 120)).words
            cut_s = (words[1]["end_s"] + words[2]["start_s"]) / 2  # between the 2nd and 3rd word
            heard = await sp.barge_in(int(cut_s * 24000))
            with pytest.raises(Cancelled) as ended:
                await sp.wait()
        assert await client.models()  # the socket still serves; nothing late came for the id
    assert heard.played_samples == int(cut_s * 24000)
    assert [w["word"] for w in heard.words] == [w["word"] for w in words[:2]]
    assert heard.text == " ".join(w["word"].strip() for w in words[:2])
    assert ended.value.details["played_samples"] == heard.played_samples  # from the server


async def test_a_barge_in_past_what_was_sent_is_clamped(live_server) -> None:
    """The player cannot have heard audio the server never sent."""
    ws, _ = await raw(live_server)
    await ws.send(_synth("b1", REPLY * 3))
    msgs = []
    while True:  # the first chunk, then barge in far beyond it
        msg = decode(await asyncio.wait_for(ws.recv(), 120))
        if msg.id == "b1":
            msgs.append(msg)
            if msg.type == "tts.chunk":
                break
    await ws.send(encode(Message("cancel", {"played_samples": 10**9}, id="b1")))
    rest = await until_terminal(ws, "b1")
    await ws.close()
    chunks = [m for m in msgs + rest if m.type == "tts.chunk"]
    sent = chunks[-1].data["offset_samples"] + round(chunks[-1].data["duration_s"] * 24000)
    end = rest[-1]
    assert end.type == "cancelled"
    assert end.data["played_samples"] == pytest.approx(sent, abs=1)
    assert len(end.data["words"]) == sum(len(c.data["words"]) for c in chunks)


def _synth(rid: str, text: str) -> bytes:
    return encode(Message("tts.synthesize", {"input": text, "voice": "af_heart", "stream": True}, id=rid))


async def test_a_stream_already_done_is_answered_by_the_client(live_server) -> None:
    """All audio arrived (the NPC is still playing it): the client applies the same rule."""
    async with await AsyncClient.connect(live_server.ws, token=TEST_TOKEN) as client:
        async with client.speech("Look out! Wolves behind you.", voice="af_heart") as sp:
            got = [c async for c in sp.chunks()]
            await sp.wait()
            words = [w for c in got for w in c.words]
            mid = words[0]["end_s"] + 0.01
            heard = await sp.barge_in(int(mid * 24000))
    assert isinstance(heard, Heard) and heard.words == words[:1]
    assert heard.played_s == pytest.approx(mid, abs=1e-4)


async def test_bad_barge_in_and_stray_text_get_clear_errors(live_server) -> None:
    """A malformed played_samples, text for a request that takes none, and text that is not
    a string are refused with codes; the speech request itself still ends once, with done."""
    ws, _ = await raw(live_server)
    await ws.send(_synth("s1", "Hello there."))
    await ws.send(encode(Message("cancel", {"played_samples": -5}, id="s1")))
    await ws.send(encode(Message("tts.text", {"text": "more"}, id="s1")))
    await ws.send(encode(Message("tts.synthesize", {"input_stream": True, "voice": "af_heart"}, id="s2")))
    await ws.send(encode(Message("tts.text", {"text": 42}, id="s2")))
    await ws.send(encode(Message("tts.text", {"text": "Fine then."}, id="s2")))
    await ws.send(encode(Message("tts.text.end", {}, id="s2")))
    codes, ends = [], {}
    while len(ends) < 2:
        msg = decode(await asyncio.wait_for(ws.recv(), 120))
        if msg.type == "error" and msg.id is None:
            codes.append(msg.data["code"])
        elif msg.type in ("done", "error", "cancelled"):
            assert msg.id not in ends
            ends[msg.id] = msg
    await ws.close()
    assert codes == ["request.invalid", "request.unknown_id", "request.invalid"]
    assert ends["s1"].type == "done" and ends["s2"].type == "done"
    assert ends["s2"].data["chunks"] >= 1


async def test_cancelling_a_text_stream_that_waits_for_text(live_server) -> None:
    """A reply whose writer went quiet ends at once on cancel (nothing is being spoken)."""
    async with await AsyncClient.connect(live_server.ws, token=TEST_TOKEN) as client:
        async with client.speech(text_stream=True, voice="af_heart") as sp:
            await sp.write("Hmm")  # no boundary yet: nothing to speak
            heard = await sp.barge_in(0)
            with pytest.raises(Cancelled):
                await sp.wait()
    assert heard.words == [] and heard.played_samples == 0


def test_heard_is_the_words_at_least_half_played() -> None:
    words = [{"word": "Stay", "start_s": 0.1, "end_s": 0.3}, {"word": "close", "start_s": 0.3, "end_s": 0.7}]
    assert tts_proto.heard(words, played_samples=int(0.49 * 1000), sent_samples=10**6,
                           sample_rate_hz=1000)["text"] == "Stay"
    got = tts_proto.heard(words, played_samples=int(0.5 * 1000), sent_samples=10**6, sample_rate_hz=1000)
    assert got["text"] == "Stay close" and got["played_s"] == 0.5
    assert tts_proto.heard(words, played_samples=900, sent_samples=200, sample_rate_hz=1000) == {
        "played_samples": 200, "played_s": 0.2, "text": "Stay", "words": words[:1]}


def test_the_blocking_client_streams_text_and_barges_in(live_server) -> None:
    """The same joints from a game's plain thread: write, read a chunk, barge in."""
    from atelico.client import Client

    with Client(live_server.ws, token=TEST_TOKEN) as client:
        with client.speech(text_stream=True, voice="af_heart") as sp:
            for tok in _tokens(REPLY):
                sp.write(tok)
            chunks = sp.chunks()
            got = [next(chunks)]
            while not any(c.words for c in got):
                got.append(next(chunks))
            played = got[-1].offset_samples + len(got[-1].audio)
            heard = sp.barge_in(played)
    words = [w for c in got for w in c.words]
    assert heard.played_samples == played
    assert [w["word"] for w in heard.words] == [w["word"] for w in words
                                               if (w["start_s"] + w["end_s"]) / 2 <= heard.played_s]
    assert heard.words
