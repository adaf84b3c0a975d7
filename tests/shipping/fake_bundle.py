"""A fake ``atelico bundle`` output: the fixed layout, with the real sidecar behind it.

    python tests/shipping/fake_bundle.py DEST_FOLDER   # prints the executable's path

``DEST_FOLDER/atelico-sidecar/`` gets ``atelico-sidecar`` (a shell script that execs this
repository's Python with ``-m atelico "$@"``, so it takes the ``atelico`` CLI's arguments as the
real bundled executable does), ``manifest.json``, ``models/`` and ``_internal/``. The add-on tests
copy it the way each engine's export step does and launch it through each add-on's lookup.
"""

from __future__ import annotations

import json
import os
import stat
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
FOLDER = "atelico-sidecar"
EXECUTABLE = "atelico-sidecar"


def make_fake_bundle(dest: Path, python: str | None = None) -> Path:
    """Create ``dest/atelico-sidecar/`` and return the path of its executable."""
    python = python or os.environ.get("ATELICO_PYTHON") or str(REPO / ".venv" / "bin" / "python")
    folder = dest / FOLDER
    (folder / "models").mkdir(parents=True, exist_ok=True)
    (folder / "_internal").mkdir(exist_ok=True)
    (folder / "_internal" / "README").write_text("stands in for the frozen interpreter\n")
    exe = folder / EXECUTABLE
    exe.write_text(
        "#!/bin/sh\n"
        "# fake bundled sidecar: the real one from this checkout behind a bundle-shaped executable\n"
        f"PYTHONPATH='{REPO / 'sidecar'}' exec '{python}' -m atelico \"$@\"\n"
    )
    exe.chmod(exe.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    manifest = {"name": "atelico-sidecar", "version": "0.0.0-fake", "platform": sys.platform,
                "executable": EXECUTABLE, "models": [], "bytes_total": 0}
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=2))
    return exe


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit("usage: fake_bundle.py DEST_FOLDER")
    print(make_fake_bundle(Path(sys.argv[1]).resolve()))
