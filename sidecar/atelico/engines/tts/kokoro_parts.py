"""Kokoro's plan and decode halves (:func:`.kokoro_windows.split_model`) as ONNX files.

onnxruntime holds far more for the life of the process when a session is built from bytes in
memory than from a file: Kokoro's two halves took 201 MB after load from serialized bytes and
113 MB from files (measured, glibc's mmap threshold pinned). So the halves are cut once per
model file, saved under ``<cache_dir>/kokoro-parts/<key>/`` (the user data folder in a
bundle), and the sessions open the files; later starts skip the cut and never import onnx.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any, Callable

log = logging.getLogger(__name__)

#: Bump when :func:`~.kokoro_windows.split_model` cuts differently (old folders are ignored).
PARTS_VERSION = 1
PLAN_FILE, DECODE_FILE = "plan.onnx", "decode.onnx"


def parts_folder(model_path: Path, parts_root: Path) -> Path:
    """The folder for ``model_path``'s halves: keyed by its name, size and mtime (a copied
    bundle keeps them) and :data:`PARTS_VERSION`."""
    st = model_path.stat()
    key = f"{model_path.name}|{st.st_size}|{st.st_mtime_ns}|v{PARTS_VERSION}"
    return parts_root / hashlib.sha256(key.encode()).hexdigest()[:16]


def session_sources(model_path: Path, parts_root: Path,
                    cut: Callable[[Path], tuple[Any, Any]]) -> tuple[list[str | bytes], bool]:
    """What the ``(plan, decode)`` sessions open, and whether those are the cached files.

    The files are cut (``cut(model_path)``: two ONNX models) and saved first if missing.
    Where they cannot be written (a read-only cache, a full disk) the halves are cut in
    memory and returned serialized: the model is cut at most once per call.

    Raises:
        ModelLoadFailed: the graph is not Kokoro v1.0 (from ``cut``).
    """
    folder = parts_folder(model_path, parts_root)
    plan, decode = folder / PLAN_FILE, folder / DECODE_FILE
    if plan.is_file() and decode.is_file():
        return [str(plan), str(decode)], True
    try:  # writable? (else cut in memory only); a folder of its own per load
        folder.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", suffix=".tmp", dir=folder.parent))
    except OSError as exc:
        log.warning("cannot keep Kokoro's halves in %s (%s): cutting in memory", parts_root, exc)
        return serialized(cut(model_path)), False
    halves = None
    try:
        halves = cut(model_path)
        _save(halves, tmp)
        try:
            os.replace(tmp, folder)
        except OSError:
            if not (plan.is_file() and decode.is_file()):  # not a concurrent cut that won
                raise
    except OSError as exc:
        log.warning("cannot save Kokoro's halves in %s (%s): cutting in memory", parts_root, exc)
        return serialized(halves if halves is not None else cut(model_path)), False
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return [str(plan), str(decode)], True


def serialized(halves: tuple[Any, Any]) -> list[str | bytes]:
    """The two halves as the bytes an onnxruntime session opens."""
    return [part.SerializeToString() for part in halves]


def _save(halves: tuple[Any, Any], folder: Path) -> None:
    import onnx

    for part, name in zip(halves, (PLAN_FILE, DECODE_FILE)):
        onnx.save(part, str(folder / name))


def discard(folder: Path) -> None:
    """Remove a folder of halves that onnxruntime could not open (cut again next time)."""
    shutil.rmtree(folder, ignore_errors=True)
