"""The model registry: resolve ids, load engines lazily once, share them, unload them when idle."""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import (Any, Callable, ContextManager, Iterable, Iterator, Sequence, TypedDict,
                    TypeVar, cast, overload)

from atelico.config import Settings
from atelico.engines.base import FACE, STT, TTS, Closeable, E, EngineKind, Part, VoiceInfo
from atelico.errors import (AtelicoError, ModelError, ModelLoadFailed, ModelNotInstalled,
                            RequestError)
from atelico.models.assets import asset_dir, asset_obtainable_locally, asset_present, ensure_asset
from atelico.models.catalog import Catalog, ModelSpec, default_catalog
from atelico.models.loading import (Loader, VoiceLister, dist_installed, import_callable,
                                    import_loader, rethrow)

log = logging.getLogger(__name__)

T = TypeVar("T")

__all__ = ["FACE", "STT", "TTS", "EngineKind", "Loader", "ModelRegistry", "ModelRow", "Part",
           "import_loader"]


class ModelRow(TypedDict):
    """One catalog model as :meth:`ModelRegistry.list_models` reports it."""

    id: str
    kind: str
    installed: bool
    loaded: bool
    aliases: list[str]
    default: bool
    description: str
    languages: list[str]
    assets: list[str]


@dataclass
class _Slot:
    """One model's lifecycle state; guarded by the registry's condition variable."""

    spec: ModelSpec
    engine: object = None
    refcount: int = 0
    last_used: float = 0.0
    loading: bool = False
    load_gen: int = 0  # incremented when a load starts
    failed_gen: int = -1  # load_gen of the last load that failed
    error: BaseException | None = None
    pinned: bool = False  # preloaded: kept loaded however long it idles


