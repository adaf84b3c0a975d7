"""Kokoro streamed in windows of a whole-sentence plan: first audio, underruns, RTF, seams.

``python -m bench.tts_windows [--quick] [--out DIR]`` (in-process engine, no sidecar child):

- **first audio** of the windowed stream of each paragraph vs the time the paragraph's whole
  first sentence takes to synthesize alone (one unwindowed pass), measured in the same run,
  interleaved paragraph by paragraph;
- **underruns and gap seconds** for a listener who starts playing at the first chunk, for one
  stream at a time and for 3 streams at once through the sidecar's own worker pool
  (:class:`atelico.service.Service`, deadline-first scheduling);
- **RTF** of the whole paragraph, windowed vs the unwindowed path (sentences whole);
- **seams**: windowed vs whole render of each first sentence (log-mel distance, largest
  sample step at joins vs inside), next to the model's own sensitivity (the same plan
  decoded with one trailing frame less).

Targets are a report, not a test (see bench/README.md).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import threading
import time
from pathlib import Path
from typing import Any, Iterator

import numpy as np

from bench.common import load_avg, machine, median, percentile, rounded
from bench.context import bench_settings
from bench.joins import join_jumps, log_mel_distance_db, playback

PARAGRAPHS = [
    "Stay close to the fire, traveler. The wolves come down from the hills when the moon is high.",
    "The old lighthouse keeper climbed the spiral stairs every evening. Tonight the sea was calm.",
    "I told you the bridge would not hold. Now we swim, or we wait for the ferry at dawn.",
    "Welcome to the Gilded Tankard! Ale is two coppers, a bed is five, and trouble costs extra.",
    "Captain, the shields are failing on the port side. We have maybe thirty seconds before impact.",
    "Look out! There is something moving in the reeds. Keep your sword low and your eyes open.",
    "My grandmother planted these apple trees before the war. Every autumn we still press the cider.",
    "You found the map? Then the treasure is real. Meet me at the north gate when the bell rings twice.",
    "The council has decided. From this day forward, no ship shall leave the harbor without a seal.",
    "Quiet now, the baby is finally asleep. If you wake her, you will be singing lullabies till dawn.",
    "Engines at full power. Plot a course through the asteroid field and pray the hull holds together.",
    "Please leave your weapons at the door. The library has rules, and the librarian enforces them.",
    "Three days we marched through the desert without water. On the fourth, we saw the city walls.",
    "Have you ever seen snow fall on the ocean? It disappears before it touches the waves.",
    "The potion needs one more ingredient, a feather from a bird that has never flown. Good luck.",
    "Hold the line! Reinforcements are coming from the east, and they will be here before nightfall.",
    "This clock has not moved in forty years. Yesterday, at midnight, it struck thirteen.",
    "I am not a hero. I am a baker who happened to be standing near the dragon when it sneezed.",
    "Scan complete. Two life signs detected on the lower deck, and one of them is not human.",
    "Take the left tunnel, then the second stair down. If you hear water, you have gone too far.",
]
VOICE = "af_heart"


def stream_direct(engine: Any, text: str) -> dict[str, Any]:
    """One windowed stream; with the first window's audio and the decode speed the pacer
    sized it from (a slower measured speed buys a longer first window, so no gap follows)."""
    meter_rtf = engine.meter.rtf
    start = time.perf_counter()
    arrivals, durations = [], []
    for chunk in engine.synthesize(text, voice=VOICE):
        arrivals.append(time.perf_counter() - start)
        durations.append(chunk.duration_s)
    total = time.perf_counter() - start
    return {"first_s": arrivals[0], "total_s": total, "audio_s": sum(durations),
            "chunks": len(durations), "first_window_s": durations[0],
            "meter_rtf_at_start": meter_rtf, **playback(arrivals, durations)}


def unwindowed(engine: Any, text: str) -> float:
    """The path without windows: each sentence in one pass (no clause-first split)."""
    saved = engine.windowed, engine.first_chunk_words
    engine.windowed, engine.first_chunk_words = False, 0
    try:
        start = time.perf_counter()
        for _chunk in engine.synthesize(text, voice=VOICE):
            pass
        return time.perf_counter() - start
    finally:
        engine.windowed, engine.first_chunk_words = saved


def seams(engine: Any, sentence: str) -> dict[str, float]:
    """Windowed (the pacer's own choice) vs whole render of one sentence; the model's own
    sensitivity as a yardstick."""
    from atelico.engines.tts.kokoro import _token_ids

    chunks = list(engine.synthesize(sentence, voice=VOICE))
    joined = np.concatenate([c.audio for c in chunks])
    style = engine.voice_tensor(VOICE)
    whole = engine.render(sentence, style)
    joins = np.cumsum([len(c.audio) for c in chunks])[:-1]
    split = engine.backend.split
    ids, _ = _token_ids(engine._g2p(sentence, "a"))
    plan = split.plan(ids, style[len(ids) - 1], 1.0)
    full = split.decode(plan, 0, plan.frames)
    shorter = split.decode(plan, 0, plan.frames - 1)
    return {"windows": len(chunks), "same_length": len(joined) == len(whole),
            "log_mel_db": log_mel_distance_db(joined, whole),
            "own_sensitivity_log_mel_db": log_mel_distance_db(shorter, full[:len(shorter)]),
            **join_jumps(joined, joins)}


async def concurrent_streams(service: Any, texts: list[str]) -> list[dict[str, Any]]:
    """Several streams at once through the service's pool; arrivals per stream."""

    async def one(text: str) -> dict[str, Any]:
        def gen(ev: threading.Event) -> Iterator[Any]:
            return service.tts_pieces(model="kokoro", text=text, voice=VOICE, speed=1.0,
                                      language=None, character=None, cancel=ev)

        start = time.perf_counter()
        arrivals, durations = [], []
        async for piece in service.stream(gen):
            arrivals.append(time.perf_counter() - start)
            durations.append(piece.duration_s)
        return {"first_s": arrivals[0], "total_s": time.perf_counter() - start,
                "audio_s": sum(durations), "chunks": len(durations),
                **playback(arrivals, durations)}

    return list(await asyncio.gather(*(one(t) for t in texts)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="5 paragraphs, 1 concurrent round")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results")
    args = parser.parse_args()
    from atelico import lifecycle
    from atelico.engines.tts.text import split_sentences
    from atelico.models.registry import ModelRegistry
    from atelico.service import Service

    lifecycle.return_freed_memory()  # the sidecar's heap settings, before any model loads
    settings = bench_settings()
    out: dict[str, Any] = {"date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
                           "machine": machine(), "load_avg_start": load_avg()}
    registry = ModelRegistry(settings)
    paragraphs = PARAGRAPHS[:5] if args.quick else PARAGRAPHS
    with registry.acquire("kokoro") as engine:
        style = engine.voice_tensor(VOICE)
        # warm-up: both paths once
        stream_direct(engine, PARAGRAPHS[0])
        unwindowed(engine, PARAGRAPHS[0])
        rows = []
        for i, text in enumerate(paragraphs):
            first_sentence = split_sentences(text)[0]
            row: dict[str, Any] = {"text": text, "first_sentence": first_sentence}
            steps = ["sentence", "stream", "unwindowed"]
            for step in steps[i % 3:] + steps[:i % 3]:
                if step == "sentence":
                    started = time.perf_counter()
                    engine.render(first_sentence, style)
                    row["first_sentence_s"] = time.perf_counter() - started
                elif step == "stream":
                    row["stream"] = stream_direct(engine, text)
                else:
                    row["unwindowed_total_s"] = unwindowed(engine, text)
            row["first_vs_sentence"] = row["stream"]["first_s"] / row["first_sentence_s"]
            row["rtf_windowed"] = row["stream"]["total_s"] / row["stream"]["audio_s"]
            row["rtf_unwindowed"] = row["unwindowed_total_s"] / row["stream"]["audio_s"]
            rows.append(row)
            print(f"[{i + 1}/{len(paragraphs)}] first {row['stream']['first_s']:.3f} s "
                  f"({row['stream']['first_window_s']:.2f} s of audio at decode rtf "
                  f"{row['stream']['meter_rtf_at_start']:.2f}), "
                  f"sentence {row['first_sentence_s']:.3f} s, ratio {row['first_vs_sentence']:.3f},"
                  f" underruns {row['stream']['underruns']}, rtf {row['rtf_windowed']:.2f} vs "
                  f"{row['rtf_unwindowed']:.2f}, load {os.getloadavg()[0]:.1f}", flush=True)
        firsts = [r["stream"]["first_s"] for r in rows]
        ratios = [r["first_vs_sentence"] for r in rows]
        out["paragraphs"] = rows
        out["summary"] = {
            "n": len(rows),
            "first_audio_median_s": median(firsts), "first_audio_p95_s": percentile(firsts, 95),
            "first_vs_sentence_median": median(ratios),
            "first_vs_sentence_p95": percentile(ratios, 95),
            "first_window_median_s": median([r["stream"]["first_window_s"] for r in rows]),
            "meter_rtf_median": median([r["stream"]["meter_rtf_at_start"] for r in rows]),
            "underruns_total": sum(r["stream"]["underruns"] for r in rows),
            "gap_s_total": sum(r["stream"]["gap_s"] for r in rows),
            "rtf_windowed_median": median([r["rtf_windowed"] for r in rows]),
            "rtf_unwindowed_median": median([r["rtf_unwindowed"] for r in rows]),
            "rtf_ratio_median": median([r["rtf_windowed"] / r["rtf_unwindowed"] for r in rows]),
        }
        print("seams...", flush=True)
        out["seams"] = [seams(engine, r["first_sentence"]) for r in rows[:5]]
    service = Service(settings, registry)
    try:
        rounds = 1 if args.quick else 2
        out["three_streams"] = []
        for r in range(rounds):
            texts = [PARAGRAPHS[(3 * r + k) % len(PARAGRAPHS)] for k in range(3)]
            got = asyncio.run(concurrent_streams(service, texts))
            out["three_streams"].extend(got)
            print("3 streams: " + ", ".join(f"first {g['first_s']:.2f} s underruns "
                                             f"{g['underruns']} gap {g['gap_s']:.2f} s"
                                             for g in got), flush=True)
    finally:
        service.close()
        registry.close()
    out["load_avg_end"] = load_avg()
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / f"{dt.date.today().isoformat()}-tts-windows.json"
    path.write_text(json.dumps(rounded(out), indent=1))
    print(json.dumps(rounded({k: out[k] for k in ("summary", "load_avg_start", "load_avg_end")}),
                     indent=1))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
