"""Pocket voice ids, voice-pack files and the pack directory scan (no model needed)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("safetensors")

from atelico.engines.tts import pocket_voices  # noqa: E402
from atelico.errors import VoiceError  # noqa: E402


def fake_state(seed: int = 0) -> dict[str, dict[str, "torch.Tensor"]]:
    gen = torch.Generator().manual_seed(seed)
    return {f"transformer.layers.{i}.self_attn": {
        "cache": torch.randn(2, 1, 5, 2, 4, generator=gen),
        "offset": torch.tensor([5]), "pad": torch.tensor([0])} for i in range(2)}


def test_builtin_voices_are_the_reference_24_with_alba_default() -> None:
    """Exactly the 24 names of the reference, alba first and default."""
    assert sorted(pocket_voices.BUILTIN_VOICES) == sorted(
        "alba anna azelma bill_boerst caro_davy charles cosette eponine eve fantine george jane "
        "javert jean kate marius mary michael morgan paul peter_yearsley stuart_bell vera "
        "ian".split())
    assert pocket_voices.DEFAULT_VOICE == "alba"


@pytest.mark.parametrize("bad", ["../alba", "a/b", "a\\b", "/etc/passwd", ".hidden", "_x", "-x",
                                 "x.safetensors", "", " ", "x" * 65, "café", "a b", "..", "~"])
def test_path_like_or_odd_voice_ids_are_refused(bad: str) -> None:
    """Anything that is not a plain file stem is voice.invalid (HTTP 400)."""
    with pytest.raises(VoiceError) as info:
        pocket_voices.check_voice_id(bad)
    assert info.value.code == "voice.invalid"
    assert info.value.http_status == 400


@pytest.mark.parametrize("good", ["my_voice", "Bob-2", "x", "a" * 64, "narrator_01"])
def test_plain_voice_ids_are_accepted(good: str) -> None:
    assert pocket_voices.check_voice_id(good) == good


def test_pack_round_trip_is_float32_and_atomic(tmp_path: Path) -> None:
    """A pack reads back equal (cast to the cache dtype), with metadata, and no temp file."""
    state = fake_state()
    state["transformer.layers.0.self_attn"]["cache"] = state[
        "transformer.layers.0.self_attn"]["cache"].to(torch.bfloat16)
    path = pocket_voices.save_state_atomic(state, tmp_path / "v.safetensors", {"weights": "w1"})
    assert sorted(os.listdir(tmp_path)) == ["v.safetensors"]
    assert pocket_voices.read_pack_metadata(path) == {"weights": "w1"}
    back = pocket_voices.load_state(path, torch.device("cpu"), torch.float32)
    assert back.keys() == state.keys()
    for module, tensors in state.items():
        assert back[module]["cache"].dtype == torch.float32
        torch.testing.assert_close(back[module]["cache"], tensors["cache"].float())
        assert back[module]["offset"].dtype == torch.int64
    half = pocket_voices.load_state(path, torch.device("cpu"), torch.float16)
    assert half["transformer.layers.1.self_attn"]["cache"].dtype == torch.float16


def test_failed_write_leaves_neither_pack_nor_temp_file(tmp_path: Path) -> None:
    """A write that fails midway (a non-tensor value) leaves the directory as it was."""
    good = pocket_voices.save_state_atomic(fake_state(1), tmp_path / "v.safetensors", {})
    before = good.read_bytes()
    broken = {"m": {"cache": "not a tensor"}}
    with pytest.raises(Exception):
        pocket_voices.save_state_atomic(
            broken, tmp_path / "v.safetensors", {})  # type: ignore[arg-type]
    assert sorted(os.listdir(tmp_path)) == ["v.safetensors"]
    assert good.read_bytes() == before


def test_legacy_current_end_becomes_offset(tmp_path: Path) -> None:
    """Hub embeddings written by older pocket-tts carry ``current_end``; it maps to offset."""
    import safetensors.torch

    safetensors.torch.save_file({"layer/cache": torch.zeros(2, 1, 7, 2, 4),
                                 "layer/current_end": torch.zeros(7)}, tmp_path / "old.safetensors")
    state = pocket_voices.load_state(tmp_path / "old.safetensors", torch.device("cpu"),
                                     torch.float32)
    assert state["layer"]["offset"].tolist() == [7]


def test_scan_keeps_only_usable_packs(tmp_path: Path) -> None:
    """Packs of other weights, built-in names, bad ids and junk files are skipped."""
    for name, weights in [("mine", "w1"), ("other_weights", "w2"), ("alba", "w1"),
                          ("no_meta", "")]:
        pocket_voices.save_state_atomic(fake_state(), tmp_path / f"{name}.safetensors",
                                        {"weights": weights} if weights else {})
    (tmp_path / "junk.safetensors").write_bytes(b"not a safetensors file")
    (tmp_path / "bad id.safetensors").write_bytes((tmp_path / "mine.safetensors").read_bytes())
    (tmp_path / "notes.txt").write_text("hello")
    found = pocket_voices.scan_packs(tmp_path, "w1")
    assert sorted(found) == ["mine", "no_meta"]
    assert found["mine"].path == tmp_path / "mine.safetensors"
    assert pocket_voices.scan_packs(tmp_path / "missing", "w1") == {}
