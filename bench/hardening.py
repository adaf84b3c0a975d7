"""Hardening: the game still gets served while hostile or greedy clients are connected.

(a) slots: the game client (with its launch token) connects, gets ``welcome`` and a short
    ``tts.synthesize`` while 200 sockets are open that never say hello, send text frames or
    a wrong token (closed sockets are reopened, so 200 stay open throughout);
(b) fairness: the game's short line, p95 alone vs while 4 other clients each keep 16 long
    streamed syntheses queued (refusals retried), over the same socket type.

It runs its own sidecar (TTS preloaded, a launch token, default limits), since the other
suites' sidecar has no token.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from typing import Any

import websockets

from atelico.errors import AtelicoError
from atelico.protocol.envelope import Message, encode

from bench.common import SHORT_LINE, median, percentile
from bench.context import Ctx
from bench.sidecar import SidecarProcess

HOSTILE_SOCKETS = 200
FLOODERS = 4
FLOOD_PER_CLIENT = 16
LONG_LINE = ("The caravan left the city before dawn, and by noon the road had turned to dust and "
             "stones, winding up into hills where nothing grew but thorn and the wind never stopped. ")


async def _game_line(url: str, token: str) -> dict[str, float]:
    """Connect with the token, then one short non-streamed synthesis: both timings."""
    from atelico.client import AsyncClient

    started = time.perf_counter()
    client = await AsyncClient.connect(url, token=token, client="bench-game")
    welcome_s = time.perf_counter() - started
    try:
        line_started = time.perf_counter()
        await client.synthesize(SHORT_LINE, model="kokoro")
        line_s = time.perf_counter() - line_started
    finally:
        await client.close()
    return {"welcome_s": welcome_s, "line_s": line_s, "total_s": time.perf_counter() - started}


class Hostiles:
    """Keeps ``n`` misbehaving sockets open: idle (no hello), text frames, wrong token."""

    def __init__(self, url: str, n: int) -> None:
        self.url, self.n = url, n
        self.opened = 0
        self.closed_by_server = 0
        self.refused = 0
        self._tasks: list[asyncio.Task] = []
        self._stop = asyncio.Event()

    async def _one(self, index: int) -> None:
        while not self._stop.is_set():
            try:
                ws = await websockets.connect(self.url, open_timeout=10)
            except Exception:  # refused (busy) or the server is slow: try again shortly
                self.refused += 1
                await asyncio.sleep(0.2)
                continue
            self.opened += 1
            try:
                if index % 8 == 1:
                    await ws.send("not msgpack")
                elif index % 8 == 2:
                    await ws.send(encode(Message("hello", {"protocol": 1, "token": "wrong"})))
                stop = asyncio.ensure_future(self._stop.wait())
                closed = asyncio.ensure_future(ws.wait_closed())
                await asyncio.wait({stop, closed}, return_when=asyncio.FIRST_COMPLETED)
                stop.cancel()
                if closed.done():
                    self.closed_by_server += 1
                closed.cancel()
            finally:
                await ws.close()

    async def open_all(self, timeout_s: float = 60.0) -> None:
        self._tasks = [asyncio.create_task(self._one(i)) for i in range(self.n)]
        deadline = time.perf_counter() + timeout_s
        while self.opened < self.n and time.perf_counter() < deadline:
            await asyncio.sleep(0.05)

    async def close(self) -> None:
        self._stop.set()
        await asyncio.gather(*self._tasks, return_exceptions=True)


async def slots(ctx: Ctx, sidecar: SidecarProcess, token: str) -> dict[str, Any]:
    reps = ctx.pick(10, 4, 2)
    await _game_line(sidecar.ws, token)  # warm
    alone = [await _game_line(sidecar.ws, token) for _ in range(reps)]
    hostiles = Hostiles(sidecar.ws, HOSTILE_SOCKETS)
    ctx.log(f"hardening: opening {HOSTILE_SOCKETS} idle/misbehaving sockets")
    await hostiles.open_all()
    try:
        during = [await _game_line(sidecar.ws, token) for _ in range(reps)]
    finally:
        open_at_end = hostiles.opened - hostiles.closed_by_server
        await hostiles.close()
    def stat(runs: list[dict[str, float]], key: str) -> dict[str, float]:
        values = [r[key] for r in runs]
        return {"p50_s": median(values), "max_s": max(values)}
    return {"hostile_sockets": HOSTILE_SOCKETS, "hostile_opened": hostiles.opened,
            "hostile_closed_by_server": hostiles.closed_by_server, "hostile_refused": hostiles.refused,
            "hostile_open_at_end": open_at_end, "reps": reps,
            "alone": {k: stat(alone, k) for k in ("welcome_s", "line_s", "total_s")},
            "during": {k: stat(during, k) for k in ("welcome_s", "line_s", "total_s")},
            "game_served_max_s": max(r["total_s"] for r in during),
            "welcome_max_s": max(r["welcome_s"] for r in during),
            "total_ratio_p50": median([r["total_s"] for r in during]) / median([r["total_s"] for r in alone])}


async def _flooder(url: str, token: str, text: str, stop: asyncio.Event, counts: dict[str, int]) -> None:
    """One greedy client: 16 long streamed syntheses kept in flight until ``stop``; then it
    hangs up (the server cancels what it still had queued)."""
    from atelico.client import AsyncClient

    client = await AsyncClient.connect(url, token=token, client="bench-flood")

    async def lane() -> None:
        while not stop.is_set():
            try:
                async for _chunk in client.synthesize_stream(text, model="kokoro"):
                    pass
                counts["done"] += 1
            except AtelicoError as exc:
                counts[exc.code] = counts.get(exc.code, 0) + 1
                if exc.code.startswith("connection."):
                    return
                await asyncio.sleep(0.1)

    lanes = [asyncio.create_task(lane()) for _ in range(FLOOD_PER_CLIENT)]
    await stop.wait()
    await client.close()
    await asyncio.gather(*lanes, return_exceptions=True)


async def fairness(ctx: Ctx, sidecar: SidecarProcess, token: str) -> dict[str, Any]:
    from atelico.client import AsyncClient

    reps = ctx.pick(20, 8, 3)
    async with await AsyncClient.connect(sidecar.ws, token=token, client="bench-game") as game:
        async def line() -> float:
            started = time.perf_counter()
            await game.synthesize(SHORT_LINE, model="kokoro")
            return time.perf_counter() - started

        await line()
        alone = [await line() for _ in range(reps)]
        stop = asyncio.Event()
        counts: dict[str, int] = {"done": 0}
        ctx.log(f"hardening: {FLOODERS} clients x {FLOOD_PER_CLIENT} long syntheses flood the queue")
        text = LONG_LINE * ctx.pick(3, 2, 1)
        flood = [asyncio.create_task(_flooder(sidecar.ws, token, text, stop, counts)) for _ in range(FLOODERS)]
        await asyncio.sleep(ctx.pick(3.0, 2.0, 1.0))  # the queue is full of long work
        during: list[float] = []
        game_refusals: dict[str, int] = {}
        try:
            for _ in range(reps):
                try:
                    during.append(await line())
                except AtelicoError as exc:
                    game_refusals[exc.code] = game_refusals.get(exc.code, 0) + 1
        finally:
            stop.set()
            await asyncio.gather(*flood, return_exceptions=True)
    p95_alone, p95_during = percentile(alone, 95), percentile(during, 95) if during else float("nan")
    return {"reps": reps, "flooders": FLOODERS, "flood_per_client": FLOOD_PER_CLIENT,
            "alone_p50_s": median(alone), "alone_p95_s": p95_alone,
            "during_p50_s": median(during) if during else float("nan"), "during_p95_s": p95_during,
            "p95_ratio": p95_during / p95_alone, "game_refusals": game_refusals,
            "flood_outcomes": counts}


async def run(ctx: Ctx) -> dict[str, Any]:
    token = secrets.token_hex(16)
    sidecar = SidecarProcess("tts", extra_env={"ATELICO_TOKEN": token})
    await asyncio.to_thread(sidecar.start)
    try:
        return {"slots": await slots(ctx, sidecar, token),
                "fairness": await fairness(ctx, sidecar, token)}
    finally:
        sidecar.stop()
