"""atelico.lifecycle: per-OS paths, parent liveness (POSIX for real, Windows through a fake
kernel32 with the real API's semantics), the stderr guard, token redaction, readiness states."""

from __future__ import annotations

import asyncio
import ctypes
import logging
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from atelico import lifecycle
from tests.launch.harness import REPO, wait_until


def test_user_data_dir_per_os():
    home = "/home/u"
    assert lifecycle.user_data_dir({"LOCALAPPDATA": r"C:\Users\u\AppData\Local"}, "win32") == \
        Path(r"C:\Users\u\AppData\Local")
    assert lifecycle.user_data_dir({"HOME": home}, "darwin") == Path(home, "Library", "Application Support")
    assert lifecycle.user_data_dir({"HOME": home, "XDG_DATA_HOME": "/x"}, "linux") == Path("/x")
    assert lifecycle.user_data_dir({"HOME": home}, "linux") == Path(home, ".local", "share")
    assert lifecycle.default_log_file({"HOME": home}, "linux") == \
        Path(home, ".local", "share", "atelico", "logs", "sidecar.log")


# ---------------------------------------------------------------------- POSIX, for real
def test_posix_process_alive_until_it_dies_even_while_a_zombie():
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        handle = lifecycle.process_handle(child.pid, platform="linux")
        assert handle.alive()
        child.kill()
        # not reaped yet: a zombie still answers kill(pid, 0), yet it is dead
        wait_until(lambda: not handle.alive(), 5.0, "zombie seen as gone")
    finally:
        child.kill()
        child.wait()
    assert not handle.alive()


def test_posix_process_whose_pid_was_reused_is_gone():
    """Same pid, another start time (Linux /proc): a new process got the launcher's pid."""
    handle = lifecycle.process_handle(os.getpid(), platform="linux")
    assert handle.alive()
    handle._started = "1"  # as if recorded from an earlier process with this pid
    assert not handle.alive()


def test_watch_launcher_calls_on_gone_when_the_parent_pid_dies():
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    reasons: list[str] = []
    done = threading.Event()
    watched = lifecycle.watch_launcher(child.pid, watch_stdin=False, poll_s=0.05,
                                       on_gone=lambda r: (reasons.append(r), done.set()))
    assert watched == [f"parent {child.pid}"]
    assert not done.wait(0.3)  # alive: nothing happens
    child.kill()
    child.wait()
    assert done.wait(5.0) and reasons == [f"launcher process {child.pid} is gone"]


# ---------------------------------------------------------------------- Windows, through a fake kernel32
class FakeKernel32:
    """OpenProcess / WaitForSingleObject / GetExitCodeProcess as Windows defines them: a handle
    stays valid after the process exits; waiting on it returns WAIT_OBJECT_0 once it has exited."""

    class Fn:
        def __init__(self, impl):
            self.impl, self.argtypes, self.restype = impl, None, None

        def __call__(self, *args):
            return self.impl(*args)

    def __init__(self, pids: dict[int, int | None], wait_result: int | None = None) -> None:
        self.pids = pids  # pid -> exit code (None = running)
        self.wait_result = wait_result
        self.opened: list[tuple[int, bool, int]] = []
        self.last_error = 0
        self.handles: dict[int, int] = {}
        self.OpenProcess = self.Fn(self._open)
        self.WaitForSingleObject = self.Fn(self._wait)
        self.GetExitCodeProcess = self.Fn(self._exit_code)

    def _open(self, access, inherit, pid):
        self.opened.append((access, inherit, pid))
        if pid not in self.pids:
            self.last_error = 87  # ERROR_INVALID_PARAMETER: no such process
            return None
        if pid == 4:
            self.last_error = 5  # ERROR_ACCESS_DENIED: exists, not ours
            return None
        handle = 1000 + pid
        self.handles[handle] = pid
        return handle

    def _wait(self, handle, timeout_ms):
        assert timeout_ms == 0
        if self.wait_result is not None:
            return self.wait_result
        return 0x102 if self.pids[self.handles[handle]] is None else 0

    def _exit_code(self, handle, code_ref):
        code = self.pids[self.handles[handle]]
        code_ref._obj.value = 259 if code is None else code
        return 1


def _windows(kernel32: FakeKernel32, pid: int):
    return lifecycle.process_handle(pid, platform="win32", kernel32=kernel32,
                                    get_last_error=lambda: kernel32.last_error)


def test_windows_handle_wait_sees_exit_even_though_getppid_would_not():
    k = FakeKernel32({4242: None})
    handle = _windows(k, 4242)
    access, inherit, pid = k.opened[0]
    assert pid == 4242 and not inherit
    assert access & 0x00100000 and access & 0x1000  # SYNCHRONIZE | PROCESS_QUERY_LIMITED_INFORMATION
    assert k.OpenProcess.restype is ctypes.c_void_p and k.WaitForSingleObject.argtypes
    assert handle.alive()
    k.pids[4242] = 1  # the editor crashed; its pid is never polled again, the handle is
    assert not handle.alive()


