"""The sidecar's side of the launch contract (``docs/launch.md``): logs and launcher watching.

- :func:`setup_logging` sends log records to stderr *and* a rotating log file, redacts the token,
  and first puts a :class:`StderrGuard` on fd 2 so that a stderr the launcher closed, never
  reads or broke can neither block nor crash the sidecar (C libraries writing to fd 2 included).
- :func:`watch_launcher` exits the process when stdin (a pipe the launcher holds) reaches EOF or
  when the launcher process is gone, checked by pid on POSIX and by a process handle on Windows.
- :func:`return_freed_memory` keeps glibc from holding on to the large buffers each request frees
  (:func:`trim_freed_memory` after each worker job).
"""

from __future__ import annotations

import atexit
import collections
import ctypes
import errno
import logging
import logging.handlers
import os
import stat
import sys
import threading
import time
from pathlib import Path
from typing import Any, Callable, Mapping

log = logging.getLogger("atelico")
LOG_PREFIX = "ATELICO_LOG"
LOG_MAX_BYTES = 5 * 2**20
LOG_BACKUPS = 2  # sidecar.log + .1 + .2: three files at most
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
POLL_S = 0.5


# ---------------------------------------------------------------------- where logs go
def user_data_dir(env: Mapping[str, str] | None = None, platform: str | None = None) -> Path:
    """``%LOCALAPPDATA%`` on Windows, ``~/Library/Application Support`` on macOS, else
    ``$XDG_DATA_HOME`` or ``~/.local/share``."""
    env = os.environ if env is None else env
    platform = platform or sys.platform
    home = Path(env.get("HOME") or env.get("USERPROFILE") or Path.home())
    if platform.startswith("win"):
        return Path(env.get("LOCALAPPDATA") or home / "AppData" / "Local")
    if platform == "darwin":
        return home / "Library" / "Application Support"
    return Path(env.get("XDG_DATA_HOME") or home / ".local" / "share")


def default_log_file(env: Mapping[str, str] | None = None, platform: str | None = None) -> Path:
    return user_data_dir(env, platform) / "atelico" / "logs" / "sidecar.log"


