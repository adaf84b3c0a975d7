"""The atelico command: serve prints its ready line, speak/transcribe/face/models work."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.helpers.wer import word_error_rate as wer

ROOT = Path(__file__).resolve().parents[1]
SPEECH = ROOT / "tests" / "data" / "speech"


def run(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "atelico", *args], capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, "PYTHONUNBUFFERED": "1"})


def test_serve_port_zero_prints_ready_and_health_answers():
    """`atelico serve --port 0` prints ATELICO_READY port=N; /health answers; it exits on SIGTERM."""
    proc = subprocess.Popen([sys.executable, "-m", "atelico", "serve", "--port", "0", "--preload", ""],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        log_line, line = proc.stdout.readline(), proc.stdout.readline()  # docs/launch.md: log, then ready
        assert log_line.startswith("ATELICO_LOG path="), log_line
        assert line.startswith("ATELICO_READY port="), line
        port = int(line.strip().split("=")[1])
        assert httpx.get(f"http://127.0.0.1:{port}/health", timeout=10).json()["status"] == "ok"
        ready = httpx.get(f"http://127.0.0.1:{port}/health/ready", timeout=10)
        assert ready.status_code == 200  # nothing to preload
    finally:
        proc.terminate()
        # uvicorn shuts down gracefully, then re-raises the signal it caught
        assert proc.wait(timeout=15) in (0, -15)


def test_serve_refuses_a_taken_port():
    """A port that is already taken is a clear message and a non-zero exit, not a traceback."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(1)
        port = s.getsockname()[1]
        res = run("serve", "--port", str(port), "--preload", "", timeout=60)
    assert res.returncode != 0 and "cannot listen" in res.stderr and "Traceback" not in res.stderr


@pytest.mark.slow
def test_speak_transcribe_face_round_trip(tmp_path):
    """speak writes an mp3, transcribe reads it back as srt, face writes JSON and a PNG plot."""
    out = tmp_path / "hello.mp3"
    res = run("speak", "The tavern is open until midnight.", "-o", str(out), "--voice", "am_adam")
    assert res.returncode == 0, res.stderr
    assert out.stat().st_size > 2000
    srt = run("transcribe", str(out), "--format", "srt")
    assert srt.returncode == 0, srt.stderr
    assert "-->" in srt.stdout and wer("The tavern is open until midnight.", " ".join(
        l for l in srt.stdout.splitlines() if l and "-->" not in l and not l.isdigit())) < 0.2
    face_json, plot = tmp_path / "face.json", tmp_path / "face.png"
    res = run("face", str(SPEECH / "goforward.wav"), "-o", str(face_json), "--plot", str(plot))
    assert res.returncode == 0, res.stderr
    body = json.loads(face_json.read_text())
    assert body["fps"] == 30 and len(body["names"]) == 52 and len(body["frames"]) > 60
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_models_list_json_and_errors_are_one_line():
    """models list --json is machine-readable; an unknown model is a one-line coded error."""
    res = run("models", "list", "--json")
    rows = json.loads(res.stdout)
    assert {"kokoro", "whisper-base", "face", "pocket"} <= {r["id"] for r in rows}
    bad = run("speak", "hi", "--model", "nope", "-o", "/dev/null")
    assert bad.returncode == 1 and "[model.unknown]" in bad.stderr and "Traceback" not in bad.stderr


def test_voices_clone_refuses_bad_or_taken_names_before_any_work(tmp_path, capsys):
    """`voices clone` checks the name first: a trailing newline or upper case is
    voice.invalid_name, an existing custom voice is voice.exists unless --overwrite; nothing
    is decoded or loaded (the clip does not even exist) and no file is written."""
    from atelico.cli import main

    cache = tmp_path / "cache"
    (cache / "voices" / "kokoro").mkdir(parents=True)
    (cache / "voices" / "kokoro" / "taken.bin").write_bytes(b"mine")
    common = ["--input", str(tmp_path / "no-such-clip.wav"), "--cache-dir", str(cache), "--offline"]
    for engine, name, code in (("pocket", "nl\n", "voice.invalid_name"),
                               ("kokoro", "Hero", "voice.invalid_name"),
                               ("kokoro", "taken", "voice.exists"), ("pocket", "alba", "voice.exists")):
        assert main(["voices", "clone", "--engine", engine, "--name", name, *common]) == 1
        assert f"[{code}]" in capsys.readouterr().err
    assert sorted(p.name for p in (cache / "voices").rglob("*")) == ["kokoro", "taken.bin"]
    with pytest.raises(FileNotFoundError):  # --overwrite passes the name check and reads the clip
        main(["voices", "clone", "--engine", "kokoro", "--name", "taken", "--overwrite", *common])


def test_speak_format_follows_the_file_extension(tmp_path):
    """.ogg and .opus get Opus in Ogg, .flac FLAC, .mp3 MP3, no extension WAV; --format wins;
    an unknown extension is a clear error naming the known ones."""
    from atelico.cli import speak_format
    from atelico.errors import RequestError

    assert speak_format(Path("x.ogg"), None) == "opus" and speak_format(Path("x.OPUS"), None) == "opus"
    assert speak_format(Path("x.flac"), None) == "flac" and speak_format(Path("x.mp3"), None) == "mp3"
    assert speak_format(Path("/dev/null"), None) == "wav" and speak_format(Path("x.ogg"), "wav") == "wav"
    with pytest.raises(RequestError) as err:
        speak_format(Path("line.xyz"), None)
    assert "'line.xyz'" in err.value.message and ".ogg" in err.value.message and ".wav" in err.value.message


@pytest.mark.slow
def test_speak_writes_the_container_its_extension_names(tmp_path):
    """`speak -o x.ogg` writes an Ogg/Opus file (not WAV), .flac a FLAC file, as PyAV probes
    them; an unknown extension exits 1 with the list before loading any model."""
    import av

    for name, container, codec in (("line.ogg", "ogg", "opus"), ("line.flac", "flac", "flac")):
        out = tmp_path / name
        res = run("speak", "The gate is open.", "-o", str(out))
        assert res.returncode == 0, res.stderr
        with av.open(str(out)) as probe:
            assert probe.format.name == container, (name, probe.format.name)
            assert probe.streams.audio[0].codec_context.name == codec
    bad = run("speak", "hi", "-o", str(tmp_path / "line.xyz"), timeout=60)
    assert bad.returncode == 1 and "[request.invalid]" in bad.stderr and ".ogg" in bad.stderr
    assert not (tmp_path / "line.xyz").exists()


class _Writes:
    """A stdout that records each write call (the pieces a pipe receives, unbuffered)."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def write(self, text: str) -> int:
        self.calls.append(text)
        return len(text)

    def flush(self) -> None:
        pass


def test_a_contract_line_is_one_write_with_its_newline(monkeypatch: pytest.MonkeyPatch) -> None:
    """Launchers read stdout and stderr merged, and the sidecar's stderr is written by a thread
    of its own: with the newline written apart (print does that), a log record landed inside
    the ready line ("ATELICO_READY port=408672026-12-04 ... INFO ...") and the launcher never
    saw it (a test fixture's sidecar and a Unity fixture failed to start that way)."""
    from atelico import cli

    out = _Writes()
    monkeypatch.setattr(sys, "stdout", out)
    cli._stdout(f"{cli.READY_PREFIX} port=40867")
    assert out.calls == ["ATELICO_READY port=40867\n"]
