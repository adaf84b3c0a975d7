"""The bench harness runs end to end in its smallest mode and writes a well-formed report.

It asserts the shape of the JSON (keys present, numbers finite and positive), never speed:
timings on a shared machine are reports, not pass/fail tests.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _finite_positive(value: object) -> bool:
    return isinstance(value, (int, float)) and math.isfinite(value) and value > 0


@pytest.mark.slow
def test_smoke_tts_run_writes_report_with_finite_numbers(tmp_path: Path) -> None:
    """``python -m bench --smoke --only tts`` starts a real sidecar, measures direct, WebSocket
    and HTTP SSE synthesis, and writes ``<date>-smoke.json`` plus a plot with finite numbers."""
    proc = subprocess.run([sys.executable, "-m", "bench", "--smoke", "--only", "tts", "--out", str(tmp_path)],
                          cwd=ROOT, capture_output=True, text=True, timeout=280)
    assert proc.returncode == 0, proc.stderr[-3000:]
    files = sorted(tmp_path.glob("*-smoke.json"))
    assert len(files) == 1
    report = json.loads(files[0].read_text())
    assert report["mode"] == "smoke" and report["suites"] == ["tts"] and report["errors"] == []
    assert {"machine", "load_avg", "sidecar", "tts", "targets", "wall_s"} <= set(report)
    assert report["machine"]["nproc"] >= 1 and report["machine"]["versions"]["onnxruntime"]
    assert len(report["load_avg"]["start"]) == 3 and len(report["load_avg"]["end"]) == 3
    assert _finite_positive(report["sidecar"]["spawn_to_ready_s"])
    assert _finite_positive(report["sidecar"]["pid_rss_mb_idle_after_work"])
    tts = report["tts"]
    assert set(tts["paths"]) == {"direct", "websocket", "http_sse"}
    for path in tts["paths"].values():
        for key in ("first_audio_s", "total_s", "audio_s", "rtf", "cpu_s"):
            assert _finite_positive(path[key]), (key, path)
        assert path["first_audio_s"] <= path["total_s"]
    # the same text and voice everywhere: the same amount of audio on every path
    audio = [p["audio_s"] for p in tts["paths"].values()]
    assert max(audio) - min(audio) < 0.05
    for path in ("websocket", "http_sse"):
        assert math.isfinite(tts["overhead"][path]["wall_overhead_pct"])
    names = [t["name"] for t in report["targets"]]
    assert any("first audio" in n for n in names) and any("overhead" in n for n in names)
    assert all(t["pass"] in (True, False) for t in report["targets"])
    assert sorted(tmp_path.glob("*-smoke-latency.png")), "the latency plot was not written"
    assert "Targets (a report, not a test)" in proc.stdout


@pytest.mark.slow
def test_smoke_conversation_run_reports_the_turn(tmp_path: Path) -> None:
    """``python -m bench --smoke --only conversation`` feeds a recorded utterance live and
    answers it: per utterance the final, ``stt.speech.started`` and the turn to the NPC's
    first audio, the turn being the final's delay plus the reply's own first-audio time."""
    proc = subprocess.run([sys.executable, "-m", "bench", "--smoke", "--only", "conversation",
                           "--no-plots", "--out", str(tmp_path)],
                          cwd=ROOT, capture_output=True, text=True, timeout=280)
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads(next(tmp_path.glob("*-smoke.json")).read_text())
    conv = report["conversation"]
    assert conv["utterances"] == len(conv["runs"]) >= 1
    for run in conv["runs"]:
        for key in ("latency_s", "turn_s", "reply_first_audio_s"):
            assert _finite_positive(run[key]), (key, run)
        assert math.isfinite(run["speech_started_delay_s"])
        assert run["turn_s"] == pytest.approx(run["latency_s"] + run["reply_first_audio_s"], abs=2e-3)
        assert run["wer"] <= 0.5, run["text"]
    assert conv["turn_median_s"] >= conv["median_s"] > 0
    assert len(conv["load_avg"]["after_each"]) == conv["utterances"]
    names = [t["name"] for t in report["targets"] if t["name"].startswith("conversation")]
    assert any("turn" in n for n in names) and any("speech.started" in n for n in names)
    assert "turn: end of speech to the NPC's first audio" in proc.stdout