# ---------------------------------------------------------------------- a stderr that never blocks
class StderrGuard:
    """Moves fd 2 onto a private pipe that a thread drains into a bounded buffer; a second thread
    forwards the buffer to the original stderr. Writers to fd 2 therefore never block for long
    (the drain thread always reads) and never see EPIPE; when the original stderr is full the
    forwarder waits alone and the oldest bytes are dropped; when it is closed or broken, output
    is dropped. Without an original stderr (fd 2 not open at start) everything is dropped.
    """

    def __init__(self, max_buffered: int = 256 * 1024) -> None:
        self.max_buffered = max_buffered
        self.dropped = 0
        self._chunks: collections.deque[bytes] = collections.deque()
        self._size = 0
        self._cond = threading.Condition()
        self._target: int | None = None
        self._drained = threading.Event()
        self._busy = False
        self.installed = False

    def install(self) -> "StderrGuard":
        if self.installed:
            return self
        try:
            sys.stderr.flush()
        except (AttributeError, OSError, ValueError):
            pass
        try:
            self._target = os.dup(2)
        except OSError:
            self._target = None  # fd 2 was not open: keep a valid fd 2 anyway, drop its output
            null = os.open(os.devnull, os.O_WRONLY)  # takes fd 2 first, so the pipe cannot
            if null != 2:
                os.dup2(null, 2)
                os.close(null)
        read_fd, write_fd = os.pipe()
        os.dup2(write_fd, 2)
        os.close(write_fd)
        if hasattr(os, "set_inheritable"):
            os.set_inheritable(2, True)
        self._read_fd = read_fd
        threading.Thread(target=self._drain, name="atelico-stderr-drain", daemon=True).start()
        threading.Thread(target=self._forward, name="atelico-stderr-forward", daemon=True).start()
        sys.stderr = open(2, "w", buffering=1, encoding="utf-8", errors="backslashreplace",
                          closefd=False)
        self.installed = True
        atexit.register(self.restore)
        return self

    def restore(self, timeout_s: float = 1.0) -> None:
        """Give fd 2 back to the original stderr and forward what is still buffered, waiting at
        most ``timeout_s`` (so a full stderr cannot hold up the exit)."""
        if not self.installed:
            return
        self.installed = False
        try:
            sys.stderr.flush()
        except (OSError, ValueError):
            pass
        if self._target is not None:
            os.dup2(self._target, 2)
        else:
            null = os.open(os.devnull, os.O_WRONLY)
            os.dup2(null, 2)
            os.close(null)
        deadline = time.monotonic() + timeout_s
        self._drained.wait(timeout_s)
        with self._cond:
            while (self._chunks or self._busy) and time.monotonic() < deadline:
                self._cond.wait(max(0.0, deadline - time.monotonic()))

    def _drain(self) -> None:
        while True:
            try:
                data = os.read(self._read_fd, 65536)
            except OSError:
                return
            if not data:
                self._drained.set()
                return
            with self._cond:
                self._chunks.append(data)
                self._size += len(data)
                while self._size > self.max_buffered:
                    self._size -= len(self._chunks[0])
                    self.dropped += len(self._chunks.popleft())
                self._cond.notify_all()

    def _forward(self) -> None:
        while True:
            with self._cond:
                while not self._chunks:
                    self._cond.wait()
                data = self._chunks.popleft()
                self._size -= len(data)
                self._busy = True
            try:
                if self._target is None:
                    self.dropped += len(data)
                    continue
                while data:
                    data = data[os.write(self._target, data):]
            except OSError as exc:  # EPIPE (reader gone), EBADF, EIO…: stderr is dead for good
                if exc.errno not in (errno.EAGAIN, errno.EINTR):
                    self._target = None
                self.dropped += len(data)
            finally:
                with self._cond:
                    self._busy = False
                    self._cond.notify_all()


class RedactToken(logging.Filter):
    """Replaces the launch token wherever it appears in a record's message."""

    def __init__(self, token: str | None) -> None:
        super().__init__()
        self.token = token

    def filter(self, record: logging.LogRecord) -> bool:
        if self.token:
            message = record.getMessage()
            if self.token in message:
                record.msg, record.args = message.replace(self.token, "<token>"), None
        return True


def setup_logging(level: str, log_file: Path | None, token: str | None = None,
                  guard_stderr: bool = True) -> Path | None:
    """Root logging to a guarded stderr and a rotating file; returns the file's absolute path
    (``None`` when it cannot be opened: then a warning says why and only stderr gets logs)."""
    if guard_stderr:
        StderrGuard().install()
    root = logging.getLogger()
    root.setLevel(getattr(logging, level.upper(), logging.INFO))
    for handler in list(root.handlers):
        root.removeHandler(handler)
    formatter = logging.Formatter(LOG_FORMAT)
    redact = RedactToken(token)
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    path: Path | None = None
    problem = ""
    if log_file is not None:
        path = Path(log_file).expanduser().resolve()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            handlers.append(logging.handlers.RotatingFileHandler(
                path, maxBytes=LOG_MAX_BYTES, backupCount=LOG_BACKUPS, encoding="utf-8"))
        except OSError as exc:
            problem, path = f"cannot write the log file {path}: {exc.strerror or exc}", None
    for handler in handlers:
        handler.setFormatter(formatter)
        handler.addFilter(redact)
        root.addHandler(handler)
    logging.captureWarnings(True)
    if problem:
        log.warning("%s (logging to stderr only)", problem)
    return path


