"""The fake bundle the add-on shipping tests use behaves as the launch contract says for a
bundled executable: started from a fake exported-game folder with the spec's arguments minus
``-m atelico``, the token only in the environment, stdin a held pipe: it prints the log and ready
lines, answers /health/ready, and exits when its stdin closes (the game is gone)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

from tests.launch.harness import SPEC, TOKEN, get, pid_gone, wait_until
from tests.shipping.fake_bundle import EXECUTABLE, FOLDER, make_fake_bundle


def test_fake_bundle_layout_and_launch_from_a_fake_exported_game(tmp_path: Path):
    exe = make_fake_bundle(tmp_path / "build")
    manifest = json.loads((exe.parent / "manifest.json").read_text())
    assert manifest["name"] == FOLDER and manifest["executable"] == EXECUTABLE
    assert (exe.parent / "models").is_dir() and (exe.parent / "_internal").is_dir()

    game = tmp_path / "export"
    game.mkdir()
    (game / "demo.x86_64").write_text("game")
    shutil.copytree(exe.parent, game / FOLDER, copy_function=shutil.copy2)
    bundled = game / FOLDER / EXECUTABLE
    assert os.access(bundled, os.X_OK), "the executable bit survives the copy"

    values = {"port": "0", "parent_pid": str(os.getpid()), "preload": ""}
    args = [str(bundled), *(a.format(**values) for a in SPEC["serve_args"])]
    assert "--token" not in args
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", SPEC["env"]["token"])}
    env.update({SPEC["env"]["token"]: TOKEN, SPEC["env"]["log_file"]: str(tmp_path / "logs" / "s.log")})
    proc = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, env=env, cwd=tmp_path, text=True)
    try:
        first = proc.stdout.readline().strip()
        assert first == SPEC["stdout"]["log_line_prefix"] + str(tmp_path / "logs" / "s.log"), first
        ready = proc.stdout.readline().strip()
        assert ready.startswith(SPEC["stdout"]["ready_line_prefix"]), ready
        port = int(ready.split("=", 1)[1])
        status, body = get(port, SPEC["ready"]["path"])
        assert (status, body["status"]) == (200, "ready")
        assert get(port, "/v1/models")[0] == 200, "the token from the environment is the sidecar's"
        assert get(port, "/v1/models", token="wrong")[0] == 401
        assert TOKEN not in Path(f"/proc/{proc.pid}/cmdline").read_text()
        proc.stdin.close()  # the game is gone
        wait_until(lambda: proc.poll() is not None, SPEC["exit_after_launcher_death_s"] + 3,
                   "the bundle exits when its stdin closes")
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=10)
    assert pid_gone(proc.pid)
