"""Memory: the sidecar's peak RSS growth per upload, for hostile files and for long speech.

Issue #16's targets: peak RSS growth ≤ 200 MB for any upload under the upload limit, bombs
included, and flat (growth spread ≤ 10% of idle RSS) from 10 s to 60 min of real speech.

It runs its own sidecar (whisper-base preloaded, ``max_audio_s`` raised to 3,700 s so that an
hour of speech is accepted; everything else at the defaults). "Idle" is its RSS after the
model is loaded and warmed by one short transcription, so the growth measured is due to the
input alone. Each upload's peak is its own: VmHWM is reset through ``/proc/<pid>/clear_refs``
before it (``tests.audio.bombs.PeakRss``). Long speech is the clips of ``tests/data/speech``
repeated with 1 s pauses (``long_clip``), sent as 16 kHz FLAC over HTTP. The bombs are
``tests.audio.bombs.bomb_set(1800)``: with the raised limit, the hour-long ones are accepted
and decoded in full (an hour of 192 kHz silence), the strongest case of "under the limit".
"""

from __future__ import annotations

import time
from typing import Any

import httpx

from atelico.audio.codecs import encode

from bench.common import CpuMeter, long_clip, rss_mb, speech_clips
from bench.context import Ctx
from bench.sidecar import SidecarProcess

MODEL = "whisper-base"
MAX_AUDIO_S = 3700.0
#: bombs cheap enough for a smoke run (no hour-long decode)
SMOKE_BOMBS = ("wav at 655,350 Hz", "wav declaring 4 GiB", "wav of 65535 channels", "flac at 655,350 Hz")


def _upload(http: httpx.Client, sidecar: SidecarProcess, data: bytes) -> httpx.Response:
    return http.post(f"{sidecar.http}/v1/audio/transcriptions", data={"model": MODEL},
                     files={"file": ("audio", data)})


def _measure(http: httpx.Client, sidecar: SidecarProcess, data: bytes) -> dict[str, Any]:
    from tests.audio.bombs import PeakRss

    peak = PeakRss(sidecar.pid).start()
    with CpuMeter(sidecar.pid) as cpu:
        started = time.perf_counter()
        r = _upload(http, sidecar, data)
        wall = time.perf_counter() - started
    out: dict[str, Any] = {"bytes": len(data), "status": r.status_code, "wall_s": wall, "cpu_s": cpu.used_s,
                           "peak_growth_mb": peak.growth_mb, "rss_after_mb": rss_mb(sidecar.pid)}
    try:
        body = r.json()
    except ValueError:
        body = {}
    if r.status_code == 200:
        out["words"] = len(str(body.get("text", "")).split())
    else:
        out["code"] = (body.get("error") or {}).get("code")
    return out


def _run(ctx: Ctx, sidecar: SidecarProcess) -> dict[str, Any]:
    from tests.audio.bombs import bomb_set

    clips = speech_clips()
    seconds = ctx.pick([10.0, 60.0, 600.0, 3600.0], [10.0, 60.0, 300.0], [3.0, 10.0])
    with httpx.Client(timeout=3600) as http:
        warm = _upload(http, sidecar, encode(long_clip(clips, 10.0), 16_000, "flac"))
        warm.raise_for_status()
        idle = rss_mb(sidecar.pid)
        speech = []
        for s in seconds:
            data = encode(long_clip(clips, s), 16_000, "flac")
            ctx.log(f"memory: {s:.0f} s of speech ({len(data) / 2**20:.1f} MiB FLAC, {MODEL})")
            speech.append({"audio_s": s, **_measure(http, sidecar, data)})
        ctx.log("memory: building the bombs (cached in /tmp/atelico-bombs)")
        bombs = {}
        for name, (data, expected) in bomb_set(1800.0).items():
            if ctx.mode == "smoke" and name not in SMOKE_BOMBS:
                continue
            ctx.log(f"memory: bomb {name} ({len(data) / 1024:.0f} KiB)")
            bombs[name] = {"expected_at_1800_s": expected, **_measure(http, sidecar, data)}
    growth = [p["peak_growth_mb"] for p in speech]
    every = growth + [b["peak_growth_mb"] for b in bombs.values()]
    return {"model": MODEL, "max_audio_s": MAX_AUDIO_S, "idle_rss_mb": idle, "speech": speech, "bombs": bombs,
            "speech_growth_spread_mb": max(growth) - min(growth),
            "speech_growth_spread_fraction": (max(growth) - min(growth)) / idle,
            "max_growth_mb": max(every)}


async def run(ctx: Ctx) -> dict[str, Any]:
    sidecar = SidecarProcess(MODEL, extra_env={"ATELICO_LIMITS__MAX_AUDIO_S": str(MAX_AUDIO_S)})
    await ctx.call(sidecar.start)
    try:
        return await ctx.call(_run, ctx, sidecar)
    finally:
        sidecar.stop()
