"""The Godot demo works when copied anywhere: no symlink, no repository-relative Python path, and
install_addon.py puts a plain copy of the add-on into any Godot project."""

from __future__ import annotations

import filecmp
import shutil
import subprocess
import sys

from tests.launch.harness import REPO

DEMO = REPO / "examples" / "godot_demo"


def test_demo_holds_no_symlink_and_no_repository_relative_python():
    tracked = subprocess.run(["git", "ls-files", "-s", "examples/godot_demo"], cwd=REPO, capture_output=True,
                             text=True, check=True).stdout.splitlines()
    assert tracked and not [line for line in tracked if line.startswith("120000")]  # git's symlink mode
    assert "python_path" not in (DEMO / "project.godot").read_text()


def test_install_addon_copies_plain_files_into_a_copied_demo(tmp_path):
    copy = tmp_path / "somewhere" / "demo"
    shutil.copytree(DEMO, copy, ignore=shutil.ignore_patterns("addons", ".godot"))
    (copy / "addons").mkdir()
    (copy / "addons" / "atelico").symlink_to(REPO / "addons" / "atelico")  # an old symlinked layout
    res = subprocess.run([sys.executable, str(DEMO / "install_addon.py"), str(copy)], capture_output=True,
                         text=True, timeout=60)
    assert res.returncode == 0, res.stderr
    target = copy / "addons" / "atelico"
    assert not target.is_symlink() and (target / "plugin.cfg").is_file()
    cmp = filecmp.dircmp(REPO / "addons" / "atelico", target)
    assert not cmp.left_only and not cmp.diff_files
    assert (target / "runtime" / "sidecar.gd").read_bytes() == \
        (REPO / "addons" / "atelico" / "runtime" / "sidecar.gd").read_bytes()
    refused = subprocess.run([sys.executable, str(DEMO / "install_addon.py"), str(tmp_path)],
                             capture_output=True, text=True, timeout=60)
    assert refused.returncode != 0 and "not a Godot project" in refused.stderr
