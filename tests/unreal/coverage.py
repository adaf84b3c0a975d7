"""Line coverage of the Unreal plugin's sources from the gcov data of an instrumented test run.

tests/unreal/run.sh builds the core and the UE layer with --coverage, runs core_tests, e2e_client
and ue_tests, then calls this script, which asks gcov (JSON format) for every .gcda under the
build folder and prints, per file of unreal_plugin/Source, the executed and total lines (a line
counts as executed when any translation unit ran it). Exits 1 when the total is under --min.

Run: python tests/unreal/coverage.py BUILD_DIR [--min PERCENT]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SOURCE = REPO / "unreal_plugin" / "Source"


def collect(build: Path) -> dict[Path, dict[int, bool]]:
    """{source file: {line: executed}} for files under unreal_plugin/Source."""
    gcdas = sorted(str(p) for p in build.rglob("*.gcda"))
    lines: dict[Path, dict[int, bool]] = {}
    if not gcdas:
        return lines
    gcov = shutil.which("gcov") or "gcov"
    with tempfile.TemporaryDirectory() as tmp:
        proc = subprocess.run([gcov, "--json-format", "--stdout", *gcdas], cwd=tmp, capture_output=True, text=True,
                              timeout=300)
    for raw in proc.stdout.splitlines():
        raw = raw.strip()
        if not raw.startswith("{"):
            continue
        doc = json.loads(raw)
        cwd = Path(doc.get("current_working_directory", "."))
        for entry in doc.get("files", []):
            path = Path(entry["file"])
            path = (path if path.is_absolute() else cwd / path).resolve()
            if SOURCE not in path.parents:
                continue
            if not entry.get("lines"):
                continue  # declarations only: nothing executable
            per_file = lines.setdefault(path, {})
            for line in entry.get("lines", []):
                number = line["line_number"]
                per_file[number] = per_file.get(number, False) or line["count"] > 0
    return lines


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("build", type=Path)
    parser.add_argument("--min", type=float, default=0.0, help="fail when total line coverage is below this percent")
    args = parser.parse_args(argv)
    lines = collect(args.build)
    if not lines:
        print("coverage: no gcov data found (build with -DATELICO_COVERAGE=ON and run the tests first)")
        return 1
    total_exec = total = 0
    print(f"{'file (unreal_plugin/Source/)':<72} {'executed/total':>15} {'%':>6}")
    for path in sorted(lines):
        executed = sum(lines[path].values())
        count = len(lines[path])
        total_exec += executed
        total += count
        print(f"{str(path.relative_to(SOURCE)):<72} {executed:>7}/{count:<7} {100.0 * executed / count:>6.1f}")
    percent = 100.0 * total_exec / total
    print(f"{'TOTAL':<72} {total_exec:>7}/{total:<7} {percent:>6.1f}")
    if percent < args.min:
        print(f"coverage {percent:.1f}% is below the ratchet of {args.min:.1f}%")
        return 1
    print(f"coverage {percent:.1f}% (ratchet {args.min:.1f}%)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
