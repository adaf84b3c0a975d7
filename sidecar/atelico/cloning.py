"""Voice cloning, one path for HTTP jobs and the CLI: check the name, decode the reference
clip, clone with Kokoro (a search, with progress) or Pocket (one pass), through the registry.

:class:`Cloner` runs synchronously on the caller's thread (a job thread, the CLI); the
service decodes the reference in its pool (:meth:`atelico.service.Service.clone_reference`).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Literal, Protocol, runtime_checkable

import numpy as np

from atelico.config import Settings
from atelico.errors import RequestError
from atelico.models.registry import ModelRegistry

CloneEngine = Literal["kokoro", "pocket"]
ENGINES: tuple[CloneEngine, ...] = ("kokoro", "pocket")
MAX_REFERENCE_S = 600.0  # longest reference file accepted (only max_seconds of it is used)
REFERENCE_RATE_HZ = 24_000  # both cloning engines work at 24 kHz


@dataclass(frozen=True)
class CloneRequest:
    """What to clone into which voice (validated on construction)."""

    name: str
    engine: CloneEngine = "kokoro"
    overwrite: bool = False
    generations: int = 10  # kokoro: search size
    population: int = 8
    max_seconds: float = 30.0  # only this much of the reference is used

    def __post_init__(self) -> None:
        if self.engine not in ENGINES:
            raise RequestError(f"engine must be one of {', '.join(ENGINES)}", code="request.invalid",
                               details={"field": "engine"})
        if not (1 <= self.generations <= 200 and 2 <= self.population <= 64
                and 1 <= self.max_seconds <= 120):
            raise RequestError("generations must be 1–200, population 2–64 and max_seconds 1–120",
                               code="request.invalid")


@dataclass(frozen=True)
class Reference:
    """The decoded reference clip: mono float32 at ``sample_rate_hz``."""

    audio: np.ndarray
    sample_rate_hz: int


@dataclass(frozen=True)
class CloneProgress:
    """How far a Kokoro search is (``fraction`` 0–1) and its own numbers."""

    fraction: float
    generation: int
    generations: int
    best_distance: float
    initial_distance: float

    def detail(self) -> dict[str, float]:
        return {"generation": self.generation, "generations": self.generations,
                "best_distance": round(self.best_distance, 4),
                "initial_distance": round(self.initial_distance, 4)}


@dataclass(frozen=True)
class CloneResult:
    """The new voice and where it was written (distances: Kokoro only)."""

    voice: str
    engine: CloneEngine
    path: Path
    best_distance: float | None = None
    initial_distance: float | None = None

    def to_dict(self) -> dict[str, str | float]:
        out: dict[str, str | float] = {"voice": self.voice, "engine": self.engine, "path": str(self.path)}
        if self.best_distance is not None and self.initial_distance is not None:
            out.update(best_distance=round(self.best_distance, 4),
                       initial_distance=round(self.initial_distance, 4))
        return out


@runtime_checkable
class MakesVoicePacks(Protocol):
    """A TTS engine that clones a voice in one pass (Pocket)."""

    def create_voice_pack(self, source: np.ndarray, voice_id: str, *, sample_rate_hz: int | None = None,
                          max_seconds: float = 30.0, overwrite: bool = False,
                          progress: bool = True) -> Path: ...


@runtime_checkable
class RescansVoices(Protocol):
    """A TTS engine that picks up voices written to disk after it loaded (Kokoro)."""

    def rescan_voices(self) -> list[str]: ...


class Cloner:
    """Clones voices with the registry's engines."""

    def __init__(self, settings: Settings, registry: ModelRegistry) -> None:
        self.settings = settings
        self.registry = registry

    def check(self, engine: CloneEngine, name: str, *, overwrite: bool) -> None:
        """Refuse a bad or taken name (400/409) before any audio is decoded or model loaded."""
        from atelico.engines.tts.voice_names import check_voice_free

        check_voice_free(engine, name, self.settings, overwrite=overwrite)

    def clone(self, request: CloneRequest, reference: Reference, *,
              progress: Callable[[CloneProgress], None] | None = None,
              cancel: threading.Event | None = None, show_bar: bool = False) -> CloneResult:
        """Clone ``reference`` into ``request.name`` (blocking; minutes for Kokoro)."""
        if request.engine == "pocket":
            return self._pocket(request, reference, show_bar)
        return self._kokoro(request, reference, progress, cancel, show_bar)

    def _pocket(self, request: CloneRequest, reference: Reference, show_bar: bool) -> CloneResult:
        with self.registry.acquire("pocket") as engine:
            if not isinstance(engine, MakesVoicePacks):
                raise RequestError("this pocket model cannot clone voices", code="request.invalid")
            path = engine.create_voice_pack(reference.audio, request.name,
                                            sample_rate_hz=reference.sample_rate_hz,
                                            max_seconds=request.max_seconds,
                                            overwrite=request.overwrite, progress=show_bar)
        return CloneResult(voice=request.name, engine="pocket", path=Path(path))

    def _kokoro(self, request: CloneRequest, reference: Reference,
                progress: Callable[[CloneProgress], None] | None, cancel: threading.Event | None,
                show_bar: bool) -> CloneResult:
        from atelico.engines.tts import clone as kclone

        def report(p: kclone.Progress) -> None:
            if progress is not None:
                progress(CloneProgress(p.generation / p.generations, p.generation, p.generations,
                                       p.best_distance, p.initial_distance))

        config = kclone.EvolutionConfig(generations=request.generations, population=request.population,
                                        elite=min(2, request.population - 1))
        with self.registry.acquire("kokoro") as engine:
            result = kclone.clone_voice(engine, reference.audio, reference.sample_rate_hz, request.name,
                                        self.settings.voices_dir, config=config, progress=report,
                                        cancel=cancel, show_bar=show_bar, overwrite=request.overwrite)
            if isinstance(engine, RescansVoices):
                engine.rescan_voices()
        return CloneResult(voice=result.voice_id, engine="kokoro", path=result.path,
                           best_distance=result.best_distance, initial_distance=result.initial_distance)
