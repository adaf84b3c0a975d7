"""Helpers of the launcher conformance suite: bounded waits, process and port checks, a log flood."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, Callable

REPO = Path(__file__).resolve().parents[2]
SPEC = json.loads((REPO / "docs" / "launch_spec.json").read_text())
LAUNCHER = Path(__file__).resolve().parent / "launcher.py"
TOKEN = "launch-test-token-6f1d2c9a8b7e"


def wait_until(predicate: Callable[[], Any], timeout_s: float, what: str, every_s: float = 0.05) -> float:
    """Poll ``predicate`` until truthy; returns the seconds it took, fails after ``timeout_s``."""
    start = time.monotonic()
    while True:
        if predicate():
            return time.monotonic() - start
        if time.monotonic() - start > timeout_s:
            raise AssertionError(f"{what}: not within {timeout_s} s")
        time.sleep(every_s)


def pid_gone(pid: int) -> bool:
    """No such process, or only its zombie (nobody has reaped it yet)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat[stat.rfind(")") + 2:][:1] in ("Z", "X")


def port_closed(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(1.0)
        try:
            s.connect(("127.0.0.1", port))
        except ConnectionRefusedError:
            return True
        except OSError:
            return False
        return False


def get(port: int, path: str, token: str | None = TOKEN, timeout_s: float = 5.0) -> tuple[int, dict]:
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as r:
            return r.status, json.loads(r.read() or b"{}")
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


def flood(port: int, log_path: Path, min_bytes: int, timeout_s: float = 90.0) -> int:
    """Send invalid HTTP requests (each one logs a warning) until ``log_path`` grew by
    ``min_bytes``; every request must still be answered (a blocked event loop fails here)."""
    start_size = log_path.stat().st_size
    sent = 0
    deadline = time.monotonic() + timeout_s
    while log_path.stat().st_size - start_size < min_bytes:
        assert time.monotonic() < deadline, f"only {log_path.stat().st_size - start_size} log bytes"
        with socket.create_connection(("127.0.0.1", port), timeout=5.0) as s:
            s.sendall(b"NOT HTTP AT ALL \x00\x01\r\n\r\n")
            answer = s.recv(64)  # a hung sidecar raises socket.timeout here
        assert answer.startswith(b"HTTP/1.1 400"), answer
        sent += 1
    return sent


def launch(style: str, tmp_path: Path, *, preload: str = "", stdin: str = "pipe",
           timeout_s: float = 90.0) -> tuple[subprocess.Popen, dict]:
    """Start ``launcher.py STYLE`` and wait (bounded) for its report."""
    report = tmp_path / f"{style}.json"
    env = {**os.environ, "LAUNCH_TEST_TOKEN": TOKEN, SPEC["env"]["log_file"]: str(tmp_path / "sidecar.log"),
           "PYTHONPATH": f"{REPO / 'sidecar'}{os.pathsep}{REPO}", "PYTHONUNBUFFERED": "1"}
    env.pop(SPEC["env"]["token"], None)
    proc = subprocess.Popen([sys.executable, str(LAUNCHER), style, str(report), "--preload", preload,
                             "--stdin", stdin], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, start_new_session=True)
    try:
        wait_until(lambda: report.exists() or proc.poll() is not None, timeout_s, f"{style} launcher report")
    except AssertionError:
        kill(proc)
        raise
    if not report.exists():
        raise AssertionError(f"the {style} launcher failed: {proc.stderr.read().decode()[-3000:]}")
    return proc, json.loads(report.read_text())


def kill(proc: subprocess.Popen) -> None:
    """SIGKILL the launcher (as an editor's Stop does on Unix) and reap it."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)


def cleanup(*pids: int) -> None:
    """Last resort after a failed test: no sidecar survives the suite."""
    for pid in pids:
        if pid and not pid_gone(pid):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
