"""A2F: RTF per timing path, and what ``speak`` adds to plain synthesis per chunk."""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from atelico.engines.base import PhonemeTiming

from bench.common import (PARAGRAPH, CpuMeter, joined_clip, median, ratio_stats, speech_clips)
from bench.context import Ctx, connect
from bench.tts import QUICK_TEXT, SMOKE_TEXT, stream_ws

CHARACTER = "claire"


def tts_utterance(engine: Any, text: str, voice: str) -> tuple[np.ndarray, list[PhonemeTiming], list[Any]]:
    """Kokoro audio for ``text`` with its phoneme timing, and the chunks themselves."""
    chunks = list(engine.synthesize(text, voice=voice))
    audio: list[np.ndarray] = []
    phones: list[PhonemeTiming] = []
    offset_s = 0.0
    for c in chunks:
        audio.append(c.audio)
        phones += [PhonemeTiming(p.phoneme, p.start_s + offset_s, p.end_s + offset_s) for p in c.phonemes]
        offset_s += len(c.audio) / c.sample_rate_hz
    return np.concatenate(audio), phones, chunks


async def run(ctx: Ctx) -> dict[str, Any]:
    face = await ctx.call(ctx.engine, "face")
    tts = await ctx.call(ctx.engine, "kokoro")
    voice = tts.default_voice
    text = ctx.pick(PARAGRAPH, QUICK_TEXT, SMOKE_TEXT)
    clip = joined_clip(speech_clips())
    reps = ctx.pick(3, 1)
    tts_audio, phones, chunks = await ctx.call(tts_utterance, tts, text, voice)
    jobs = {
        "tts_phonemes": lambda: face.run(tts_audio, sample_rate_hz=tts.sample_rate_hz, character=CHARACTER,
                                         phonemes=phones, mode="phonemes"),
        "forced_alignment": lambda: face.run(clip.audio, sample_rate_hz=16_000, character=CHARACTER,
                                             text=clip.transcript, mode="align"),
        "phone_recognition": lambda: face.run(clip.audio, sample_rate_hz=16_000, character=CHARACTER,
                                              mode="recognize"),
        "audio_cues_only": lambda: face.run(clip.audio, sample_rate_hz=16_000, character=CHARACTER,
                                            mode="audio"),
    }
    durations = {"tts_phonemes": len(tts_audio) / tts.sample_rate_hz}
    ctx.log(f"face: {len(jobs)} timing paths, {reps} repetition(s)")
    paths: dict[str, Any] = {}
    for name, job in jobs.items():
        await ctx.call(job)  # warm-up (pocketsphinx decoders load lazily)
        times = []
        for _ in range(reps):
            started = time.perf_counter()
            await ctx.call(job)
            times.append(time.perf_counter() - started)
        audio_s = durations.get(name, clip.seconds)
        paths[name] = {"audio_s": audio_s, "time_s": median(times), "rtf": median(times) / audio_s}

    # per-chunk face cost in process: the work speak adds before each chunk is sent
    track = face.tts_face(CHARACTER, sample_rate_hz=tts.sample_rate_hz)
    push_s = []
    for c in chunks:
        started = time.perf_counter()
        track.push(c)
        push_s.append(time.perf_counter() - started)

    speak_reps = ctx.pick(3, 1)
    ctx.log(f"face: speak vs synthesize over the WebSocket, {speak_reps} interleaved repetitions")
    runs: dict[str, list[dict[str, Any]]] = {"synthesize": [], "speak": []}
    cpu: dict[str, list[float]] = {"synthesize": [], "speak": []}
    async with connect(ctx.sidecar.ws) as client:
        await stream_ws(client, text, voice=voice, character=CHARACTER)
        await stream_ws(client, text, voice=voice)
        for r in range(speak_reps):
            for kind in (("synthesize", "speak") if r % 2 == 0 else ("speak", "synthesize")):
                with CpuMeter(ctx.sidecar.pid) as meter:
                    runs[kind].append(await stream_ws(client, text, voice=voice,
                                                      character=CHARACTER if kind == "speak" else None))
                cpu[kind].append(meter.used_s)
        ctx.log("face: sidecar face.run (forced alignment) vs in process")
        direct_s, ws_s = [], []
        for _ in range(reps):
            started = time.perf_counter()
            await ctx.call(jobs["forced_alignment"])
            direct_s.append(time.perf_counter() - started)
            started = time.perf_counter()
            await client.face(clip.audio, 16_000, character=CHARACTER, text=clip.transcript)
            ws_s.append(time.perf_counter() - started)
    n_chunks = median([len(x["arrivals_s"]) for x in runs["speak"]])
    speak_total = [x["total_s"] for x in runs["speak"]]
    synth_total = [x["total_s"] for x in runs["synthesize"]]
    pairs = [a - b for a, b in zip(speak_total, synth_total)]
    ratio = ratio_stats(speak_total, synth_total)
    speak = {"chunks": n_chunks, "reps": speak_reps, "synthesize_total_s": median(synth_total),
             "speak_total_s": median(speak_total),
             "extra_per_chunk_ms": 1000 * median(pairs) / max(n_chunks, 1),
             "extra_total_pct": 100 * (ratio["median_paired_ratio"] - 1),
             "extra_first_chunk_ms": 1000 * (median([x["first_s"] for x in runs["speak"]])
                                             - median([x["first_s"] for x in runs["synthesize"]])),
             "cpu_ratio": ratio_stats(cpu["speak"], cpu["synthesize"])["median_paired_ratio"],
             "face_push_ms_per_chunk": 1000 * median(push_s),
             "face_push_ms_max": 1000 * max(push_s)}
    return {"character": CHARACTER, "clip_s": clip.seconds, "reps": reps, "paths": paths, "speak": speak,
            "websocket_face_run": {"direct_s": median(direct_s), "websocket_s": median(ws_s),
                                   "overhead_pct": 100 * (ratio_stats(ws_s, direct_s)["median_paired_ratio"] - 1)}}
