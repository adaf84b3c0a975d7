"""A real sidecar in a child process (``python -m atelico serve --port 0``), measured alone."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx

from bench.common import ROOT, rss_mb

READY_PREFIX = "ATELICO_READY port="


class SidecarProcess:
    """Start the sidecar, wait for ``ATELICO_READY`` and ``/health/ready``; ``stop()`` ends it.

    Attributes set by :meth:`start`: ``pid``, ``port``, ``spawn_to_listen_s`` (process start
    to the ready line) and ``spawn_to_ready_s`` (until every preloaded model is loaded).
    """

    def __init__(self, preload: str = "tts,whisper,face", *, workers: int | None = None,
                 extra_env: dict[str, str] | None = None) -> None:
        self.preload = preload
        self.workers = workers
        self.extra_env = extra_env or {}
        self.proc: subprocess.Popen[str] | None = None
        self.port = 0
        self.spawn_to_listen_s = float("nan")
        self.spawn_to_ready_s = float("nan")
        self._log = tempfile.NamedTemporaryFile("w+", prefix="bench-sidecar-", suffix=".log",
                                                delete=False)

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    @property
    def http(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws(self) -> str:
        return f"ws://127.0.0.1:{self.port}/v1/ws"

    def start(self, timeout_s: float = 180.0) -> "SidecarProcess":
        env = {**os.environ, "ATELICO_SERVER__LOG_LEVEL": "warning"}
        env.pop("ATELICO_TOKEN", None)  # no token unless ``extra_env`` gives one
        env.update(self.extra_env)
        if self.workers is not None:
            env["ATELICO_MODELS__WORKERS"] = str(self.workers)
        cmd = [sys.executable, "-m", "atelico", "serve", "--port", "0", "--preload", self.preload,
               "--offline", "--exit-with-parent"]
        started = time.perf_counter()
        self.proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                                     stderr=self._log, text=True, bufsize=1)
        deadline = started + timeout_s
        line_box: list[str] = []

        def read_ready() -> None:
            assert self.proc is not None and self.proc.stdout is not None
            for line in self.proc.stdout:
                if line.startswith(READY_PREFIX):
                    line_box.append(line)
                    break
            # keep draining so the child never blocks on a full pipe
            threading.Thread(target=lambda: [None for _ in self.proc.stdout],  # type: ignore[union-attr]
                             daemon=True).start()

        reader = threading.Thread(target=read_ready, daemon=True)
        reader.start()
        reader.join(timeout_s)
        if not line_box:
            self.stop()
            raise RuntimeError(f"sidecar did not print its ready line; log: {self.log_tail()}")
        self.port = int(line_box[0].strip().split("=", 1)[1])
        self.spawn_to_listen_s = time.perf_counter() - started
        with httpx.Client(timeout=10) as client:
            while True:
                r = client.get(f"{self.http}/health/ready")
                if r.status_code == 200:
                    break
                body = r.json()
                if body.get("status") not in ("loading", None) or time.perf_counter() > deadline:
                    self.stop()
                    raise RuntimeError(f"sidecar preload failed: {body}; log: {self.log_tail()}")
                time.sleep(0.05)
        self.spawn_to_ready_s = time.perf_counter() - started
        return self

    def rss_mb(self) -> float:
        return rss_mb(self.pid)

    def status(self) -> dict[str, Any]:
        with httpx.Client(timeout=10) as client:
            return client.get(f"{self.http}/v1/status").json()

    def log_tail(self, n_chars: int = 2000) -> str:
        try:
            return Path(self._log.name).read_text()[-n_chars:]
        except OSError:
            return ""

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self._log.close()
        try:
            os.unlink(self._log.name)
        except OSError:
            pass

    def __enter__(self) -> "SidecarProcess":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()
