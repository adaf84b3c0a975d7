"""Weights shipped inside installed Python distributions, concatenated into the cache."""

from __future__ import annotations

import importlib.metadata
import logging
from pathlib import Path

from atelico.config import Settings
from atelico.models.assets import cache
from atelico.models.assets.sources.base import Need, SourceUnavailable
from atelico.models.catalog import AssetSpec, FileSpec, PackagesEntry

log = logging.getLogger(__name__)


def distribution_file(dist_name: str, rel_path: str) -> Path:
    """A file shipped inside an installed distribution, located through its RECORD."""
    try:
        dist = importlib.metadata.distribution(dist_name)
    except importlib.metadata.PackageNotFoundError:
        raise SourceUnavailable(f"pip package {dist_name} is not installed") from None
    path = Path(str(dist.locate_file(rel_path)))
    if not path.is_file():
        raise SourceUnavailable(f"pip package {dist_name} has no {rel_path}")
    return path


class PackagesSource:
    """Concatenates the parts an :class:`PackagesEntry` lists into each missing file."""

    kind = PackagesEntry.kind
    pins_on_download = False

    def __init__(self, entry: PackagesEntry) -> None:
        self.entry = entry

    def _parts(self, spec: FileSpec) -> list[Path]:
        parts = self.entry.assemble.get(spec.path)
        if parts is None:
            raise SourceUnavailable(f"no package ships {spec.path}")
        return [distribution_file(dist, rel) for dist, rel in parts]

    def fetch(self, need: Need) -> None:
        plan: list[tuple[FileSpec, list[Path]]] = []
        for spec in need.missing:  # every part located and sized before anything is written
            paths = self._parts(spec)
            total = sum(p.stat().st_size for p in paths)
            if total != spec.size:
                raise SourceUnavailable(f"installed parts of {spec.path} add up to {total} "
                                        f"bytes, expected {spec.size} (wrong package version?)")
            plan.append((spec, paths))
        asset_id, root = need.asset.id, need.root
        for spec, paths in plan:
            with cache.verified_writer(asset_id, root, spec,
                                       need.progress and spec.size > cache.BAR_MIN_BYTES,
                                       f"assemble {asset_id}/{spec.path}") as w:
                for part in paths:
                    with open(part, "rb") as fh:
                        w.copy_from(fh)
                sha = w.commit(source=" + ".join(str(p) for p in paths))
            cache.record(root, spec.path, sha)
            log.info("assembled %s/%s from %d installed file(s)", asset_id, spec.path, len(paths))

    def offline_ready(self, asset: AssetSpec, settings: Settings) -> bool:
        if asset.files is None:
            return False
        try:
            for spec in asset.files:
                self._parts(spec)
        except SourceUnavailable:
            return False
        return True
