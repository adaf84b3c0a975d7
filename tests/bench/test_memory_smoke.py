"""The memory suite of the bench runs end to end in smoke mode (shape only, never a figure)."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_smoke_memory_run_reports_growth_per_upload_and_a_plot(tmp_path: Path) -> None:
    """``python -m bench --smoke --only memory``: its own whisper sidecar (no shared one is
    started), a peak RSS growth per speech length and per bomb, both targets, the plot."""
    proc = subprocess.run([sys.executable, "-m", "bench", "--smoke", "--only", "memory", "--out", str(tmp_path)],
                          cwd=ROOT, capture_output=True, text=True, timeout=550)
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads((tmp_path / next(p.name for p in tmp_path.glob("*-smoke.json"))).read_text())
    assert report["errors"] == [] and "sidecar" not in report  # only the suite's own sidecar ran
    mem = report["memory"]
    assert [p["audio_s"] for p in mem["speech"]] == [3.0, 10.0]
    assert all(p["status"] == 200 and p["words"] > 0 and math.isfinite(p["peak_growth_mb"]) for p in mem["speech"])
    assert mem["bombs"]["wav at 655,350 Hz"]["code"] == "audio.invalid"
    assert mem["idle_rss_mb"] > 0 and math.isfinite(mem["speech_growth_spread_fraction"])
    names = [t["name"] for t in report["targets"]]
    assert any("10 s to 60 min" in n for n in names) and any("bombs included" in n for n in names)
    assert list(tmp_path.glob("*-smoke-memory.png")) and "Memory (whisper-base" in proc.stdout
