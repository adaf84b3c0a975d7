"""Sustained mixed load on loopback: memory stays flat and every request ends exactly once."""

from __future__ import annotations

import asyncio
import gc
import random
import time
from collections import Counter

import httpx
import numpy as np
import pytest
import websockets

from atelico.protocol.envelope import Message, decode, encode
from tests.reliability import fakes
from tests.reliability.conftest import TOKEN, connect, wait_idle

pytestmark = pytest.mark.timeout(120)
PCM16 = {"sample_rate_hz": 16000, "sample_format": "s16le", "channels": 1}
SOAK_S = 20.0
WARMUP_S = 4.0


def rss_mb() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


async def ws_worker(live, stop_at: float, seed: int, counts: Counter, tally) -> None:
    """One client looping over streams, transcriptions, face, bad frames, cancels, drops."""
    rng = random.Random(seed)
    clip = (np.random.default_rng(seed).standard_normal(16000) * 2000).astype("<i2").tobytes()
    n = 0
    while time.monotonic() < stop_at:
        ws = await connect(live)
        try:
            for _ in range(rng.randint(3, 8)):
                n += 1
                rid = f"r{n}"
                kind = rng.choice(["stream", "stream", "stt", "face", "bad", "cancel", "drop"])
                if kind in ("stream", "cancel", "drop"):
                    await ws.send(encode(Message("tts.synthesize", {"input": " ".join(["word"] * 30),
                                                                    "stream": True}, id=rid)))
                elif kind == "stt":
                    await ws.send(encode(Message("stt.transcribe", {"model": "fake-stt", **PCM16}, id=rid,
                                                 payload=clip)))
                elif kind == "face":
                    await ws.send(encode(Message("face.run", PCM16, id=rid, payload=clip)))
                else:
                    await ws.send(encode(Message("tts.synthesize", {"input": 7}, id=rid)))
                    tally.bad()
                if kind == "cancel":
                    await asyncio.sleep(rng.uniform(0, 0.05))
                    await ws.send(encode(Message("cancel", {}, id=rid)))
                    tally.fault()
                if kind == "drop":
                    await asyncio.sleep(rng.uniform(0, 0.05))
                    ws.transport.abort()
                    tally.fault()
                    counts["dropped"] += 1
                    break
                terminals = []
                while True:
                    msg = decode(await asyncio.wait_for(ws.recv(), 20), max_frame_bytes=2**26)
                    if msg.id == rid and msg.type in ("done", "error", "cancelled"):
                        terminals.append(msg.type)
                        break
                counts[terminals[0]] += 1
        except (websockets.ConnectionClosed, OSError):
            pass
        finally:
            await ws.close()


async def http_worker(live, stop_at: float, counts: Counter) -> None:
    async with httpx.AsyncClient(base_url=live.http, headers=live.headers, timeout=30) as http:
        while time.monotonic() < stop_at:
            r = await http.post("/v1/audio/speech", json={"model": "fake-tts", "input": "soak " * 20,
                                                          "response_format": "wav"})
            counts[f"http{r.status_code}"] += 1


async def test_memory_stays_flat_under_sustained_mixed_load(fake_server, tally):
    """20 s of concurrent streams, transcriptions, face, bad requests, cancels and dropped
    connections over WS and HTTP: RSS after the load is within 25 MB of RSS after warm-up;
    the server ends idle (no admitted job, connection, model reference or open generator)."""
    fakes.KNOBS.tts_chunk_s = 0.002
    counts: Counter = Counter()
    start = time.monotonic()
    warm_counts: Counter = Counter()
    await asyncio.gather(*(ws_worker(fake_server, start + WARMUP_S, s, warm_counts, tally) for s in range(4)),
                         http_worker(fake_server, start + WARMUP_S, warm_counts))
    gc.collect()
    wait_idle(fake_server)
    before_mb = rss_mb()
    stop_at = time.monotonic() + SOAK_S
    await asyncio.gather(*(ws_worker(fake_server, stop_at, 100 + s, counts, tally) for s in range(6)),
                         http_worker(fake_server, stop_at, counts))
    status = wait_idle(fake_server, timeout_s=15)
    gc.collect()
    after_mb = rss_mb()
    requests = sum(v for k, v in counts.items() if k != "dropped")
    print(f"soak: {requests} requests {dict(counts)}; RSS {before_mb:.1f} -> {after_mb:.1f} MB")
    assert requests > 300, counts
    assert counts["done"] > 100 and counts["error"] > 10 and counts["http200"] > 20
    assert tally.check(after_mb - before_mb < 25, f"RSS grew {after_mb - before_mb:.1f} MB"), (before_mb, after_mb)
    assert status["queue_depth"] == 0
    await asyncio.sleep(0.5)
    assert wait_idle(fake_server)["connections"] == 0
    registry = fake_server.app.state.service.registry
    assert all(slot.refcount == 0 for slot in registry._slots.values())
    assert tally.check(fakes.STATS.streams_started == fakes.STATS.streams_closed, "open generators left")