def test_windows_missing_and_foreign_processes():
    k = FakeKernel32({4: None})
    assert not _windows(k, 777).alive()  # OpenProcess fails: ERROR_INVALID_PARAMETER
    assert _windows(k, 4).alive()  # access denied: it exists


def test_windows_exit_code_fallback_when_the_wait_fails():
    k = FakeKernel32({9: None}, wait_result=0xFFFFFFFF)  # WAIT_FAILED
    handle = _windows(k, 9)
    assert handle.alive()  # STILL_ACTIVE
    k.pids[9] = 0
    assert not handle.alive()


# ---------------------------------------------------------------------- stderr guard, in a child
GUARDED = r"""
import os, sys
from atelico import lifecycle
lifecycle.StderrGuard().install()
line = b"x" * 1023 + b"\n"
for _ in range(1024):            # 1 MB: far past any pipe buffer
    os.write(2, line)            # fd level, as C libraries write
    print("y" * 200, file=sys.stderr)
print("done", flush=True)
"""


@pytest.mark.parametrize("stderr_mode", ["held-unread", "closed-read-end"])
def test_stderr_guard_never_blocks_nor_raises(stderr_mode):
    env = {**os.environ, "PYTHONPATH": f"{REPO / 'sidecar'}{os.pathsep}{REPO}"}
    proc = subprocess.Popen([sys.executable, "-c", GUARDED], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=env)
    if stderr_mode == "closed-read-end":
        proc.stderr.close()
    try:
        out, _ = proc.communicate(timeout=60) if stderr_mode == "closed-read-end" else \
            (proc.stdout.read(), None)  # stderr stays unread
        assert out.strip() == b"done"
        assert proc.wait(timeout=10) == 0  # exit is not held up by the full stderr either
    finally:
        proc.kill()
        proc.wait()


def test_stderr_guard_forwards_what_is_read():
    code = ("import sys; from atelico import lifecycle; lifecycle.StderrGuard().install();"
            "print('to stderr', file=sys.stderr); raise SystemExit(3)")
    env = {**os.environ, "PYTHONPATH": f"{REPO / 'sidecar'}{os.pathsep}{REPO}"}
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, env=env, timeout=30)
    assert res.returncode == 3 and res.stderr == b"to stderr\n"


# ---------------------------------------------------------------------- logs: file and redaction
def test_setup_logging_writes_the_file_and_redacts_the_token(tmp_path):
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    try:
        path = lifecycle.setup_logging("info", tmp_path / "logs" / "s.log", token="sekret-123",
                                       guard_stderr=False)
        logging.getLogger("uvicorn.error").info("GET /v1/ws?token=sekret-123 refused")
        for h in root.handlers:
            h.flush()
        text = path.read_text()
        assert path.is_absolute() and "GET /v1/ws?token=<token> refused" in text and "sekret" not in text
        bad = lifecycle.setup_logging("info", Path("/proc/no/such/dir/x.log"), guard_stderr=False)
        assert bad is None
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])


# ---------------------------------------------------------------------- readiness states
def test_ready_reports_loading_then_ready(monkeypatch):
    """503 status=loading (no error) while a preload runs, 200 once it finished."""
    from starlette.testclient import TestClient

    from atelico.config import load_settings
    from atelico.models.registry import ModelRegistry
    from atelico.server.app import create_app

    release = threading.Event()
    monkeypatch.setattr(ModelRegistry, "preload", lambda self, ids: (release.wait(30), {})[1])
    settings = load_settings({"models": {"preload": ["tts"]}}, env={})
    with TestClient(create_app(settings), base_url="http://127.0.0.1:11434") as client:
        first = client.get("/health/ready")
        assert first.status_code == 503 and first.json()["status"] == "loading"
        assert "error" not in first.json()
        release.set()
        wait_until(lambda: client.get("/health/ready").status_code == 200, 10.0, "ready")
        assert client.get("/health/ready").json()["status"] == "ready"


def test_return_freed_memory_pins_glibcs_mmap_threshold_and_arms_the_trim(monkeypatch):
    """Blocks of 8 MiB and more stay individually mapped: mallopt(M_MMAP_THRESHOLD, 8 MiB),
    which also turns off glibc's dynamic threshold, and every thread shares one heap
    (mallopt(M_ARENA_MAX, 1)); from then on trim_freed_memory() calls malloc_trim(0)
    (before, or on a C library that is not glibc, it does nothing)."""
    calls = []

    class Libc:
        def mallopt(self, param, value):
            calls.append((param, value))
            return 1

        def malloc_trim(self, pad):
            calls.append(("trim", pad))
            return 1

    monkeypatch.setattr(lifecycle._Heap, "libc", None)
    lifecycle.trim_freed_memory()
    assert calls == []  # not pinned: nothing to trim
    assert lifecycle.return_freed_memory(Libc()) is True
    assert calls == [(-3, 8 * 1024 * 1024), (-8, 1)]
    lifecycle.trim_freed_memory()
    assert calls[-1] == ("trim", 0)
    assert lifecycle.return_freed_memory(object()) is False  # not glibc: nothing to pin
    if sys.platform.startswith("linux"):
        assert lifecycle.return_freed_memory() is True
