"""One TTS engine in a fresh process: load time, first chunk, RTF and peak RSS, as JSON.

Run as ``python -m bench.probe kokoro|pocket``; prints one JSON line. A fresh process is the
only honest way to get an engine's own load time and peak memory.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

from bench.common import FIRST_SENTENCE, PARAGRAPH, median, rss_mb


def _engine(name: str):  # type: ignore[no-untyped-def]
    from atelico.config import load_settings

    settings = load_settings({"models": {"offline": True, "idle_unload_s": 0}})
    if name == "pocket":
        from atelico.engines.tts.pocket import PocketEngine

        return PocketEngine.from_random_weights(settings=settings), None
    from atelico.models.registry import ModelRegistry

    registry = ModelRegistry(settings)
    ctx = registry.acquire(name)
    return ctx.__enter__(), ctx


def probe(name: str, reps: int) -> dict[str, float | str | int]:
    started = time.perf_counter()
    import atelico.engine  # noqa: F401  (the package and its common dependencies)

    import_s = time.perf_counter() - started
    rss_before = rss_mb()
    t0 = time.perf_counter()
    engine, _ctx = _engine(name)
    load_s = time.perf_counter() - t0
    rss_loaded = rss_mb()
    voice = getattr(engine, "default_voice", None) or engine.voices()[0].id
    first, total, audio = [], [], []
    sentence = []
    for _ in range(reps):
        t = time.perf_counter()
        n = 0
        for i, chunk in enumerate(engine.synthesize(PARAGRAPH, voice=voice)):
            if i == 0:
                first.append(time.perf_counter() - t)
            n += len(chunk.audio)
        total.append(time.perf_counter() - t)
        audio.append(n / engine.sample_rate_hz)
        t = time.perf_counter()
        for _chunk in engine.synthesize(FIRST_SENTENCE, voice=voice):
            pass
        sentence.append(time.perf_counter() - t)
    return {"engine": name, "import_s": import_s, "load_s": load_s,
            "rss_before_load_mb": rss_before, "rss_loaded_mb": rss_loaded,
            "first_chunk_s": median(first), "paragraph_s": median(total),
            "audio_s": median(audio), "rtf": median(total) / median(audio),
            "first_sentence_s": median(sentence), "peak_rss_mb": rss_mb(key="VmHWM"),
            "reps": reps, "weights": str(getattr(engine, "weights", "real"))}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.probe")
    p.add_argument("engine", choices=("kokoro", "pocket"))
    p.add_argument("--reps", type=int, default=2)
    args = p.parse_args(argv)
    print(json.dumps(probe(args.engine, args.reps)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
