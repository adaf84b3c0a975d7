"""Checking cached files against their pins: before a load, in the background, on demand.

A file is hashed before its first load; afterwards its stamp lets it load at once and
:data:`BACKGROUND` re-hashes it on a daemon thread (once per process). On a mismatch the
error is logged, the stamp entry dropped, and every later load refuses the file.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from pathlib import Path
from typing import Sequence

from atelico.config import Settings
from atelico.errors import ModelIntegrity
from atelico.models.assets import cache
from atelico.models.catalog import AssetSpec, Catalog, FileSpec, default_catalog

log = logging.getLogger(__name__)

_Key = tuple[str, int, int]


class BackgroundVerifier:
    """Re-hashes, on one daemon thread, the files a stamp let load without hashing.

    Each (path, size, mtime) is hashed once per process. A mismatch is logged as an error,
    recorded in :attr:`failures`, its stamp entry is dropped (so the next load re-hashes and
    refuses it) and :meth:`failed` reports it even where the stamp cannot be rewritten.
    """

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._queue: list[tuple[str, Path, FileSpec, Settings]] = []
        self._seen: set[_Key] = set()
        self._bad: set[_Key] = set()
        self._busy = False
        self._thread: threading.Thread | None = None
        self.failures: list[ModelIntegrity] = []

    @staticmethod
    def _key(path: Path) -> _Key | None:
        try:
            st = path.stat()
        except OSError:
            return None
        return str(path), st.st_size, st.st_mtime_ns

    def failed(self, path: Path) -> bool:
        """True if this very file (same size and mtime) was found not to match its pin."""
        key = self._key(path)
        with self._cond:
            return key in self._bad

    def submit(self, asset_id: str, path: Path, spec: FileSpec, settings: Settings) -> None:
        key = self._key(path)
        with self._cond:
            if key is None or key in self._seen:
                return
            self._seen.add(key)
            self._queue.append((asset_id, path, spec, settings))
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="atelico-verify", daemon=True)
                self._thread.start()
            self._cond.notify_all()

    def wait_idle(self, timeout_s: float) -> bool:
        """Block until every submitted file is hashed (tests, ``models verify``); False on timeout."""
        with self._cond:
            return self._cond.wait_for(lambda: not self._queue and not self._busy, timeout_s)

    def _run(self) -> None:
        while True:
            with self._cond:
                if not self._queue:
                    self._busy = False
                    self._cond.notify_all()
                    return
                asset_id, path, spec, settings = self._queue.pop(0)
                self._busy = True
            try:
                self._check(asset_id, path, spec, settings)
            except Exception as exc:  # noqa: BLE001 - a vanished file or cache: nothing to report
                log.debug("background check of %s skipped: %s", path, exc)

    def _check(self, asset_id: str, path: Path, spec: FileSpec, settings: Settings) -> None:
        key = self._key(path)
        with open(path, "rb") as fh:
            actual = hashlib.file_digest(fh, "sha256").hexdigest()
        if actual == spec.sha256 and key is not None and key[1] == spec.size:
            return
        error = cache.integrity_error(
            asset_id, path, spec, key[1] if key else -1, actual,
            hint="its stamp was dropped, so the next load refuses it; run "
                 "`atelico models pull --force` to fetch it again")
        log.error("%s", error.message)
        with self._cond:
            if key is not None:
                self._bad.add(key)
            self.failures.append(error)
        with cache.asset_lock(asset_id, settings):
            root = cache.asset_dir(asset_id, settings)
            stamp = cache.read_stamp(root)
            if stamp.pop(spec.path, None) is not None:
                cache.save_stamp(root, stamp)


#: The process's one background verifier (see :class:`BackgroundVerifier`).
BACKGROUND = BackgroundVerifier()


def check_cached(asset: AssetSpec, files: Sequence[FileSpec], settings: Settings,
                 progress: bool) -> list[FileSpec]:
    """Verify the files already in the cache; return the missing ones.

    Raises ModelIntegrity for a present file whose bytes differ from its pin.
    """
    root = cache.asset_dir(asset.id, settings)
    stamp = cache.read_stamp(root)
    missing: list[FileSpec] = []
    changed = False
    for spec in files:
        path = root / spec.path
        if not path.is_file():
            missing.append(spec)
            continue
        if cache.stamp_matches(stamp.get(spec.path), path, spec) and not BACKGROUND.failed(path):
            BACKGROUND.submit(asset.id, path, spec, settings)  # trusted now, hashed soon
            continue
        actual_size = path.stat().st_size
        actual = cache.sha256_file(path, progress=progress and actual_size > cache.BAR_MIN_BYTES,
                                   label=f"verify {asset.id}/{spec.path}")
        if actual != spec.sha256 or actual_size != spec.size:
            stamp.pop(spec.path, None)
            cache.save_stamp(root, stamp)
            raise cache.integrity_error(
                asset.id, path, spec, actual_size, actual,
                hint="refusing to load it: delete it or run `atelico models pull --force` "
                     "to fetch it again")
        stamp[spec.path] = cache.stamp_entry(path, actual)
        changed = True
    if changed:
        cache.save_stamp(root, stamp)
    return missing


def verify_asset(asset_id: str, settings: Settings, *, catalog: Catalog | None = None,
                 progress: bool = False) -> list[cache.FileCheck]:
    """Hash every file of an asset (ignoring the stamp) and report each one.

    A hub-only asset never downloaded reports nothing (there is nothing to check against).
    """
    asset = (catalog or default_catalog()).asset(asset_id)
    files = cache.expected_files(asset, settings)
    if files is None:
        return []
    root = cache.asset_dir(asset_id, settings)
    results: list[cache.FileCheck] = []
    stamp = cache.read_stamp(root)
    for spec in files:
        path = root / spec.path
        if not path.is_file():
            results.append(cache.FileCheck(asset_id, spec.path, "missing", spec.size,
                                           spec.sha256))
            continue
        size = path.stat().st_size
        sha = cache.sha256_file(path, progress=progress, label=f"verify {asset_id}/{spec.path}")
        ok = sha == spec.sha256 and size == spec.size
        results.append(cache.FileCheck(asset_id, spec.path, "ok" if ok else "mismatch",
                                       spec.size, spec.sha256, size, sha))
        if ok:
            stamp[spec.path] = cache.stamp_entry(path, sha)
        else:
            stamp.pop(spec.path, None)
    if root.is_dir():
        cache.save_stamp(root, stamp)
    return results
