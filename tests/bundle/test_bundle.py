"""``atelico bundle``: the built folder runs from a fresh copy in a clean environment.

The build (PyInstaller, ~4 min on 2 cores) happens once per session into a temp folder; a
clean CI clone therefore always builds fresh. Set ATELICO_BUNDLE_DIR to test a bundle built
beforehand (e.g. ``atelico bundle --out build/atelico-sidecar``).
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from atelico import bundle, bundle_trim
from atelico.config import load_settings

ROOT = Path(__file__).resolve().parents[2]
EXERCISE = Path(__file__).resolve().parent / "exercise.py"


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


def _netns() -> tuple[list[str], str]:
    """The command prefix that runs a child in its own network namespace (only a loopback),
    and why not when this machine cannot (then the test is skipped, not weakened)."""
    unshare = shutil.which("unshare")
    if unshare is None:
        return [], "unshare (util-linux) is not installed"
    probe = subprocess.run([unshare, "-rn", "true"], capture_output=True, text=True)
    if probe.returncode != 0:
        return [], f"unshare -rn is refused here (user namespaces off?): {probe.stderr.strip()}"
    return [unshare, "-rn"], ""


def _exercise(bundle_dir: Path, home: Path) -> None:
    """Start the bundle with env -i and an empty HOME, inside a network namespace that has only
    a loopback (the client runs in it too), and run one request per model; the stamps land in
    the user data folder."""
    prefix, why = _netns()
    if not prefix:
        pytest.skip(f"network namespace unavailable: {why}")
    proc = subprocess.run([*prefix, sys.executable, str(EXERCISE),
                           str(bundle_dir / bundle.executable_name()), str(home), "--netns-check"],
                          capture_output=True, text=True, timeout=600,
                          env={**os.environ, "PYTHONPATH": ""})
    assert proc.stdout.strip(), proc.stderr[-3000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["network"] == "unreachable", "the test must run with the network off"
    assert out["ready"] == "ready", out
    assert out["ok"], out
    assert "hello" in out["transcript"].lower()
    assert set(out["stamps"]) >= {"kokoro-82m-onnx-int8", "whisper-base-int8-ct2"}


@pytest.mark.slow
def test_bundle_runs_from_a_fresh_copy_and_read_only(built_bundle, tmp_path):
    manifest = json.loads((built_bundle / "manifest.json").read_text())
    assert manifest["executable"] == bundle.executable_name()
    shipped = {m["id"] for m in manifest["models"]}
    assert shipped >= {"kokoro-82m-onnx-int8", "whisper-base-int8-ct2"}
    assert "whisper-base-ct2" not in shipped and not (built_bundle / "models" / "whisper-base-ct2").exists()
    for heavy in ("torch", "scipy", "sudachidict_core"):
        assert not list(built_bundle.glob(f"_internal/{heavy}")), f"{heavy} must not be in the default bundle"
    assert not list(built_bundle.glob("_internal/pocketsphinx/model/en-us/en-us.lm.bin"))
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


def test_trim_drops_unused_data_and_keeps_kokoros_languages(tmp_path):
    internal = tmp_path / "_internal"
    for rel in ("pocketsphinx/model/en-us/en-us.lm.bin", "pocketsphinx/model/en-us/en-us-phone.lm.bin",
                "espeakng_loader/espeak-ng-data/ru_dict", "espeakng_loader/espeak-ng-data/en_dict",
                "espeakng_loader/espeak-ng-data/phontab", "babel/locale-data/de.dat",
                "babel/locale-data/en.dat", "babel/locale-data/root.dat"):
        (internal / rel).parent.mkdir(parents=True, exist_ok=True)
        (internal / rel).write_bytes(b"x" * 10)
    assert bundle_trim.drop_unused_data(internal) == 30
    left = {p.relative_to(internal).as_posix() for p in internal.rglob("*") if p.is_file()}
    assert left == {"pocketsphinx/model/en-us/en-us-phone.lm.bin", "espeakng_loader/espeak-ng-data/en_dict",
                    "espeakng_loader/espeak-ng-data/phontab", "babel/locale-data/en.dat",
                    "babel/locale-data/root.dat"}


@pytest.mark.skipif(not (shutil.which("strip") and shutil.which("readelf")), reason="needs binutils")
def test_strip_removes_symbols_but_never_touches_auditwheel_libs(tmp_path):
    import importlib.util

    spec = importlib.util.find_spec("spacy.matcher.levenshtein")  # small, ships with DWARF
    if spec is None or spec.origin is None:
        pytest.skip("spaCy not installed")
    src = Path(spec.origin)
    if not bundle_trim.has_debug_info(src):
        pytest.skip("this spaCy wheel ships stripped")
    internal = tmp_path / "_internal"
    (internal / "pkg").mkdir(parents=True)
    (internal / "pkg.libs").mkdir()
    shutil.copy2(src, internal / "pkg" / "ext.so")
    shutil.copy2(src, internal / "pkg.libs" / "libvendored.so")
    saved = bundle_trim.strip_symbols(internal)
    assert saved > 0 and not bundle_trim.has_debug_info(internal / "pkg" / "ext.so")
    assert ".symtab" not in bundle_trim._sections(internal / "pkg" / "ext.so")
    assert bundle_trim.has_debug_info(internal / "pkg.libs" / "libvendored.so")
    assert (internal / "pkg.libs" / "libvendored.so").stat().st_size == src.stat().st_size


def _cc(args: list[str], cwd: Path) -> None:
    subprocess.run([shutil.which("cc") or "cc", *args], cwd=cwd, check=True, capture_output=True)


@pytest.mark.skipif(not (sys.platform.startswith("linux") and shutil.which("cc") and shutil.which("nm")
                         and shutil.which("readelf")), reason="needs a C compiler and binutils")
def test_stubbed_library_keeps_its_users_loadable_and_drops_what_only_it_needed(tmp_path, monkeypatch):
    """A video-encoder-like library (versioned function + data object, with a dependency of
    its own) is replaced by a stub: its user still loads and gets 0 from the function, the
    dependency is gone, the real audio library stays."""
    src = tmp_path / "src"
    src.mkdir()
    libs = tmp_path / "_internal" / "av.libs"
    libs.mkdir(parents=True)
    (src / "dep.c").write_text("int dep_value(void) { return 7; }\n")
    _cc(["-shared", "-fPIC", "-o", str(libs / "libdep-0a1b2c3d.so.1"), "dep.c",
         "-Wl,-soname,libdep-0a1b2c3d.so.1"], src)
    (src / "enc.c").write_text("int dep_value(void);\nint enc_table[4] = {1, 2, 3, 4};\n"
                               "int enc_open(void) { return 40 + dep_value(); }\n")
    (src / "enc.map").write_text("ENC_1 { global: enc_open; enc_table; local: *; };\n")
    _cc(["-shared", "-fPIC", "-o", str(libs / "libenc-11223344.so.2"), "enc.c",
         "-Wl,-soname,libenc-11223344.so.2", "-Wl,--version-script=enc.map",
         f"-L{libs}", "-l:libdep-0a1b2c3d.so.1", "-Wl,-rpath,$ORIGIN"], src)
    (src / "audio.c").write_text("int audio_ok(void) { return 1; }\n")
    _cc(["-shared", "-fPIC", "-o", str(libs / "libaudio-55667788.so.3"), "audio.c",
         "-Wl,-soname,libaudio-55667788.so.3"], src)
    (src / "user.c").write_text("extern int enc_table[4];\nint enc_open(void);\nint audio_ok(void);\n"
                                "int call_enc(void) { return enc_open() + enc_table[0]; }\n"
                                "int call_audio(void) { return audio_ok(); }\n")
    user = tmp_path / "_internal" / "libuser.so"
    _cc(["-shared", "-fPIC", "-o", str(user), "user.c", f"-L{libs}", "-l:libenc-11223344.so.2",
         "-l:libaudio-55667788.so.3", "-Wl,-rpath,$ORIGIN/av.libs"], src)
    def calls() -> list[str]:  # in a child: this process must not map libraries we replace
        out = subprocess.run([sys.executable, "-c", "import ctypes, sys; u = ctypes.CDLL(sys.argv[1]); "
                              "print(u.call_enc(), u.call_audio())", str(user)],
                             capture_output=True, text=True)
        assert out.returncode == 0, out.stderr
        return out.stdout.split()

    assert calls() == ["48", "1"]  # the real library, before
    monkeypatch.setattr(bundle_trim, "STUBBED_LIBRARIES", ("libenc",))
    saved = bundle_trim.stub_unused_libraries(tmp_path / "_internal")
    assert saved > 0
    assert sorted(p.name for p in libs.iterdir()) == ["libaudio-55667788.so.3", "libenc-11223344.so.2"]
    assert "libdep" not in " ".join(bundle_trim._dynamic(libs / "libenc-11223344.so.2")[0])
    assert calls() == ["0", "1"]  # stub: 0 and a zeroed table; the audio library is real
