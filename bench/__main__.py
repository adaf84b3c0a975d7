"""``python -m bench``: run the suites against a real sidecar, write JSON + plots, print a summary."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import importlib
import json
import sys
import time
import traceback
from pathlib import Path
from typing import Any

from bench.common import ROOT, cpu_s, load_avg, machine, rounded, rss_mb

SUITES = ("tts", "stt", "conversation", "face", "load", "scaling", "hardening", "memory", "bundle")
#: suites that start their own processes (a sidecar with a token, other limits, a bundle): a
#: run of only these starts no shared sidecar
OWN_SIDECAR = {"hardening", "memory", "bundle"}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    p.add_argument("--quick", action="store_true", help="fewer repetitions and shorter inputs (~1-2 min)")
    p.add_argument("--smoke", action="store_true", help="the smallest run that exercises the harness "
                   "(for tests; numbers are not meaningful)")
    p.add_argument("--only", default=",".join(SUITES),
                   help=f"comma-separated suites to run (default all: {','.join(SUITES)})")
    p.add_argument("--out", type=Path, default=ROOT / "bench" / "results",
                   help="folder for <date>.json and the plots (default bench/results)")
    p.add_argument("--no-plots", action="store_true", help="skip the PNG plots")
    p.add_argument("--stt-scaling-model", default="whisper-tiny.en",
                   help="STT model for the audio-length sweep (default whisper-tiny.en, to fit "
                   "10 min of audio in the time budget)")
    args = p.parse_args(argv)
    args.suites = [s.strip() for s in args.only.split(",") if s.strip()]
    unknown = [s for s in args.suites if s not in SUITES]
    if unknown:
        p.error(f"unknown suite(s) {unknown}; choose from {', '.join(SUITES)}")
    args.mode = "smoke" if args.smoke else "quick" if args.quick else "full"
    return args


async def run_suites(args: argparse.Namespace, result: dict[str, Any]) -> None:
    from bench.context import Ctx
    from bench.sidecar import SidecarProcess

    preload = "tts" if args.mode == "smoke" else "tts,whisper,face"
    shared = not set(args.suites) <= OWN_SIDECAR
    sidecar = SidecarProcess(preload)
    ctx = Ctx(mode=args.mode, sidecar=sidecar)
    if shared:
        ctx.log(f"starting the sidecar (preload {preload})")
        sidecar.start()
    try:
        if shared:
            await asyncio.sleep(1.0)
            result["sidecar"] = {"preload": preload.split(","), "pid_rss_mb_idle_fresh": sidecar.rss_mb(),
                                 "spawn_to_listen_s": sidecar.spawn_to_listen_s,
                                 "spawn_to_ready_s": sidecar.spawn_to_ready_s}
        for name in args.suites:
            module = importlib.import_module(f"bench.{name}")
            ctx.log(f"--- suite {name}")
            started = time.perf_counter()
            try:
                result[name] = await module.run(ctx, args) if name == "scaling" else await module.run(ctx)
            except Exception as exc:  # one failing suite must not lose the others' numbers
                traceback.print_exc()
                result[name] = {"error": f"{type(exc).__name__}: {exc}"}
                result["errors"].append(name)
            result.setdefault("suite_wall_s", {})[name] = time.perf_counter() - started
        if not shared:
            return
        await asyncio.sleep(1.0)
        status = sidecar.status()
        result["sidecar"].update({"pid_rss_mb_idle_after_work": sidecar.rss_mb(),
                                  "peak_rss_mb": rss_mb(sidecar.pid, "VmHWM"),
                                  "cpu_s_total": cpu_s(sidecar.pid),
                                  "requests_total": status.get("requests_total"),
                                  "loaded_models": status.get("loaded_models"),
                                  "recent_errors": status.get("recent_errors")})
    finally:
        ctx.close()
        sidecar.stop()


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    from bench import report

    started = time.time()
    result: dict[str, Any] = {"schema": 1, "mode": args.mode, "suites": args.suites,
                              "started_at": dt.datetime.now().isoformat(timespec="seconds"),
                              "load_avg": {"start": load_avg()}, "machine": machine(), "errors": []}
    asyncio.run(run_suites(args, result))
    result["load_avg"]["end"] = load_avg()
    result["wall_s"] = time.time() - started
    result["targets"] = report.targets(result)
    result = rounded(result)
    args.out.mkdir(parents=True, exist_ok=True)
    stem = dt.date.today().isoformat() + ("" if args.mode == "full" else f"-{args.mode}")
    path = args.out / f"{stem}.json"
    path.write_text(json.dumps(result, indent=1) + "\n")
    plots = [] if args.no_plots else report.plots(result, args.out, stem)
    print(report.summary(result))
    print(f"\nwrote {path}" + "".join(f"\nwrote {p}" for p in plots))
    return 1 if result["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
