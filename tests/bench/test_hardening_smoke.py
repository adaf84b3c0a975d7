"""The hardening suite of the bench runs end to end in smoke mode (shape only, never speed)."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_smoke_hardening_run_reports_both_ratios(tmp_path: Path) -> None:
    """``python -m bench --smoke --only hardening``: 200 hostile sockets and a 4-client flood
    against a sidecar with a token; the game was welcomed every time and its line served."""
    proc = subprocess.run([sys.executable, "-m", "bench", "--smoke", "--only", "hardening", "--no-plots",
                           "--out", str(tmp_path)], cwd=ROOT, capture_output=True, text=True, timeout=850)
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads(sorted(tmp_path.glob("*-smoke.json"))[0].read_text())
    assert report["errors"] == []
    slots, fairness = report["hardening"]["slots"], report["hardening"]["fairness"]
    assert slots["hostile_opened"] >= slots["hostile_sockets"] == 200
    assert slots["reps"] >= 1 and math.isfinite(slots["welcome_max_s"]) and slots["welcome_max_s"] > 0
    assert fairness["game_refusals"] == {}  # the flood never refused the game's line
    assert math.isfinite(fairness["p95_ratio"]) and fairness["p95_ratio"] > 0
    names = [t["name"] for t in report["targets"]]
    assert any("200 idle/misbehaving" in n for n in names) and any("flood" in n for n in names)
    assert "Hardening (every party its own process" in proc.stdout
