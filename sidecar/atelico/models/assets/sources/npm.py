"""Files extracted from an npm package tarball (Kokoro's voices from ``kokoro-js``)."""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path

from atelico.config import Settings
from atelico.models.assets import cache
from atelico.models.assets.sources.base import Need, SourceUnavailable
from atelico.models.assets.sources.network import network_allowed
from atelico.models.catalog import AssetSpec, FileSpec, NpmEntry

log = logging.getLogger(__name__)

NPM_TIMEOUT_S = 120.0


class NpmSource:
    """Extracts the wanted files (and nothing else) from the tarball of an :class:`NpmEntry`:
    the one ``$env`` names, the one in ``<cache>/downloads``, or one ``npm pack`` fetches."""

    kind = NpmEntry.kind
    pins_on_download = False

    def __init__(self, entry: NpmEntry) -> None:
        self.entry = entry

    def _env_path(self) -> Path | None:
        name = self.entry.env
        value = os.environ.get(name) if name else None
        return Path(value).expanduser() if value else None

    def _cached(self, settings: Settings) -> Path:
        return settings.models.cache_dir / "downloads" / self.entry.tarball_name

    def offline_ready(self, asset: AssetSpec, settings: Settings) -> bool:
        env_path = self._env_path()
        if env_path is not None and env_path.is_file():
            return True
        return self._cached(settings).is_file()

    def tarball(self, settings: Settings) -> Path:
        env_path = self._env_path()
        if env_path is not None:
            if not env_path.is_file():
                raise SourceUnavailable(f"${self.entry.env} points at {env_path}, "
                                        "which is not a file")
            return env_path
        cached = self._cached(settings)
        if cached.is_file():
            return cached
        return self._pack(settings, cached)

    def _pack(self, settings: Settings, cached: Path) -> Path:
        spec = f"{self.entry.package}@{self.entry.version}"
        npm = shutil.which("npm")
        if npm is None:
            raise SourceUnavailable(f"npm is not installed (or set ${self.entry.env} to a "
                                    f"{cached.name} you fetched with `npm pack {spec}`)")
        if not network_allowed(settings):
            raise SourceUnavailable(f"offline: not running `npm pack {spec}`")
        cached.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=cached.parent, prefix=".npm-pack-") as tmp:
            try:
                done = subprocess.run([npm, "pack", spec, "--silent", "--pack-destination", tmp],
                                      capture_output=True, text=True, timeout=NPM_TIMEOUT_S,
                                      stdin=subprocess.DEVNULL)
            except subprocess.TimeoutExpired:
                raise SourceUnavailable(f"`npm pack {spec}` timed out") from None
            produced = Path(tmp) / cached.name
            if done.returncode != 0 or not produced.is_file():
                raise SourceUnavailable(f"`npm pack {spec}` failed: "
                                        f"{(done.stderr or done.stdout).strip()[-300:]}")
            os.replace(produced, cached)  # same folder: a rename, not a copy
        return cached

    def _member_file(self, member: tarfile.TarInfo, wanted: dict[str, FileSpec]) -> str | None:
        """The asset file a tar member provides, if it is a plain file we expect."""
        prefix, suffix = self.entry.member_prefix, self.entry.member_suffix
        name = member.name
        if not (member.isfile() and name.startswith(prefix) and name.endswith(suffix)):
            return None
        rel = name[len(prefix):]
        # Only plain names we expect: no subfolders, no "..", no absolute paths.
        if rel not in wanted or "/" in rel or "\\" in rel or rel in {".", ".."}:
            return None
        return rel

    def fetch(self, need: Need) -> None:
        tgz = self.tarball(need.settings)
        asset_id, root = need.asset.id, need.root
        wanted = {spec.path: spec for spec in need.missing}
        found: set[str] = set()
        try:
            with tarfile.open(tgz, "r:gz") as tar:
                for member in tar:
                    rel = self._member_file(member, wanted)
                    src = tar.extractfile(member) if rel is not None else None
                    if rel is None or src is None:
                        continue
                    spec = wanted[rel]
                    with src, cache.verified_writer(
                            asset_id, root, spec, need.progress and spec.size > cache.BAR_MIN_BYTES,
                            f"extract {asset_id}/{rel}") as w:
                        w.copy_from(src)
                        sha = w.commit(source=f"{tgz}:{member.name}")
                    cache.record(root, rel, sha)
                    found.add(rel)
        except (tarfile.TarError, OSError, EOFError) as exc:
            raise SourceUnavailable(f"cannot read {tgz}: {exc}") from None
        left = sorted(set(wanted) - found)
        if left:
            raise SourceUnavailable(f"{tgz} lacks {', '.join(left[:5])}")
        log.info("extracted %d file(s) of %s from %s", len(found), asset_id, tgz)
