"""The asset cache on disk: where assets live, hashing, stamps, manifests, locks, verified writes.

An asset is a directory ``<settings.models_dir>/<asset_id>/``. Beside its files:

- a *stamp* (:data:`STAMP_NAME`) records files already hashed, keyed on size and mtime, so a
  later load need not hash them again (for a bundle's read-only models it lives in the user
  data folder instead);
- for hub-only assets, a *manifest* (:data:`MANIFEST_NAME`) pins the files and hashes taken
  when they were downloaded.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import shutil
import sys
import threading
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import IO, Any, Iterator, Literal, Mapping, Protocol

from atelico.config import Settings
from atelico.errors import ModelIntegrity
from atelico.models.assets.atomic import AtomicFile, write_json_atomic
from atelico.models.catalog import AssetSpec, Catalog, FileSpec, default_catalog

log = logging.getLogger(__name__)

#: Per-asset record of files already hashed: {path: {size, mtime_ns, sha256}}.
STAMP_NAME = ".atelico-verified.json"
#: For hub-only assets: the files and hashes pinned when they were downloaded.
MANIFEST_NAME = ".atelico-manifest.json"
CHUNK_BYTES = 1 << 20
BAR_MIN_BYTES = 8 << 20  # no progress bar for files smaller than this

FileStatus = Literal["ok", "mismatch", "missing"]
Stamp = dict[str, dict[str, Any]]


@dataclass(frozen=True)
class FileCheck:
    """The result of hashing one asset file (``atelico models verify``)."""

    asset_id: str
    path: str
    status: FileStatus
    expected_size: int
    expected_sha256: str
    actual_size: int | None = None
    actual_sha256: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# --------------------------------------------------------------------------- paths, hashing


def asset_dir(asset_id: str, settings: Settings) -> Path:
    """Where an asset lives (whether or not it is there yet)."""
    return settings.models_dir / asset_id


def staging_root(settings: Settings) -> Path:
    """Where downloads are staged before they are renamed into place (the cache itself)."""
    path = settings.models_dir
    path.mkdir(parents=True, exist_ok=True)
    return path


class Bar(Protocol):
    def update(self, n: int = 1) -> Any: ...


class _NoBar:
    def update(self, n: int = 1) -> None:
        return None


@contextlib.contextmanager
def progress_bar(total: int | None, desc: str, enabled: bool) -> Iterator[Bar]:
    """A byte-sized tqdm bar on stderr, or a no-op object when disabled.

    On a terminal the bar is wiped when done; into a pipe or log file it is left with its
    newline, so the next line (the launch contract's ready line among them) starts a line.
    """
    if not enabled:
        yield _NoBar()
        return
    from tqdm.auto import tqdm

    with tqdm(total=total, desc=desc, unit="B", unit_scale=True, unit_divisor=1024,
              file=sys.stderr, leave=not sys.stderr.isatty(), dynamic_ncols=True) as bar:
        yield bar


def sha256_file(path: Path, *, progress: bool = False, label: str | None = None) -> str:
    """Hex sha256 of a file, read in 1 MiB chunks (with a tqdm bar on stderr if asked)."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh, progress_bar(path.stat().st_size, label or f"hash {path.name}",
                                              progress) as bar:
        for block in iter(lambda: fh.read(CHUNK_BYTES), b""):
            digest.update(block)
            bar.update(len(block))
    return digest.hexdigest()


