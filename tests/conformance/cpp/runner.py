"""Builds and runs the C++ conformance runner (the Unreal core client over websocketpp).

One CMake build per checkout in the temp dir, one runner process playing every scenario.
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
BUILD_TIMEOUT_S = 600


def build_dir() -> Path:
    digest = hashlib.md5(str(common.REPO).encode()).hexdigest()[:8]
    return Path(tempfile.gettempdir()) / f"atelico_conformance_cpp_{digest}"


def build() -> Path:
    common.need("cmake", shutil.which("cmake"))
    common.need("websocketpp headers (libwebsocketpp-dev, libasio-dev)",
                Path("/usr/include/websocketpp/client.hpp").is_file())
    out = build_dir()
    for cmd in (["cmake", "-S", str(HERE), "-B", str(out), "-DCMAKE_BUILD_TYPE=Debug"],
                ["nice", "cmake", "--build", str(out), "-j2"]):
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=BUILD_TIMEOUT_S)
        if done.returncode != 0:
            raise AssertionError(f"{' '.join(cmd)} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return out / "conformance_runner"


def prepare() -> Callable[[dict[str, int]], dict[str, Any]]:
    binary = build()
    return lambda ports: run(binary, ports)


def run(binary: Path, ports: dict[str, int]) -> dict[str, Any]:
    return common.play_batch([str(binary)], ports, "conformance_runner")
