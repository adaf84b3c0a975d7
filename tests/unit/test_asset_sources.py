"""Unit tests for the typed catalog source entries and the sources they map to."""

from __future__ import annotations

from pathlib import Path

import pytest

from atelico.config import load_settings
from atelico.models.assets.sources import (HubSource, NpmSource, PackagesSource, UrlSource,
                                           source_for)
from atelico.models.catalog import (AssetSpec, DeriveEntry, FileSpec, HubEntry, HubPart, NpmEntry,
                                    PackagesEntry, UrlEntry, default_catalog, parse_source)


def test_each_catalog_type_parses_to_its_entry_and_source() -> None:
    raws = [
        ({"type": "packages", "pip": ["p==1"], "assemble": {"w.bin": [["p", "p/w.bin"]]}},
         PackagesEntry, PackagesSource),
        ({"type": "npm", "package": "@scope/voices", "version": "1.2.1"}, NpmEntry, NpmSource),
        ({"type": "hf", "repo": "org/repo"}, HubEntry, HubSource),
        ({"type": "url", "files": {"w.bin": "https://example.invalid/w.bin"}}, UrlEntry,
         UrlSource),
    ]
    for raw, entry_type, source_type in raws:
        entry = parse_source(raw)
        assert type(entry) is entry_type and entry.kind == raw["type"]
        assert type(source_for(entry)) is source_type
        assert source_for(entry).pins_on_download is (entry_type is HubEntry)


def test_unknown_source_types_are_refused_when_the_catalog_is_read() -> None:
    with pytest.raises(ValueError, match="unknown source type 'ftp'"):
        parse_source({"type": "ftp", "url": "ftp://example.invalid"})


def test_npm_entry_defaults_and_tarball_name() -> None:
    entry = parse_source({"type": "npm", "package": "@scope/voices", "version": "1.2.1"})
    assert isinstance(entry, NpmEntry)
    assert (entry.member_prefix, entry.member_suffix, entry.env) == ("package/", "", None)
    assert entry.tarball_name == "scope-voices-1.2.1.tgz"


def test_hub_parts_inherit_the_source_revision_and_patterns() -> None:
    plain = parse_source({"type": "hf", "repo": "org/r", "revision": "abc",
                          "allow_patterns": ["*.bin"]})
    assert isinstance(plain, HubEntry)
    assert plain.parts == (HubPart(revision="abc", allow_patterns=("*.bin",)),)
    parted = parse_source({"type": "hf", "repo": "org/r", "revision": "abc",
                           "allow_patterns": ["*.bin"],
                           "parts": [{"strip": "en/"}, {"revision": "def",
                                                        "allow_patterns": ["t.json"]}]})
    assert isinstance(parted, HubEntry)
    assert parted.parts == (HubPart("abc", ("*.bin",), "en/"), HubPart("def", ("t.json",), ""))
    assert parted.url == "https://huggingface.co/org/r"


def test_the_shipped_catalog_has_only_typed_entries() -> None:
    kinds = {type(e) for a in default_catalog().assets.values() for e in a.sources}
    assert kinds == {PackagesEntry, NpmEntry, HubEntry, UrlEntry, DeriveEntry}


def test_offline_ready_looks_only_at_local_things(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    settings = load_settings({"models": {"cache_dir": str(tmp_path), "offline": True}}, env={})
    asset = AssetSpec(id="t", files=(FileSpec("a.bin", 1, "0" * 64),))
    absent = PackagesEntry(pip=("atelico-test-absent",),
                           assemble={"a.bin": (("atelico-test-absent", "x/a.bin"),)})
    assert not source_for(absent).offline_ready(asset, settings)
    assert not source_for(PackagesEntry(pip=(), assemble={})).offline_ready(asset, settings)
    npm = NpmEntry(package="voices", version="1.0.0", env="ATELICO_TEST_TGZ")
    monkeypatch.delenv("ATELICO_TEST_TGZ", raising=False)
    assert not source_for(npm).offline_ready(asset, settings)
    tgz = tmp_path / "given.tgz"
    tgz.write_bytes(b"")
    monkeypatch.setenv("ATELICO_TEST_TGZ", str(tgz))
    assert source_for(npm).offline_ready(asset, settings)
    monkeypatch.delenv("ATELICO_TEST_TGZ")
    (tmp_path / "downloads").mkdir()
    (tmp_path / "downloads" / "voices-1.0.0.tgz").write_bytes(b"")
    assert source_for(npm).offline_ready(asset, settings)
    for online_only in (HubEntry(repo="org/r"), UrlEntry(files={"a.bin": "https://x.invalid"})):
        assert not source_for(online_only).offline_ready(asset, settings)
