"""The Hugging Face hub (``huggingface_hub``): pinned files one by one, or whole snapshots of
hub-only assets checked against the hub's own LFS sha256 and pinned in a manifest."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any, Iterable

from atelico.config import Settings
from atelico.errors import ModelIntegrity
from atelico.models.assets import cache
from atelico.models.assets.sources.base import Need, SourceUnavailable
from atelico.models.assets.sources.network import hub_endpoint, require_network
from atelico.models.catalog import AssetSpec, HubEntry, HubPart

ETAG_TIMEOUT_S = 10


def hub_sha256s(repo: str, revision: str, paths: Iterable[str]) -> dict[str, str]:
    """The hub's own sha256 of each LFS file (small files have none: git blob ids only)."""
    from huggingface_hub import HfApi

    out: dict[str, str] = {}
    for info in HfApi(endpoint=hub_endpoint()).get_paths_info(repo, list(paths),
                                                              revision=revision):
        lfs = getattr(info, "lfs", None)
        if lfs is not None and getattr(lfs, "sha256", None):
            out[info.path] = lfs.sha256
    return out


def _unavailable(repo: str, exc: Exception) -> SourceUnavailable:
    return SourceUnavailable(f"hub {repo}: {type(exc).__name__}: {exc}")


class HubSource:
    """Downloads from the repository of a :class:`HubEntry`."""

    kind = HubEntry.kind
    pins_on_download = True

    def __init__(self, entry: HubEntry) -> None:
        self.entry = entry

    def offline_ready(self, asset: AssetSpec, settings: Settings) -> bool:
        return False

    def fetch(self, need: Need) -> None:
        require_network(need.settings, hub_endpoint())
        if need.asset.files is None:
            self._snapshot(need)
        else:
            self._pinned(need)

    def _pinned(self, need: Need) -> None:
        """Download pinned files one by one with ``hf_hub_download`` and verify them."""
        from huggingface_hub import hf_hub_download

        repo, asset_id, root = self.entry.repo, need.asset.id, need.root
        with tempfile.TemporaryDirectory(dir=cache.staging_root(need.settings),
                                         prefix=f".{asset_id}.") as tmp:
            for spec in need.missing:
                try:
                    downloaded = Path(hf_hub_download(
                        repo, self.entry.prefix + spec.path, revision=self.entry.revision,
                        local_dir=tmp, etag_timeout=ETAG_TIMEOUT_S, endpoint=hub_endpoint()))
                except Exception as exc:  # huggingface_hub raises many kinds; report, try next
                    raise _unavailable(repo, exc) from None
                with open(downloaded, "rb") as fh, cache.verified_writer(
                        asset_id, root, spec, False, spec.path) as w:
                    w.copy_from(fh)
                    sha = w.commit(source=self.entry.url)
                cache.record(root, spec.path, sha)
                downloaded.unlink(missing_ok=True)

    def _snapshot(self, need: Need) -> None:
        """Stage every part, check it against the hub's LFS sha256, pin a manifest, then
        rename the staged folder over the asset directory."""
        asset_id, root = need.asset.id, need.root
        staging = Path(tempfile.mkdtemp(dir=cache.staging_root(need.settings),
                                        prefix=f".{asset_id}.partial-"))
        try:
            entries: list[dict[str, Any]] = []
            for part in self.entry.parts:
                entries += self._stage_part(part, staging, asset_id, len(entries))
            cache.pin_manifest(staging, asset_id, entries)
            if root.exists():
                shutil.rmtree(root)
            os.replace(staging, root)
        finally:
            if staging.exists():
                shutil.rmtree(staging, ignore_errors=True)

    def _download_part(self, part: HubPart, download: Path) -> list[Path]:
        from huggingface_hub import snapshot_download

        repo = self.entry.repo
        patterns = None if part.allow_patterns is None else list(part.allow_patterns)
        try:
            snapshot_download(repo, revision=part.revision, allow_patterns=patterns,
                              local_dir=download, etag_timeout=ETAG_TIMEOUT_S,
                              endpoint=hub_endpoint())
        except Exception as exc:
            raise _unavailable(repo, exc) from None
        files = [p for p in download.rglob("*")
                 if p.is_file() and ".cache" not in p.relative_to(download).parts]
        if not files:
            raise SourceUnavailable(f"hub {repo}@{part.revision} has no files matching "
                                    f"{patterns}")
        return files

    def _stage_part(self, part: HubPart, staging: Path, asset_id: str,
                    index: int) -> list[dict[str, Any]]:
        """Download one part into ``staging`` (its prefix stripped); its manifest entries."""
        repo = self.entry.repo
        download = staging / f".download-{index}"
        files = self._download_part(part, download)
        rels = [p.relative_to(download).as_posix() for p in files]
        try:
            pins = hub_sha256s(repo, part.revision, rels)
        except Exception as exc:
            raise SourceUnavailable(f"hub {repo}: cannot read file hashes: {exc}") from None
        entries: list[dict[str, Any]] = []
        for path, rel in zip(files, rels):
            sha = cache.sha256_file(path)
            if rel in pins and pins[rel] != sha:
                raise ModelIntegrity(
                    f"{repo}/{rel}: downloaded sha256 {sha} differs from the hub's {pins[rel]}",
                    details={"asset": asset_id, "file": rel, "expected_sha256": pins[rel],
                             "actual_sha256": sha})
            strip = part.strip
            dest_rel = rel[len(strip):] if strip and rel.startswith(strip) else rel
            dest = staging / dest_rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            os.replace(path, dest)
            entries.append({"path": dest_rel, "size": dest.stat().st_size, "sha256": sha,
                            "source": f"hf://{repo}/{rel}@{part.revision}"})
        shutil.rmtree(download, ignore_errors=True)
        return entries
