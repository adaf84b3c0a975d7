"""The app's cross-cutting HTTP behaviour on fake engines: error shape for unknown routes,
security headers, cross-site fetches without an Origin, and what unauthenticated callers see."""

from __future__ import annotations

import io
import time
import wave
from pathlib import Path
from typing import Any, Iterator

import httpx
import pytest

from atelico.config import Settings
from atelico.errors import ModelNotInstalled
from atelico.models.catalog import ModelSpec
from tests.reliability import fakes
from tests.reliability.conftest import _reset_fakes, fake_registry, fake_settings  # noqa: F401 (autouse)
from tests.server.live import LiveServer, ServerThread

pytestmark = pytest.mark.timeout(90)
MISSING_AT = Path.home() / ".cache" / "atelico" / "models" / "missing-tts" / "weights.onnx"


def load_missing(spec: ModelSpec, assets: dict[str, Path], settings: Settings) -> Any:
    """A loader whose weights are not there: its error names the absolute path, like the real ones."""
    raise ModelNotInstalled(f"model file not found at {MISSING_AT}", details={"path": str(MISSING_AT)})


def load_crashing(spec: ModelSpec, assets: dict[str, Path], settings: Settings) -> Any:
    """A loader that crashes with a message naming an absolute path (an engine's own error)."""
    raise RuntimeError(f"cannot map {MISSING_AT}")


def _server(tmp_path: Path, *, token: str | None, preload: list[str]) -> ServerThread:
    settings = fake_settings(tmp_path)
    settings = settings.model_copy(update={
        "server": settings.server.model_copy(update={"token": token}),
        "models": settings.models.model_copy(update={"preload": preload})})
    extra = (ModelSpec(id="missing-tts", kind="tts", loader=f"{__name__}:load_missing"),
             ModelSpec(id="crashing-tts", kind="tts", loader=f"{__name__}:load_crashing"))
    server = ServerThread(settings, fake_registry(settings, *extra))
    server.wait_ready(30)
    return server


