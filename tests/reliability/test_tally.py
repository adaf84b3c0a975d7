"""The suite's figures (inputs tried, terminals lost, peak RSS growth) reach the end of a
pytest run, ``-q`` included, so CI logs carry them."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.helpers.sidecar import REPO
from tests.reliability.tally import Tally


def test_summary_counts_per_module_and_names_the_worst_peak(monkeypatch):
    t = Tally()
    monkeypatch.setenv("PYTEST_CURRENT_TEST", "tests/reliability/test_cancel_race.py::test_x (call)")
    t.bad(4000)
    t.check(True, "fine")
    monkeypatch.setenv("PYTEST_CURRENT_TEST", "tests/reliability/test_memory.py::test_y (call)")
    t.rss("speech 5 min", 104.9)
    t.rss("bomb flac", 0.7)
    assert t.check(False, "r1: no terminal") is False
    lines = t.summary()
    assert lines[0] == ("reliability: 4000 inputs tried, 0 faults injected, 1 terminals lost, "
                        "peak RSS growth 105 MB at most (speech 5 min)")
    assert "  test_cancel_race: 4000 inputs, 0 faults, 0 lost" in lines
    assert "  test_memory: 0 inputs, 0 faults, 1 lost" in lines
    assert "  lost: r1: no terminal" in lines
    assert Tally().summary() == []  # a run without the suite prints nothing


def test_a_quiet_pytest_run_prints_the_figures():
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO / "sidecar"), str(REPO)])}
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                          "tests/reliability/test_pinning.py"], cwd=REPO, env=env,
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout[-3000:]
    assert "reliability: 0 inputs tried, 1 faults injected, 0 terminals lost" in run.stdout, run.stdout[-3000:]
    assert "test_pinning: 0 inputs, 1 faults, 0 lost" in run.stdout
