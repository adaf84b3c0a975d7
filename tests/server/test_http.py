"""The OpenAI-compatible HTTP routes against a real sidecar on 127.0.0.1 with real models."""

from __future__ import annotations

import base64
import json
import re
import struct
from pathlib import Path

import httpx
import numpy as np
import pytest

from atelico.audio.codecs import decode_file
from tests.helpers.contour import contour_correlation
from tests.helpers.wer import word_error_rate as wer

pytestmark = pytest.mark.slow
SPEECH = Path(__file__).resolve().parents[1] / "data" / "speech"
MANIFEST = {m["file"]: m for m in json.loads((SPEECH / "manifest.json").read_text())}
CLIP = "sense_and_sensibility_01_austen_64kb-0930.wav"


@pytest.fixture(scope="module")
def http(live_server):
    with httpx.Client(base_url=live_server.http, headers=live_server.headers, timeout=120) as client:
        yield client


def speech(http, **body):
    return http.post("/v1/audio/speech", json={"model": "in-memory::tts", "input": "Hello from Atelico.", **body})


def sse_events(text: str) -> list[tuple[str, dict]]:
    events = []
    for block in text.strip().split("\n\n"):
        name = "message"
        data = None
        for line in block.splitlines():
            if line.startswith("event: "):
                name = line[7:]
            elif line.startswith("data: "):
                data = json.loads(line[6:])
        events.append((name, data))
    return events


def test_health_ready_and_status(http, live_server):
    """/health is open without a token; /health/ready is 200 with Kokoro loaded; /v1/status reports."""
    assert httpx.get(f"{live_server.http}/health").json()["status"] == "ok"
    ready = http.get("/health/ready")
    assert ready.status_code == 200 and "kokoro" in ready.json()["models"]
    status = http.get("/v1/status").json()
    assert status["rss_mb"] > 50 and "kokoro" in status["loaded_models"]


def test_models_are_listed_openai_style_with_install_state(http):
    """GET /v1/models is an OpenAI list; every catalog id is there with installed flags."""
    body = http.get("/v1/models").json()
    assert body["object"] == "list"
    by_id = {m["id"]: m for m in body["data"]}
    assert by_id["kokoro"]["installed"] and "tts" in by_id["kokoro"]["aliases"]
    assert by_id["whisper-base"]["installed"] and "whisper" in by_id["whisper-base"]["aliases"]
    assert not by_id["whisper-large-v3"]["installed"]
    assert {"pocket", "distil-large-v3", "face"} <= set(by_id)


@pytest.mark.parametrize("fmt", ["wav", "mp3", "opus", "aac", "flac"])
def test_every_speech_format_decodes_with_a_standard_decoder(http, fmt):
    """Each response_format decodes (PyAV/FFmpeg) to ~the same duration as the WAV."""
    r = speech(http, response_format=fmt)
    assert r.status_code == 200, r.text
    audio, rate = decode_file(r.content)
    duration = float(r.headers["x-atelico-duration"])
    assert abs(len(audio) / rate - duration) < 0.12
    assert np.sqrt(np.mean(audio ** 2)) > 0.01


def test_pcm_is_raw_24khz_s16le(http):
    """response_format=pcm is raw 16-bit samples at 24 kHz: 2 bytes per sample."""
    r = speech(http, response_format="pcm")
    assert r.status_code == 200
    assert len(r.content) == 2 * round(float(r.headers["x-atelico-duration"]) * 24000)
    assert "rate=24000" in r.headers["content-type"]


def test_sse_stream_chunks_concatenate_to_the_blocking_audio(http):
    """stream:true gives reference chunks (base64 WAV), a done event, and the same audio."""
    text = "Welcome back, hero. The blacksmith has your sword ready."
    r = speech(http, input=text, stream=True)
    assert r.headers["content-type"].startswith("text/event-stream")
    events = sse_events(r.text)
    chunks = [d for name, d in events if name == "message"]
    assert events[-1][0] == "done" and events[-1][1]["chunks"] == len(chunks) >= 2
    assert [c["sequence"] for c in chunks] == list(range(len(chunks)))
    pieces = [decode_file(base64.b64decode(c["audio"]))[0] for c in chunks]
    for c, p in zip(chunks, pieces):
        assert abs(len(p) / 24000 - c["duration_seconds"]) < 1e-3
    whole, _ = decode_file(speech(http, input=text).content)
    streamed = np.concatenate(pieces)
    assert contour_correlation(streamed, whole) > 0.9  # windows cut by the clock: same contour
    assert " ".join(c["text"] for c in chunks).split() == text.split()


def test_openai_sse_and_raw_streamed_wav(http):
    """stream_format=sse gives speech.audio.delta events then speech.audio.done; a raw WAV
    stream has open-ended (0xFFFFFFFF) sizes."""
    events = sse_events(speech(http, stream_format="sse", response_format="pcm").text)
    assert [e[1]["type"] for e in events][-1] == "speech.audio.done"
    assert all(e[1]["type"] == "speech.audio.delta" for e in events[:-1]) and len(events) >= 2
    raw = speech(http, stream_format="audio", response_format="wav").content
    assert raw[:4] == b"RIFF" and struct.unpack("<I", raw[4:8])[0] == 0xFFFFFFFF
    assert len(raw) > 44 + 24000


