"""Injected faults: disconnects mid-stream, failing loads, crashing engines, a full disk."""

from __future__ import annotations

import asyncio
import errno
import os
import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest

from atelico.protocol.envelope import Message, decode, encode
from tests.reliability import fakes
from tests.reliability.conftest import TERMINAL, connect, server_status, until_terminal, wait_idle

pytestmark = pytest.mark.timeout(90)
PCM16 = {"sample_rate_hz": 16000, "sample_format": "s16le", "channels": 1}


def req(mtype: str, data: dict, rid: str, payload: bytes | None = None) -> bytes:
    return encode(Message(mtype, data, id=rid, payload=payload))


def refcounts(live: Any) -> dict[str, int]:
    registry = live.app.state.service.registry
    with registry._cond:
        return {mid: slot.refcount for mid, slot in registry._slots.items()}


async def wait_for(predicate, timeout_s: float = 5.0) -> bool:
    """Poll ``predicate`` without blocking the event loop (the client's sockets live there)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        await asyncio.sleep(0.02)
    return predicate()


# ---------------------------------------------------------------------- disconnects
async def test_disconnect_mid_stream_cancels_the_work_and_releases_everything(fake_server, tally):
    """A client that drops its TCP connection mid-stream: the engine sees the cancel and
    stops (far fewer chunks than asked), its generator is closed, the model reference is
    returned and the admission slot freed; open live/face streams are released too."""
    fakes.KNOBS.tts_chunk_s = 0.05
    ws = await connect(fake_server)
    await ws.send(req("tts.synthesize", {"input": " ".join(["word"] * 300), "stream": True}, "s"))
    await ws.send(req("stt.live.start", {"model": "fake-stt", "vad": "energy", **PCM16}, "live"))
    await ws.send(req("face.stream.start", PCM16, "face"))
    await ws.send(req("stt.live.audio", {}, "live", np.zeros(1600, "<i2").tobytes()))
    got = 0
    while got < 3:
        msg = decode(await asyncio.wait_for(ws.recv(), 10))
        got += msg.type == "tts.chunk"
    assert await wait_for(lambda: refcounts(fake_server).get("fake-stt") == 1
                    and refcounts(fake_server).get("fake-face") == 1)
    ws.transport.abort()  # no close frame: the TCP connection just dies
    tally.fault()
    assert tally.check(await wait_for(lambda: fakes.STATS.streams_closed == fakes.STATS.streams_started == 1),
                       "stream generator not closed after disconnect")
    assert fakes.STATS.chunks < 100
    assert await wait_for(lambda: all(n == 0 for n in refcounts(fake_server).values())), refcounts(fake_server)
    status = wait_idle(fake_server)
    assert status["queue_depth"] == 0 and status["connections"] == 0


async def test_cancel_mid_stream_ends_with_cancelled_and_nothing_after(fake_server, tally):
    """A cancel mid-stream: the chunks already sent stay in order, then exactly one
    ``cancelled``, and no message for that id afterwards."""
    fakes.KNOBS.tts_chunk_s = 0.05
    ws = await connect(fake_server)
    try:
        await ws.send(req("tts.synthesize", {"input": " ".join(["w"] * 200), "stream": True}, "c"))
        seqs = []
        while len(seqs) < 4:
            msg = decode(await asyncio.wait_for(ws.recv(), 10))
            seqs.append(msg.data["sequence"])
        await ws.send(req("cancel", {}, "c"))
        tally.fault()
        rest = await until_terminal(ws, "c")
        seqs += [m.data["sequence"] for m in rest if m.type == "tts.chunk"]
        assert rest[-1].type == "cancelled"
        assert seqs == list(range(len(seqs)))
        await ws.send(req("ping", {}, "p"))
        assert decode(await asyncio.wait_for(ws.recv(), 10)).type == "pong"  # nothing else for "c"
    finally:
        await ws.close()


# ---------------------------------------------------------------------- model faults
async def test_model_load_failure_is_a_clear_error_and_is_retried(fake_server, tally):
    """A model whose load fails gives model.load_failed (naming the model) to each request,
    is tried again by the next request, shows in /v1/status, and leaves the rest working."""
    ws = await connect(fake_server)
    try:
        for attempt in range(2):
            await ws.send(req("tts.synthesize", {"input": "hi", "model": "broken-tts"}, f"b{attempt}"))
            end = (await until_terminal(ws, f"b{attempt}"))[-1]
            tally.fault()
            assert end.type == "error" and end.data["code"] == "model.load_failed"
            assert end.data["details"]["model"] == "broken-tts"
        assert fakes.STATS.loads.count("broken-tts") == 2
        await ws.send(req("tts.synthesize", {"input": "fine"}, "ok"))
        assert (await until_terminal(ws, "ok"))[-1].type == "done"
    finally:
        await ws.close()
    assert any(e["code"] == "model.load_failed" for e in server_status(fake_server)["recent_errors"])


async def test_engine_crash_mid_stream_keeps_the_chunks_sent_and_ends_with_engine_failed(fake_server, tally):
    """An engine that raises after its first chunks: the client has those chunks, then one
    ``error`` engine.failed; the socket, the model and the server keep working."""
    ws = await connect(fake_server)
    try:
        await ws.send(req("tts.synthesize", {"input": f"one two {fakes.CRASH_WORD} four", "stream": True}, "x"))
        msgs = await until_terminal(ws, "x")
        tally.fault()
        chunks = [m.data["text"] for m in msgs if m.type == "tts.chunk"]
        assert chunks == ["one", "two"]
        assert msgs[-1].type == "error" and msgs[-1].data["code"] == "engine.failed"
        assert "crashed mid-stream" in msgs[-1].data["message"]
        await ws.send(req("tts.synthesize", {"input": "after the crash", "stream": True}, "y"))
        assert (await until_terminal(ws, "y"))[-1].type == "done"
    finally:
        await ws.close()
    assert await wait_for(lambda: all(n == 0 for n in refcounts(fake_server).values()))


def test_engine_crash_over_http_blocking_and_streamed(fake_server, tally):
    """Over HTTP a crash is a 500 engine.failed JSON error (blocking) or, once a stream has
    started, its chunks followed by an ``error`` event (SSE)."""
    with httpx.Client(base_url=fake_server.http, headers=fake_server.headers, timeout=30) as http:
        body = {"model": "fake-tts", "input": f"one {fakes.CRASH_WORD} three"}
        r = http.post("/v1/audio/speech", json=body)
        assert r.status_code == 500 and r.json()["error"]["code"] == "engine.failed"
        r = http.post("/v1/audio/speech", json={**body, "stream": True})
        events = [e for e in r.text.split("\n\n") if e.strip()]
        assert len(events) == 2 and events[0].startswith("data: ")
        assert events[1].startswith("event: error") and "engine.failed" in events[1]
        tally.fault(2)
        assert http.post("/v1/audio/speech", json={"model": "fake-tts", "input": "fine"}).status_code == 200


# ---------------------------------------------------------------------- full disk
class FullDisk:
    """Wraps a binary/text file so that writing more than ``room`` bytes raises ENOSPC."""

    def __init__(self, fh: Any, room: int) -> None:
        self._fh, self._room = fh, room

    def write(self, data: Any) -> int:
        n = len(data)
        if n > self._room:
            if self._room:
                self._fh.write(data[: self._room])
            self._room = 0
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        self._room -= n
        return self._fh.write(data)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._fh, name)

    def __enter__(self) -> "FullDisk":
        return self

    def __exit__(self, *exc: Any) -> None:
        self._fh.close()


def leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name.startswith("."))


def test_full_disk_while_saving_a_kokoro_voice_leaves_the_old_voice_intact(tmp_path, monkeypatch, tally):
    """ENOSPC while writing a cloned Kokoro voice: the error surfaces, the previous voice
    file under that name is unchanged and no temp file is left behind."""
    from atelico.engines.tts import kokoro_voices

    path = tmp_path / "kokoro" / "my_voice.bin"
    old = np.random.default_rng(0).standard_normal((510, 256)).astype(np.float32)
    kokoro_voices.save_voice_file(path, old)
    before = path.read_bytes()
    real_fdopen = os.fdopen
    monkeypatch.setattr(os, "fdopen", lambda fd, *a, **k: FullDisk(real_fdopen(fd, *a, **k), 1000))
    with pytest.raises(OSError) as err:
        kokoro_voices.save_voice_file(path, old * 2)
    tally.fault()
    assert err.value.errno == errno.ENOSPC
    assert path.read_bytes() == before and leftovers(path.parent) == []


def test_full_disk_while_saving_a_pocket_voice_pack_leaves_no_half_file(tmp_path, monkeypatch, tally):
    """ENOSPC while writing a Pocket voice pack: no pack and no temp file exist afterwards."""
    import safetensors.torch
    import torch

    from atelico.engines.tts import pocket_voices

    def half_then_full(tensors: Any, filename: str, metadata: Any = None) -> None:
        Path(filename).write_bytes(b"\0" * 4096)
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(safetensors.torch, "save_file", half_then_full)
    path = tmp_path / "pocket" / "hero.safetensors"
    with pytest.raises(OSError) as err:
        pocket_voices.save_state_atomic({"m": {"x": torch.zeros(4)}}, path, {"voice": "hero"})
    tally.fault()
    assert err.value.errno == errno.ENOSPC
    assert not path.exists() and leftovers(path.parent) == []


def test_full_disk_while_assembling_model_weights_then_recovery(tmp_path, monkeypatch, tally):
    """ENOSPC half-way through assembling the 92 MB Kokoro weights into the cache: the load
    fails with a coded error, the cache holds no file under the real name and no partial
    file; with space again the same call assembles and verifies the weights."""
    from atelico.config import load_settings
    from atelico.errors import AtelicoError
    from atelico.models import assets

    settings = load_settings({"models": {"cache_dir": str(tmp_path), "offline": True}}, env={})
    if not assets.asset_obtainable_locally("kokoro-82m-onnx-int8", settings):
        pytest.skip("the Kokoro weight packages are not installed")
    real_init = assets._VerifyingWriter.__init__

    def init(self: Any, *a: Any, **k: Any) -> None:
        real_init(self, *a, **k)
        self.fh = FullDisk(self.fh, 10 * 2**20)

    monkeypatch.setattr(assets._VerifyingWriter, "__init__", init)
    with pytest.raises((AtelicoError, OSError)) as err:
        assets.ensure_asset("kokoro-82m-onnx-int8", settings, progress=False)
    tally.fault()
    root = tmp_path / "models" / "kokoro-82m-onnx-int8"
    files = sorted(p.name for p in root.rglob("*") if p.is_file()) if root.exists() else []
    assert not any(f.endswith(".onnx") or f.endswith(".partial") for f in files), files
    if isinstance(err.value, AtelicoError):
        assert err.value.code.startswith("model."), err.value.code
    monkeypatch.setattr(assets._VerifyingWriter, "__init__", real_init)
    assert (assets.ensure_asset("kokoro-82m-onnx-int8", settings, progress=False) / "kokoro-v1.0.int8.onnx").stat().st_size == 92_361_271


def test_full_disk_while_writing_a_json_stamp_keeps_the_old_one(tmp_path, monkeypatch, tally):
    """The cache's JSON side files (manifest, stamps) are replaced atomically too."""
    from atelico.models import assets

    path = tmp_path / "stamp.json"
    assets._write_json_atomic(path, {"a": 1})
    real_fdopen = os.fdopen
    monkeypatch.setattr(os, "fdopen", lambda fd, *a, **k: FullDisk(real_fdopen(fd, *a, **k), 3))
    with pytest.raises(OSError):
        assets._write_json_atomic(path, {"a": 2, "b": list(range(100))})
    tally.fault()
    assert path.read_text() and __import__("json").loads(path.read_text()) == {"a": 1}
    assert leftovers(tmp_path) == []