class ModelRegistry:
    """The one owner of loaded models.

    Responsibilities:
      * resolve user-facing ids (``in-memory::`` prefix, aliases, defaults like ``whisper``
        that pick the best installed model) to catalog entries;
      * report what is installed and loaded;
      * load an engine on first use through its catalog loader, with verified assets, and
        never run two loads of one model at once (concurrent callers wait for one load);
      * share loaded engines, count references, and unload those unused for
        ``settings.models.idle_unload_s`` (``unload_idle`` or the reaper thread).

    Use ``with registry.acquire("kokoro", TTS) as engine: ...`` (``engine`` is then a
    :class:`~atelico.engines.base.TextToSpeech`); sub-models that are no catalog model come
    from :meth:`part`.
    """

    def __init__(self, settings: Settings, *,
                 catalog: Catalog | Sequence[ModelSpec] | None = None,
                 defaults: dict[str, Sequence[str]] | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        """
        Args:
            settings: the config tree (cache dir, idle timeout, offline, variants).
            catalog: a :class:`Catalog`, or a list of specs (tests with fake loaders; their
                assets must exist in the shipped catalog), or ``None`` for the shipped one.
            defaults: generic ids for a list of specs, e.g. ``{"tts": ["fake"]}``.
            clock: seconds, monotonic; injectable for tests of idle unloading.
        """
        self.settings = settings
        if catalog is None:
            self.catalog = default_catalog()
        elif isinstance(catalog, Catalog):
            self.catalog = catalog
        else:
            self.catalog = Catalog(models=tuple(catalog), assets=default_catalog().assets,
                                   defaults={k: tuple(v) for k, v in (defaults or {}).items()})
        self._clock = clock
        self._cond = threading.Condition(threading.Lock())
        self._slots: dict[str, _Slot] = {}
        self._stop = threading.Event()
        self._reaper: threading.Thread | None = None
        self._parts_lock = threading.Lock()
        self._parts: dict[str, object] = {}

    # ------------------------------------------------------------------ catalog queries

    def resolve(self, model_id: str) -> ModelSpec:
        """The catalog entry a user-facing id means.

        Generic ids (``tts``, ``whisper``) resolve to the first candidate that is installed,
        else the first that can be assembled from installed packages, else the first one.

        Raises:
            UnknownModel: with ``details["known"]`` listing every accepted id.
        """
        candidates = self.catalog.candidates(model_id)
        if len(candidates) == 1:
            return candidates[0]
        for test in (self.installed_spec, self._obtainable_locally):
            for spec in candidates:
                if test(spec):
                    return spec
        return candidates[0]

    def installed(self, model_id: str) -> bool:
        """True if the model's packages are installed and its files are in the cache.

        Cheap: checks file sizes, never hashes. Raises UnknownModel for unknown ids.
        """
        return self.installed_spec(self.resolve(model_id))

    def installed_spec(self, spec: ModelSpec) -> bool:
        if not all(dist_installed(d) for d in spec.requires):
            return False
        return all(asset_present(a, self.settings, catalog=self.catalog)
                   for a in self._asset_ids(spec))

    def _obtainable_locally(self, spec: ModelSpec) -> bool:
        if not all(dist_installed(d) for d in spec.requires):
            return False
        return all(asset_obtainable_locally(a, self.settings, catalog=self.catalog)
                   for a in self._asset_ids(spec))

    def asset_ids(self, model_id: str | ModelSpec) -> tuple[str, ...]:
        """The asset ids a model needs under the current settings (e.g. Kokoro's variant)."""
        spec = model_id if isinstance(model_id, ModelSpec) else self.resolve(model_id)
        return self._asset_ids(spec)

    def _asset_ids(self, spec: ModelSpec) -> tuple[str, ...]:
        variant = None
        if spec.variant_setting:
            variant = getattr(self.settings.models, spec.variant_setting, None)
        return spec.assets_for(None if variant is None else str(variant).strip().lower())

    def list_models(self) -> list[ModelRow]:
        """Every catalog model: id, kind, installed, loaded, aliases, default, description.

        A generic id (``tts``, ``whisper``) is listed among the aliases of the model it
        currently resolves to, which is then marked ``default``.
        """
        generic: dict[str, list[str]] = {}
        for name in self.catalog.defaults:
            generic.setdefault(self.resolve(name).id, []).append(name)
        with self._cond:
            loaded = {mid for mid, slot in self._slots.items() if slot.engine is not None}
        out: list[ModelRow] = []
        for spec in self.catalog.models:
            out.append({
                "id": spec.id,
                "kind": spec.kind,
                "installed": self.installed_spec(spec),
                "loaded": spec.id in loaded,
                "aliases": [*generic.get(spec.id, []), *spec.aliases],
                "default": spec.default or spec.id in generic,
                "description": spec.description,
                "languages": list(spec.languages),
                "assets": list(self._asset_ids(spec)),
            })
        return out

    def pinned_ids(self) -> list[str]:
        """Ids of the models kept loaded whatever their idle time (the preloaded ones), sorted."""
        with self._cond:
            return sorted(mid for mid, slot in self._slots.items() if slot.pinned)

    def loaded_ids(self) -> list[str]:
        """Ids of the models currently loaded, sorted."""
        with self._cond:
            return sorted(mid for mid, slot in self._slots.items() if slot.engine is not None)

    def voices_without_loading(self, model_id: str) -> list[VoiceInfo] | None:
        """The voices of an installed TTS model that is not loaded, from the catalog's
        ``voice_lister`` (its files, never its weights), so that a voice list never costs a
        model load; None when the model is loaded (ask the engine), not installed (loading
        says why) or has no lister."""
        spec = self.resolve(model_id)
        if spec.voice_lister is None or spec.id in self.loaded_ids() \
                or not self.installed_spec(spec):
            return None
        lister = cast(VoiceLister, import_callable(spec.voice_lister))
        assets = {a: asset_dir(a, self.settings) for a in self._asset_ids(spec)}
        return list(lister(spec, assets, self.settings))

    # ------------------------------------------------------------------ lifecycle

    @overload
    def acquire(self, model_id: str, kind: EngineKind[E]) -> ContextManager[E]: ...

    @overload
    def acquire(self, model_id: str) -> ContextManager[object]: ...

    def acquire(self, model_id: str, kind: EngineKind[E] | None = None) -> ContextManager[Any]:
        """Yield the loaded engine for ``model_id``, loading it first if needed.

        With ``kind`` (:data:`TTS`, :data:`STT`, :data:`FACE`) the engine is typed as that
        kind's protocol, and a model of another kind is refused before any load
        (``request.wrong_model_kind``). Without it the engine is only an ``object``.

        Concurrent acquirers of a model that is loading wait for that one load. A failed
        load raises to every waiter (``ModelLoadFailed``, or the ``ModelError`` the loader
        raised, e.g. ``ModelNotInstalled``) and is tried again by the next ``acquire``.
        """
        spec = self.resolve(model_id)
        if kind is not None:
            check_kind(spec, model_id, kind)
        return self._held(spec)

    def engine_kind(self, model_id: str, kind: EngineKind[E]) -> str:
        """The concrete id ``model_id`` means, refused (``request.wrong_model_kind``,
        ``details.field == "model"``) when it is not a model of ``kind``."""
        spec = self.resolve(model_id)
        check_kind(spec, model_id, kind)
        return spec.id

    @contextlib.contextmanager
    def _held(self, spec: ModelSpec) -> Iterator[Any]:
        engine = self._checkout(spec)
        try:
            yield engine
        finally:
            with self._cond:
                slot = self._slots[spec.id]
                slot.refcount -= 1
                slot.last_used = self._clock()

    def part(self, part: Part[T]) -> T:
        """The shared sub-model ``part``, loaded on first use (once, whoever asks) and kept
        until :meth:`close`; load errors propagate and the next call tries again."""
        with self._parts_lock:  # parts are small (Silero VAD loads in ~30 ms)
            if part.id not in self._parts:
                started = time.perf_counter()
                self._parts[part.id] = part.load(self.settings)
                log.info("loaded part %s in %.2f s", part.id, time.perf_counter() - started)
            return cast(T, self._parts[part.id])

    def loaded_parts(self) -> list[str]:
        """Ids of the sub-models loaded by :meth:`part`, sorted."""
        with self._parts_lock:
            return sorted(self._parts)

    def _checkout(self, spec: ModelSpec) -> object:
        with self._cond:
            slot = self._slots.get(spec.id)
            if slot is None:
                slot = self._slots[spec.id] = _Slot(spec)
            while True:
                if slot.engine is not None:
                    slot.refcount += 1
                    slot.last_used = self._clock()
                    return slot.engine
                if not slot.loading:
                    slot.loading = True
                    slot.load_gen += 1
                    gen = slot.load_gen
                    slot.refcount += 1
                    break
                gen = slot.load_gen
                self._cond.wait_for(lambda: not slot.loading or slot.load_gen != gen)
                if slot.failed_gen == gen and slot.error is not None:
                    raise rethrow(slot.error)
        # This thread loads; the others wait on the condition above.
        try:
            engine = self._load(spec)
        except BaseException as exc:  # noqa: BLE001 - handed to every waiter, then re-raised
            error = exc if isinstance(exc, ModelError) else ModelLoadFailed(
                f"loading model {spec.id!r} failed: {type(exc).__name__}: {exc}",
                details={"model": spec.id, "error": type(exc).__name__})
            if error is not exc:
                error.__cause__ = exc
            with self._cond:
                slot.loading = False
                slot.failed_gen = gen
                slot.error = error
                slot.refcount -= 1
                self._cond.notify_all()
            if error is exc:
                raise
            raise error from exc
        with self._cond:
            slot.engine = engine
            slot.error = None
            slot.loading = False
            slot.last_used = self._clock()
            self._cond.notify_all()
        return engine

    def _load(self, spec: ModelSpec) -> object:
        missing = [d for d in spec.requires if not dist_installed(d)]
        if missing:
            raise ModelNotInstalled(
                f"model {spec.id!r} needs pip package(s) {' '.join(missing)}: "
                f"pip install {' '.join(missing)}",
                details={"model": spec.id, "pip": missing})
        started = time.perf_counter()
        assets = self.fetch_assets(spec)
        loader = import_loader(spec.loader)
        engine = loader(spec, assets, self.settings)
        log.info("loaded model %s in %.2f s", spec.id, time.perf_counter() - started)
        return engine

    def fetch_assets(self, model_id: str | ModelSpec) -> dict[str, Path]:
        """The verified directory of each asset a model needs, fetched first where missing
        (raises ``ModelNotInstalled`` saying what was tried)."""
        spec = model_id if isinstance(model_id, ModelSpec) else self.resolve(model_id)
        return {asset_id: ensure_asset(asset_id, self.settings, catalog=self.catalog)
                for asset_id in self._asset_ids(spec)}

    def preload(self, model_ids: Iterable[str]) -> dict[str, AtelicoError]:
        """Load models now so the first request is fast; returns the failures by id.

        Preloaded models are *pinned*: idle unloading leaves them loaded (the game asked for
        them to be ready), unless ``settings.models.unload_preloaded`` opts them in.
        Failures are logged and returned, not raised: a server still starts without them.
        """
        failures: dict[str, AtelicoError] = {}
        pin = not self.settings.models.unload_preloaded
        for model_id in model_ids:
            try:
                with self.acquire(model_id):
                    if pin:
                        with self._cond:
                            self._slots[self.resolve(model_id).id].pinned = True
            except AtelicoError as exc:
                log.warning("preloading %s failed: %s", model_id, exc)
                failures[model_id] = exc
        return failures

    def unload_idle(self, now: float | None = None) -> list[str]:
        """Unload models with no users that were last used ``idle_unload_s`` ago or more
        (pinned ones, i.e. preloaded, excepted).

        Args:
            now: the clock's current time (default: the registry's clock).

        Returns:
            The ids unloaded, sorted. ``idle_unload_s == 0`` disables unloading.
        """
        idle_s = self.settings.models.idle_unload_s
        if idle_s <= 0:
            return []
        now = self._clock() if now is None else now
        dropped: list[tuple[str, object]] = []
        with self._cond:
            for model_id, slot in self._slots.items():
                if (slot.engine is not None and slot.refcount == 0 and not slot.loading
                        and not slot.pinned and now - slot.last_used >= idle_s):
                    dropped.append((model_id, slot.engine))
                    slot.engine = None
        for model_id, engine in dropped:
            _close_engine(model_id, engine)
            log.info("unloaded idle model %s", model_id)
        return sorted(model_id for model_id, _ in dropped)

    def start(self) -> None:
        """Start the background thread that calls :meth:`unload_idle` periodically."""
        if self._reaper is not None or self.settings.models.idle_unload_s <= 0:
            return
        self._stop.clear()
        interval_s = min(30.0, max(0.05, self.settings.models.idle_unload_s / 4))

        def reap() -> None:
            while not self._stop.wait(interval_s):
                try:
                    self.unload_idle()
                except Exception:  # never let the reaper die silently
                    log.exception("idle unload failed")

        self._reaper = threading.Thread(target=reap, name="atelico-model-reaper", daemon=True)
        self._reaper.start()

    def close(self) -> None:
        """Stop the reaper and unload every model (in-use engines are dropped too)."""
        self._stop.set()
        if self._reaper is not None:
            self._reaper.join(timeout=5.0)
            self._reaper = None
        with self._cond:
            dropped = [(mid, s.engine) for mid, s in self._slots.items() if s.engine is not None]
            for slot in self._slots.values():
                slot.engine = None
        with self._parts_lock:
            dropped += list(self._parts.items())
            self._parts.clear()
        for model_id, engine in dropped:
            _close_engine(model_id, engine)

    def __enter__(self) -> "ModelRegistry":
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def check_kind(spec: ModelSpec, model_id: str, kind: EngineKind[E]) -> None:
    """Refuse a model of another kind than ``kind`` (``request.wrong_model_kind``)."""
    if spec.kind != kind.name:
        raise RequestError(f"model '{model_id}' is a {spec.kind} model, not {kind.name}",
                           code="request.wrong_model_kind", details={"field": "model"})


def _close_engine(model_id: str, engine: object) -> None:
    if isinstance(engine, Closeable):
        try:
            engine.close()
        except Exception:
            log.exception("closing model %s failed", model_id)