@pytest.mark.parametrize("body,status,code", [
    ({"input": "hi"}, 400, "request.missing_model"),
    ({"model": "", "input": "hi"}, 400, "request.missing_model"),
    ({"model": "tts"}, 400, "request.missing_input"),
    ({"model": "tts", "input": "   "}, 400, "request.missing_input"),
    ({"model": "in-memory::nope", "input": "hi"}, 404, "model.unknown"),
    ({"model": "whisper", "input": "hi"}, 400, "request.wrong_model_kind"),
    ({"model": "tts", "input": "hi", "voice": "zz_nobody"}, 404, "voice.unknown"),
    ({"model": "tts", "input": "hi", "speed": 9}, 400, "request.invalid"),
    ({"model": "tts", "input": "hi", "response_format": "ogg-vorbis"}, 400, "request.invalid"),
    ({"model": "tts", "input": "x" * 20_001}, 413, "request.input_too_long"),
    ({"model": "tts", "input": "hi", "voice": "zz_nobody", "stream": True}, 404, "voice.unknown"),
    ({"model": "tts", "input": "hi", "voice": "af_heart(" + "9" * 200 + ")"}, 400, "voice.invalid"),
    ({"model": "tts", "input": "hi", "voice": "af_heart(0." + "0" * 50 + "1)"}, 400, "voice.invalid"),
    ({"model": "tts", "input": "hi", "voice": "af_heart(1e-51)", "stream": True}, 400, "voice.invalid"),
    ({"model": "tts", "input": "\x00"}, 400, "request.missing_input"),
    ({"model": "tts", "input": "\u200b\u200c\u200d"}, 400, "request.missing_input"),
    ({"model": "tts", "input": "\u266a \u2605", "stream": True}, 400, "request.missing_input"),
    ({"model": "tts", "input": "\u266a \u2605", "response_format": "mp3"}, 400, "request.missing_input"),
])
def test_bad_speech_requests_get_clear_4xx_errors(http, body, status, code):
    """Every bad request is a 4xx JSON error with a machine-readable code (never a 5xx)."""
    r = http.post("/v1/audio/speech", json=body)
    assert r.status_code == status, r.text
    err = r.json()["error"]
    assert err["code"] == code and err["message"]
    if code == "model.unknown":
        assert "kokoro" in err["details"]["known"]
    if code == "voice.unknown":
        assert "af_heart" in err["details"]["known"]


def test_invalid_json_body(http):
    """A body that is not JSON is request.invalid_json."""
    r = http.post("/v1/audio/speech", content=b"{nope", headers={"content-type": "application/json"})
    assert r.status_code == 400 and r.json()["error"]["code"] == "request.invalid_json"


def transcribe(http, path: Path = SPEECH / CLIP, route: str = "transcriptions", **fields):
    data = {"model": "in-memory::whisper", **fields}
    return http.post(f"/v1/audio/{route}", data=data, files={"file": (path.name, path.read_bytes())})


def test_transcription_json_matches_the_reference_shape(http):
    """json response: text, language and duration, with a low WER on real speech."""
    r = transcribe(http)
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) >= {"text", "language", "duration"}
    assert body["language"] == "en" and abs(body["duration"] - MANIFEST[CLIP]["seconds"]) < 0.05
    assert wer(MANIFEST[CLIP]["transcript"], body["text"]) < 0.15
    assert r.headers["x-atelico-model"].startswith("whisper")


def test_verbose_json_with_word_timestamps(http):
    """verbose_json with word granularity: monotonic words inside the audio."""
    body = transcribe(http, response_format="verbose_json",
                      **{"timestamp_granularities[]": ["word", "segment"]}).json()
    words = body["words"]
    assert len(words) >= 5 and body["segments"]
    starts = [w["start"] for w in words]
    assert starts == sorted(starts)
    assert all(0 <= w["start"] <= w["end"] <= body["duration"] + 0.05 for w in words)


@pytest.mark.parametrize("fmt", ["srt", "vtt", "text"])
def test_subtitle_and_text_formats_parse(http, fmt):
    """srt/vtt cues parse with increasing times; text is plain."""
    r = transcribe(http, response_format=fmt)
    assert r.status_code == 200
    if fmt == "text":
        assert wer(MANIFEST[CLIP]["transcript"], r.text) < 0.15
        return
    stamp = r"(\d\d):(\d\d):(\d\d)[,.](\d\d\d)"
    cues = re.findall(stamp + r" --> " + stamp, r.text)
    assert cues, r.text
    if fmt == "vtt":
        assert r.text.startswith("WEBVTT")
    secs = [int(h) * 3600 + int(m) * 60 + int(s) + int(ms) / 1000 for h, m, s, ms, *_ in cues]
    assert secs == sorted(secs)


