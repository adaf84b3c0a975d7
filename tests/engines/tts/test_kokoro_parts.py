"""Kokoro's halves are cut once into the cache and the sessions open those files; the audio is
the same as from halves cut in memory; a read-only cache or a full disk falls back to halves cut once in memory."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from atelico.engines.tts import kokoro_parts
from atelico.engines.tts.kokoro_align import VOCAB
from atelico.engines.tts.kokoro_backends import ONNX_FILE, OnnxBackend

IDS = [VOCAB[c] for c in "həlˈO ðˈɛɹ" if c in VOCAB]


@pytest.fixture(scope="module")
def model_path(kokoro_assets: dict[str, Path]) -> Path:
    return kokoro_assets["kokoro-82m-onnx-int8"] / ONNX_FILE


def _style() -> np.ndarray:
    return np.linspace(-0.2, 0.2, 256, dtype=np.float32).reshape(1, 256)


def test_halves_are_cut_once_and_give_the_in_memory_audio(model_path: Path, tmp_path: Path):
    cached = OnnxBackend(model_path, threads=2, parts_dir=tmp_path)
    folder = kokoro_parts.parts_folder(model_path, tmp_path)
    plan, decode = folder / kokoro_parts.PLAN_FILE, folder / kokoro_parts.DECODE_FILE
    assert plan.stat().st_size > 10_000_000 and decode.stat().st_size > 10_000_000
    assert [p.name for p in tmp_path.iterdir()] == [folder.name]  # no temp folder left
    stamps = (plan.stat().st_mtime_ns, decode.stat().st_mtime_ns)
    again = OnnxBackend(model_path, threads=2, parts_dir=tmp_path)
    assert (plan.stat().st_mtime_ns, decode.stat().st_mtime_ns) == stamps  # not cut again
    in_memory = OnnxBackend(model_path, threads=2)
    audio, durations = cached.infer(IDS, _style(), 1.0)
    want_audio, want_durations = in_memory.infer(IDS, _style(), 1.0)
    assert np.array_equal(durations, want_durations)
    np.testing.assert_array_equal(audio, want_audio)
    np.testing.assert_array_equal(again.infer(IDS, _style(), 1.0)[0], want_audio)


def test_an_unwritable_cache_cuts_in_memory(model_path: Path, tmp_path: Path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_bytes(b"")  # mkdir under a file fails, even for root
    backend = OnnxBackend(model_path, threads=2, parts_dir=blocker / "parts")
    assert backend.infer(IDS, _style(), 1.0)[0].size > 0
    assert blocker.is_file()


def test_a_damaged_cached_half_is_cut_again(model_path: Path, tmp_path: Path):
    folder = kokoro_parts.parts_folder(model_path, tmp_path)
    folder.mkdir(parents=True)
    (folder / kokoro_parts.PLAN_FILE).write_bytes(b"not onnx")
    (folder / kokoro_parts.DECODE_FILE).write_bytes(b"not onnx")
    backend = OnnxBackend(model_path, threads=2, parts_dir=tmp_path)
    assert backend.infer(IDS, _style(), 1.0)[0].size > 0
    assert not folder.exists()  # discarded; the next load cuts it again


def test_halves_that_cannot_be_saved_are_cut_once_and_used_from_memory(
        model_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A cache that takes the folder but not the files (a full disk): the halves already cut
    serve the sessions; the model is not cut a second time and no partial folder is left."""
    from atelico.engines.tts import kokoro_backends

    cuts: list[Path] = []
    real_cut = kokoro_backends._cut

    def counting_cut(path: Path):
        cuts.append(path)
        return real_cut(path)

    def full_disk(halves, folder: Path) -> None:
        (folder / kokoro_parts.PLAN_FILE).write_bytes(b"partial")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(kokoro_backends, "_cut", counting_cut)
    monkeypatch.setattr(kokoro_parts, "_save", full_disk)
    backend = OnnxBackend(model_path, threads=2, parts_dir=tmp_path)
    assert cuts == [model_path]
    assert list(tmp_path.iterdir()) == []  # neither the temp folder nor a half-written one
    want = OnnxBackend(model_path, threads=2).infer(IDS, _style(), 1.0)[0]
    np.testing.assert_array_equal(backend.infer(IDS, _style(), 1.0)[0], want)
