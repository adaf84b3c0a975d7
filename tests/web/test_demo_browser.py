"""The browser demo at /demo, driven end to end in headless Chromium against a real sidecar."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
from pathlib import Path
from typing import Any, Iterator

import pytest

from atelico.engines.base import ARKIT_BLENDSHAPES
from tests.helpers.sidecar import SidecarProcess

REPO = Path(__file__).resolve().parents[2]
WEB_TESTS = REPO / "tests" / "web"
SPEECH = REPO / "tests" / "data" / "speech"
ARTIFACTS = REPO / "tests" / "artifacts" / "web"
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome")
INSTALL_HINT = "apt-get install -y chromium, and Node.js >= 20 with npm (nodesource nodejs 20; Debian 12's nodejs 18 is too old for playwright-core 1.65)"
MIN_NODE_MAJOR = 20
STT_MODEL = "whisper-tiny.en"
DRIVE_TIMEOUT_S = 240


def _need(what: str, found: str | None) -> str:
    """Return a tool's path; without it fail in CI (CI=true), otherwise skip with the hint."""
    if found:
        return found
    message = f"{what} not found: {INSTALL_HINT}"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message)
    pytest.skip(message)


def _node() -> str:
    node = _need("node", shutil.which("node"))
    version = subprocess.run([node, "--version"], capture_output=True, text=True, timeout=30).stdout.strip()
    major = int(version.lstrip("v").split(".")[0]) if version.startswith("v") else 0
    return _need(f"node >= {MIN_NODE_MAJOR} (found {version or 'an unknown version'})",
                 node if major >= MIN_NODE_MAJOR else None)


def _chromium() -> str:
    env = os.environ.get("ATELICO_CHROMIUM")
    return _need("chromium", env or next((p for n in CHROMIUM_NAMES if (p := shutil.which(n))), None))


def _ensure_node_modules() -> None:
    """Install playwright-core from the lockfile when node_modules is missing."""
    if (WEB_TESTS / "node_modules" / "playwright-core" / "package.json").is_file():
        return
    npm = _need("npm", shutil.which("npm"))
    cmd = [npm, "ci", "--no-audit", "--no-fund"] if (WEB_TESTS / "package-lock.json").is_file() \
        else [npm, "install", "--no-audit", "--no-fund"]
    done = subprocess.run(cmd, cwd=WEB_TESTS, capture_output=True, text=True, timeout=300)
    if done.returncode != 0:
        pytest.fail(f"{' '.join(cmd)} failed in {WEB_TESTS}:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")


class Sidecar(SidecarProcess):
    """The demo's sidecar: TTS, face and a live-STT model preloaded."""

    def __init__(self, token: str, preload: str, ready_timeout_s: float = 120.0) -> None:
        super().__init__(extra_args=["--preload", preload, "--exit-with-parent"], token=token,
                         ready_timeout_s=ready_timeout_s)


@pytest.fixture(scope="module")
def report() -> Iterator[dict[str, Any]]:
    """One browser session over the whole demo; the tests below read its JSON report."""
    node = _node()
    chromium = _chromium()
    _ensure_node_modules()
    sidecar = Sidecar(token=secrets.token_hex(12), preload=f"tts,face,{STT_MODEL}")
    try:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        cmd = [node, str(WEB_TESTS / "drive_demo.mjs"),
               "--url", f"{sidecar.url}/demo?token={sidecar.token}",
               "--noTokenUrl", f"{sidecar.url}/demo",
               "--upload", str(SPEECH / "goforward.wav"),
               "--mic", str(SPEECH / "goforward.wav"),
               "--sttModel", STT_MODEL,
               "--screenshot", str(ARTIFACTS / "demo.png"),
               "--chromium", chromium]
        done = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=DRIVE_TIMEOUT_S)
        (ARTIFACTS / "drive.log").write_text(done.stderr)
        lines = [ln for ln in done.stdout.splitlines() if ln.startswith("{")]
        if done.returncode != 0 or not lines:
            pytest.fail(f"drive_demo.mjs failed (rc {done.returncode}):\n{done.stderr[-4000:]}\n"
                        f"sidecar log:\n" + "\n".join(sidecar.log))
        result = json.loads(lines[-1])
        (ARTIFACTS / "report.json").write_text(json.dumps(result, indent=1))
        yield result
    finally:
        sidecar.stop()


def _step(report: dict[str, Any], name: str) -> dict[str, Any]:
    step = report["steps"].get(name)
    assert step is not None, f"step {name!r} did not run"
    assert step["ok"], f"step {name!r} failed: {step.get('error')}"
    return step


