"""Shared pieces of the client conformance drivers: the scenarios, the scripted server process,
and the one check every client's result must pass.

A runner (one per client) plays every scenario's ``client`` steps against the port the
scripted server gives that scenario and returns, per scenario, a *result*::

    {"connects": ["ok" | "<code>", ...],          # one per connect/reconnect step
     "completions": [{"request": "r1", "kind": "done|error|cancelled", "code": "<code or ''>",
                      "chunks": <non-terminal messages delivered before it>}, ...],
     "errors": ["<runner problems, e.g. a wait that timed out>"]}
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
SCENARIO_DIR = REPO / "tests" / "data" / "conformance"
SERVER = HERE / "scripted_server.py"
# How long a runner waits for one observable state (a chunk count, a completion) before it
# reports the wait as failed; the whole scenario set must also finish within a bounded time.
WAIT_TIMEOUT_MS = 8000
# A scenario that runs longer than this is reported as hung (and the next one starts).
SCENARIO_TIMEOUT_MS = 30000


def batch_timeout_s() -> float:
    """How long one runtime launch playing every scenario may take (start-up included)."""
    return 60.0 + len(scenario_files()) * SCENARIO_TIMEOUT_MS / 1000.0


def scenario_files() -> list[Path]:
    return sorted(SCENARIO_DIR.glob("*.json"))


def scenarios() -> list[dict[str, Any]]:
    return [json.loads(p.read_text()) for p in scenario_files()]


def scenario_names() -> list[str]:
    return [p.stem for p in scenario_files()]


def need(what: str, found: object) -> Any:
    """A tool a runner needs: without it, fail in CI (CI=true) and skip elsewhere."""
    if found:
        return found
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{what} is missing")
    pytest.skip(f"{what} is missing (tests/install_system_deps.sh installs it)")


class ScriptedServer:
    """``scripted_server.py`` hosting every scenario in one subprocess (fresh state per client)."""

    def __init__(self) -> None:
        env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(REPO / "sidecar"), str(REPO)]))
        self.proc = subprocess.Popen(
            [sys.executable, str(SERVER), *map(str, scenario_files())], cwd=REPO, env=env,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1)
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            self.proc.wait(10)
            raise RuntimeError(f"scripted_server.py exited with {self.proc.returncode} before listening")
        self.ports: dict[str, int] = json.loads(line)["ports"]

    def report(self, name: str) -> dict[str, Any]:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(f"report {name}\n")
        self.proc.stdin.flush()
        return json.loads(self.proc.stdout.readline())

    def reports(self) -> dict[str, dict[str, Any]]:
        return {name: self.report(name) for name in self.ports}

    def stop(self) -> None:
        if self.proc.poll() is None:
            try:
                assert self.proc.stdin is not None
                self.proc.stdin.write("quit\n")
                self.proc.stdin.flush()
                self.proc.wait(10)
            except (OSError, subprocess.TimeoutExpired):
                self.proc.kill()
                self.proc.wait(10)


def run_with_server(runner: Any) -> dict[str, dict[str, Any]]:
    """Start the scripted server, let ``runner(ports)`` play every scenario, and return per
    scenario ``{"result": <runner result>, "server": <server report>}``."""
    server = ScriptedServer()
    try:
        results = runner(server.ports)
        reports = server.reports()
    finally:
        server.stop()
    return {name: {"result": results.get(name), "server": reports[name]} for name in server.ports}


def play_batch(argv: list[str], ports: dict[str, int], what: str) -> dict[str, Any]:
    """Run a runner program ``argv + [SETUP.json]`` that plays every scenario in one launch
    (the setup names the scenarios, their ports and the timeouts) and prints its results as
    the last line of stdout."""
    with tempfile.TemporaryDirectory(prefix="atelico-conformance-") as tmp:
        setup = Path(tmp) / "setup.json"
        setup.write_text(json.dumps({"scenarios": scenarios(), "ports": ports,
                                     "wait_timeout_ms": WAIT_TIMEOUT_MS,
                                     "scenario_timeout_ms": SCENARIO_TIMEOUT_MS}))
        done = subprocess.run([*argv, str(setup)], capture_output=True, text=True, timeout=batch_timeout_s())
    if done.returncode != 0 or not done.stdout.strip():
        raise AssertionError(f"{what} exited {done.returncode}:\n{done.stderr[-4000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def problems(scenario: dict[str, Any], outcome: dict[str, Any]) -> list[str]:
    """Everything in which a client's run of ``scenario`` differs from what it must produce."""
    result = outcome["result"]
    if result is None:
        return ["the runner reported nothing for this scenario"]
    out = [f"runner: {e}" for e in result.get("errors", [])]
    out += [f"server: {e}" for e in outcome["server"]["errors"]]
    wanted_connects = [s["expect"] for s in scenario["client"] if s["do"] in ("connect", "reconnect")]
    if result.get("connects", []) != wanted_connects:
        out.append(f"connects: got {result.get('connects')}, want {wanted_connects}")
    by_request: dict[str, list[dict[str, Any]]] = {}
    for c in result.get("completions", []):
        by_request.setdefault(c["request"], []).append(c)
    for name, want in scenario["expect"].items():
        got = by_request.pop(name, [])
        if len(got) != 1:
            out.append(f"{name}: {len(got)} completions, want exactly 1: {got}")
            continue
        c = got[0]
        shape = (c["kind"], c.get("code") or "", int(c["chunks"]))
        wanted = (want["kind"], want.get("code", ""), int(want["chunks"]))
        if shape != wanted:
            out.append(f"{name}: got (kind, code, chunks) = {shape}, want {wanted}")
    for name, extra in by_request.items():
        out.append(f"{name}: completions for a request the scenario does not expect: {extra}")
    return out
