"""Bundle: what ``atelico bundle`` ships against the virtualenv it is built from.

Size on disk (whole folder, without ``models/``, the models alone) next to the virtualenv's
``site-packages`` plus the same models in the asset cache; spawn to ``ATELICO_READY`` and to
``/health/ready`` from a fresh process; VmRSS 1 s after one speech, one transcription and one
face request, for the bundle (``env -i``, empty ``HOME``) and for ``python -m atelico``.
The bundle is ``$ATELICO_BUNDLE_DIR`` when set, else built into a temp folder (~2-4 min).
Runs its own processes: no shared sidecar.
"""

from __future__ import annotations

import os
import stat
import sys
import sysconfig
import tempfile
from pathlib import Path
from typing import Any

from bench.common import ROOT
from bench.context import Ctx

MIB = 1024 * 1024


def du_mib(path: Path) -> float:
    """Disk usage in MiB (allocated blocks, as ``du``), symlinks not followed."""
    total = 0
    for p in [path, *path.rglob("*")]:
        st = p.lstat()
        if not stat.S_ISLNK(st.st_mode):
            total += st.st_blocks * 512
    return total / MIB


def _bundle_dir(tmp: Path) -> Path:
    given = os.environ.get("ATELICO_BUNDLE_DIR")
    if given:
        return Path(given)
    from atelico import bundle
    from atelico.config import load_settings

    out = tmp / "atelico-sidecar"
    bundle.build(list(bundle.DEFAULT_MODELS), out, load_settings(), progress=False, work_dir=tmp)
    return out


def _venv_launcher(tmp: Path) -> Path:
    """A shell script that runs this checkout's sidecar with this Python under ``env -i``."""
    from atelico.config import load_settings

    script = tmp / "venv-sidecar"
    cache = load_settings().models.cache_dir
    script.write_text("#!/bin/sh\n"
                      f"export PYTHONPATH='{ROOT / 'sidecar'}' ATELICO_MODELS__CACHE_DIR='{cache}'\n"
                      f"exec '{sys.executable}' -m atelico \"$@\" --offline\n")
    script.chmod(0o755)
    return script


def _run(exe: Path, home: Path) -> dict[str, Any]:
    from tests.bundle.exercise import exercise

    out = exercise(exe, home)
    return {k: out.get(k) for k in ("ok", "error", "spawn_to_listen_s", "spawn_to_ready_s",
                                    "rss_mb_ready", "rss_mb_after_speech",
                                    "rss_mb_after_transcription", "idle_rss_mb")}


async def run(ctx: Ctx) -> dict[str, Any]:
    import json

    with tempfile.TemporaryDirectory(prefix="bench-bundle-") as tmp_s:
        tmp = Path(tmp_s)
        ctx.log("bundle: building (or using $ATELICO_BUNDLE_DIR)")
        bdir = _bundle_dir(tmp)
        manifest = json.loads((bdir / "manifest.json").read_text())
        models_mib = du_mib(bdir / "models")
        total_mib = du_mib(bdir)
        site = Path(sysconfig.get_paths()["purelib"])
        from atelico.config import load_settings

        cache_models = load_settings().models.cache_dir / "models"
        venv_models = sum(du_mib(cache_models / m["id"]) for m in manifest["models"]
                          if (cache_models / m["id"]).is_dir())
        ctx.log("bundle: cold start + one request per model (bundle, then virtualenv)")
        bundled = _run(bdir / manifest["executable"], tmp / "home-bundle")
        venv = _run(_venv_launcher(tmp), tmp / "home-venv")
    return {"models": manifest["model_ids"],
            "size_mib": {"bundle_total": total_mib, "bundle_without_models": total_mib - models_mib,
                         "bundle_models": models_mib, "venv_site_packages": du_mib(site),
                         "venv_models": venv_models},
            "bundle": bundled, "venv": venv,
            "targets": {"bundle_total_mb_max": 600, "ready_s_max": 5, "idle_rss_mb_max": 700}}
