"""A real sidecar subprocess for end-to-end tests: ``atelico serve --port 0`` with a token.

Started in its own process group, waited for until ``/health/ready`` answers 200, and always
killed with its whole group by ``stop()``. The last log lines are kept for failure messages.
"""

from __future__ import annotations

import collections
import os
import secrets
import signal
import subprocess
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Mapping, Sequence

REPO = Path(__file__).resolve().parents[2]


class SidecarProcess:
    """``python -m atelico serve --host 127.0.0.1 --port 0 --token T [extra args]``."""

    def __init__(self, *, extra_args: Sequence[str] = (), env: Mapping[str, str] | None = None,
                 token: str | None = None, ready_timeout_s: float = 120.0, log_lines: int = 80) -> None:
        self.token = token or secrets.token_hex(16)
        self.log: collections.deque[str] = collections.deque(maxlen=log_lines)
        self.proc = subprocess.Popen(
            [str(REPO / ".venv" / "bin" / "python"), "-m", "atelico", "serve", "--host", "127.0.0.1",
             "--port", "0", "--token", self.token, *extra_args],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=REPO,
            env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}, start_new_session=True)
        self.port = 0
        printed = threading.Event()

        def pump() -> None:
            assert self.proc.stdout is not None
            for line in self.proc.stdout:
                self.log.append(line.rstrip())
                if line.startswith("ATELICO_READY port="):
                    self.port = int(line.split("=", 1)[1].split()[0])
                    printed.set()
            printed.set()

        threading.Thread(target=pump, daemon=True).start()
        deadline = time.monotonic() + ready_timeout_s
        if not printed.wait(ready_timeout_s) or not self.port:
            self.stop()
            raise RuntimeError("the sidecar did not print ATELICO_READY:\n" + "\n".join(self.log))
        while time.monotonic() < deadline:  # /health/ready: the preloaded models are loaded
            try:
                with urllib.request.urlopen(f"{self.url}/health/ready", timeout=2) as r:
                    if r.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            if self.proc.poll() is not None:
                break
            time.sleep(0.25)
        self.stop()
        raise RuntimeError("the sidecar never became ready:\n" + "\n".join(self.log))

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        """SIGTERM the process group, SIGKILL it if it lingers."""
        if self.proc.poll() is not None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=10)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait(timeout=5)
