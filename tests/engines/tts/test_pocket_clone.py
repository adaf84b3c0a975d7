"""Pocket TTS instant voice cloning into voice packs, on random weights and real speech clips.

The clips are real recorded speech (CMU ARCTIC, LibriVox via pocketsphinx); with random
weights the pack is not a usable likeness, but the whole path is real: decode, resample,
Mimi encoding, prompting, atomic write, discovery by a fresh engine, synthesis with it.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("pocket_tts")
soundfile = pytest.importorskip("soundfile")

from atelico.config import Settings, load_settings  # noqa: E402
from atelico.engines.tts import pocket_voices  # noqa: E402
from atelico.engines.tts.pocket import PocketEngine, create_voice_pack  # noqa: E402
from atelico.errors import AudioError, VoiceError  # noqa: E402

pytestmark = pytest.mark.slow

SPEECH = Path(__file__).resolve().parents[2] / "data" / "speech"  # tests/data/speech
CLIP = SPEECH / "arctic_a0007.wav"
OTHER_CLIP = SPEECH / "goforward.wav"


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return load_settings({"models": {"cache_dir": tmp_path_factory.mktemp("cache")}}, env={})


@pytest.fixture(scope="module")
def engine(settings: Settings) -> PocketEngine:
    if not CLIP.exists():
        pytest.skip("speech clips not available")
    return PocketEngine.from_random_weights(seed=0, settings=settings)


def first_cache(path: Path) -> torch.Tensor:
    state = pocket_voices.load_state(path, torch.device("cpu"), torch.float32)
    return next(v["cache"] for v in state.values() if "cache" in v)


def test_clone_round_trip(engine: PocketEngine, settings: Settings) -> None:
    """Clip → pack written atomically → a fresh engine lists it (custom) and speaks with it."""
    path = engine.create_voice_pack(CLIP, "my_voice", progress=False)
    assert path == settings.voices_dir / "pocket" / "my_voice.safetensors"
    assert os.listdir(path.parent) == ["my_voice.safetensors"]  # no temp file left
    meta = pocket_voices.read_pack_metadata(path)
    assert meta["weights"] == engine.weights and meta["voice_id"] == "my_voice"
    clip_s = soundfile.info(str(CLIP)).duration
    assert float(meta["reference_s"]) == pytest.approx(clip_s, abs=0.01)

    fresh = PocketEngine.from_random_weights(seed=0, settings=settings)
    assert fresh.weights == engine.weights
    mine = [v for v in fresh.voices() if v.custom]
    assert [(v.id, v.language) for v in mine] == [("my_voice", "en")]
    chunks = list(fresh.synthesize("This is my cloned voice.", voice="my_voice"))
    assert chunks and all(np.isfinite(c.audio).all() and c.audio.size > 0 for c in chunks)
    # Same weights: the pack reloads to the state it was made from.
    key = next(k for k, v in engine._voice_state("my_voice").items() if "cache" in v)
    torch.testing.assert_close(fresh._voice_state("my_voice")[key]["cache"],
                               engine._voice_state("my_voice")[key]["cache"])


def test_pack_depends_on_the_clip_and_samples_match_files(engine: PocketEngine) -> None:
    """Another speaker gives another state; the same clip as samples gives the same state."""
    other = engine.create_voice_pack(OTHER_CLIP, "other_voice", progress=False)
    data, rate = soundfile.read(str(CLIP), dtype="float32")
    same = engine.create_voice_pack(data, "same_voice", sample_rate_hz=rate, progress=False)
    mine = engine._packs_dir / "my_voice.safetensors"
    if not mine.exists():
        engine.create_voice_pack(CLIP, "my_voice", progress=False)
    assert not torch.allclose(first_cache(other)[:, :, :20], first_cache(mine)[:, :, :20])
    torch.testing.assert_close(first_cache(same), first_cache(mine))


def test_max_seconds_trims_the_reference(engine: PocketEngine) -> None:
    """Only the first max_seconds are used (a shorter prompt: fewer cached steps)."""
    path = engine.create_voice_pack(CLIP, "short_voice", max_seconds=1.5, progress=False)
    assert float(pocket_voices.read_pack_metadata(path)["reference_s"]) == pytest.approx(1.5)
    full = engine._packs_dir / "my_voice.safetensors"
    if full.exists():
        assert first_cache(path).shape[2] < first_cache(full).shape[2]


def test_existing_pack_needs_overwrite(engine: PocketEngine) -> None:
    """A second clone to the same id is refused unless overwrite=True."""
    engine.create_voice_pack(CLIP, "twice", progress=False)
    with pytest.raises(VoiceError) as info:
        engine.create_voice_pack(CLIP, "twice", progress=False)
    assert info.value.code == "voice.exists"
    assert engine.create_voice_pack(OTHER_CLIP, "twice", overwrite=True, progress=False).exists()


@pytest.mark.parametrize("voice_id,code", [("../evil", "voice.invalid"), ("a/b", "voice.invalid"),
                                           ("x.safetensors", "voice.invalid"),
                                           ("alba", "voice.exists")])
def test_bad_voice_ids_write_nothing(engine: PocketEngine, voice_id: str, code: str) -> None:
    """Path-like ids and built-in names are refused before any file is touched."""
    before = sorted(os.listdir(engine._packs_dir)) if engine._packs_dir.exists() else []
    with pytest.raises(VoiceError) as info:
        engine.create_voice_pack(CLIP, voice_id, progress=False)
    assert info.value.code == code
    after = sorted(os.listdir(engine._packs_dir)) if engine._packs_dir.exists() else []
    assert after == before
    assert not (engine._packs_dir.parent / "evil.safetensors").exists()


def test_bad_audio_is_refused(engine: PocketEngine, tmp_path: Path) -> None:
    """Too short, silent and unreadable clips are AudioErrors with their own codes."""
    with pytest.raises(AudioError) as short:
        engine.create_voice_pack(np.random.default_rng(0).normal(0, 0.1, 8000).astype(np.float32),
                                 "tiny", sample_rate_hz=16_000, progress=False)
    assert short.value.code == "audio.invalid"
    with pytest.raises(AudioError) as silent:
        engine.create_voice_pack(np.zeros(48_000, np.float32), "quiet", sample_rate_hz=24_000,
                                 progress=False)
    assert silent.value.code == "audio.empty"
    junk = tmp_path / "junk.wav"
    junk.write_bytes(b"RIFF not really a wav")
    with pytest.raises(AudioError) as unreadable:
        engine.create_voice_pack(junk, "junk", progress=False)
    assert unreadable.value.code == "audio.unsupported_format"


def test_module_function_for_the_cli(engine: PocketEngine, settings: Settings) -> None:
    """The CLI's call: create_voice_pack(samples, rate, voice_id=, settings=) or a file path."""
    data, rate = soundfile.read(str(CLIP), dtype="float32")
    path = create_voice_pack(data, rate, voice_id="cli_voice", settings=settings,
                             max_seconds=30, progress=False, engine=engine)
    assert path.parent == settings.voices_dir / "pocket"
    from_file = create_voice_pack(CLIP, voice_id="cli_file", settings=settings, progress=False,
                                  engine=engine)
    torch.testing.assert_close(first_cache(from_file), first_cache(path))
    assert {"cli_voice", "cli_file"} <= {v.id for v in engine.voices() if v.custom}


