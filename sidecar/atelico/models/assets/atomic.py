"""The sidecar's one atomic file writer: a temp file beside the target, renamed over it.

Asset files, the cache's JSON side files and saved voices all go through :class:`AtomicFile`,
so a crash or a full disk never leaves a half file under the real name: readers see the old
file or the new one.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Callable

#: Permissions of a committed file (mkstemp creates 0600; cached weights are not secrets).
FILE_MODE = 0o644


class AtomicFile:
    """A temp file ``.<name>.<random><suffix>`` beside ``final``, open for binary writing.

    :meth:`commit` flushes, fsyncs and ``os.replace``-s it over ``final``; leaving the
    ``with`` block without a commit (an exception, a refused hash) deletes it instead.
    A writer that needs the path (a library saving by file name) closes :attr:`fh` and
    writes :attr:`tmp` itself before committing.
    """

    def __init__(self, final: Path, *, suffix: str = ".tmp") -> None:
        self.final = Path(final)
        self.final.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{self.final.name}.", suffix=suffix,
                                   dir=self.final.parent)
        self.tmp = Path(tmp)
        self.committed = False
        try:
            self.fh: IO[bytes] = os.fdopen(fd, "wb")
        except BaseException:
            os.close(fd)
            self.tmp.unlink(missing_ok=True)
            raise

    def __enter__(self) -> AtomicFile:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if not self.committed:
            self.abort()

    def commit(self) -> Path:
        """Make the written bytes durable and put them under the final name."""
        if self.fh.closed:  # written by path: fsync through a fresh handle
            with open(self.tmp, "rb") as fh:
                os.fsync(fh.fileno())
        else:
            self.fh.flush()
            os.fsync(self.fh.fileno())
            self.fh.close()
        os.chmod(self.tmp, FILE_MODE)
        os.replace(self.tmp, self.final)
        self.committed = True
        return self.final

    def abort(self) -> None:
        """Delete the temp file (the final name keeps whatever it held)."""
        with contextlib.suppress(OSError):
            self.fh.close()
        self.tmp.unlink(missing_ok=True)


def write_atomic(path: Path, write: Callable[[IO[bytes]], Any]) -> Path:
    """``write(fh)`` into a temp file, then rename it over ``path``."""
    with AtomicFile(path) as out:
        write(out.fh)
        return out.commit()


def write_bytes_atomic(path: Path, data: bytes) -> Path:
    """Replace ``path`` with ``data`` atomically."""
    return write_atomic(path, lambda fh: fh.write(data))


def write_json_atomic(path: Path, data: Any) -> None:
    """Replace ``path`` with ``data`` as indented, key-sorted JSON, atomically."""
    text = json.dumps(data, indent=1, sort_keys=True).encode("utf-8")
    write_bytes_atomic(path, text)
