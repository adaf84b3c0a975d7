"""Fake engine loaders the registry tests name by import path."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from atelico.config import Settings
from atelico.engines.base import VoiceInfo
from atelico.models.catalog import ModelSpec


@dataclass
class FakeEngine:
    """Stands in for a real engine: remembers what it was loaded with and if it was closed."""

    model_id: str
    assets: dict[str, Path]
    closed: bool = False

    def close(self) -> None:
        self.closed = True


@dataclass
class LoadLog:
    """Counts loads per model; ``behaviour[model_id]`` runs inside each load."""

    calls: list[str] = field(default_factory=list)
    behaviour: dict[str, Callable[[int], None]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def count(self, model_id: str) -> int:
        with self.lock:
            return self.calls.count(model_id)


LOG = LoadLog()


def load(spec: ModelSpec, assets: dict[str, Path], settings: Settings) -> Any:
    """The fake loader: record the call, run the test's behaviour, return a FakeEngine."""
    with LOG.lock:
        LOG.calls.append(spec.id)
        attempt = LOG.calls.count(spec.id)
    action = LOG.behaviour.get(spec.id)
    if action is not None:
        action(attempt)
    return FakeEngine(spec.id, dict(assets))


def slow(seconds: float) -> Callable[[int], None]:
    return lambda attempt: time.sleep(seconds)


def list_voices(spec: ModelSpec, assets: dict[str, Path], settings: Settings) -> list[VoiceInfo]:
    """A catalog voice lister: one fixed voice per model."""
    with LOG.lock:
        LOG.calls.append(f"list:{spec.id}")
    return [VoiceInfo(f"{spec.id}-voice", "en-US")]


@dataclass
class FakePart:
    """A sub-model: counts its loads, remembers being closed."""

    loads: int
    closed: bool = False

    def close(self) -> None:
        self.closed = True
