"""STT: RTF per model, sidecar overhead vs faster-whisper called directly, live latency."""

from __future__ import annotations

import asyncio
import os
import time
from typing import Any

import httpx
import numpy as np

from atelico.engines.stt import whisper as atelico_whisper
from atelico.models.assets import ensure_asset

from bench.common import (STT_RATE_HZ, CpuMeter, Clip, joined_clip, median, ratio_stats,
                          speech_clips, speech_end_s, wav_bytes, wer)
from bench.context import Ctx, connect

MODELS = {"whisper-base": "whisper-base-ct2", "whisper-tiny.en": "whisper-tiny.en-ct2"}
PATHS = ("direct", "websocket", "http")
FRAME_S = 0.1
TRAILING_SILENCE_S = 2.5


class DirectWhisper:
    """``faster_whisper.WhisperModel`` on the sidecar's asset directory, with its options."""

    def __init__(self, asset_dir: str) -> None:
        from faster_whisper import WhisperModel

        self.compute_type = atelico_whisper.resolve_compute_type("auto", "cpu")
        self.model = WhisperModel(asset_dir, device="cpu", compute_type=self.compute_type,
                                  cpu_threads=os.cpu_count() or 1, num_workers=1)

    def transcribe(self, audio: np.ndarray, language: str = "en") -> str:
        segments, _ = self.model.transcribe(
            audio, language=language, task="transcribe", initial_prompt=None, beam_size=5,
            best_of=5, temperature=[round(t, 2) for t in np.arange(0.0, 1.0001, 0.2)],
            compression_ratio_threshold=atelico_whisper.COMPRESSION_RATIO_THRESHOLD,
            log_prob_threshold=atelico_whisper.LOG_PROB_THRESHOLD,
            no_speech_threshold=atelico_whisper.NO_SPEECH_THRESHOLD,
            condition_on_previous_text=False, word_timestamps=False, vad_filter=True,
            vad_parameters={"min_silence_duration_ms": 1000, "speech_pad_ms": 400})
        return " ".join(s.text.strip() for s in segments)


async def http_transcribe(http: httpx.AsyncClient, base: str, wav: bytes, model: str,
                          language: str = "en") -> str:
    r = await http.post(f"{base}/v1/audio/transcriptions", files={"file": ("clip.wav", wav, "audio/wav")},
                        data={"model": model, "language": language})
    r.raise_for_status()
    return str(r.json()["text"])


async def live_latency(client: Any, clip: Clip, model: str) -> dict[str, Any]:
    """Feed ``clip`` then silence in real time; time from the end of speech to the final."""
    audio = np.concatenate([clip.audio, np.zeros(int(TRAILING_SILENCE_S * STT_RATE_HZ), np.float32)])
    end_sample = int(speech_end_s(clip.audio) * STT_RATE_HZ)
    frame = int(FRAME_S * STT_RATE_HZ)
    finals: list[tuple[float, str]] = []
    end_sent_at: list[float] = []
    async with client.live(model=model, language="en", partials=True) as live:
        async def receive() -> None:
            async for msg in live.results():
                if msg.data.get("is_final"):
                    finals.append((time.perf_counter(), str(msg.data.get("text", ""))))

        reader = asyncio.create_task(receive())
        start = time.perf_counter()
        for i, at in enumerate(range(0, len(audio), frame)):
            delay = start + i * FRAME_S - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            await live.send(audio[at:at + frame])
            if not end_sent_at and at + frame >= end_sample:
                end_sent_at.append(time.perf_counter())
        await live.stop()
        await asyncio.wait_for(reader, 120)
    after = [t for t, _ in finals if t >= end_sent_at[0]]
    text = " ".join(tx for _, tx in finals)
    return {"clip": clip.name, "speech_end_s": end_sample / STT_RATE_HZ,
            "latency_s": (after[0] - end_sent_at[0]) if after else float("nan"),
            "finals": len(finals), "wer": wer(clip.transcript, text)}


async def run(ctx: Ctx) -> dict[str, Any]:
    clips = speech_clips()
    clip = ctx.pick(joined_clip(clips), joined_clip(clips[:3]), clips[0])
    wav = wav_bytes(clip.audio)
    described = ctx.pick("all tests/data/speech clips joined with 0.6 s gaps",
                         "3 tests/data/speech clips joined with 0.6 s gaps", clip.name)
    out: dict[str, Any] = {"clip_s": clip.seconds, "clip": described, "models": {}}
    reps = ctx.pick(3, 1)
    async with connect(ctx.sidecar.ws) as client, httpx.AsyncClient(timeout=600) as http:
        for model, asset in MODELS.items():
            ctx.log(f"stt: {model} direct vs sidecar, {reps} interleaved repetitions")
            direct = await ctx.call(DirectWhisper, str(ensure_asset(asset, ctx.settings, progress=False)))

            async def call(path: str) -> str:
                if path == "direct":
                    return await ctx.call(direct.transcribe, clip.audio)
                if path == "websocket":
                    return str((await client.transcribe(clip.audio, model=model, language="en"))["text"])
                return await http_transcribe(http, ctx.sidecar.http, wav, model)

            for path in PATHS:  # warm-up (the sidecar loads whisper-tiny.en lazily)
                await call(path)
            times: dict[str, list[float]] = {p: [] for p in PATHS}
            cpu: dict[str, list[float]] = {p: [] for p in PATHS}
            texts: dict[str, str] = {}
            for r in range(reps):
                for path in PATHS[r % 3:] + PATHS[:r % 3]:
                    meter = CpuMeter(os.getpid() if path == "direct" else ctx.sidecar.pid)
                    started = time.perf_counter()
                    with meter:
                        texts[path] = await call(path)
                    times[path].append(time.perf_counter() - started)
                    cpu[path].append(meter.used_s)
            res: dict[str, Any] = {"compute_type": direct.compute_type, "reps": reps}
            for path in PATHS:
                t = median(times[path])
                res[path] = {"time_s": t, "rtf": t / clip.seconds, "cpu_s": median(cpu[path]),
                             "wer": wer(clip.transcript, texts[path]), "runs_s": times[path]}
            res["overhead"] = {}
            for path in ("websocket", "http"):
                wall = ratio_stats(times[path], times["direct"])
                res["overhead"][path] = {"wall_ratio": wall["median_paired_ratio"],
                                         "wall_ratio_of_medians": wall["ratio_of_medians"],
                                         "wall_overhead_pct": 100 * (wall["median_paired_ratio"] - 1),
                                         "cpu_ratio": ratio_stats(cpu[path], cpu["direct"])["median_paired_ratio"]}
            out["models"][model] = res
        live_clips = ctx.pick([c for c in clips if c.seconds >= 2.5][:3], clips[:1])
        ctx.log(f"stt: live transcription, {len(live_clips)} utterance(s) fed in real time")
        runs = [await live_latency(client, c, "whisper") for c in live_clips]
    lat = [r["latency_s"] for r in runs if np.isfinite(r["latency_s"])]
    out["live"] = {"model": "whisper (default: whisper-base)", "utterances": len(runs),
                   "frame_s": FRAME_S, "median_s": median(lat) if lat else float("nan"),
                   "max_s": max(lat) if lat else float("nan"), "runs": runs,
                   "note": "includes the VAD's 0.6 s of trailing silence needed to end an utterance"}
    return out
