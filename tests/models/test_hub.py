"""Hub source plumbing (staging, manifests, hash checks) against a stand-in for huggingface_hub.

The real hub is unreachable here; these tests replace ``snapshot_download`` /
``hf_hub_download`` and the LFS hash lookup with local fakes that serve real bytes, so what
is exercised is our code around them: where files land, what is pinned, what is refused.
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
import shutil
from pathlib import Path
from typing import Any

import huggingface_hub
import pytest

import atelico.models.catalog as catalog_mod
from atelico.models.assets.sources import hub as hub_source
from atelico.models.assets.sources import network
from atelico.config import Settings
from atelico.errors import ModelIntegrity
from atelico.models.assets import MANIFEST_NAME, asset_dir, ensure_asset, verify_asset
from atelico.models.catalog import default_catalog, parse_catalog

from .conftest import make_settings


class FakeHub:
    """Serves files from ``{(repo, revision): {path: bytes}}`` like the two hub calls do."""

    def __init__(self, repos: dict[tuple[str, str], dict[str, bytes]]) -> None:
        self.repos = repos
        self.calls: list[tuple[str, str, Any]] = []
        self.lfs_override: dict[str, str] = {}

    def snapshot_download(self, repo_id: str, *, revision: str = "main",
                          allow_patterns: list[str] | None = None, local_dir: Path,
                          **_: Any) -> str:
        self.calls.append(("snapshot", repo_id, revision))
        for path, data in self.repos[(repo_id, revision)].items():
            if allow_patterns is None or any(fnmatch.fnmatch(path, p) for p in allow_patterns):
                dest = Path(local_dir) / path
                dest.parent.mkdir(parents=True, exist_ok=True)
                dest.write_bytes(data)
        (Path(local_dir) / ".cache" / "huggingface").mkdir(parents=True, exist_ok=True)
        return str(local_dir)

    def hf_hub_download(self, repo_id: str, filename: str, *, revision: str = "main",
                        local_dir: Path, **_: Any) -> str:
        self.calls.append(("file", repo_id, filename))
        dest = Path(local_dir) / filename
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_bytes(self.repos[(repo_id, revision)][filename])
        return str(dest)

    def sha256s(self, repo: str, revision: str, paths: list[str]) -> dict[str, str]:
        files = self.repos[(repo, revision)]
        return {p: self.lfs_override.get(p, hashlib.sha256(files[p]).hexdigest())
                for p in paths if p.endswith(".safetensors")}


@pytest.fixture
def online(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setattr(network, "reachable", lambda url: None)
    return make_settings(tmp_path / "cache", offline=False)


def _install(hub: FakeHub, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(huggingface_hub, "snapshot_download", hub.snapshot_download)
    monkeypatch.setattr(huggingface_hub, "hf_hub_download", hub.hf_hub_download)
    monkeypatch.setattr(hub_source, "hub_sha256s", hub.sha256s)


POCKET = "kyutai/pocket-tts-without-voice-cloning"
WEIGHTS_REV = "a7056f505a4a8ca72d8b5fb1440071d6f1a35739"
TOKENIZER_REV = "00eac05ed3d16bdc3f6b5d598874019c34a89214"


def _pocket_hub() -> FakeHub:
    return FakeHub({
        (POCKET, WEIGHTS_REV): {
            "languages/english/model.safetensors": b"weights" * 1000,
            "languages/english/embeddings/alba.safetensors": b"alba" * 100,
            "languages/dutch/model.safetensors": b"not this one",
        },
        (POCKET, TOKENIZER_REV): {"languages/english/tokenizer.json": b'{"model": {}}'},
    })


def test_hub_only_asset_is_staged_stripped_and_pinned(online: Settings,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """Pocket TTS parts from two revisions land in one directory with a manifest of hashes."""
    hub = _pocket_hub()
    _install(hub, monkeypatch)
    root = ensure_asset("pocket-tts-english", online, progress=False)
    files = sorted(p.relative_to(root).as_posix() for p in root.rglob("*")
                   if p.is_file() and not p.name.startswith("."))
    assert files == ["embeddings/alba.safetensors", "model.safetensors", "tokenizer.json"]
    manifest = json.loads((root / MANIFEST_NAME).read_text())
    pinned = {f["path"]: f for f in manifest["files"]}
    assert pinned["model.safetensors"]["sha256"] == hashlib.sha256(b"weights" * 1000).hexdigest()
    assert pinned["tokenizer.json"]["source"].endswith(f"@{TOKENIZER_REV}")
    assert not any(".partial" in p.name for p in root.parent.iterdir())
    calls = len(hub.calls)
    ensure_asset("pocket-tts-english", online, progress=False)
    assert len(hub.calls) == calls  # served from the cache
    assert {r.status for r in verify_asset("pocket-tts-english", online)} == {"ok"}
    (root / "model.safetensors").write_bytes(b"tampered" * 1000)
    with pytest.raises(ModelIntegrity, match="model.safetensors"):
        ensure_asset("pocket-tts-english", online, progress=False)


def test_hub_file_differing_from_its_lfs_hash_is_refused(online: Settings,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """A download whose bytes differ from the hub's own LFS sha256 leaves no asset behind."""
    hub = _pocket_hub()
    hub.lfs_override["languages/english/model.safetensors"] = "f" * 64
    _install(hub, monkeypatch)
    with pytest.raises(ModelIntegrity, match="f" * 64):
        ensure_asset("pocket-tts-english", online, progress=False)
    assert not asset_dir("pocket-tts-english", online).exists()
    assert [p.name for p in online.models_dir.iterdir() if not p.name.endswith(".lock")] == []


def _whisper_tiny_without_packages() -> Any:
    """The shipped catalog, but with tiny.en's packages source naming an absent package."""
    data = json.loads((Path(catalog_mod.__file__).parent / "catalog.json").read_text())
    for source in data["assets"]["whisper-tiny.en-ct2"]["sources"]:
        if source["type"] == "packages":
            source["pip"] = ["atelico-test-absent"]
            for parts in source["assemble"].values():
                parts[0][0] = "atelico-test-absent"
    return parse_catalog(data)


@pytest.mark.slow
def test_pinned_asset_downloads_from_the_hub_and_checks_pins(
        online: Settings, monkeypatch: pytest.MonkeyPatch, tiny_cache: Path) -> None:
    """Without its package, whisper-tiny.en comes file by file from the hub, hash-checked."""
    real = tiny_cache / "models" / "whisper-tiny.en-ct2"
    repo = {p.name: p.read_bytes() for p in real.iterdir() if not p.name.startswith(".")}
    hub = FakeHub({("Systran/faster-whisper-tiny.en", "main"): repo})
    _install(hub, monkeypatch)
    catalog = _whisper_tiny_without_packages()
    root = ensure_asset("whisper-tiny.en-ct2", online, progress=False, catalog=catalog)
    assert sorted(c[2] for c in hub.calls) == sorted(
        f.path for f in default_catalog().assets["whisper-tiny.en-ct2"].files or ())
    assert {r.status for r in verify_asset("whisper-tiny.en-ct2", online)} == {"ok"}
    # A hub serving different bytes is refused and nothing is renamed into place.
    shutil.rmtree(root)
    repo["vocabulary.txt"] = repo["vocabulary.txt"][:-1] + b"!"
    with pytest.raises(ModelIntegrity, match="vocabulary.txt"):
        ensure_asset("whisper-tiny.en-ct2", online, progress=False, catalog=catalog)
    assert not (root / "vocabulary.txt").exists()