# ---------------------------------------------------------------------- a model file changed on disk
def test_a_tampered_model_file_is_refused_before_load(tmp_path, tally):
    """A cached model file whose bytes no longer match the catalog sha256 is refused with
    model.integrity (naming the file) and the engine's loader never runs."""
    import shutil

    from atelico.errors import ModelIntegrity
    from atelico.models.catalog import ModelSpec
    from tests.conftest import real_settings
    from tests.reliability.conftest import fake_registry, fake_settings

    src = real_settings().models_dir / "kokoro-82m-voices"
    if not src.is_dir():
        pytest.skip("the Kokoro voices are not in the cache")
    settings = fake_settings(tmp_path)
    dest = settings.models_dir / "kokoro-82m-voices"
    shutil.copytree(src, dest)
    victim = dest / "af_heart.bin" if (dest / "af_heart.bin").exists() else next(dest.rglob("*.bin"))
    data = bytearray(victim.read_bytes())
    data[1000] ^= 0xFF
    victim.write_bytes(bytes(data))
    registry = fake_registry(settings, ModelSpec(id="verified-tts", kind="tts", loader=f"{fakes.__name__}:load_tts",
                                                 assets=("kokoro-82m-voices",)))
    with pytest.raises(ModelIntegrity) as err:
        with registry.acquire("verified-tts"):
            pass
    tally.fault()
    assert err.value.code == "model.integrity" and victim.name in err.value.message
    assert "verified-tts" not in fakes.STATS.loads
