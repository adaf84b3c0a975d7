"""An engine stand-in that launches the sidecar exactly as one add-on does, then waits to be killed.

    python tests/launch/launcher.py STYLE REPORT_JSON [--preload IDS] [--stdin devnull]

Styles (``docs/launch_spec.json`` gives the arguments and environment):

- ``godot``: ``OS.execute_with_pipe``: stdin and stdout are pipes this process holds (stdout is
  read, as ``sidecar.gd`` does each frame); the separate stderr pipe is freed at once (its read
  end closed, so every stderr write of the sidecar meets EPIPE).
- ``godot-held``: the same, but the stderr pipe is kept and never read (fills after ~64 KB).
- ``unity``: the Windows path: an intermediate shell (``cmd.exe`` there, ``/bin/sh -c`` here, not
  ``exec``) runs Python with stdout and stderr appended to a file; stdin redirected and held;
  ``--parent-pid`` is this process, not the shell.
- ``unreal``: ``FPlatformProcess::CreateProc`` with one pipe for stdout and stderr, read only
  occasionally (1 KB per second) once the ready line was seen; stdin a pipe held.

The report (written once the ready line was read) holds the sidecar's pid, port, the log file it
printed, the pid of any intermediate process and this launcher's pid. Then it sleeps until
killed: the test SIGKILLs it and checks that the sidecar follows.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SPEC = json.loads((REPO / "docs" / "launch_spec.json").read_text())


def command(python: str, port: int, parent_pid: int, preload: str) -> list[str]:
    values = {"port": str(port), "parent_pid": str(parent_pid), "preload": preload}
    return [python, *SPEC["module"], *(a.format(**values) for a in SPEC["serve_args"])]


def wait_for_line(read_line, prefix: str, deadline_s: float = 90.0) -> tuple[str, list[str]]:
    seen: list[str] = []
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        line = read_line()
        if line is None:
            raise SystemExit(f"the sidecar's output ended before {prefix!r}: {seen[-20:]}")
        if not line:
            time.sleep(0.05)  # a file that has not grown yet
            continue
        seen.append(line.rstrip("\n"))
        if line.startswith(prefix):
            return line.strip(), seen
    raise SystemExit(f"no {prefix!r} within {deadline_s} s: {seen[-20:]}")


def child_of(pid: int) -> int:
    """The one child process of ``pid`` (the shell's Python), from /proc."""
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat[stat.rfind(")") + 2:].split()[1]) == pid:
                return int(entry.name)
    raise SystemExit(f"process {pid} has no child")


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("style", choices=("godot", "godot-held", "unity", "unreal"))
    p.add_argument("report")
    p.add_argument("--preload", default="")
    p.add_argument("--stdin", choices=("pipe", "devnull"), default="pipe",
                   help="devnull: leave only the parent-pid check to notice this launcher's death")
    args = p.parse_args()
    env = dict(os.environ)
    env[SPEC["env"]["token"]] = os.environ["LAUNCH_TEST_TOKEN"]
    argv = command(sys.executable, 0, os.getpid(), args.preload)
    stdin = subprocess.PIPE if args.stdin == "pipe" else subprocess.DEVNULL
    intermediate = None
    keep: list[object] = []
    if args.style in ("godot", "godot-held"):
        proc = subprocess.Popen(argv, stdin=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
        if args.style == "godot":
            proc.stderr.close()  # execute_with_pipe's "stderr" FileAccess freed
        else:
            keep.append(proc.stderr)  # held, never read
        ready_source = proc.stdout
        pump_stdout = True
    elif args.style == "unity":
        out = Path(args.report).with_suffix(".out")
        out.write_bytes(b"")
        env["ATELICO_LAUNCH_OUT"] = str(out)
        proc = subprocess.Popen(["/bin/sh", "-c", '"$0" "$@" >>"$ATELICO_LAUNCH_OUT" 2>&1', *argv],
                                stdin=stdin, env=env)
        intermediate = proc.pid
        ready_source = open(out, "rb")
        pump_stdout = False
    else:  # unreal
        proc = subprocess.Popen(argv, stdin=stdin, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env)
        ready_source = proc.stdout
        pump_stdout = False
    keep.append(proc.stdin)

    def read_line() -> str | None:
        raw = ready_source.readline()
        if args.style == "unity" and not raw.endswith(b"\n"):  # the file has not grown (enough) yet
            ready_source.seek(-len(raw), os.SEEK_CUR)
            return "" if proc.poll() is None else None
        return raw.decode("utf-8", "replace") if raw else None

    log_line, seen = wait_for_line(read_line, SPEC["stdout"]["log_line_prefix"])
    ready_line, more = wait_for_line(read_line, SPEC["stdout"]["ready_line_prefix"])
    port = int(ready_line.split("=", 1)[1])
    if pump_stdout:  # Godot reads its stdio pipe every frame
        threading.Thread(target=lambda: [None for _ in iter(lambda: proc.stdout.read1(65536), b"")],
                         daemon=True).start()
    elif args.style == "unreal":  # a tick that reads a little now and then
        def occasionally() -> None:
            while proc.stdout.read1(1024):
                time.sleep(1.0)
        threading.Thread(target=occasionally, daemon=True).start()
    sidecar_pid = proc.pid
    if intermediate is not None:
        sidecar_pid = child_of(intermediate)
    report = {"launcher_pid": os.getpid(), "sidecar_pid": sidecar_pid, "intermediate_pid": intermediate,
              "port": port, "log_path": log_line.split("=", 1)[1], "lines": seen + more}
    tmp = Path(args.report + ".tmp")
    tmp.write_text(json.dumps(report))
    tmp.replace(args.report)
    while True:  # hold every pipe until SIGKILLed
        time.sleep(3600)


if __name__ == "__main__":
    sys.exit(main())
