"""Hardening: the game still gets served while hostile or greedy clients are connected.

(a) slots: the game client (with its launch token) connects, gets ``welcome`` and a short
    ``tts.synthesize`` while 200 sockets are open that never say hello, send text frames or
    a wrong token (closed sockets are reopened, so 200 stay open throughout);
(b) fairness: the game's short line, alone vs while 4 other clients each keep 16 long
    streamed syntheses in flight (refusals retried), over the same socket type.

Every party is its own process, so the harness cannot starve itself: the hostile sockets
(one process), each flooder (one process each) and the game client (a fresh process per
measurement series, timing itself) run apart from the orchestrator, which only starts and
stops them (``python -m bench.hardening <role> ...``; a role prints ``READY`` once it is set
up, runs until its stdin closes, then prints one JSON line of counts). Reported: median, p95
and worst for the welcome and the short line.

It runs its own sidecar (TTS preloaded, a launch token, default limits), since the other
suites' sidecar has no token.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import subprocess
import sys
import time
from typing import Any, Sequence

from bench.common import ROOT, SHORT_LINE, load_avg, median, percentile
from bench.context import Ctx
from bench.sidecar import SidecarProcess

HOSTILE_SOCKETS = 200
FLOODERS = 4
FLOOD_PER_CLIENT = 16
LONG_LINE = ("The caravan left the city before dawn, and by noon the road had turned to dust and "
             "stones, winding up into hills where nothing grew but thorn and the wind never stopped. ")


# ---------------------------------------------------------------------- the roles (child processes)
async def _game(url: str, token: str, mode: str, reps: int) -> list[dict[str, float]]:
    """``slots``: ``reps`` x (connect with the token, wait for welcome, one short line);
    ``line``: one connection, then ``reps`` short lines. One warm-up of each first."""
    from atelico.client import AsyncClient

    async def connect() -> tuple[Any, float]:
        started = time.perf_counter()
        client = await AsyncClient.connect(url, token=token, client="bench-game")
        return client, time.perf_counter() - started

    async def line(client: Any) -> float:
        started = time.perf_counter()
        await client.synthesize(SHORT_LINE, model="kokoro")
        return time.perf_counter() - started

    runs: list[dict[str, float]] = []
    if mode == "slots":
        for rep in range(reps + 1):
            client, welcome_s = await connect()
            try:
                line_s = await line(client)
            finally:
                await client.close()
            if rep:
                runs.append({"welcome_s": welcome_s, "line_s": line_s, "total_s": welcome_s + line_s})
        return runs
    client, _ = await connect()
    try:
        await line(client)
        for _ in range(reps):
            try:
                runs.append({"line_s": await line(client)})
            except Exception as exc:  # noqa: BLE001 - a refusal is a result too
                runs.append({"error": str(getattr(exc, "code", type(exc).__name__))})  # type: ignore[dict-item]
    finally:
        await client.close()
    return runs


async def _until_stdin_closes() -> None:
    await asyncio.to_thread(sys.stdin.read)


async def _hostiles(url: str, n: int) -> dict[str, int]:
    """Keep ``n`` misbehaving sockets open: idle (no hello), text frames, wrong token."""
    import websockets

    from atelico.protocol.envelope import Message, encode

    counts = {"opened": 0, "closed_by_server": 0, "refused": 0}
    stop = asyncio.Event()

    async def one(index: int) -> None:
        while not stop.is_set():
            try:
                ws = await websockets.connect(url, open_timeout=10)
            except Exception:  # noqa: BLE001 - refused (busy) or slow: try again shortly
                counts["refused"] += 1
                await asyncio.sleep(0.2)
                continue
            counts["opened"] += 1
            try:
                if index % 8 == 1:
                    await ws.send("not msgpack")
                elif index % 8 == 2:
                    await ws.send(encode(Message("hello", {"protocol": 1, "token": "wrong"})))
                stopped = asyncio.ensure_future(stop.wait())
                closed = asyncio.ensure_future(ws.wait_closed())
                await asyncio.wait({stopped, closed}, return_when=asyncio.FIRST_COMPLETED)
                stopped.cancel()
                if closed.done():
                    counts["closed_by_server"] += 1
                closed.cancel()
            finally:
                await ws.close()

    tasks = [asyncio.create_task(one(i)) for i in range(n)]
    deadline = time.perf_counter() + 60
    while counts["opened"] < n and time.perf_counter() < deadline:
        await asyncio.sleep(0.05)
    print("READY", flush=True)
    await _until_stdin_closes()
    counts["open_at_stop"] = counts["opened"] - counts["closed_by_server"]
    stop.set()
    await asyncio.gather(*tasks, return_exceptions=True)
    return counts


async def _flood(url: str, token: str, text: str) -> dict[str, int]:
    """One greedy client: 16 long streamed syntheses kept in flight until stdin closes; then
    it hangs up (the server cancels what it still had queued)."""
    from atelico.client import AsyncClient
    from atelico.errors import AtelicoError

    client = await AsyncClient.connect(url, token=token, client="bench-flood")
    counts: dict[str, int] = {"done": 0}
    stop = asyncio.Event()

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
    print("READY", flush=True)
    await _until_stdin_closes()
    stop.set()
    await client.close()
    await asyncio.gather(*lanes, return_exceptions=True)
    return counts


def main(argv: Sequence[str]) -> int:
    role, *rest = argv
    if role == "game":
        url, token, mode, reps = rest
        out: Any = asyncio.run(_game(url, token, mode, int(reps)))
    elif role == "hostiles":
        url, n = rest
        out = asyncio.run(_hostiles(url, int(n)))
    elif role == "flood":
        url, token, text = rest
        out = asyncio.run(_flood(url, token, text))
    else:
        raise SystemExit(f"unknown role {role!r}")
    print(json.dumps(out), flush=True)
    return 0


# ---------------------------------------------------------------------- the orchestrator
class Party:
    """A role in its own process: started, waited for (READY), stopped (stdin closed)."""

    def __init__(self, *args: str) -> None:
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "sidecar"), str(ROOT)])}
        self.proc = subprocess.Popen([sys.executable, "-m", "bench.hardening", *args], cwd=ROOT, env=env,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

    def ready(self, timeout_s: float = 90.0) -> None:
        assert self.proc.stdout is not None
        deadline = time.monotonic() + timeout_s
        for line in self.proc.stdout:
            if line.strip() == "READY":
                return
            if time.monotonic() > deadline:
                break
        raise RuntimeError(f"{self.proc.args[3]} did not get ready")

    def result(self, timeout_s: float = 600.0) -> Any:
        """Close stdin (stop), then the JSON line the role printed last."""
        try:
            out, _ = self.proc.communicate(input="", timeout=timeout_s)  # closes stdin first
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise
        lines = [line for line in out.splitlines() if line.strip()]
        if self.proc.returncode != 0 or not lines:
            raise RuntimeError(f"{self.proc.args[3]} failed (exit {self.proc.returncode})")
        return json.loads(lines[-1])


def _game_runs(sidecar: SidecarProcess, token: str, mode: str, reps: int) -> list[dict[str, Any]]:
    return Party("game", sidecar.ws, token, mode, str(reps)).result()


def _stats(values: list[float]) -> dict[str, float]:
    if not values:
        return {"n": 0, "p50_s": float("nan"), "p95_s": float("nan"), "max_s": float("nan")}
    return {"n": len(values), "p50_s": median(values), "p95_s": percentile(values, 95), "max_s": max(values)}


def slots(ctx: Ctx, sidecar: SidecarProcess, token: str) -> dict[str, Any]:
    reps = ctx.pick(20, 6, 2)
    alone = _game_runs(sidecar, token, "slots", reps)
    ctx.log(f"hardening: opening {HOSTILE_SOCKETS} idle/misbehaving sockets (own process)")
    hostiles = Party("hostiles", sidecar.ws, str(HOSTILE_SOCKETS))
    try:
        hostiles.ready()
        load = load_avg()
        during = _game_runs(sidecar, token, "slots", reps)
    finally:
        counts = hostiles.result()
    keys = ("welcome_s", "line_s", "total_s")
    return {"hostile_sockets": HOSTILE_SOCKETS, "hostile_opened": counts["opened"],
            "hostile_closed_by_server": counts["closed_by_server"], "hostile_refused": counts["refused"],
            "hostile_open_at_end": counts["open_at_stop"], "reps": reps, "load_avg_during": load,
            "alone": {k: _stats([r[k] for r in alone]) for k in keys},
            "during": {k: _stats([r[k] for r in during]) for k in keys},
            "game_served_max_s": max(r["total_s"] for r in during),
            "welcome_max_s": max(r["welcome_s"] for r in during),
            "total_ratio_p50": median([r["total_s"] for r in during]) / median([r["total_s"] for r in alone])}


def fairness(ctx: Ctx, sidecar: SidecarProcess, token: str) -> dict[str, Any]:
    reps = ctx.pick(30, 10, 3)
    alone = [r["line_s"] for r in _game_runs(sidecar, token, "line", reps)]
    text = LONG_LINE * ctx.pick(3, 2, 1)
    ctx.log(f"hardening: {FLOODERS} clients x {FLOOD_PER_CLIENT} long syntheses flood the queue "
            "(a process each)")
    floods = [Party("flood", sidecar.ws, token, text) for _ in range(FLOODERS)]
    try:
        for party in floods:
            party.ready()
        time.sleep(ctx.pick(3.0, 2.0, 1.0))  # the queue is full of long work
        load = load_avg()
        runs = _game_runs(sidecar, token, "line", reps)
    finally:
        outcomes: dict[str, int] = {}
        for party in floods:
            for code, n in party.result().items():
                outcomes[code] = outcomes.get(code, 0) + n
    during = [r["line_s"] for r in runs if "line_s" in r]
    refusals: dict[str, int] = {}
    for r in runs:
        if "error" in r:
            refusals[r["error"]] = refusals.get(r["error"], 0) + 1
    s_alone, s_during = _stats(alone), _stats(during)
    return {"reps": reps, "flooders": FLOODERS, "flood_per_client": FLOOD_PER_CLIENT, "load_avg_during": load,
            "alone": s_alone, "during": s_during,
            "alone_p50_s": s_alone["p50_s"], "alone_p95_s": s_alone["p95_s"],
            "during_p50_s": s_during["p50_s"], "during_p95_s": s_during["p95_s"],
            "p50_ratio": s_during["p50_s"] / s_alone["p50_s"],
            "p95_ratio": s_during["p95_s"] / s_alone["p95_s"], "game_refusals": refusals,
            "flood_outcomes": outcomes}


async def run(ctx: Ctx) -> dict[str, Any]:
    token = secrets.token_hex(16)
    sidecar = SidecarProcess("tts", extra_env={"ATELICO_TOKEN": token})
    await ctx.call(sidecar.start)
    try:
        return {"slots": await ctx.call(slots, ctx, sidecar, token),
                "fairness": await ctx.call(fairness, ctx, sidecar, token)}
    finally:
        sidecar.stop()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
