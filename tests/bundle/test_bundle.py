"""``atelico bundle``: the built folder runs from a fresh copy in a clean environment.

The build (PyInstaller, ~4 min on 2 cores) happens once per session into a temp folder; a
clean CI clone therefore always builds fresh. Set ATELICO_BUNDLE_DIR to test a bundle built
beforehand (e.g. ``atelico bundle --out build/atelico-sidecar``).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from atelico import bundle
from atelico.config import load_settings

ROOT = Path(__file__).resolve().parents[2]


def test_missing_model_names_the_pull_command(tmp_path):
    settings = load_settings({"models": {"cache_dir": tmp_path}})
    with pytest.raises(bundle.BundleError) as err:
        bundle.plan(["kokoro", "whisper-base"], settings)
    assert err.value.code == "bundle.model_missing"
    assert "atelico models pull kokoro" in err.value.message
    assert "atelico models pull whisper-base" in err.value.message


def test_default_build_excludes_torch_and_pocket():
    plan = bundle.Plan(models=("kokoro",), assets=(), pocket=False)
    args = bundle.pyinstaller_args(plan, Path("e.py"), Path("d"), Path("w"))
    excluded = {args[i + 1] for i, a in enumerate(args) if a == "--exclude-module"}
    assert {"torch", "pocket_tts"} <= excluded
    with_pocket = bundle.pyinstaller_args(bundle.Plan(("pocket",), (), True), Path("e.py"),
                                          Path("d"), Path("w"))
    assert "torch" not in {with_pocket[i + 1] for i, a in enumerate(with_pocket)
                           if a == "--exclude-module"}


@pytest.fixture(scope="session")
def built_bundle(tmp_path_factory) -> Path:
    given = os.environ.get("ATELICO_BUNDLE_DIR")
    if given:
        return Path(given)
    settings = load_settings()
    try:
        bundle.plan(list(bundle.DEFAULT_MODELS), settings)
        bundle.check_tools(bundle.plan(list(bundle.DEFAULT_MODELS), settings))
    except bundle.BundleError as exc:
        pytest.skip(f"cannot build the bundle here: {exc.message}")
    out = tmp_path_factory.mktemp("bundle") / "atelico-sidecar"
    bundle.build(list(bundle.DEFAULT_MODELS), out, settings, progress=False,
                 work_dir=tmp_path_factory.mktemp("bundle-work"))
    return out


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _exercise(bundle_dir: Path, home: Path) -> None:
    """Start the bundle with env -i and an empty HOME (offline by default when frozen; a
    network namespace would also hide the port from this test); run one request
    per model; the stamps land in the user data folder."""
    home.mkdir()
    port = _free_port()
    cmd = ["env", "-i", "PATH=/usr/bin:/bin", f"HOME={home}",
           str(bundle_dir / bundle.executable_name()), "serve", "--host", "127.0.0.1",
           "--port", str(port), "--preload", ""]
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        ready = None
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                ready = httpx.get(f"{base}/health/ready", timeout=2)
                if ready.status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        assert ready is not None and ready.status_code == 200, proc.stderr.read() if proc.poll() else ""
        assert ready.json()["status"] == "ready"
        speech = httpx.post(f"{base}/v1/audio/speech", timeout=120, json={
            "model": "kokoro", "input": "Hello there, traveller.", "voice": "af_heart",
            "response_format": "wav"})
        assert speech.status_code == 200 and speech.content[:4] == b"RIFF"
        stt = httpx.post(f"{base}/v1/audio/transcriptions", timeout=120,
                         files={"file": ("s.wav", speech.content)}, data={"model": "whisper-base"})
        assert stt.status_code == 200, stt.text
        assert "hello" in stt.json()["text"].lower()
        face = httpx.post(f"{base}/v1/audio/face", timeout=120, files={"file": ("s.wav", speech.content)})
        assert face.status_code == 200, face.text
        stamps = list((home / ".local/share/atelico/verified").glob("*/*.json"))
        assert {p.stem for p in stamps} >= {"kokoro-82m-onnx-int8", "whisper-base-ct2"}
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.mark.slow
def test_bundle_runs_from_a_fresh_copy_and_read_only(built_bundle, tmp_path):
    manifest = json.loads((built_bundle / "manifest.json").read_text())
    assert manifest["executable"] == bundle.executable_name()
    assert {m["id"] for m in manifest["models"]} >= {"kokoro-82m-onnx-int8", "whisper-base-ct2"}
    assert not list(built_bundle.glob("_internal/torch")), "torch must not be in the default bundle"
    copy = tmp_path / "copy"
    shutil.copytree(built_bundle, copy, symlinks=True)
    _exercise(copy, tmp_path / "home1")
    ro = tmp_path / "ro"
    shutil.copytree(built_bundle, ro, symlinks=True)
    for p in [ro, *ro.rglob("*")]:
        if not p.is_symlink():
            p.chmod(p.stat().st_mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))
    try:
        _exercise(ro, tmp_path / "home2")
    finally:
        for p in [ro, *ro.rglob("*")]:
            if not p.is_symlink():
                p.chmod(p.stat().st_mode | stat.S_IWUSR)


def test_bundle_stamp_goes_to_the_user_data_dir_not_the_bundle(tmp_path, monkeypatch):
    from atelico import config
    from atelico.models import assets

    shipped = tmp_path / "bundle" / "models"
    (shipped / "demo").mkdir(parents=True)
    (shipped / "demo" / "w.bin").write_bytes(b"weights")
    user = tmp_path / "user"
    monkeypatch.setattr(config, "bundle_models_dir", lambda: shipped)
    monkeypatch.setattr(config, "default_cache_dir", lambda: user)
    assets._save_stamp(shipped / "demo", {"w.bin": {"sha256": "x"}})
    assert not (shipped / "demo" / assets.STAMP_NAME).exists()
    stamps = list((user / "verified").glob("*/demo.json"))
    assert len(stamps) == 1
    assert assets._read_stamp(shipped / "demo") == {"w.bin": {"sha256": "x"}}
    # an ordinary cache keeps its stamp beside the files
    other = tmp_path / "cache" / "models" / "demo"
    assert assets._stamp_file(other) == other / assets.STAMP_NAME
