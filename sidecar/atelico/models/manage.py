"""What ``atelico models list|pull|verify`` does, as plain functions."""

from __future__ import annotations

import logging
from pathlib import Path

from atelico.config import Settings
from atelico.models.assets import (FileCheck, asset_dir, ensure_asset, expected_files,
                                   remove_asset, verify_asset)
from atelico.models.catalog import Catalog, default_catalog
from atelico.models.registry import ModelRegistry, ModelRow

log = logging.getLogger(__name__)


def list_models(settings: Settings, *, registry: ModelRegistry | None = None
                ) -> list[ModelRow]:
    """Every catalog model with ``installed``/``loaded`` flags (see ``ModelRegistry``)."""
    return (registry or ModelRegistry(settings)).list_models()


def pull(model_id: str, settings: Settings, *, force: bool = False, progress: bool = True,
         catalog: Catalog | None = None) -> dict[str, Path]:
    """Make a model's assets present and verified in the cache; returns asset id → dir.

    Args:
        model_id: any accepted id (``whisper`` pulls the model it resolves to).
        force: delete the cached assets first and fetch them again (repairs corruption).
        progress: tqdm bars on stderr.

    Raises:
        UnknownModel, ModelNotInstalled, ModelIntegrity.
    """
    registry = ModelRegistry(settings, catalog=catalog)
    spec = registry.resolve(model_id)
    out: dict[str, Path] = {}
    for asset_id in registry.asset_ids(spec):
        if force:
            remove_asset(asset_id, settings)
        out[asset_id] = ensure_asset(asset_id, settings, progress=progress,
                                     catalog=registry.catalog)
    return out


def verify(settings: Settings, *, catalog: Catalog | None = None,
           progress: bool = False) -> list[FileCheck]:
    """Hash every file of every asset that has anything in the cache.

    Returns one :class:`FileCheck` per expected file of those assets (``ok``, ``mismatch``
    or ``missing``); assets with nothing cached are skipped.
    """
    catalog = catalog or default_catalog()
    results: list[FileCheck] = []
    for asset_id, asset in catalog.assets.items():
        files = expected_files(asset, settings)
        root = asset_dir(asset_id, settings)
        if files is None or not any((root / f.path).exists() for f in files):
            continue
        results.extend(verify_asset(asset_id, settings, catalog=catalog, progress=progress))
    return results
