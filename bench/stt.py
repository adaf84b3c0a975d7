"""STT: RTF per model, sidecar overhead vs faster-whisper called directly, live latency
(final, ``stt.speech.started`` and the turn to the NPC's first audio)."""

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
                          speech_clips, wav_bytes, wer)
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


def _speech_span(audio: np.ndarray) -> tuple[float, float]:
    """(onset, end) of the speech in ``audio`` (Silero, as the sidecar uses, no padding)."""
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    stamps = get_speech_timestamps(audio, VadOptions(min_speech_duration_ms=100, speech_pad_ms=0))
    if not stamps:
        return 0.0, len(audio) / STT_RATE_HZ
    return stamps[0]["start"] / STT_RATE_HZ, stamps[-1]["end"] / STT_RATE_HZ


#: the NPC's answer in the turn-latency measurement, available the instant the final is
#: (a scripted reply, or a language model's first tokens), written in word pieces
REPLY = "Well, traveller, that is a fair question. The north road is closed until the thaw."


async def first_reply_audio(client: Any, reply: str) -> float:
    """Speak ``reply`` with a face as a game's NPC does (``speech``, text written in word
    pieces, then its end): the moment its first audio chunk arrives (the rest is cancelled)."""
    async with client.speech(text_stream=True, voice="am_adam", character="james") as sp:
        for i, word in enumerate(reply.split(" ")):
            await sp.write(word if i == 0 else " " + word)
        await sp.end()
        async for _ in sp.chunks():
            return time.perf_counter()
    return float("nan")


async def live_latency(client: Any, clip: Clip, model: str, reply: str | None = None) -> dict[str, Any]:
    """Feed ``clip`` then silence in real time. Final latency: arrival of the first final
    after the end of speech − the moment the frame holding the end of speech was sent;
    ``stt.speech.started`` delay: its arrival − the moment the frame holding the onset was
    sent (both measured on the padded stream, as the sidecar hears it). With ``reply``, the
    turn latency too: on that final the NPC speaks ``reply`` (:func:`first_reply_audio`);
    its first audio's arrival − the moment the frame holding the end of speech was sent."""
    audio = np.concatenate([clip.audio, np.zeros(int(TRAILING_SILENCE_S * STT_RATE_HZ), np.float32)])
    onset_s, end_s = _speech_span(audio)
    onset_sample, end_sample = int(onset_s * STT_RATE_HZ), int(end_s * STT_RATE_HZ)
    frame = int(FRAME_S * STT_RATE_HZ)
    finals: list[tuple[float, str]] = []
    started: list[float] = []
    sent: dict[str, float] = {}
    answer: list[asyncio.Task[float]] = []
    async with client.live(model=model, language="en", partials=True) as live:
        async def receive() -> None:
            async for msg in live.results():
                now = time.perf_counter()
                if msg.type == "stt.speech.started":
                    started.append(now)
                if msg.data.get("is_final"):
                    finals.append((now, str(msg.data.get("text", ""))))
                    if reply and not answer and "end" in sent:  # the player's turn is over
                        answer.append(asyncio.create_task(first_reply_audio(client, reply)))

        reader = asyncio.create_task(receive())
        start = time.perf_counter()
        for i, at in enumerate(range(0, len(audio), frame)):
            delay = start + i * FRAME_S - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            await live.send(audio[at:at + frame])
            now = time.perf_counter()
            if "onset" not in sent and at + frame > onset_sample:
                sent["onset"] = now
            if "end" not in sent and at + frame > end_sample:
                sent["end"] = now
        await live.stop()
        await asyncio.wait_for(reader, 120)
        first_audio = await asyncio.wait_for(answer[0], 120) if answer else float("nan")
    nan = float("nan")
    after = [t for t, _ in finals if t >= sent["end"]]
    text = " ".join(tx for _, tx in finals)
    out = {"clip": clip.name, "speech_onset_s": onset_s, "speech_end_s": end_s,
           "latency_s": (after[0] - sent["end"]) if after else nan,
           "speech_started_delay_s": (started[0] - sent["onset"]) if started else nan,
           "finals": len(finals), "text": text, "wer": wer(clip.transcript, text)}
    if reply:
        out["turn_s"] = first_audio - sent["end"]
        out["reply_first_audio_s"] = first_audio - after[0] if after else nan
    return out


def _stats(values: list[float], prefix: str) -> dict[str, float]:
    """``{prefix}median_s``, ``p95_s`` and ``max_s`` of the finite ``values`` (NaN if none)."""
    ok = [v for v in values if np.isfinite(v)]
    nan = float("nan")
    return {f"{prefix}median_s": median(ok) if ok else nan,
            f"{prefix}p95_s": float(np.percentile(ok, 95)) if ok else nan,
            f"{prefix}max_s": max(ok) if ok else nan}


