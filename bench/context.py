"""What every suite gets: the run mode, the sidecar under test and in-process engines."""

from __future__ import annotations

import asyncio
import contextlib
import sys
import time
from dataclasses import dataclass, field
from typing import Any, Callable, TypeVar

from atelico.config import Settings, load_settings
from atelico.models.registry import ModelRegistry

from bench.sidecar import SidecarProcess

T = TypeVar("T")


def bench_settings() -> Settings:
    """The sidecar's defaults (offline), for the in-process engines we compare against."""
    return load_settings({"models": {"offline": True, "idle_unload_s": 0}})


@dataclass
class Ctx:
    """Run mode plus shared resources; ``engine(id)`` loads an in-process engine once."""

    mode: str  # "full", "quick" or "smoke"
    sidecar: SidecarProcess
    settings: Settings = field(default_factory=bench_settings)
    started: float = field(default_factory=time.perf_counter)
    _registry: ModelRegistry | None = None
    _held: dict[str, Any] = field(default_factory=dict)
    _stack: contextlib.ExitStack = field(default_factory=contextlib.ExitStack)

    @property
    def quick(self) -> bool:
        return self.mode != "full"

    def pick(self, full: T, quick: T, smoke: T | None = None) -> T:
        """The value for this mode (``smoke`` falls back to ``quick``)."""
        if self.mode == "full":
            return full
        if self.mode == "smoke" and smoke is not None:
            return smoke
        return quick

    def log(self, message: str) -> None:
        print(f"[{time.perf_counter() - self.started:6.1f} s] {message}", file=sys.stderr, flush=True)

    def engine(self, model_id: str) -> Any:
        if model_id not in self._held:
            if self._registry is None:
                self._registry = ModelRegistry(self.settings)
            self._held[model_id] = self._stack.enter_context(self._registry.acquire(model_id))
        return self._held[model_id]

    async def call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run blocking in-process work off the event loop (keeps client sockets alive)."""
        return await asyncio.to_thread(fn, *args, **kwargs)

    def close(self) -> None:
        self._stack.close()
        if self._registry is not None:
            self._registry.close()


class connect:
    """``async with connect(url) as client``: an :class:`AsyncClient` closed on exit."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.client: Any = None

    async def __aenter__(self) -> Any:
        from atelico.client import AsyncClient

        self.client = await AsyncClient.connect(self.url, client="bench")
        return self.client

    async def __aexit__(self, *exc: Any) -> None:
        if self.client is not None:
            await self.client.close()