def expected_files(asset: AssetSpec, settings: Settings) -> tuple[FileSpec, ...] | None:
    """The files an asset must hold: pinned in the catalog, or in a hub download's manifest."""
    if asset.files is not None:
        return asset.files
    manifest = asset_dir(asset.id, settings) / MANIFEST_NAME
    try:
        raw = json.loads(manifest.read_text("utf-8"))
        return tuple(FileSpec(f["path"], int(f["size"]), f["sha256"]) for f in raw["files"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def asset_present(asset_id: str, settings: Settings, *, catalog: Catalog | None = None) -> bool:
    """Cheap check: every expected file exists with its expected size (no hashing)."""
    asset = (catalog or default_catalog()).asset(asset_id)
    files = expected_files(asset, settings)
    if files is None:
        return False
    root = asset_dir(asset_id, settings)
    for spec in files:
        try:
            if (root / spec.path).stat().st_size != spec.size:
                return False
        except OSError:
            return False
    return True


def integrity_error(asset_id: str, path: Path, spec: FileSpec, actual_size: int,
                    actual_sha256: str, *, hint: str) -> ModelIntegrity:
    """The error for a file whose bytes differ from its pin; ``hint`` says what happens next."""
    return ModelIntegrity(
        f"{path}: sha256 mismatch for asset {asset_id!r} (expected {spec.sha256}, "
        f"{spec.size} bytes; got {actual_sha256}, {actual_size} bytes); {hint}",
        details={"asset": asset_id, "file": str(path), "expected_sha256": spec.sha256,
                 "actual_sha256": actual_sha256, "expected_size": spec.size,
                 "actual_size": actual_size})


# --------------------------------------------------------------------------- stamps


def stamp_file(root: Path) -> Path:
    """Where an asset's stamp lives: beside its files, except for the models a bundle ships
    (a possibly read-only install folder): then in the user data folder, keyed by the bundle."""
    from atelico.config import bundle_models_dir, default_cache_dir

    shipped = bundle_models_dir()
    if shipped is not None and root.parent == shipped:
        key = hashlib.sha256(str(shipped).encode("utf-8")).hexdigest()[:12]
        return default_cache_dir() / "verified" / key / f"{root.name}.json"
    return root / STAMP_NAME


def read_stamp(root: Path) -> Stamp:
    try:
        data = json.loads(stamp_file(root).read_text("utf-8"))
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def save_stamp(root: Path, stamp: Mapping[str, Any]) -> None:
    """Write the stamp if the cache is writable; a read-only cache just re-hashes next time."""
    try:
        write_json_atomic(stamp_file(root), dict(stamp))
    except OSError as exc:
        log.debug("cannot write %s: %s", stamp_file(root), exc)


def stamp_entry(path: Path, sha256: str) -> dict[str, Any]:
    st = path.stat()
    return {"size": st.st_size, "mtime_ns": st.st_mtime_ns, "sha256": sha256}


def stamp_matches(entry: Mapping[str, Any] | None, path: Path, spec: FileSpec) -> bool:
    """True if the stamp vouches for this file as it is now (same size, mtime and pin)."""
    if not entry or entry.get("sha256") != spec.sha256:
        return False
    try:
        st = path.stat()
    except OSError:
        return False
    return st.st_size == entry.get("size") == spec.size and st.st_mtime_ns == entry.get("mtime_ns")


def record(root: Path, rel_path: str, sha256: str) -> None:
    """Add a freshly verified file to its asset's stamp."""
    stamp = read_stamp(root)
    stamp[rel_path] = stamp_entry(root / rel_path, sha256)
    write_json_atomic(stamp_file(root), stamp)


def pin_manifest(root: Path, asset_id: str, entries: list[dict[str, Any]]) -> None:
    """Write a hub-only asset's manifest and the stamp for the files it pins."""
    write_json_atomic(root / MANIFEST_NAME, {"asset": asset_id, "files": entries})
    write_json_atomic(root / STAMP_NAME, {e["path"]: stamp_entry(root / e["path"], e["sha256"])
                                          for e in entries})


# --------------------------------------------------------------------------- verified writes


class VerifyingWriter:
    """Writes one asset file through an :class:`AtomicFile` beside it, hashing as it goes.

    :meth:`commit` checks size and sha256 before the rename; any other exit deletes the temp
    file, so a crash never leaves a half file under the real name.
    """

    def __init__(self, asset_id: str, root: Path, spec: FileSpec, progress: bool,
                 desc: str) -> None:
        self.asset_id, self.root, self.spec = asset_id, root, spec
        self.final = root / spec.path
        self.out = AtomicFile(self.final, suffix=".partial")
        self.tmp = self.out.tmp
        self.fh: IO[bytes] = self.out.fh
        self.digest = hashlib.sha256()
        self.size = 0
        self._bar_cm = progress_bar(spec.size, desc, progress)
        self.bar = self._bar_cm.__enter__()

    def write(self, block: bytes) -> None:
        self.fh.write(block)
        self.digest.update(block)
        self.size += len(block)
        self.bar.update(len(block))

    def copy_from(self, src: IO[bytes]) -> None:
        for block in iter(lambda: src.read(CHUNK_BYTES), b""):
            self.write(block)

    def commit(self, source: str) -> str:
        """Rename the file into place if it matches its pin; returns its sha256."""
        self._bar_cm.__exit__(None, None, None)
        actual = self.digest.hexdigest()
        if actual != self.spec.sha256 or self.size != self.spec.size:
            self.out.abort()
            raise integrity_error(self.asset_id, self.final, self.spec, self.size, actual,
                                  hint=f"the copy from {source} was refused")
        self.out.commit()
        return actual

    def abort(self) -> None:
        with contextlib.suppress(Exception):
            self.fh.close()
        with contextlib.suppress(Exception):
            self._bar_cm.__exit__(None, None, None)
        self.out.abort()


@contextlib.contextmanager
def verified_writer(asset_id: str, root: Path, spec: FileSpec, progress: bool,
                    desc: str) -> Iterator[VerifyingWriter]:
    w = VerifyingWriter(asset_id, root, spec, progress, desc)
    try:
        yield w
    finally:
        if not w.out.committed:
            w.abort()


# --------------------------------------------------------------------------- locks


_locks_guard = threading.Lock()
_thread_locks: dict[str, threading.Lock] = {}


@contextlib.contextmanager
def asset_lock(asset_id: str, settings: Settings) -> Iterator[None]:
    """Serialise work on one asset across threads and (where fcntl exists) processes."""
    key = str(asset_dir(asset_id, settings))
    with _locks_guard:
        lock = _thread_locks.setdefault(key, threading.Lock())
    with lock:
        try:
            import fcntl
        except ImportError:  # Windows: threads are still serialised
            yield
            return
        try:
            settings.models_dir.mkdir(parents=True, exist_ok=True)
            fh = open(settings.models_dir / f".{asset_id}.lock", "a+b")
        except OSError as exc:  # read-only cache: nothing will be written anyway
            log.debug("no lock file for %s: %s", asset_id, exc)
            yield
            return
        with fh:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
            try:
                _remove_stale_partials(asset_id, settings)
                yield
            finally:
                fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def _remove_stale_partials(asset_id: str, settings: Settings) -> None:
    """Delete temp files a crashed writer left (only ever under names no loader reads)."""
    root = asset_dir(asset_id, settings)
    stale = list(settings.models_dir.glob(f".{asset_id}.partial-*"))
    if root.is_dir():
        stale += [p for p in root.rglob(".*.partial") if p.is_file()]
    for path in stale:
        log.info("removing %s left by an interrupted download", path)
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