def test_golden_frames_in_node() -> None:
    """The page's JS msgpack and envelope code reproduces every golden frame byte for byte."""
    node = _node()
    done = subprocess.run([node, "--test", str(WEB_TESTS / "msgpack.test.mjs")], cwd=REPO,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "# fail 0" in done.stdout


@pytest.mark.slow
def test_page_loads_without_console_errors(report: dict[str, Any]) -> None:
    """With the token from the URL the page loads, lists engines and voices, and logs no error."""
    load = _step(report, "load")
    assert "kokoro" in load["engines"]
    assert load["voices"] > 10
    assert STT_MODEL in load["sttModels"]
    errors = [c for c in report["console"] if c["type"] in ("error", "warning")]
    assert errors == [], errors
    assert report["pageErrors"] == []
    assert report["failedRequests"] == []


@pytest.mark.slow
def test_page_uses_the_engine_blendshape_order(report: dict[str, Any]) -> None:
    """The page's 52 names, and the dashboard's rows, are the engine's ARKit order."""
    load = _step(report, "load")
    assert load["names"] == list(ARKIT_BLENDSHAPES)
    assert sorted(load["weightRows"]) == sorted(ARKIT_BLENDSHAPES)


@pytest.mark.slow
def test_speech_streams_and_plays(report: dict[str, Any]) -> None:
    """`speak` chunks are scheduled on the AudioContext: every sample of the utterance plays."""
    c = _step(report, "speak")["counters"]
    assert c["errors"] == []
    assert c["utterancesDone"] == 1
    assert c["chunksReceived"] >= 2  # "Hello there." then the second sentence
    assert c["chunksScheduled"] == c["chunksReceived"]
    assert c["sampleRateHz"] == 24000
    assert c["samplesScheduled"] == round(c["durationS"] * c["sampleRateHz"])
    assert 1.0 < c["durationS"] < 6.0
    assert c["words"] >= 6


@pytest.mark.slow
def test_face_frames_cover_the_audio(report: dict[str, Any]) -> None:
    """Face frames arrive with the audio: 30 per second of speech, give or take one."""
    c = _step(report, "speak")["counters"]
    assert abs(c["frameCount"] - c["durationS"] * 30) <= 2
    assert c["faceFramesReceived"] >= c["frameCount"]


@pytest.mark.slow
def test_dashboard_shows_weights_during_speech(report: dict[str, Any]) -> None:
    """While speaking, the dashboard shows non-zero weights (the jaw opens beyond 0.2)."""
    step = _step(report, "speak")
    assert step["dashMax"] > 0.2
    assert step["maxActiveRows"] >= 3
    assert step["counters"]["maxWeightSeen"] > 0.2


@pytest.mark.slow
def test_face_moves_with_speech(report: dict[str, Any]) -> None:
    """The SVG mouth takes many shapes during playback and opens, then closes at the end."""
    step = _step(report, "speak")
    assert step["distinctMouths"] >= 8
    assert step["counters"]["maxMouthOpen"] > 4.0
    assert step["counters"]["faceChanges"] >= 8
    closed = step["mouthBefore"]
    assert any(s["mouth"] != closed for s in report["samples"])


@pytest.mark.slow
def test_uploaded_clip_is_transcribed(report: dict[str, Any]) -> None:
    """Uploading goforward.wav shows its transcript with increasing word times."""
    step = _step(report, "upload")
    assert any("forward" in t.lower() for t in step["transcripts"]), step["transcripts"]
    words = step["words"]
    assert [w["word"].lower().strip(".") for w in words][:2] == ["go", "forward"]
    starts = [w["start"] for w in words]
    assert starts == sorted(starts) and all(w["end"] >= w["start"] for w in words)
    assert words[-1]["end"] < 2.8  # the clip is 2.79 s long


@pytest.mark.slow
def test_microphone_is_transcribed_live(report: dict[str, Any]) -> None:
    """The fake microphone (looping goforward.wav) streams over stt.live and gets a final."""
    step = _step(report, "mic")
    assert step["micFramesSent"] > 5
    assert step["finals"] >= 1
    assert any("forward" in t.lower() for t in step["transcripts"]), step["transcripts"]
    assert "ended" in step["note"]


@pytest.mark.slow
def test_status_panel_shows_loaded_models(report: dict[str, Any]) -> None:
    """The status panel lists the loaded models and the process memory."""
    step = _step(report, "status")
    assert {"kokoro", "face", STT_MODEL} <= set(step["models"])
    assert step["memory"].endswith("MB") and int(step["memory"].split()[0]) > 50
    assert step["connection"].startswith("connected")


@pytest.mark.slow
def test_timeline_scrubs_and_replays(report: dict[str, Any]) -> None:
    """Dragging the timeline shows the frame under the playhead; releasing plays from there."""
    step = _step(report, "scrub_and_replay")
    held = step["held"]
    assert held["state"] == "scrubbing"
    shown_s, total_s = (float(x) for x in held["clock"].replace(" s", "").split(" / "))
    assert abs(shown_s - step["target"] * total_s) < 0.1
    assert held["frame"].startswith("frame ") and not held["frame"].startswith("frame 1 ")
    assert step["replayState"] == "playing"
    assert (ARTIFACTS / "demo.png").stat().st_size > 50_000


@pytest.mark.slow
def test_without_token_the_page_says_so(report: dict[str, Any]) -> None:
    """Opened without ?token=, the page says a token is needed instead of failing silently."""
    step = _step(report, "no_token")
    assert "token" in step["connection"]
    assert "auth.invalid_token" in step["note"]
