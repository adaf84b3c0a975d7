"""Pinned files streamed from plain HTTPS URLs (e.g. GitHub release assets)."""

from __future__ import annotations

from atelico.config import Settings
from atelico.models.assets import cache
from atelico.models.assets.sources.base import Need, SourceUnavailable
from atelico.models.assets.sources.network import require_network
from atelico.models.catalog import AssetSpec, UrlEntry

CONNECT_TIMEOUT_S = 10.0
READ_TIMEOUT_S = 30.0


class UrlSource:
    """Streams each missing file from the URL a :class:`UrlEntry` gives it, hashing as it
    goes; nothing is renamed into place before its sha256 matches."""

    kind = UrlEntry.kind
    pins_on_download = False

    def __init__(self, entry: UrlEntry) -> None:
        self.entry = entry

    def offline_ready(self, asset: AssetSpec, settings: Settings) -> bool:
        return False

    def fetch(self, need: Need) -> None:
        urls = self.entry.files
        if any(spec.path not in urls for spec in need.missing):
            raise SourceUnavailable("no download URL for some files")
        import httpx

        asset_id, root = need.asset.id, need.root
        for spec in need.missing:
            url = urls[spec.path]
            require_network(need.settings, url)
            try:
                with httpx.stream("GET", url, follow_redirects=True,
                                  timeout=httpx.Timeout(READ_TIMEOUT_S,
                                                        connect=CONNECT_TIMEOUT_S)) as resp:
                    resp.raise_for_status()
                    with cache.verified_writer(asset_id, root, spec, need.progress,
                                               f"download {spec.path}") as w:
                        for block in resp.iter_bytes(cache.CHUNK_BYTES):
                            w.write(block)
                        sha = w.commit(source=url)
            except httpx.HTTPError as exc:
                raise SourceUnavailable(f"{url}: {exc}") from None
            cache.record(root, spec.path, sha)
