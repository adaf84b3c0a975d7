"""Where asset files come from: one :class:`Source` per catalog entry type.

``source_for(entry)`` turns a typed catalog entry (:data:`atelico.models.catalog.SourceEntry`)
into the source that serves it: installed packages, an npm tarball, the Hugging Face hub or a
plain URL, or another asset it is derived from.
"""

from __future__ import annotations

from atelico.models.assets.sources.base import Need, Source, SourceUnavailable
from atelico.models.assets.sources.derive import DeriveSource
from atelico.models.assets.sources.hub import HubSource
from atelico.models.assets.sources.network import network_allowed
from atelico.models.assets.sources.npm import NpmSource
from atelico.models.assets.sources.packages import PackagesSource
from atelico.models.assets.sources.url import UrlSource
from atelico.models.catalog import Catalog, DeriveEntry, HubEntry, NpmEntry, PackagesEntry, \
    SourceEntry, UrlEntry

__all__ = ["DeriveSource", "HubSource", "Need", "NpmSource", "PackagesSource", "Source", "SourceUnavailable",
           "UrlSource", "network_allowed", "source_for"]


def source_for(entry: SourceEntry, catalog: Catalog | None = None) -> Source:
    """The source that serves a catalog entry (``catalog``: where a derived asset's base is)."""
    if isinstance(entry, PackagesEntry):
        return PackagesSource(entry)
    if isinstance(entry, NpmEntry):
        return NpmSource(entry)
    if isinstance(entry, HubEntry):
        return HubSource(entry)
    if isinstance(entry, UrlEntry):
        return UrlSource(entry)
    if isinstance(entry, DeriveEntry):
        return DeriveSource(entry, catalog)
    raise TypeError(f"not a catalog source entry: {entry!r}")
