"""Cancel right behind its request: every request still ends with exactly one terminal message.

A ``cancel`` that arrives in the same read as its request cancels the request's task before
it first runs; such a task never enters its ``try``, so nothing answered it and its id stayed
in flight forever (then ``request.duplicate_id``, then ``limits.too_many_requests``).
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter
from typing import Any

import pytest

from atelico.protocol.envelope import Message, decode, encode
from tests.reliability.conftest import TERMINAL, connect, wait_idle

pytestmark = pytest.mark.timeout(240)

CHEAP = (("models.list", {}), ("voices.list", {}))
TTS = ("tts.synthesize", {"input": "skip this line at once please", "stream": True})


def frame(mtype: str, data: dict, rid: str) -> bytes:
    return encode(Message(mtype, data, id=rid))


class Ledger:
    """What each id received: its terminal messages (must be exactly one) and its order."""

    def __init__(self) -> None:
        self.terminals: Counter[str] = Counter()
        self.outcomes: Counter[str] = Counter()
        self.sent: list[str] = []

    def lost(self) -> list[str]:
        return [rid for rid in self.sent if self.terminals[rid] == 0]

    def duplicated(self) -> list[str]:
        return [rid for rid, n in self.terminals.items() if n > 1]


async def reader(ws: Any, ledger: Ledger, arrived: asyncio.Queue) -> None:
    """Read every message of a socket into the ledger; each terminal is announced on ``arrived``."""
    try:
        while True:
            msg = decode(await ws.recv(), max_frame_bytes=2**26)
            if msg.type in TERMINAL and msg.id is not None:
                ledger.terminals[msg.id] += 1
                ledger.outcomes[msg.type if msg.type != "error" else msg.data.get("code", "error")] += 1
                arrived.put_nowait(msg.id)
    except Exception:  # the socket closed at the end of the test
        return


async def pairs(live: Any, ledger: Ledger, prefix: str, n: int, kinds: tuple, max_gap_s: float,
                seed: int) -> None:
    """``n`` request/cancel pairs on one socket, with a random gap (0..max_gap_s) between the
    two; waits (bounded) for each id's terminal before the next pair, so the per-socket
    in-flight limit is never what answers."""
    rng = random.Random(seed)
    ws = await connect(live)
    arrived: asyncio.Queue = asyncio.Queue()
    task = asyncio.create_task(reader(ws, ledger, arrived))
    try:
        for i in range(n):
            mtype, data = kinds[i % len(kinds)]
            rid = f"{prefix}{i}"
            ledger.sent.append(rid)
            gap = rng.choice((0.0, 0.0, rng.uniform(0, max_gap_s)))
            await ws.send(frame(mtype, data, rid))
            if gap:
                await asyncio.sleep(gap)
            await ws.send(frame("cancel", {}, rid))
            deadline = time.monotonic() + 5.0
            while ledger.terminals[rid] == 0 and time.monotonic() < deadline:
                try:
                    await asyncio.wait_for(arrived.get(), max(0.01, deadline - time.monotonic()))
                except (asyncio.TimeoutError, TimeoutError):
                    break
    finally:
        await asyncio.sleep(0.1)  # a late duplicate of the last id would arrive meanwhile
        await ws.close()
        await task


async def test_cancel_in_the_same_read_as_its_request_still_gets_one_terminal(fake_server, tally):
    """Regression: request + cancel written back to back (one TCP read on the server) left
    most ids without a terminal. Now each gets exactly one, and each id is free again
    (reusing it is not ``request.duplicate_id``)."""
    ws = await connect(fake_server)
    ledger = Ledger()
    arrived: asyncio.Queue = asyncio.Queue()
    task = asyncio.create_task(reader(ws, ledger, arrived))
    limit = fake_server.settings.limits.max_in_flight
    try:
        for round_ in range(4):
            ids = [f"r{round_}-{i}" for i in range(limit)]
            for rid in ids:  # all frames of a round leave in one burst
                mtype, data = CHEAP[len(ledger.sent) % 2]
                ledger.sent.append(rid)
                await ws.send(frame(mtype, data, rid))
                await ws.send(frame("cancel", {}, rid))
            deadline = time.monotonic() + 5.0
            while any(ledger.terminals[r] == 0 for r in ids) and time.monotonic() < deadline:
                try:
                    await asyncio.wait_for(arrived.get(), max(0.01, deadline - time.monotonic()))
                except (asyncio.TimeoutError, TimeoutError):
                    break
            for rid in ids:
                tally.check(ledger.terminals[rid] == 1, f"{rid}: {ledger.terminals[rid]} terminals")
        assert ledger.lost() == [] and ledger.duplicated() == [], (ledger.lost(), ledger.duplicated())
        # the ids are free: reuse one, it runs to done
        await ws.send(frame("models.list", {}, "r0-0"))
        deadline = time.monotonic() + 5.0
        while ledger.terminals["r0-0"] < 2 and time.monotonic() < deadline:
            await asyncio.wait_for(arrived.get(), max(0.01, deadline - time.monotonic()))
        assert ledger.terminals["r0-0"] == 2
        assert "request.duplicate_id" not in ledger.outcomes
        assert "limits.too_many_requests" not in ledger.outcomes
    finally:
        await ws.close()
        await task


@pytest.mark.parametrize("kinds, per_socket, label", [
    (CHEAP, 600, "models.list/voices.list"),
    ((TTS,), 250, "tts.synthesize"),
])
async def test_thousands_of_request_cancel_pairs_lose_no_terminal(fake_server, tally, capsys,
                                                                  kinds, per_socket, label):
    """Reliability: 4 sockets at once, each ``per_socket`` request/cancel pairs with random
    gaps from 0 to 3 ms: zero lost terminals, zero duplicates; the queue ends empty."""
    ledger = Ledger()
    sockets = 4
    await asyncio.gather(*(pairs(fake_server, ledger, f"s{k}-", per_socket, kinds, 0.003, seed=k)
                           for k in range(sockets)))
    lost, dup = ledger.lost(), ledger.duplicated()
    tally.bad(len(ledger.sent))
    for rid in lost:
        tally.check(False, f"{rid}: no terminal")
    for rid in dup:
        tally.check(False, f"{rid}: {ledger.terminals[rid]} terminals")
    with capsys.disabled():
        print(f"\ncancel race [{label}]: {len(ledger.sent)} pairs tried, {len(lost)} terminals lost, "
              f"{len(dup)} duplicated; outcomes {dict(ledger.outcomes)}")
    assert len(ledger.sent) == sockets * per_socket
    assert lost == [] and dup == [], (lost[:10], dup[:10])
    assert set(ledger.outcomes) <= {"done", "cancelled"}, ledger.outcomes
    assert wait_idle(fake_server)["queue_depth"] == 0
