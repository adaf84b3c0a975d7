"""A real sidecar process killed with SIGKILL while a Python client streams from it."""

from __future__ import annotations

import asyncio
import base64
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import websockets

from atelico.client import AsyncClient, ConnectionLost
from atelico.protocol.envelope import Message, decode, encode

pytestmark = [pytest.mark.slow, pytest.mark.timeout(180)]
TOKEN = "crash-token-9d2e61b0c4f8"
TEXT = ("The lighthouse keeper climbed the stairs once more. The storm had not eased since noon, "
        "and the lamp needed oil. Far below, the waves broke against the rocks. ") * 6


def start_sidecar() -> tuple[subprocess.Popen, int]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ATELICO_") or k == "ATELICO_CACHE_DIR"}
    proc = subprocess.Popen([sys.executable, "-m", "atelico", "serve", "--port", "0", "--token", TOKEN,
                             "--preload", "tts"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env={**env, "PYTHONUNBUFFERED": "1"})
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if line.startswith("ATELICO_READY"):
            return proc, int(line.split("port=")[1])
        if not line and proc.poll() is not None:
            break
    proc.kill()
    raise RuntimeError(f"sidecar did not start: {proc.stderr.read()[-2000:]}")


async def test_sigkill_mid_stream_raises_connection_lost_and_keeps_every_chunk(tally):
    """Three streams and a transcription are in flight when the sidecar is SIGKILLed: each
    request still pending raises ConnectionLost after yielding every chunk the client had already
    received (contiguous sequences); a later request raises ConnectionLost at once; the
    sidecar's stderr never held the token or the audio."""
    proc, port = start_sidecar()
    audio = (np.random.default_rng(3).standard_normal(16000 * 30) * 0.1).astype(np.float32)
    try:
        # a raw socket with the token in its URL: the request line must not reach the logs
        async with websockets.connect(f"ws://127.0.0.1:{port}/v1/ws?token={TOKEN}") as raw:
            await raw.send(encode(Message("hello", {"protocol": 1, "client": "raw"})))
            assert decode(await asyncio.wait_for(raw.recv(), 30)).type == "welcome"
        client = await AsyncClient.connect(f"ws://127.0.0.1:{port}/v1/ws", token=TOKEN)
        got: dict[int, list[int]] = {i: [] for i in range(3)}
        outcome: dict[str, BaseException | None] = {}

        async def stream(i: int) -> None:
            try:
                async for chunk in client.synthesize_stream(TEXT, voice="af_heart" if i else None):
                    got[i].append(chunk.sequence)
                    await asyncio.sleep(0.3)  # a slow consumer: chunks pile up in the client
                outcome[f"s{i}"] = None
            except BaseException as exc:  # noqa: BLE001 - recorded for the assertions
                outcome[f"s{i}"] = exc

        async def transcribe() -> None:
            try:
                await client.transcribe(audio, 16000, model="whisper")
                outcome["stt"] = None
            except BaseException as exc:  # noqa: BLE001
                outcome["stt"] = exc

        tasks = [asyncio.create_task(stream(i)) for i in range(3)] + [asyncio.create_task(transcribe())]
        deadline = time.monotonic() + 90
        while len(got[0]) < 2 and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        assert len(got[0]) >= 2, "no chunks arrived before the deadline"
        received = {i: len(got[i]) + client._pending[f"py{i + 1}"].queue.qsize()
                    for i in range(3) if f"py{i + 1}" in client._pending}
        finished_before = {name for name, exc in outcome.items() if exc is None}
        os.kill(proc.pid, signal.SIGKILL)
        tally.fault()
        await asyncio.wait_for(asyncio.gather(*tasks), 30)
        assert {"s0", "s1", "s2"}.isdisjoint(finished_before)
        for name, exc in outcome.items():
            if name in finished_before:
                continue  # completed normally before the kill (fair scheduling lets it through)
            assert tally.check(isinstance(exc, ConnectionLost), f"{name} ended with {exc!r}"), outcome
            assert exc.code == "connection.lost"
        for i, seqs in got.items():
            assert tally.check(seqs == list(range(len(seqs))), f"stream {i} has gaps: {seqs}")
            assert tally.check(len(seqs) >= received.get(i, 0), f"stream {i} lost received chunks")
        with pytest.raises(ConnectionLost):
            await asyncio.wait_for(client.models(), 5)
        await client.close()
    finally:
        proc.kill()
        proc.wait(10)
        stderr = proc.stderr.read()
        proc.stdout.close()
        proc.stderr.close()
    assert "listening on" in stderr  # the log was captured at info level
    assert tally.check(TOKEN not in stderr, "token in sidecar stderr"), stderr[-3000:]
    assert base64.b64encode(audio.tobytes()[:300]).decode()[:40] not in stderr
