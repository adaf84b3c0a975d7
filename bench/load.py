"""Load: N concurrent clients doing mixed work, and head-of-line blocking of short requests."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx

from atelico.errors import AtelicoError

from bench.common import SHORT_LINE, long_clip, median, percentile, speech_clips, wav_bytes
from bench.context import Ctx, connect
from bench.stt import http_transcribe
from bench.tts import stream_ws

KINDS = ("tts", "stt", "face")


async def client_loop(url: str, index: int, deadline: float, short: Any, voice: str) -> list[dict[str, Any]]:
    """One client: TTS, STT and face requests in turn (offset by ``index``) until ``deadline``."""
    done: list[dict[str, Any]] = []
    async with connect(url) as client:
        i = index
        while time.perf_counter() < deadline:
            kind = KINDS[i % len(KINDS)]
            i += 1
            started = time.perf_counter()
            error = None
            try:
                if kind == "tts":
                    await stream_ws(client, SHORT_LINE, voice=voice)
                elif kind == "stt":
                    await client.transcribe(short.audio, model="whisper", language="en")
                else:
                    await client.face(short.audio, 16_000, text=short.transcript)
            except AtelicoError as exc:
                error = exc.code
            done.append({"kind": kind, "latency_s": time.perf_counter() - started, "error": error,
                         "end": time.perf_counter()})
    return done


async def level(ctx: Ctx, clients: int, seconds: float, short: Any, voice: str) -> dict[str, Any]:
    start = time.perf_counter()
    deadline = start + seconds
    per_client = await asyncio.gather(*(client_loop(ctx.sidecar.ws, i, deadline, short, voice)
                                        for i in range(clients)))
    jobs = [j for c in per_client for j in c]
    ok = [j for j in jobs if j["error"] is None]
    wall = max(j["end"] for j in jobs) - start
    lat = [j["latency_s"] for j in ok]
    by_kind = {k: {"jobs": sum(j["kind"] == k for j in ok),
                   "p50_s": median([j["latency_s"] for j in ok if j["kind"] == k]),
                   "p95_s": percentile([j["latency_s"] for j in ok if j["kind"] == k], 95)} for k in KINDS}
    return {"clients": clients, "jobs": len(ok), "wall_s": wall, "throughput_jobs_per_s": len(ok) / wall,
            "p50_s": median(lat), "p95_s": percentile(lat, 95), "errors": len(jobs) - len(ok),
            "error_codes": sorted({j["error"] for j in jobs if j["error"]}), "by_kind": by_kind}


async def head_of_line(ctx: Ctx, clips: list[Any]) -> dict[str, Any]:
    """A ~3 s transcription alone, then while a long (5 min; quick: 40 s) one runs."""
    short = min(clips, key=lambda c: abs(c.seconds - 3.0))
    long_s = ctx.pick(300.0, 40.0, 15.0)
    short_wav, long_wav = wav_bytes(short.audio), wav_bytes(long_clip(clips, long_s))
    async with httpx.AsyncClient(timeout=900) as http:
        alone = []
        for _ in range(ctx.pick(3, 2, 1)):
            started = time.perf_counter()
            await http_transcribe(http, ctx.sidecar.http, short_wav, "whisper")
            alone.append(time.perf_counter() - started)
        ctx.log(f"load: head-of-line, {short.seconds:.1f} s clip during a {long_s:.0f} s one")
        long_started = time.perf_counter()
        long_task = asyncio.create_task(http_transcribe(http, ctx.sidecar.http, long_wav, "whisper"))
        await asyncio.sleep(ctx.pick(2.0, 0.5))
        during: list[float] = []
        first_done_at = None
        first_started_at = None
        while not long_task.done() and len(during) < 5:
            started = time.perf_counter()
            if first_started_at is None:
                first_started_at = started
            await http_transcribe(http, ctx.sidecar.http, short_wav, "whisper")
            during.append(time.perf_counter() - started)
            if first_done_at is None:
                first_done_at = time.perf_counter()
        await long_task
        long_wall = time.perf_counter() - long_started
    long_end = long_started + long_wall
    return {"short_clip_s": short.seconds, "long_clip_s": long_s, "model": "whisper (default)",
            "short_alone_s": median(alone), "short_during_s": median(during) if during else float("nan"),
            "slowdown": (median(during) / median(alone)) if during else float("nan"),
            "short_during_runs_s": during, "long_s": long_wall,
            # how much of the long job was still left when the first short one ended
            "long_remaining_when_short_done_s": (long_end - first_done_at) if first_done_at else float("nan"),
            "long_elapsed_when_short_started_s": (first_started_at - long_started) if first_started_at
            else float("nan"),
            # None: the long one ended before a short one could start (not measured)
            "short_finished_first": None if first_done_at is None else first_done_at < long_end}


async def run(ctx: Ctx) -> dict[str, Any]:
    clips = speech_clips()
    short = min(clips, key=lambda c: abs(c.seconds - 3.0))
    voice = (await ctx.call(ctx.engine, "kokoro")).default_voice
    levels = ctx.pick([1, 2, 4, 8, 16], [1, 4], [2])
    seconds = ctx.pick(8.0, 5.0, 2.0)
    out: dict[str, Any] = {"seconds_per_level": seconds, "mix": "streamed TTS of a 47-char line, "
                           f"STT of a {short.seconds:.1f} s clip, face (forced alignment) of it",
                           "levels": []}
    async with connect(ctx.sidecar.ws) as warm:  # every model warm before timing
        await stream_ws(warm, SHORT_LINE, voice=voice)
        await warm.transcribe(short.audio, model="whisper", language="en")
        await warm.face(short.audio, 16_000, text=short.transcript)
    for n in levels:
        ctx.log(f"load: {n} concurrent client(s) for {seconds:.0f} s")
        out["levels"].append(await level(ctx, n, seconds, short, voice))
    out["head_of_line"] = await head_of_line(ctx, clips)
    return out
