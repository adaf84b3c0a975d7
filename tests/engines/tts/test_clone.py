"""Evolutionary Kokoro voice cloning: progress, cancellation, atomic save, the voice speaks."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from atelico.config import Settings
from atelico.engines.tts.clone import (EvolutionConfig, Progress, clone_voice,
                                       feature_distance, speaker_features)
from atelico.engines.tts.kokoro import KokoroEngine
from atelico.errors import AudioError, Cancelled, RequestError
from tests.engines.tts.conftest import rms

SPEECH = Path(__file__).resolve().parents[2] / "data" / "speech"
TINY = EvolutionConfig(generations=2, population=3, elite=1, text="Hello there.")


@pytest.fixture(scope="module")
def reference() -> tuple[np.ndarray, int]:
    """A male LibriVox reader (public domain), 16 kHz."""
    audio, rate = sf.read(SPEECH / "sense_and_sensibility_01_austen_64kb-0880.wav",
                          dtype="float32")
    return audio, rate


def test_features_tell_speakers_apart(reference: tuple[np.ndarray, int]) -> None:
    """The same clip is at distance 0 from itself and farther from a different speaker."""
    audio, rate = reference
    other, other_rate = sf.read(SPEECH / "arctic_a0007.wav", dtype="float32")
    mine = speaker_features(audio, rate)
    assert feature_distance(mine, mine) == 0.0
    half = speaker_features(audio[len(audio) // 2:], rate)
    assert feature_distance(mine, half) < feature_distance(mine, speaker_features(other,
                                                                                  other_rate))


def test_silence_is_not_a_reference() -> None:
    """A silent or empty reference is refused as bad audio."""
    with pytest.raises(AudioError):
        speaker_features(np.zeros(0, np.float32), 16_000)
    with pytest.raises(AudioError):
        speaker_features(np.zeros(200, np.float32), 16_000)


@pytest.mark.slow
def test_clone_reports_progress_saves_atomically_and_speaks(
        kokoro: KokoroEngine, kokoro_settings: Settings,
        reference: tuple[np.ndarray, int]) -> None:
    """A tiny search reports each generation, writes <voices>/kokoro/<id>.bin, and the
    voice is then listed as custom and synthesizes speech."""
    reports: list[Progress] = []
    result = clone_voice(kokoro, *reference, "test_clone", kokoro_settings.voices_dir,
                         config=TINY, progress=reports.append)
    assert [r.generation for r in reports] == [1, 2]
    assert all(r.best_distance <= r.initial_distance for r in reports)
    assert reports[1].best_distance <= reports[0].best_distance
    assert result.path == kokoro_settings.voices_dir / "kokoro" / "test_clone.bin"
    assert result.path.stat().st_size == 510 * 256 * 4
    assert sorted(p.name for p in result.path.parent.iterdir()) == ["test_clone.bin"]
    assert "test_clone" in kokoro.rescan_voices()
    info = next(v for v in kokoro.voices() if v.id == "test_clone")
    assert info.custom
    chunk = kokoro.synthesize_all("The clone can talk.", voice="test_clone")
    assert rms(chunk.audio) > 0.02 and chunk.duration_s > 0.5


@pytest.mark.slow
def test_clone_can_be_cancelled(kokoro: KokoroEngine, tmp_path: Path,
                                reference: tuple[np.ndarray, int]) -> None:
    """Cancelling from the progress callback stops the search and saves nothing."""
    cancel = threading.Event()
    reports: list[Progress] = []

    def on_progress(report: Progress) -> None:
        reports.append(report)
        cancel.set()

    with pytest.raises(Cancelled):
        clone_voice(kokoro, *reference, "cancelled_clone", tmp_path, config=TINY,
                    progress=on_progress, cancel=cancel)
    assert len(reports) == 1
    assert not (tmp_path / "kokoro").exists()


@pytest.mark.slow
@pytest.mark.parametrize("voice_id", ["af_heart", "../evil", ""])
def test_clone_refuses_bad_ids(kokoro: KokoroEngine, tmp_path: Path, voice_id: str,
                               reference: tuple[np.ndarray, int]) -> None:
    """Built-in or path-like ids are refused before any work."""
    with pytest.raises(RequestError):
        clone_voice(kokoro, *reference, voice_id, tmp_path, config=TINY)


@pytest.mark.slow
def test_clone_never_silently_overwrites_a_custom_voice(kokoro: KokoroEngine, tmp_path: Path,
                                                        reference: tuple[np.ndarray, int]) -> None:
    """An existing custom voice of that name (any suffix) is voice.exists (409) before any
    work; overwrite=True replaces it and removes the older file that would shadow the new one;
    a name with a trailing newline is voice.invalid_name and writes nothing."""
    folder = tmp_path / "kokoro"
    folder.mkdir()
    np.save(folder / "mine.npy", np.ones((510, 256), np.float32))
    for name, code in (("mine", "voice.exists"), ("nl\n", "voice.invalid_name")):
        with pytest.raises(RequestError) as err:
            clone_voice(kokoro, *reference, name, tmp_path, config=TINY)
        assert err.value.code == code
    assert sorted(p.name for p in folder.iterdir()) == ["mine.npy"]
    result = clone_voice(kokoro, *reference, "mine", tmp_path, config=TINY, overwrite=True)
    assert sorted(p.name for p in folder.iterdir()) == ["mine.bin"] and result.path == folder / "mine.bin"


@pytest.mark.slow
def test_the_cloning_capability_evolves_a_listed_voice(
        kokoro: KokoroEngine, kokoro_settings: Settings,
        reference: tuple[np.ndarray, int]) -> None:
    """``KokoroEngine.clone_voice`` (the ``VoiceCloning`` capability) runs the search with
    the options' sizes on the first ``max_seconds``, saves into the custom voices folder,
    reports each generation and lists the voice without a rescan by the caller."""
    from atelico.engines.base import CloneOptions, CloneProgress, VoiceCloning

    assert isinstance(kokoro, VoiceCloning)
    reports: list[CloneProgress] = []
    made = kokoro.clone_voice(*reference, "cap_clone", progress=reports.append,
                              options=CloneOptions(max_seconds=4.0, generations=1,
                                                   population=2, elite=5, overwrite=True))
    assert [r.generation for r in reports] == [1]  # elite 5 clamped below population 2
    assert made.path == kokoro_settings.voices_dir / "kokoro" / "cap_clone.bin"
    assert made.best_distance is not None and made.initial_distance is not None
    assert made.best_distance <= made.initial_distance
    assert "cap_clone" in {v.id for v in kokoro.voices() if v.custom}
