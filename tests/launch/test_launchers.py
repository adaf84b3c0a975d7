"""Launcher conformance: the real sidecar, spawned exactly as each add-on spawns it (docs/launch.md).

Each launcher style starts the sidecar from ``docs/launch_spec.json`` through ``launcher.py``, an
engine stand-in that is then SIGKILLed (as the editor's Stop does): the sidecar must have printed
its log and ready lines, served ``/health/ready``, stayed responsive under a flood of log lines
that nobody reads from stderr, and exit within a few seconds of its launcher, port freed.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.launch.harness import (REPO, SPEC, TOKEN, cleanup, flood, get, kill, launch, pid_gone,
                                  port_closed, wait_until)

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="the engine stand-ins read /proc (Linux)")
FLOOD_BYTES = 96 * 1024  # well past a 64 KB pipe buffer
EXIT_S = SPEC["exit_after_launcher_death_s"] + 2.0  # the contract's bound plus a poll's slack


def _assert_follows_launcher(proc: subprocess.Popen, report: dict) -> float:
    kill(proc)
    took = wait_until(lambda: pid_gone(report["sidecar_pid"]), EXIT_S, "sidecar exit after the launcher died")
    wait_until(lambda: port_closed(report["port"]), 1.0, "port freed")
    return took


@pytest.mark.parametrize("style", ["godot", "godot-held", "unity", "unreal"])
def test_launcher_style_serves_survives_a_log_flood_and_dies_with_its_launcher(style, tmp_path):
    """Ready line + /health/ready, >64 KB of unread stderr without a hang, exit after SIGKILL."""
    proc, report = launch(style, tmp_path)
    try:
        log_path = Path(report["log_path"])
        assert log_path == tmp_path / "sidecar.log" and log_path.is_absolute()
        port = report["port"]
        status, body = get(port, SPEC["ready"]["path"])
        assert status == 200 and body["status"] == SPEC["ready"]["ok_status"], body
        # the token came through the environment: required, and accepted
        assert get(port, "/v1/models", token=None)[0] == 401
        assert get(port, "/v1/models")[0] == 200
        sent = flood(port, log_path, FLOOD_BYTES)
        assert sent > 100
        assert get(port, "/v1/models", timeout_s=5)[0] == 200  # still responsive after the flood
        # the token is in neither the command line other users can read nor the log file
        cmdline = Path(f"/proc/{report['sidecar_pid']}/cmdline").read_bytes()
        assert TOKEN.encode() not in cmdline and b"--parent-pid" in cmdline
        assert TOKEN not in log_path.read_text()
        took = _assert_follows_launcher(proc, report)
        print(f"{style}: {sent} bad requests flooded the log; exit {took:.2f} s after SIGKILL")
    finally:
        kill(proc)
        cleanup(report["sidecar_pid"], report["intermediate_pid"])


def test_parent_pid_alone_notices_the_launchers_death_through_a_wrapper(tmp_path):
    """Unity on Windows starts Python through cmd.exe: Python's parent (the wrapper) lives on, and
    stdin is no pipe here, so only the --parent-pid check can see the editor die."""
    proc, report = launch("unity", tmp_path, stdin="devnull")
    try:
        assert report["intermediate_pid"] and report["intermediate_pid"] != report["sidecar_pid"]
        _assert_follows_launcher(proc, report)
    finally:
        kill(proc)
        cleanup(report["sidecar_pid"], report["intermediate_pid"])


def _serve(tmp_path: Path, *extra: str, stdin=subprocess.PIPE, preexec=None,
           env: dict | None = None) -> subprocess.Popen:
    base = {**os.environ, "PYTHONPATH": f"{REPO / 'sidecar'}{os.pathsep}{REPO}", "PYTHONUNBUFFERED": "1",
            SPEC["env"]["log_file"]: str(tmp_path / "sidecar.log"), SPEC["env"]["token"]: TOKEN}
    values = {"port": "0", "parent_pid": str(os.getpid()), "preload": ""}
    argv = [sys.executable, *SPEC["module"], *(a.format(**values) for a in SPEC["serve_args"]), *extra]
    return subprocess.Popen(argv, stdin=stdin, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            env={**base, **(env or {})}, preexec_fn=preexec)


def _ready_port(proc: subprocess.Popen) -> tuple[str, int]:
    log_line = proc.stdout.readline().decode().strip()
    ready_line = proc.stdout.readline().decode().strip()
    assert log_line.startswith(SPEC["stdout"]["log_line_prefix"]), log_line
    assert ready_line.startswith(SPEC["stdout"]["ready_line_prefix"]), ready_line
    return log_line.split("=", 1)[1], int(ready_line.split("=", 1)[1])


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.kill()
    proc.wait(timeout=10)


def test_stdin_eof_alone_stops_the_sidecar(tmp_path):
    """--parent-pid is this (living) test process: closing the stdin pipe is the only signal."""
    proc = _serve(tmp_path)
    try:
        _, port = _ready_port(proc)
        assert get(port, "/health")[0] == 200
        proc.stdin.close()
        wait_until(lambda: proc.poll() is not None, EXIT_S, "exit after stdin EOF")
        assert proc.returncode == 0
        assert port_closed(port)
        assert "stdin reached EOF" in (tmp_path / "sidecar.log").read_text()
    finally:
        _stop(proc)


def test_a_bad_preload_id_is_a_final_error_at_once(tmp_path):
    """/health/ready answers 503 status=error with error.code at the first poll, not 'loading'."""
    proc = _serve(tmp_path, "--preload", "no-such-model")
    try:
        _, port = _ready_port(proc)
        first = time.monotonic()
        status, body = get(port, SPEC["ready"]["path"])
        while body.get("status") == SPEC["ready"]["waiting_status"] and time.monotonic() - first < 2.0:
            time.sleep(0.05)  # the preload task may not have run its first step yet
            status, body = get(port, SPEC["ready"]["path"])
        assert status == 503 and body["status"] == SPEC["ready"]["final_status"], body
        assert body["error"]["code"] == "model.unknown"
        assert "no-such-model" in body["error"]["message"]
    finally:
        _stop(proc)


def test_no_stderr_at_all_still_serves(tmp_path):
    """fd 2 closed before exec (a launcher that gives no stderr): the sidecar starts and logs."""
    proc = _serve(tmp_path, preexec=lambda: os.close(2))
    try:
        log_path, port = _ready_port(proc)
        assert get(port, "/v1/models")[0] == 200
        flood(port, Path(log_path), 8 * 1024)
        assert get(port, "/health")[0] == 200
    finally:
        _stop(proc)


def test_default_log_file_is_in_the_user_data_dir(tmp_path):
    """Without --log-file / ATELICO_LOG_FILE: $XDG_DATA_HOME/atelico/logs/sidecar.log."""
    env = {"XDG_DATA_HOME": str(tmp_path / "data"), SPEC["env"]["log_file"]: ""}
    proc = _serve(tmp_path, env=env)
    try:
        log_path, port = _ready_port(proc)
        assert Path(log_path) == tmp_path / "data" / "atelico" / "logs" / "sidecar.log"
        wait_until(lambda: "listening on" in Path(log_path).read_text(), 5.0, "log file written")
    finally:
        _stop(proc)
