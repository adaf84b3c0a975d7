"""Start a sidecar executable in a clean environment and run one request per model.

    python tests/bundle/exercise.py EXECUTABLE HOME [--netns-check] [-- extra serve args]

Prints one JSON line: ``ok``, each step's outcome, ``spawn_to_ready_s``, ``idle_rss_mb`` (VmRSS
1 s after one speech, one transcription and one face request), ``network`` (what a connection to
an outside address did). Used by ``tests/bundle`` (inside ``unshare -rn``: the bundle and this
client share a network namespace with only a loopback) and by ``bench`` (``bench/bundle.py``).
Imports only the standard library and httpx, so the client can run wherever the test runs.
"""

from __future__ import annotations

import argparse
import errno
import fcntl
import json
import socket
import struct
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

READY_PREFIX = "ATELICO_READY port="
PHRASE = "Hello there, traveller."


def loopback_up() -> None:
    """Bring ``lo`` up (a fresh network namespace has it down); no-op when already up."""
    siocgifflags, siocsifflags, iff_up = 0x8913, 0x8914, 0x1
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        req = struct.pack("16sH14x", b"lo", 0)
        flags = struct.unpack("16sH14x", fcntl.ioctl(s.fileno(), siocgifflags, req))[1]
        if not flags & iff_up:
            fcntl.ioctl(s.fileno(), siocsifflags, struct.pack("16sH14x", b"lo", flags | iff_up))


def outside_network() -> str:
    """``unreachable`` when no route leaves this host (network off), else what happened."""
    try:
        with socket.create_connection(("1.1.1.1", 443), timeout=3):
            return "connected"
    except OSError as exc:
        if exc.errno in (errno.ENETUNREACH, errno.EHOSTUNREACH, errno.EADDRNOTAVAIL):
            return "unreachable"
        return f"error: {exc}"


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    return float("nan")


def exercise(exe: Path, home: Path, extra: list[str] | None = None, *,
             ready_timeout_s: float = 120.0) -> dict[str, Any]:
    """Run ``exe serve --port 0`` under ``env -i`` with an empty ``HOME``; see the module doc."""
    home.mkdir(parents=True, exist_ok=True)
    cmd = ["env", "-i", "PATH=/usr/bin:/bin", f"HOME={home}", str(exe), "serve", "--host",
           "127.0.0.1", "--port", "0", "--preload", "", *(extra or [])]
    result: dict[str, Any] = {"ok": False, "cmd": cmd}
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        port = 0
        assert proc.stdout is not None
        for line in proc.stdout:
            if line.startswith(READY_PREFIX):
                port = int(line[len(READY_PREFIX):])
                break
        if not port:
            result["error"] = f"no ready line; exit {proc.wait(10)}: {proc.stderr.read()[-3000:]}"
            return result
        result["spawn_to_listen_s"] = time.perf_counter() - started
        base = f"http://127.0.0.1:{port}"
        deadline = started + ready_timeout_s
        ready = httpx.get(f"{base}/health/ready", timeout=10)
        while ready.status_code != 200 and time.perf_counter() < deadline:
            time.sleep(0.1)
            ready = httpx.get(f"{base}/health/ready", timeout=10)
        result["spawn_to_ready_s"] = time.perf_counter() - started
        result["ready"] = ready.json().get("status")
        if ready.status_code != 200:
            result["error"] = f"not ready: {ready.text}"
            return result
        result["rss_mb_ready"] = rss_mb(proc.pid)
        speech = httpx.post(f"{base}/v1/audio/speech", timeout=300, json={
            "model": "kokoro", "input": PHRASE, "voice": "af_heart", "response_format": "wav"})
        result["speech"] = speech.status_code == 200 and speech.content[:4] == b"RIFF"
        result["rss_mb_after_speech"] = rss_mb(proc.pid)
        if not result["speech"]:
            result["error"] = f"speech: {speech.status_code} {speech.text[:500]}"
            return result
        stt = httpx.post(f"{base}/v1/audio/transcriptions", timeout=300,
                         files={"file": ("s.wav", speech.content)}, data={"model": "whisper-base"})
        result["transcript"] = stt.json().get("text", "") if stt.status_code == 200 else stt.text
        result["rss_mb_after_transcription"] = rss_mb(proc.pid)
        face = httpx.post(f"{base}/v1/audio/face", timeout=300,
                          files={"file": ("s.wav", speech.content)})
        result["face"] = face.status_code == 200
        if not result["face"]:
            result["error"] = f"face: {face.status_code} {face.text[:500]}"
            return result
        time.sleep(1.0)  # let freed buffers go back before reading the idle RSS
        result["idle_rss_mb"] = rss_mb(proc.pid)
        result["stamps"] = sorted(p.stem for p in
                                  (home / ".local/share/atelico/verified").glob("*/*.json"))
        result["ok"] = stt.status_code == 200 and "hello" in result["transcript"].lower()
        return result
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser()
    p.add_argument("exe", type=Path)
    p.add_argument("home", type=Path)
    p.add_argument("--netns-check", action="store_true",
                   help="bring lo up and record whether the outside network is reachable")
    p.add_argument("extra", nargs="*")
    args = p.parse_args(argv)
    network = None
    if args.netns_check:
        loopback_up()
        network = outside_network()
    out = exercise(args.exe, args.home, args.extra)
    out["network"] = network
    print(json.dumps(out))
    return 0 if out["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