@pytest.fixture(scope="module")
def open_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A sidecar started by hand without a token (``atelico serve``), whose preload failed."""
    server = _server(tmp_path_factory.mktemp("open"), token=None, preload=["missing-tts"])
    yield server.live
    server.stop()


@pytest.mark.parametrize("method,path,status,code", [
    ("GET", "/v1/nope", 404, "route.not_found"),
    ("GET", "/static/nope.js", 404, "route.not_found"),
    ("POST", "/v1/models", 405, "route.method_not_allowed"),
    ("DELETE", "/v1/audio/speech", 405, "route.method_not_allowed"),
])
def test_unknown_route_and_wrong_method_use_the_documented_error_shape(open_server, method, path,
                                                                       status, code):
    """404 and 405 answer ``{"error": {code, message, type}}`` like every other error (not
    Starlette's ``{"detail": ...}``); a 405 keeps its Allow header."""
    r = httpx.request(method, open_server.http + path, timeout=10)
    assert r.status_code == status
    body = r.json()
    assert set(body) == {"error"}, body
    assert body["error"]["code"] == code and body["error"]["message"]
    assert body["error"]["type"] == "invalid_request_error"
    if status == 405:
        assert r.headers["allow"]


@pytest.mark.parametrize("path", ["/demo", "/static/app.js", "/health", "/v1/models", "/v1/nope"])
def test_every_response_forbids_framing_referrers_and_sniffing(open_server, path):
    """The demo (and every other response, errors included) sends X-Frame-Options DENY, CSP
    frame-ancestors 'none', Referrer-Policy no-referrer and X-Content-Type-Options nosniff."""
    r = httpx.get(open_server.http + path, timeout=10)
    assert r.headers["x-frame-options"] == "DENY"
    assert r.headers["content-security-policy"] == "frame-ancestors 'none'"
    assert r.headers["referrer-policy"] == "no-referrer"
    assert r.headers["x-content-type-options"] == "nosniff"


def test_cross_site_image_fetch_is_refused_and_loads_no_model(open_server):
    """What an ``<img src=".../v1/voices">`` on another page sends (no Origin, Sec-Fetch-Site
    cross-site, or same-site from another port) is refused with auth.origin, even on a server
    without a token, and no model gets loaded; the same GET from the sidecar's own page or
    from a program still works."""
    for site in ("cross-site", "same-site"):
        img = {"Sec-Fetch-Site": site, "Sec-Fetch-Mode": "no-cors", "Sec-Fetch-Dest": "image"}
        for path in ("/v1/voices", "/v1/voices?model=fake-tts", "/v1/status"):
            r = httpx.get(open_server.http + path, headers=img, timeout=10)
            assert r.status_code == 403 and r.json()["error"]["code"] == "auth.origin", r.text
    registry = open_server.app.state.service.registry
    assert registry.loaded_ids() == [] and fakes.STATS.loads == []
    own = httpx.get(open_server.http + "/v1/voices?model=fake-tts", timeout=10,
                    headers={"Sec-Fetch-Site": "same-origin", "Sec-Fetch-Mode": "cors"})
    assert own.status_code == 200 and own.json()["data"]
    assert httpx.get(open_server.http + "/v1/models", timeout=10).status_code == 200


def test_health_ready_shows_no_filesystem_paths(open_server):
    """/health/ready (open to anyone) reports the failed preload as {model, code, message}
    without the absolute path the loader's error carried; the log keeps the path."""
    r = httpx.get(open_server.http + "/health/ready", timeout=10)
    assert r.status_code == 503
    body = r.json()
    assert body["status"] == "error"
    assert body["errors"] == [{"model": "missing-tts", "code": "model.not_installed",
                               "message": "model file not found at …/weights.onnx"}]
    assert str(Path.home()) not in r.text and "/.cache/" not in r.text


def test_errors_sent_to_clients_redact_paths(open_server):
    """A request whose model is missing gets its coded error with the file name but not the
    folders (message and details alike)."""
    r = httpx.post(open_server.http + "/v1/audio/speech", json={"model": "missing-tts", "input": "hi"},
                   timeout=10)
    assert r.status_code == 424
    err = r.json()["error"]
    assert err["code"] == "model.not_installed" and err["message"].endswith("…/weights.onnx")
    assert err["details"]["path"] == "…/weights.onnx"
    assert str(Path.home()) not in r.text
    r = httpx.post(open_server.http + "/v1/audio/speech", json={"model": "crashing-tts", "input": "hi"},
                   timeout=10)
    assert r.status_code == 500 and r.json()["error"]["code"] == "model.load_failed"
    assert "cannot map …/weights.onnx" in r.json()["error"]["message"] and str(Path.home()) not in r.text
    status = httpx.get(open_server.http + "/v1/status", timeout=10)
    assert any("…/weights.onnx" in e["message"] for e in status.json()["recent_errors"])
    assert str(Path.home()) not in status.text


def _wav(seconds: float = 1.0, rate: int = 16000) -> bytes:
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(b"\x00\x01" * int(seconds * rate))
    return buf.getvalue()


@pytest.mark.parametrize("fields,status,code", [
    ({"name": "nl\n"}, 400, "voice.invalid_name"),
    ({"name": "Hero"}, 400, "voice.invalid_name"),
    ({"name": "x" * 65}, 400, "voice.invalid_name"),
    ({"name": "../evil", "engine": "pocket"}, 400, "voice.invalid_name"),
    ({"name": "alba", "engine": "pocket"}, 409, "voice.exists"),
    ({"name": "taken"}, 409, "voice.exists"),
    ({"name": "taken", "overwrite": "false"}, 409, "voice.exists"),
    ({"name": "taken_pocket", "engine": "pocket"}, 409, "voice.exists"),
    ({"name": "fine", "overwrite": "maybe"}, 400, "request.invalid"),
])
def test_clone_names_are_refused_before_any_job(open_server, fields, status, code):
    """A bad clone name is 400 voice.invalid_name, an existing voice 409 voice.exists (unless
    overwrite=true), answered at once: no job is created and no file is written."""
    voices = open_server.settings.voices_dir
    for engine, file in (("kokoro", "taken.bin"), ("pocket", "taken_pocket.safetensors")):
        (voices / engine).mkdir(parents=True, exist_ok=True)
        (voices / engine / file).write_bytes(b"custom voice")
    before = sorted(p.name for p in voices.rglob("*"))
    jobs = httpx.get(open_server.http + "/v1/jobs", timeout=10).json()["data"]
    r = httpx.post(open_server.http + "/v1/voices/clone", data=fields,
                   files={"file": ("ref.wav", _wav())}, timeout=10)
    assert r.status_code == status, r.text
    assert r.json()["error"]["code"] == code
    assert httpx.get(open_server.http + "/v1/jobs", timeout=10).json()["data"] == jobs
    assert sorted(p.name for p in voices.rglob("*")) == before


def test_clone_with_overwrite_true_starts_a_job(open_server):
    """overwrite=true lets a clone replace an existing custom voice: the job is accepted (202)."""
    voices = open_server.settings.voices_dir / "kokoro"
    voices.mkdir(parents=True, exist_ok=True)
    (voices / "again.bin").write_bytes(b"custom voice")
    r = httpx.post(open_server.http + "/v1/voices/clone", data={"name": "again", "overwrite": "true"},
                   files={"file": ("ref.wav", _wav())}, timeout=10)
    assert r.status_code == 202, r.text
    job = r.json()["id"]
    deadline = time.monotonic() + 30  # let the job end (the fake catalog has no Kokoro to run it)
    while httpx.get(f"{open_server.http}/v1/jobs/{job}", timeout=10).json()["status"] in ("queued",
                                                                                         "running"):
        assert time.monotonic() < deadline, "job did not end"
        time.sleep(0.05)


#: The POST routes of docs/protocol.md ("HTTP equivalents"), their body type and required fields.
DOCUMENTED_BODIES = {
    "/v1/audio/speech": ("application/json", {"model", "input"}),
    "/v1/audio/transcriptions": ("multipart/form-data", {"file", "model"}),
    "/v1/audio/translations": ("multipart/form-data", {"file", "model"}),
    "/v1/audio/face": ("multipart/form-data", {"file"}),
    "/v1/voices/clone": ("multipart/form-data", {"file", "name"}),
}


def test_openapi_documents_every_post_body(open_server):
    """/openapi.json gives every documented POST route a required request body of the right
    media type whose required fields are the documented ones, files as binary strings; the
    fields the routes read are listed."""
    spec = httpx.get(open_server.http + "/openapi.json", timeout=10).json()
    posts = {path for path, ops in spec["paths"].items() if "post" in ops}
    assert posts == set(DOCUMENTED_BODIES)
    for path, (media, required) in DOCUMENTED_BODIES.items():
        body = spec["paths"][path]["post"].get("requestBody")
        assert body and body["required"], path
        schema = body["content"][media]["schema"]
        assert set(schema["required"]) == required, path
        if "file" in required:
            assert schema["properties"]["file"] == {**schema["properties"]["file"], "type": "string",
                                                    "format": "binary"}
    def fields(path: str) -> dict:
        media = DOCUMENTED_BODIES[path][0]
        return spec["paths"][path]["post"]["requestBody"]["content"][media]["schema"]["properties"]

    speech = fields("/v1/audio/speech")
    assert {"voice", "speed", "response_format", "stream", "stream_format", "language"} <= set(speech)
    assert set(speech["response_format"]["enum"]) == {"wav", "pcm", "mp3", "opus", "aac", "flac"}
    clone, stt = fields("/v1/voices/clone"), fields("/v1/audio/transcriptions")
    assert {"engine", "generations", "population", "max_seconds", "overwrite"} <= set(clone)
    assert {"timestamp_granularities[]", "response_format", "language"} <= set(stt)


def test_openapi_documents_responses_and_the_error_shape(open_server):
    """Every operation documents the {"error": ...} body as its default response; speech
    answers audio (not JSON), cloning answers 202, /v1/voices takes an optional model."""
    spec = httpx.get(open_server.http + "/openapi.json", timeout=10).json()
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            ref = op["responses"]["default"]["content"]["application/json"]["schema"]["$ref"]
            assert ref == "#/components/schemas/ErrorBody", (method, path)
    assert spec["components"]["schemas"]["ErrorBody"]["required"] == ["error"]
    speech = spec["paths"]["/v1/audio/speech"]["post"]["responses"]["200"]["content"]
    assert {"audio/wav", "audio/mpeg", "audio/ogg", "text/event-stream"} <= set(speech)
    assert "application/json" not in speech
    assert set(spec["paths"]["/v1/voices/clone"]["post"]["responses"]) == {"202", "default"}
    params = spec["paths"]["/v1/voices"]["get"]["parameters"]
    assert [(p["name"], p["in"], p["required"]) for p in params] == [("model", "query", False)]


def test_documented_bodies_do_not_change_error_codes(open_server):
    """Declaring the bodies leaves the hand-made errors alone: a bad body still gets its own
    request.* code (not FastAPI's 422)."""
    r = httpx.post(open_server.http + "/v1/audio/speech", content=b"{oops", timeout=10,
                   headers={"content-type": "application/json"})
    assert r.status_code == 400 and r.json()["error"]["code"] == "request.invalid_json"
    r = httpx.post(open_server.http + "/v1/audio/speech", json={"input": "hi"}, timeout=10)
    assert r.status_code == 400 and r.json()["error"]["code"] == "request.missing_model"
    r = httpx.post(open_server.http + "/v1/audio/transcriptions", data={"model": "fake-stt"}, timeout=10,
                   files={"other": ("x.txt", b"x")})
    assert r.status_code == 400 and r.json()["error"]["code"] == "request.missing_file"