def test_packs_of_other_weights_are_not_listed(engine: PocketEngine, settings: Settings) -> None:
    """An engine with other weights (another seed) ignores packs it cannot use."""
    engine.create_voice_pack(CLIP, "seed0_voice", overwrite=True, progress=False)
    other = PocketEngine.from_random_weights(seed=1, settings=settings)
    assert not [v for v in other.voices() if v.custom]
    with pytest.raises(VoiceError) as info:
        other.synthesize("Hi.", voice="seed0_voice")
    assert info.value.code == "voice.unknown"


def test_the_cloning_capability_makes_a_listed_voice(engine: PocketEngine,
                                                     settings: Settings) -> None:
    """``VoiceCloning.clone_voice`` (what the service calls for every engine) writes the pack
    from samples, keeps only ``max_seconds`` and lists the voice at once; a set ``cancel``
    stops it before any work."""
    from atelico.engines.base import CloneOptions, TextToSpeech, VoiceCloning, VoiceRescan
    from atelico.errors import Cancelled

    assert isinstance(engine, TextToSpeech) and isinstance(engine, VoiceCloning)
    assert isinstance(engine, VoiceRescan)
    data, rate = soundfile.read(str(CLIP), dtype="float32")
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(Cancelled):
        engine.clone_voice(data, rate, "never_made", cancel=cancel)
    assert "never_made" not in engine.rescan_voices()
    made = engine.clone_voice(data, rate, "cap_voice", options=CloneOptions(max_seconds=1.5))
    assert made.voice_id == "cap_voice" and made.path.is_file()
    assert made.path.parent == settings.voices_dir / "pocket" and made.best_distance is None
    assert "cap_voice" in engine.rescan_voices()
    assert "cap_voice" in {v.id for v in engine.voices() if v.custom}