# ---------------------------------------------------------------------- is the launcher alive?
class _PosixProcess:
    """A pid checked with ``kill(pid, 0)``: ESRCH means gone; a zombie (Linux) counts as gone, and
    a pid whose start time changed was reused by another process."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self._started = self._start_time()

    def _stat(self) -> list[str]:
        """/proc/<pid>/stat from field 3 (state) on; empty without /proc (macOS)."""
        try:
            text = Path(f"/proc/{self.pid}/stat").read_text()
        except OSError:
            return []
        return text[text.rfind(")") + 2:].split()

    def _start_time(self) -> str | None:
        fields = self._stat()
        return fields[19] if len(fields) > 19 else None  # field 22 overall: starttime

    def alive(self) -> bool:
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            pass  # it exists, owned by someone else
        except OSError:
            return False
        fields = self._stat()
        if fields[:1] in (["Z"], ["X"]):  # exited, not yet reaped by its parent
            return False
        started = fields[19] if len(fields) > 19 else None
        return self._started is None or started in (None, self._started)


class _WindowsProcess:
    """A process handle opened once (so a reused pid cannot fool us): alive while
    ``WaitForSingleObject(h, 0)`` times out; ``GetExitCodeProcess == STILL_ACTIVE`` as fallback."""

    SYNCHRONIZE = 0x00100000
    PROCESS_QUERY_LIMITED_INFORMATION = 0x1000
    STILL_ACTIVE = 259
    WAIT_OBJECT_0 = 0
    WAIT_TIMEOUT = 0x102
    ERROR_ACCESS_DENIED = 5

    def __init__(self, pid: int, kernel32: Any = None,
                 get_last_error: Callable[[], int] | None = None) -> None:
        if kernel32 is None:
            kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)  # type: ignore[attr-defined]
            get_last_error = ctypes.get_last_error  # type: ignore[attr-defined]
        k = kernel32
        k.OpenProcess.argtypes = (ctypes.c_uint32, ctypes.c_int, ctypes.c_uint32)
        k.OpenProcess.restype = ctypes.c_void_p
        k.WaitForSingleObject.argtypes = (ctypes.c_void_p, ctypes.c_uint32)
        k.WaitForSingleObject.restype = ctypes.c_uint32
        k.GetExitCodeProcess.argtypes = (ctypes.c_void_p, ctypes.POINTER(ctypes.c_uint32))
        k.GetExitCodeProcess.restype = ctypes.c_int
        self.pid = pid
        self._k = k
        self._handle = k.OpenProcess(self.SYNCHRONIZE | self.PROCESS_QUERY_LIMITED_INFORMATION,
                                     False, pid)
        # No handle: the pid does not exist (ERROR_INVALID_PARAMETER), unless access was denied.
        self._exists_unopened = (not self._handle and get_last_error is not None
                                 and get_last_error() == self.ERROR_ACCESS_DENIED)

    def alive(self) -> bool:
        if not self._handle:
            return self._exists_unopened
        state = self._k.WaitForSingleObject(self._handle, 0)
        if state == self.WAIT_TIMEOUT:
            return True
        if state == self.WAIT_OBJECT_0:
            return False
        code = ctypes.c_uint32(0)
        if not self._k.GetExitCodeProcess(self._handle, ctypes.byref(code)):
            return False
        return code.value == self.STILL_ACTIVE


def process_handle(pid: int, platform: str | None = None, kernel32: Any = None,
                   get_last_error: Callable[[], int] | None = None) -> Any:
    """An object whose ``alive()`` says whether ``pid`` still runs, correct on every OS."""
    if (platform or sys.platform).startswith("win"):
        return _WindowsProcess(pid, kernel32, get_last_error)
    return _PosixProcess(pid)


# ---------------------------------------------------------------------- memory
#: blocks at least this large get a mapping of their own, unmapped when freed
MMAP_THRESHOLD_BYTES = 8 * 1024 * 1024
#: every thread allocates from the one heap (glibc's default is 8 per core)
ARENA_MAX = 1
_M_MMAP_THRESHOLD = -3
_M_ARENA_MAX = -8


class _Heap:
    """The C library once :func:`return_freed_memory` pinned it (``None``: nothing to trim)."""

    libc: Any = None


def return_freed_memory(libc: Any = None) -> bool:
    """Keep the sidecar's resident memory flat without a page fault per page of every tensor:
    one heap for all threads (:data:`ARENA_MAX`), glibc's mmap threshold pinned at
    :data:`MMAP_THRESHOLD_BYTES`, and :func:`trim_freed_memory` (run by the worker pool after
    every job) handing the heap's free pages back.

    By default each worker thread gets a heap of its own and glibc raises the threshold to
    the largest block freed so far, so each transcription window's feature matrices and
    decoder buffers (tens of MB) stayed resident in whichever thread's heap ran the step: a
    5-minute upload peaked 58 MB above a 10-second one. Pinning the threshold low instead
    (128 KiB, then 1 MiB) kept memory flat but made every larger tensor a fresh mapping,
    zero-filled on first touch: ~400 thousand page faults per 27 s transcription (1.2-1.3x
    the time it takes at this setting) and, at 128 KiB, 400-580 thousand per Kokoro reply.
    With one heap, a window's buffers are reused by the next window whichever thread runs it
    (measured: a 5-minute upload peaked +14.5 to +18.9 MB over a 10-second one at 8 MiB;
    32 MiB was as fast but once +27 MB).
    Call it before any thread allocates. Returns False where the C library is not glibc
    (nothing to do)."""
    if libc is None:
        if not sys.platform.startswith("linux"):
            return False
        try:
            libc = ctypes.CDLL("libc.so.6")
        except OSError:
            return False
    mallopt = getattr(libc, "mallopt", None)
    if mallopt is None or not mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES):
        return False
    mallopt(_M_ARENA_MAX, ARENA_MAX)
    _Heap.libc = libc if hasattr(libc, "malloc_trim") else None
    return True


def trim_freed_memory() -> None:
    """Give the free pages of every heap back to the OS (``malloc_trim(0)``), once
    :func:`return_freed_memory` pinned the threshold; otherwise nothing."""
    if _Heap.libc is not None:
        _Heap.libc.malloc_trim(0)


def stdin_is_pipe(fd: int = 0) -> bool:
    """True when ``fd`` is a pipe or socket (a launcher's), not a TTY, a file or /dev/null."""
    try:
        mode = os.fstat(fd).st_mode
    except OSError:
        return False
    return stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode)


