"""Voice cloning, one path for HTTP jobs and the CLI: check the name, decode the reference
clip (:meth:`atelico.service.Service.clone_reference`, in the pool), then clone with the
engine's :class:`~atelico.engines.base.VoiceCloning` through the registry.

:meth:`Cloner.clone` runs synchronously on the caller's thread (a job thread, the CLI).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import IO, Callable

import numpy as np

from atelico.config import Settings
from atelico.engines.base import TTS, ClonedVoice, CloneOptions, CloneProgress, VoiceCloning, VoiceRescan
from atelico.errors import RequestError
from atelico.models.registry import ModelRegistry
from atelico.protocol.voices import CloneForm

MAX_REFERENCE_S = 600.0  # longest reference file accepted (only max_seconds of it is used)
REFERENCE_RATE_HZ = 24_000  # both cloning engines work at 24 kHz

__all__ = ["CloneProgress", "CloneForm", "ClonedVoice", "Cloner", "Reference"]


@dataclass(frozen=True)
class Reference:
    """The decoded reference clip: mono float32 at ``sample_rate_hz``."""

    audio: np.ndarray
    sample_rate_hz: int


def decode_reference(data: bytes | IO[bytes], *, keep_s: float) -> Reference:
    """Decode a reference clip: bounded, at the cloning rate, only the ``keep_s`` used."""
    from atelico.audio import codecs  # looked up at call time (tests slow the decoder down)

    audio, rate = codecs.decode_file(data, max_duration_s=MAX_REFERENCE_S, rate=REFERENCE_RATE_HZ,
                                     keep_s=keep_s)
    return Reference(audio, rate)


class Cloner:
    """Clones voices with the registry's engines."""

    def __init__(self, settings: Settings, registry: ModelRegistry) -> None:
        self.settings = settings
        self.registry = registry

    def check(self, engine: str, name: str, *, overwrite: bool) -> None:
        """Refuse a bad or taken name (400/409) before any audio is decoded or model loaded."""
        from atelico.engines.tts.voice_names import check_voice_free

        check_voice_free(engine, name, self.settings, overwrite=overwrite)

    def clone(self, request: CloneForm, reference: Reference, *,
              progress: Callable[[CloneProgress], None] | None = None,
              cancel: threading.Event | None = None) -> ClonedVoice:
        """Clone ``reference`` into ``request.name`` (blocking; minutes for Kokoro)."""
        options = CloneOptions(max_seconds=request.max_seconds, overwrite=request.overwrite,
                               generations=request.generations, population=request.population,
                               elite=min(2, request.population - 1))
        with self.registry.acquire(request.engine, TTS) as engine:
            if not isinstance(engine, VoiceCloning):
                raise RequestError(f"the model {engine.model_id!r} cannot clone voices",
                                   code="request.invalid", details={"field": "engine"})
            voice = engine.clone_voice(reference.audio, reference.sample_rate_hz, request.name,
                                       options=options, progress=progress, cancel=cancel)
            if isinstance(engine, VoiceRescan):
                engine.rescan_voices()
        return voice
