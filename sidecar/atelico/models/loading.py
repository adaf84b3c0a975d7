"""How the registry loads: catalog loaders by import path, installed packages, shared errors."""

from __future__ import annotations

import importlib
import importlib.metadata
from pathlib import Path
from typing import Callable, Iterable, cast

from atelico.config import Settings
from atelico.engines.base import VoiceInfo
from atelico.errors import AtelicoError
from atelico.models.catalog import ModelSpec

#: ``load(spec, assets, settings) -> engine``, named in the catalog by import path.
Loader = Callable[[ModelSpec, "dict[str, Path]", Settings], object]
#: ``list_voices(spec, assets, settings) -> voices``, a TTS model's voices read from its files.
VoiceLister = Callable[[ModelSpec, "dict[str, Path]", Settings], Iterable[VoiceInfo]]


def dist_installed(name: str) -> bool:
    try:
        importlib.metadata.distribution(name)
    except importlib.metadata.PackageNotFoundError:
        return False
    return True


def import_loader(path: str) -> Loader:
    """Import ``"package.module:function"`` and return the function."""
    return cast(Loader, import_callable(path))


def import_callable(path: str) -> Callable[..., object]:
    module_name, _, attr = path.partition(":")
    if not module_name or not attr:
        raise ValueError(f"loader path {path!r} is not 'module:function'")
    module = importlib.import_module(module_name)
    function: object = module.__dict__.get(attr)
    if not callable(function):
        raise TypeError(f"{path} is not a callable of {module_name}")
    return function


def rethrow(error: BaseException) -> BaseException:
    """A fresh copy of a shared load error for one waiter (tracebacks are per raise)."""
    if isinstance(error, AtelicoError):
        copy = type(error)(error.message, code=error.code, http_status=error.http_status,
                           details=dict(error.details))
        copy.__cause__ = error.__cause__
        return copy
    return error