def _exit_now(reason: str) -> None:
    log.warning("%s: shutting down", reason)
    for handler in logging.getLogger().handlers:
        try:
            handler.flush()
        except Exception:  # noqa: BLE001 - exiting anyway
            pass
    os._exit(0)


def watch_launcher(parent_pid: int | None, *, watch_stdin: bool = True,
                   on_gone: Callable[[str], None] = _exit_now, poll_s: float = POLL_S) -> list[str]:
    """Start the watcher threads; returns what is watched (``["stdin", "parent 123"]``).

    ``on_gone(reason)`` runs once, from a watcher thread, when stdin reaches EOF (only if stdin is
    a pipe) or when ``parent_pid`` (default: the parent at start) is no longer running.
    """
    once = threading.Lock()

    def gone(reason: str) -> None:
        if once.acquire(blocking=False):
            on_gone(reason)

    watched: list[str] = []
    if watch_stdin and stdin_is_pipe(0):
        def read_stdin() -> None:
            while True:
                try:
                    data = os.read(0, 4096)
                except InterruptedError:
                    continue
                except OSError as exc:
                    log.warning("stdin cannot be watched (%s); relying on the parent check", exc)
                    return
                if not data:
                    gone("stdin reached EOF (the launcher is gone)")
                    return

        threading.Thread(target=read_stdin, name="atelico-stdin-watch", daemon=True).start()
        watched.append("stdin")
    pid = parent_pid if parent_pid else os.getppid()
    if pid > 1:
        try:
            handle = process_handle(pid)
        except OSError as exc:
            log.warning("cannot watch process %s: %s", pid, exc)
            handle = None
        if handle is not None:
            def poll_parent() -> None:
                while handle.alive():
                    time.sleep(poll_s)
                gone(f"launcher process {pid} is gone")

            threading.Thread(target=poll_parent, name="atelico-parent-watch", daemon=True).start()
            watched.append(f"parent {pid}")
    return watched
