"""Model catalog, asset cache and registry (``with registry.acquire(id, TTS) as engine:``)."""

from atelico.models.assets import FileCheck, ensure_asset, verify_asset
from atelico.models.catalog import AssetSpec, Catalog, FileSpec, ModelSpec, default_catalog
from atelico.models.manage import list_models, pull, verify
from atelico.models.registry import ModelRegistry

__all__ = [
    "AssetSpec", "Catalog", "FileCheck", "FileSpec", "ModelRegistry", "ModelSpec",
    "default_catalog", "ensure_asset", "list_models", "pull", "verify", "verify_asset",
]
