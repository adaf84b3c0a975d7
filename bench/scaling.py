"""Scaling: sidecar cost and memory against input length (text characters, audio seconds)."""

from __future__ import annotations

import argparse
import time
from typing import Any

import httpx

from bench.common import CpuMeter, RssSampler, linear_fit, long_clip, prose, speech_clips, wav_bytes
from bench.context import Ctx, connect
from bench.stt import http_transcribe
from bench.tts import stream_ws


def _fits(points: list[dict[str, Any]], idle_mb: float) -> dict[str, Any]:
    x = [p["size"] for p in points]
    peaks = [p["peak_rss_mb"] for p in points]
    growth = max(peaks) - peaks[0]
    return {"fit_cpu": linear_fit(x, [p["cpu_s"] for p in points]),
            "fit_wall": linear_fit(x, [p["wall_s"] for p in points]),
            "fit_peak_rss": linear_fit(x, peaks), "rss_growth_mb": growth,
            "rss_growth_fraction": growth / idle_mb}


async def run(ctx: Ctx, args: argparse.Namespace | None = None) -> dict[str, Any]:
    stt_model = getattr(args, "stt_scaling_model", "whisper-tiny.en")
    pid = ctx.sidecar.pid
    idle_mb = ctx.sidecar.rss_mb()
    out: dict[str, Any] = {"idle_rss_mb": idle_mb}
    voice = (await ctx.call(ctx.engine, "kokoro")).default_voice
    sizes = ctx.pick([50, 500, 1500, 5000], [50, 150, 400], [50, 120])
    points = []
    async with connect(ctx.sidecar.ws) as client:
        await stream_ws(client, prose(50), voice=voice)
        for n in sizes:
            text = prose(n)
            ctx.log(f"scaling: TTS of {len(text)} characters")
            with RssSampler(pid) as rss, CpuMeter(pid) as cpu:
                started = time.perf_counter()
                res = await stream_ws(client, text, voice=voice)
                wall = time.perf_counter() - started
            points.append({"size": len(text), "wall_s": wall, "cpu_s": cpu.used_s,
                           "audio_s": res["audio_s"], "first_audio_s": res["first_s"],
                           "peak_rss_mb": rss.peak_mb, "rss_after_mb": rss.end_mb})
    out["tts"] = {"model": "kokoro (WebSocket stream)", "points": points, **_fits(points, idle_mb)}

    clips = speech_clips()
    seconds = ctx.pick([3.0, 30.0, 120.0, 300.0, 600.0], [3.0, 15.0, 45.0], [3.0, 6.0])
    points = []
    async with httpx.AsyncClient(timeout=1200) as http:
        await http_transcribe(http, ctx.sidecar.http, wav_bytes(long_clip(clips, 3.0)), stt_model)
        for s in seconds:
            wav = wav_bytes(long_clip(clips, s))
            ctx.log(f"scaling: STT of {s:.0f} s of audio ({stt_model}, HTTP)")
            with RssSampler(pid) as rss, CpuMeter(pid) as cpu:
                started = time.perf_counter()
                await http_transcribe(http, ctx.sidecar.http, wav, stt_model)
                wall = time.perf_counter() - started
            points.append({"size": s, "wall_s": wall, "cpu_s": cpu.used_s, "peak_rss_mb": rss.peak_mb,
                           "rss_after_mb": rss.end_mb})
    out["stt"] = {"model": f"{stt_model} (HTTP upload, WAV)", "points": points, **_fits(points, idle_mb)}
    return out
