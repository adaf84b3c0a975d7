"""Files computed offline from another cached asset: copied, or CTranslate2 weights quantized."""

from __future__ import annotations

import logging
from pathlib import Path

from atelico.config import Settings
from atelico.errors import AtelicoError
from atelico.models.assets import cache
from atelico.models.assets.sources.base import Need, SourceUnavailable
from atelico.models.catalog import AssetSpec, Catalog, DeriveEntry, FileSpec

log = logging.getLogger(__name__)


class DeriveSource:
    """Makes each missing file of an asset from the same-named file of ``entry.base``.

    The base asset is ensured first (from its own sources); each derived file is written
    through a verifying writer, so it lands only if it matches the catalog's pin.
    """

    kind = DeriveEntry.kind
    pins_on_download = False

    def __init__(self, entry: DeriveEntry, catalog: Catalog | None = None) -> None:
        self.entry = entry
        self.catalog = catalog

    def _base_dir(self, settings: Settings, progress: bool) -> Path:
        from atelico.models.assets.ensure import ensure_asset

        try:
            return ensure_asset(self.entry.base, settings, progress=progress,
                                catalog=self.catalog)
        except AtelicoError as exc:
            raise SourceUnavailable(f"base asset {self.entry.base}: {exc.message}") from exc

    def fetch(self, need: Need) -> None:
        methods = {spec.path: self.entry.files.get(spec.path) for spec in need.missing}
        unknown = [path for path, method in methods.items() if method is None]
        if unknown:
            raise SourceUnavailable(f"no derive rule for {', '.join(unknown)}")
        had_base = cache.asset_present(self.entry.base, need.settings, catalog=self.catalog)
        base = self._base_dir(need.settings, need.progress)
        for spec in need.missing:
            self._derive(need, spec, base / spec.path, str(methods[spec.path]))
        if self.entry.drop_base and not had_base:
            from atelico.models.assets.ensure import remove_asset

            remove_asset(self.entry.base, need.settings)
            log.info("removed %s (assembled only to derive %s)", self.entry.base, need.asset.id)

    def _derive(self, need: Need, spec: FileSpec, src: Path, method: str) -> None:
        asset_id, root = need.asset.id, need.root
        desc = f"{'quantize' if method == 'ct2-int8' else 'copy'} {asset_id}/{spec.path}"
        with cache.verified_writer(asset_id, root, spec,
                                   need.progress and spec.size > cache.BAR_MIN_BYTES,
                                   desc) as w, open(src, "rb") as fh:
            if method == "ct2-int8":
                from atelico.models.ct2_int8 import quantize_file

                quantize_file(fh, w.write)
            else:
                w.copy_from(fh)
            sha = w.commit(source=f"{method} of {src}")
        cache.record(root, spec.path, sha)
        log.info("derived %s/%s from %s (%s)", asset_id, spec.path, src, method)

    def offline_ready(self, asset: AssetSpec, settings: Settings) -> bool:
        from atelico.models.assets.ensure import asset_obtainable_locally

        if asset.files is None or any(f.path not in self.entry.files for f in asset.files):
            return False
        return asset_obtainable_locally(self.entry.base, settings, catalog=self.catalog)