def test_translation_route_returns_english(http):
    """/v1/audio/translations translates (here: English speech stays English)."""
    r = transcribe(http, route="translations")
    assert r.status_code == 200 and wer(MANIFEST[CLIP]["transcript"], r.json()["text"]) < 0.3


@pytest.mark.parametrize("fields,file,status,code", [
    ({}, b"RIFF", 400, "request.missing_model"),
    ({"model": "whisper"}, None, 400, "request.missing_file"),
    ({"model": "whisper"}, b"this is not audio at all" * 10, 400, "audio.invalid"),
    ({"model": "whisper"}, b"", 400, "audio.empty"),
    ({"model": "whisper-large-v3"}, (SPEECH / "goforward.wav").read_bytes(), 424, "model.not_installed"),
    ({"model": "tts"}, b"x", 400, "request.wrong_model_kind"),
    ({"model": "whisper", "temperature": "hot"}, b"x", 400, "request.invalid"),
    ({"model": "whisper", "response_format": "docx"}, b"x", 400, "request.invalid"),
])
def test_bad_transcription_requests(http, fields, file, status, code):
    """Bad uploads and fields get 4xx codes; a model that is not installed says how to get it."""
    files = {"file": ("a.wav", file)} if file is not None else {"dummy": ("x", b"")}
    r = http.post("/v1/audio/transcriptions", data=fields, files=files)
    assert r.status_code == status, r.text
    assert r.json()["error"]["code"] == code
    if code == "model.not_installed":
        assert "pip" in r.json()["error"]["message"] or "hub" in r.json()["error"]["message"].lower()


def test_face_route_json_and_binary(http):
    """POST /v1/audio/face returns ceil(duration*30) frames of 52 weights, as JSON or float32."""
    path = SPEECH / "arctic_a0007.wav"
    files = {"file": (path.name, path.read_bytes())}
    body = http.post("/v1/audio/face", data={"character": "claire"}, files=files).json()
    n = int(np.ceil(MANIFEST[path.name]["seconds"] * 30 - 1e-6))
    assert abs(body["frame_count"] - n) <= 1 and len(body["frames"][0]) == 52 and len(body["names"]) == 52
    raw = http.post("/v1/audio/face", data={"response_format": "f32"}, files=files)
    weights = np.frombuffer(raw.content, "<f4").reshape(-1, 52)
    assert weights.shape[0] == body["frame_count"] and 0 <= weights.min() and weights.max() <= 1
    bad = http.post("/v1/audio/face", data={"character": "gollum"}, files=files)
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "face.unknown_character"


def test_security_token_origin_and_host(live_server):
    """No token → 401; a cross-site Origin or a foreign Host (DNS rebinding) → 403."""
    url = f"{live_server.http}/v1/models"
    assert httpx.get(url).status_code == 401
    assert httpx.get(url, headers={"Authorization": "Bearer wrong"}).status_code == 401
    evil = httpx.get(url, headers={**live_server.headers, "Origin": "https://evil.example"})
    assert evil.status_code == 403 and evil.json()["error"]["code"] == "auth.origin"
    rebinding = httpx.get(url, headers={**live_server.headers, "Host": f"attacker.example:{live_server.port}"})
    assert rebinding.status_code == 403 and rebinding.json()["error"]["code"] == "auth.host"
    same = httpx.get(url, headers={**live_server.headers, "Origin": live_server.http})
    assert same.status_code == 200


def test_voice_clone_job_reports_progress_can_be_cancelled_and_the_voice_speaks(http, live_server, tmp_path):
    """A Kokoro clone runs as a job with progress; a second one is cancelled; the new voice speaks."""
    import time

    clip = (SPEECH / "arctic_a0007.wav").read_bytes()
    name = f"test_clone_{int(time.time())}"
    r = http.post("/v1/voices/clone", data={"name": name, "engine": "kokoro", "generations": "1",
                                                   "population": "2"},
                  files={"file": ("ref.wav", clip)})
    assert r.status_code == 202, r.text
    job_id = r.json()["id"]
    seen = []
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        job = http.get(f"/v1/jobs/{job_id}").json()
        seen.append(job["progress"])
        if job["status"] in ("done", "failed", "cancelled"):
            break
        time.sleep(0.5)
    assert job["status"] == "done", job
    assert job["progress"] == 1.0 and job["result"]["voice"] == name
    spoken = speech(http, voice=name)
    assert spoken.status_code == 200 and float(spoken.headers["x-atelico-duration"]) > 0.5
    second = http.post("/v1/voices/clone", data={"name": name + "_b", "generations": "50"},
                       files={"file": ("ref.wav", clip)}).json()
    http.delete(f"/v1/jobs/{second['id']}")
    deadline = time.monotonic() + 120
    while http.get(f"/v1/jobs/{second['id']}").json()["status"] in ("queued", "running"):
        assert time.monotonic() < deadline
        time.sleep(0.5)
    assert http.get(f"/v1/jobs/{second['id']}").json()["status"] == "cancelled"
    Path(job["result"]["path"]).unlink()
