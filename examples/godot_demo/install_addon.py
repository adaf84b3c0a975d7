"""Copy the Atelico Godot add-on into a Godot project (default: this demo).

    python install_addon.py [PROJECT_DIR]

Copies ``addons/atelico`` of this repository to ``PROJECT_DIR/addons/atelico``, replacing an
older copy. Plain files only (no symlink), so the project works on Windows and when it is copied
or zipped elsewhere. Run it again after updating the repository.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

ADDON = Path(__file__).resolve().parents[2] / "addons" / "atelico"


def install(project: Path) -> Path:
    if not (project / "project.godot").is_file():
        raise SystemExit(f"{project} is not a Godot project (no project.godot)")
    target = project / "addons" / "atelico"
    if target.is_symlink():
        target.unlink()
    elif target.exists():
        shutil.rmtree(target)
    shutil.copytree(ADDON, target, ignore=shutil.ignore_patterns("*.uid", "__pycache__"))
    return target


if __name__ == "__main__":
    where = install(Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).resolve().parent))
    print(f"copied {ADDON} -> {where}")
