"""What every asset source is: the :class:`Source` protocol, the request it serves, its error."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, Sequence

from atelico.config import Settings
from atelico.models.assets.cache import asset_dir
from atelico.models.catalog import AssetSpec, FileSpec


class SourceUnavailable(Exception):
    """This source cannot provide the files; the message says why (and what would help)."""


@dataclass(frozen=True)
class Need:
    """What :func:`~atelico.models.assets.ensure_asset` asks a source for: the ``missing``
    files of ``asset`` (all of a hub-only asset when it has no manifest yet)."""

    asset: AssetSpec
    missing: Sequence[FileSpec]
    settings: Settings
    progress: bool

    @property
    def root(self) -> Path:
        return asset_dir(self.asset.id, self.settings)


class Source(Protocol):
    """One place asset files can come from (a catalog ``sources`` entry made live)."""

    #: the catalog's ``type`` (``packages``, ``npm``, ``hf``, ``url``), used in messages
    kind: str
    #: True if it can fetch an asset the catalog does not pin (and pin it on download)
    pins_on_download: bool

    def fetch(self, need: Need) -> None:
        """Put the needed files into the cache, each verified before it is renamed into
        place. Raises :class:`SourceUnavailable` if it cannot (a partial fill is fine) and
        ``ModelIntegrity`` for bytes that differ from their pin."""

    def offline_ready(self, asset: AssetSpec, settings: Settings) -> bool:
        """Cheap: could :meth:`fetch` provide every file without the network (no hashing,
        no subprocess)?"""