def _live_summary(runs: list[dict[str, Any]], clips: list[Clip]) -> dict[str, Any]:
    sd = _stats([r["speech_started_delay_s"] for r in runs], "")
    out = {"utterances": len(runs), "frame_s": FRAME_S,
           **_stats([r["latency_s"] for r in runs], ""),
           "speech_started_delay_median_s": sd["median_s"],
           "speech_started_delay_max_s": sd["max_s"],
           "wer": wer(" ".join(c.transcript for c in clips), " ".join(r["text"] for r in runs)),
           "runs": runs}
    if any("turn_s" in r for r in runs):
        out.update(_stats([r.get("turn_s", float("nan")) for r in runs], "turn_"))
        out.update(_stats([r.get("reply_first_audio_s", float("nan")) for r in runs],
                          "reply_first_audio_"))
    return out


class BatchedWhisper:
    """faster-whisper's ``BatchedInferencePipeline`` with Silero VAD (what speaches serves)
    on the sidecar's asset directory: int8, all cores, beam 5, batch 8."""

    def __init__(self, asset_dir: str) -> None:
        from faster_whisper import BatchedInferencePipeline, WhisperModel

        model = WhisperModel(asset_dir, device="cpu", compute_type=atelico_whisper.resolve_compute_type("auto", "cpu"),
                             cpu_threads=os.cpu_count() or 1, num_workers=1)
        self.pipeline = BatchedInferencePipeline(model=model)

    def transcribe(self, audio: np.ndarray, language: str = "en", words: bool = True) -> str:
        segments, _ = self.pipeline.transcribe(audio, language=language, beam_size=5, batch_size=8,
                                               vad_filter=True, word_timestamps=words,
                                               condition_on_previous_text=False)
        return " ".join(s.text.strip() for s in segments)


def _speaches_installed() -> bool:
    import importlib.util

    return importlib.util.find_spec("speaches") is not None


async def whole_clip_vs_batched(ctx: Ctx, client: Any, model: str, asset: str) -> dict[str, Any]:
    """The 27 s LibriVox clip (its 5 clips joined with 0.6 s gaps), word timestamps on:
    the sidecar over the WebSocket vs the raw batched pipeline + VAD in the bench process,
    interleaved (speaches itself is not on PyPI; it runs this pipeline)."""
    clip = joined_clip([c for c in speech_clips() if c.name.startswith("sense_and_sensibility")])
    batched = await ctx.call(BatchedWhisper, str(ensure_asset(asset, ctx.settings, progress=False)))

    async def ours() -> str:
        return str((await client.transcribe(clip.audio, model=model, language="en", words=True))["text"])

    paths = {"sidecar": ours, "batched": lambda: ctx.call(batched.transcribe, clip.audio)}
    for fn in paths.values():  # warm-up
        await fn()
    reps = ctx.pick(3, 2, 1)
    times: dict[str, list[float]] = {p: [] for p in paths}
    texts: dict[str, str] = {}
    for r in range(reps):
        for name in (list(paths) if r % 2 == 0 else list(paths)[::-1]):
            started = time.perf_counter()
            texts[name] = await paths[name]()
            times[name].append(time.perf_counter() - started)
    ratio = ratio_stats(times["sidecar"], times["batched"])
    return {"clip": "5 LibriVox clips joined with 0.6 s gaps", "clip_s": clip.seconds, "model": model,
            "reps": reps, "speaches": "not installable here (not on PyPI): compared with the raw "
            "batched pipeline it runs" if not _speaches_installed() else "installed but not driven",
            **{name: {"time_s": median(t), "runs_s": t, "wer": wer(clip.transcript, texts[name])}
               for name, t in times.items()},
            "ratio": ratio["median_paired_ratio"], "ratio_of_medians": ratio["ratio_of_medians"]}


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
        live_clips = ctx.pick([c for c in clips if c.seconds >= 2.5], clips[:3], clips[:1])
        live_models = ctx.pick(list(MODELS), ["whisper"], ["whisper"])
        live: dict[str, Any] = {}
        await first_reply_audio(client, REPLY)  # warm-up: the voice and face's first use
        for model in live_models:
            ctx.log(f"stt: live {model}, {len(live_clips)} utterance(s) fed in real time")
            runs = [await live_latency(client, c, model, REPLY) for c in live_clips]
            live[model] = _live_summary(runs, live_clips)
        ctx.log("stt: whole clip, sidecar vs batched pipeline + VAD")
        out["whole_clip"] = await whole_clip_vs_batched(ctx, client, "whisper-base", MODELS["whisper-base"])
    default = live.get("whisper") or live.get("whisper-base") or next(iter(live.values()))
    out["live"] = {"model": "whisper (default: whisper-base)", **default, "models": live,
                   "note": "the end of speech is confirmed by 0.35 s of silence (0.6 s when the "
                           "text does not end a sentence); the final is decoded at 0.2 s"}
    return out
