"""Builds and runs the C# conformance runner (the Unity package's client, unity_package/Runtime
Client + Protocol, on mono's ClientWebSocket).

One mcs build per checkout in the temp dir (C# 7.2 subset, warnings as errors, as
tests/unity/run.sh builds the package), one mono process playing every scenario.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any, Callable

from tests.conformance import common

HERE = Path(__file__).resolve().parent
RUNTIME = common.REPO / "unity_package" / "Runtime"
BUILD_TIMEOUT_S = 300


def sources() -> list[Path]:
    """The runner plus the package's engine-independent client (no UnityEngine there)."""
    found = [HERE / "ConformanceRunner.cs"]
    for folder in ("Client", "Protocol"):
        found += sorted((RUNTIME / folder).glob("*.cs"))
    return found


def build() -> Path:
    common.need("mono's mcs (mono-devel)", shutil.which("mcs") and shutil.which("mono"))
    digest = hashlib.md5(str(common.REPO).encode()).hexdigest()[:8]
    out = Path(tempfile.gettempdir()) / f"atelico_conformance_cs_{digest}" / "conformance_runner.exe"
    out.parent.mkdir(parents=True, exist_ok=True)
    cmd = ["nice", "mcs", "-langversion:7.2", "-warnaserror+", "-nologo", "-debug", "-target:exe",
           f"-out:{out}", *map(str, sources())]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=BUILD_TIMEOUT_S)
    if done.returncode != 0:
        raise AssertionError(f"mcs failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return out


def prepare() -> Callable[[dict[str, int]], dict[str, Any]]:
    exe = build()
    return lambda ports: run(exe, ports)


def run(exe: Path, ports: dict[str, int]) -> dict[str, Any]:
    return common.play_batch(["mono", "--debug", str(exe)], ports, "conformance_runner.exe")


def main(argv: list[str]) -> int:
    """``python -m tests.conformance.csharp.runner MONO_COMMAND...``: play every scenario with
    an already-built runner (tests/unity/run.sh runs it under mono's coverage profiler against the
    package's own Atelico.Audio.dll) and print each scenario's problems; exit 1 if any."""
    outcomes = common.run_with_server(lambda ports: common.play_batch(argv, ports, "the C# conformance runner"))
    scenarios = {s["name"]: s for s in common.scenarios()}
    failed = 0
    for name, outcome in sorted(outcomes.items()):
        found = common.problems(scenarios[name], outcome)
        failed += bool(found)
        for problem in found:
            print(f"conformance: {name}: {problem}")
    print(f"conformance: {len(outcomes) - failed} of {len(outcomes)} scenarios as specified")
    return 1 if failed else 0


if __name__ == "__main__":
    import sys

    sys.exit(main(sys.argv[1:]))
