"""TTS: load, time to first audio (direct, HTTP SSE, WebSocket), RTF, RSS, sidecar overhead."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import time
from typing import Any

import httpx

from atelico.client import AsyncClient

from bench.common import PARAGRAPH, ROOT, CpuMeter, median, ratio_stats
from bench.context import Ctx, connect

VARIANTS = ("direct", "websocket", "http_sse")


def probe(engine: str, reps: int, timeout_s: float = 400) -> dict[str, Any]:
    """``python -m bench.probe`` in a fresh process (its own load time and peak RSS)."""
    out = subprocess.run([sys.executable, "-m", "bench.probe", engine, "--reps", str(reps)],
                         cwd=ROOT, capture_output=True, text=True, timeout=timeout_s)
    if out.returncode != 0:
        return {"status": "failed", "error": out.stderr[-800:]}
    return {"status": "ok", **json.loads(out.stdout.strip().splitlines()[-1])}


async def stream_ws(client: AsyncClient, text: str, *, voice: str, model: str = "kokoro",
                    character: str | None = None) -> dict[str, Any]:
    """One streamed synthesis over the WebSocket: arrival time of every chunk."""
    start = time.perf_counter()
    arrivals: list[float] = []
    samples = 0
    rate = 24_000
    async for chunk in client.synthesize_stream(text, model=model, voice=voice, character=character):
        arrivals.append(time.perf_counter() - start)
        samples += len(chunk.audio)
        rate = chunk.sample_rate_hz
    return {"first_s": arrivals[0], "total_s": time.perf_counter() - start,
            "audio_s": samples / rate, "arrivals_s": arrivals}


async def stream_sse(http: httpx.AsyncClient, base: str, text: str, *, voice: str,
                     model: str = "kokoro") -> dict[str, Any]:
    """One ``POST /v1/audio/speech`` with ``stream: true`` (the reference's SSE events)."""
    start = time.perf_counter()
    first = None
    audio_s = 0.0
    body = {"model": model, "input": text, "voice": voice, "stream": True}
    async with http.stream("POST", f"{base}/v1/audio/speech", json=body) as response:
        response.raise_for_status()
        event = None
        async for line in response.aiter_lines():
            if line.startswith("event:"):
                event = line.split(":", 1)[1].strip()
            elif line.startswith("data:"):
                data = json.loads(line[5:])
                if event == "error":
                    raise RuntimeError(f"SSE error: {data}")
                if event is None:
                    base64.b64decode(data["audio"])
                    audio_s += float(data["duration_seconds"])
                    if first is None:
                        first = time.perf_counter() - start
                event = None
    assert first is not None, "no audio event"
    return {"first_s": first, "total_s": time.perf_counter() - start, "audio_s": audio_s}


def direct_stream(engine: Any, text: str, voice: str) -> dict[str, Any]:
    start = time.perf_counter()
    first = None
    samples = 0
    for chunk in engine.synthesize(text, voice=voice):
        if first is None:
            first = time.perf_counter() - start
        samples += len(chunk.audio)
    return {"first_s": first, "total_s": time.perf_counter() - start,
            "audio_s": samples / engine.sample_rate_hz}


#: --quick: the paragraph's first two sentences.
QUICK_TEXT = ". ".join(PARAGRAPH.split(". ")[:2]) + "."
#: The smoke run's text (two short sentences): exercises every path in seconds.
SMOKE_TEXT = "Hello there, traveller. The gate is open."


async def run(ctx: Ctx) -> dict[str, Any]:
    paragraph = ctx.pick(PARAGRAPH, QUICK_TEXT, SMOKE_TEXT)
    first_sentence = paragraph.split(". ")[0] + "."
    out: dict[str, Any] = {"text_chars": len(paragraph), "first_sentence_chars": len(first_sentence)}
    engines: dict[str, Any] = {}
    if ctx.mode == "full":
        ctx.log("tts: Kokoro int8 in a fresh process")
        engines["kokoro-int8"] = probe("kokoro", 1)
    else:
        engines["kokoro-int8"] = {"status": "skipped", "reason": "fresh-process load/RSS probe runs "
                                  "only in the full run"}
    fp32 = ctx.settings.model_copy(update={"models": ctx.settings.models.model_copy(
        update={"kokoro_quant": "fp32"})})
    from atelico.models.registry import ModelRegistry

    engines["kokoro-fp32"] = ({"status": "ok-not-measured"} if ModelRegistry(fp32).installed("kokoro")
                              else {"status": "not installed",
                                    "reason": "fp32 .pth weights are hub-only; none offline"})
    if ctx.mode == "full":
        ctx.log("tts: Pocket TTS (random weights) in a fresh process")
        engines["pocket-random-weights"] = {
            **probe("pocket", 1), "label": "PLUMBING ONLY: random weights, noise not speech; "
            "timings show the streaming path, not real Pocket TTS quality or speed"}
    out["engines"] = engines

    # ---- sidecar vs direct, interleaved -------------------------------------------------
    engine = await ctx.call(ctx.engine, "kokoro")
    voice = engine.default_voice
    reps = ctx.pick(4, 2, 1)
    ctx.log(f"tts: direct vs sidecar (WebSocket, HTTP SSE), {reps} interleaved repetitions")
    runs: dict[str, list[dict[str, Any]]] = {v: [] for v in VARIANTS}
    cpu: dict[str, list[float]] = {v: [] for v in VARIANTS}
    sentence_s: list[float] = []
    pid = ctx.sidecar.pid
    async with connect(ctx.sidecar.ws) as client, httpx.AsyncClient(timeout=600) as http:
        # warm-up: every path once with the same text (onnxruntime sizes its buffers per shape)
        await ctx.call(direct_stream, engine, paragraph, voice)
        await stream_ws(client, paragraph, voice=voice)
        await stream_sse(http, ctx.sidecar.http, paragraph, voice=voice)
        await ctx.call(engine.synthesize_all, first_sentence, voice=voice)
        for r in range(reps):
            order = VARIANTS[r % 3:] + VARIANTS[:r % 3]
            for variant in order:
                if variant == "direct":
                    meter = CpuMeter(os.getpid())
                    with meter:
                        res = await ctx.call(direct_stream, engine, paragraph, voice)
                else:
                    meter = CpuMeter(pid)
                    with meter:
                        res = (await stream_ws(client, paragraph, voice=voice) if variant == "websocket"
                               else await stream_sse(http, ctx.sidecar.http, paragraph, voice=voice))
                runs[variant].append(res)
                cpu[variant].append(meter.used_s)
            started = time.perf_counter()
            await ctx.call(engine.synthesize_all, first_sentence, voice=voice)
            sentence_s.append(time.perf_counter() - started)
    sentence_median = median(sentence_s)
    paths: dict[str, Any] = {}
    for variant in VARIANTS:
        rs = runs[variant]
        total = median([r["total_s"] for r in rs])
        audio = median([r["audio_s"] for r in rs])
        first = median([r["first_s"] for r in rs])
        paths[variant] = {"first_audio_s": first, "total_s": total, "audio_s": audio,
                          "rtf": total / audio, "cpu_s": median(cpu[variant]),
                          "first_audio_vs_first_sentence": first / sentence_median,
                          "first_audio_runs_s": [r["first_s"] for r in rs],
                          "total_runs_s": [r["total_s"] for r in rs]}
    direct_total = [r["total_s"] for r in runs["direct"]]
    overhead = {}
    for variant in ("websocket", "http_sse"):
        wall = ratio_stats([r["total_s"] for r in runs[variant]], direct_total)
        cpu_ratio = ratio_stats(cpu[variant], cpu["direct"])
        overhead[variant] = {"wall_ratio": wall["median_paired_ratio"],
                             "wall_ratio_of_medians": wall["ratio_of_medians"],
                             "wall_overhead_pct": 100 * (wall["median_paired_ratio"] - 1),
                             "cpu_ratio": cpu_ratio["median_paired_ratio"],
                             "first_audio_extra_s": paths[variant]["first_audio_s"] - paths["direct"]["first_audio_s"]}
    out.update({"model": "kokoro", "variant": getattr(engine.backend, "variant", "?"), "voice": voice,
                "reps": reps, "first_sentence_s": sentence_median, "paths": paths, "overhead": overhead})
    return out
