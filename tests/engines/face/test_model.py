"""Behaviour of the face engine on real recorded speech: lips, jaw, silence, timing, streaming."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from scipy.signal import resample_poly

from atelico.engines.base import ARKIT_BLENDSHAPES, AudioToFace, PhonemeTiming, SpeechChunk
from atelico.engines.face.model import FaceEngine, frame_count, load
from atelico.engines.face.rig import MOUTH_CHANNELS, SYMMETRIC_PAIRS
from atelico.errors import AudioError, RequestError

from .conftest import Clip

I = {n: i for i, n in enumerate(ARKIT_BLENDSHAPES)}
MOUTH = [I[n] for n in MOUTH_CHANNELS]
BILABIALS = {"P", "B", "M"}
OPEN_VOWELS = {"AA", "AE", "AO"}


def frames_inside(phones: list[PhonemeTiming], wanted: set[str], n: int,
                  margin_s: float = 0.0) -> np.ndarray:
    """Frame indices whose instant lies inside a phone of ``wanted`` (shrunk by ``margin_s``)."""
    t = np.arange(n) / 30.0
    mask = np.zeros(n, bool)
    for p in phones:
        if p.phoneme in wanted:
            mask |= (t >= p.start_s + margin_s) & (t < p.end_s - margin_s)
    return np.flatnonzero(mask)


def voiced_tone(duration_s: float, rate: int = 16_000, f0_hz: float = 120.0) -> np.ndarray:
    """A loud harmonic buzz (a stand-in for voiced speech where only timing matters)."""
    t = np.arange(int(duration_s * rate)) / rate
    x = sum(np.sin(2 * np.pi * f0_hz * h * t) / h for h in range(1, 15))
    return (0.2 * x / np.max(np.abs(x))).astype(np.float32)


def test_engine_satisfies_the_protocol_and_loader(tmp_path: Path) -> None:
    """``load`` builds a FaceEngine that is an AudioToFace with the three reference characters."""
    from atelico.config import load_settings

    engine = load(None, {}, load_settings({"models": {"cache_dir": tmp_path}}, env={}))
    assert isinstance(engine, AudioToFace)
    assert engine.model_id == "face"
    assert {"claire", "james", "mark"} <= set(engine.characters())


def test_engine_has_the_streaming_capabilities_the_service_uses(engine: FaceEngine) -> None:
    """FaceEngine is FaceStreaming and TtsFaceAlignment: streams opened with the protocols'
    keyword calls tile ceil(duration * 30) frames."""
    from atelico.engines.base import FaceStreaming, TtsFaceAlignment

    assert isinstance(engine, FaceStreaming) and isinstance(engine, TtsFaceAlignment)
    audio = (0.1 * np.random.default_rng(3).standard_normal(24_000)).astype(np.float32)
    live = engine.stream(character="claire", sample_rate_hz=24_000)
    blocks = [b for b in (live.push(audio[:10_000]), live.push(audio[10_000:]), live.finish())
              if b is not None]
    assert sum(len(b.weights) for b in blocks) == frame_count(24_000, 24_000) == 30
    tts = engine.tts_face(character="claire", sample_rate_hz=24_000)
    start, weights = tts.push(SpeechChunk(0, "hi", audio, 24_000))
    assert start == 0 and weights.shape == (30, len(ARKIT_BLENDSHAPES))
    assert tts.finish() is None


@pytest.mark.parametrize("n_samples,rate", [(1, 16_000), (8_000, 16_000), (16_000, 16_000),
                                            (533, 16_000), (534, 16_000), (12_345, 24_000),
                                            (44_100, 44_100), (7, 8_000)])
def test_frame_count_is_ceil_of_duration_times_30(engine: FaceEngine, n_samples: int,
                                                  rate: int) -> None:
    """N = ceil(duration x 30) for every mode, including 1 sample and 0.5 s."""
    rng = np.random.default_rng(n_samples)
    audio = (0.1 * rng.standard_normal(n_samples)).astype(np.float32)
    expected = int(np.ceil(n_samples / rate * 30 - 1e-9))
    assert frame_count(n_samples, rate) == expected
    for mode in ("audio", "recognize"):
        w = engine.run(audio, sample_rate_hz=rate, mode=mode)
        assert w.shape == (expected, 52) and w.dtype == np.float32
    phones = [PhonemeTiming("m", 0.0, n_samples / rate)]
    assert engine.run(audio, sample_rate_hz=rate, phonemes=phones).shape == (expected, 52)


def test_empty_audio_gives_no_frames(engine: FaceEngine) -> None:
    """Zero samples: a [0, 52] matrix, not an error."""
    assert engine.run(np.zeros(0, np.float32)).shape == (0, 52)


@pytest.mark.parametrize("kind", ["noise", "clipped", "very_loud", "int16"])
def test_weights_stay_finite_and_in_range(engine: FaceEngine, clips: dict[str, Clip],
                                          kind: str) -> None:
    """Noise, clipped, 100x over-range and integer input all give finite weights in [0, 1]."""
    clip = clips["goforward"]
    rng = np.random.default_rng(3)
    audio: np.ndarray
    if kind == "noise":
        audio = rng.uniform(-1, 1, 48_000).astype(np.float32)
    elif kind == "clipped":
        audio = np.clip(clip.audio * 40.0, -1.0, 1.0)
    elif kind == "very_loud":
        audio = clip.audio * 100.0
    else:
        audio = (clip.audio * 32767).astype(np.int16)
    for mode in ("audio", "recognize", "align"):
        w = engine.run(audio, sample_rate_hz=16_000, text=clip.text, mode=mode)
        assert np.all(np.isfinite(w)) and w.min() >= 0.0 and w.max() <= 1.0


def test_non_finite_audio_is_refused(engine: FaceEngine) -> None:
    """NaN samples raise AudioError (audio.invalid) instead of animating garbage."""
    audio = np.zeros(1600, np.float32)
    audio[10] = np.nan
    with pytest.raises(AudioError) as err:
        engine.run(audio)
    assert err.value.code == "audio.invalid"


@pytest.mark.parametrize("mode", ["audio", "recognize", "align", "phonemes"])
def test_digital_silence_is_a_neutral_face(engine: FaceEngine, mode: str) -> None:
    """Silence: every mouth, jaw, cheek, nose and tongue channel stays ~0 (blinks may happen)."""
    silence = np.zeros(16_000 * 4, np.float32)
    phones = [PhonemeTiming("ɑ", 0.5, 1.0), PhonemeTiming("m", 1.0, 1.2)]
    w = engine.run(silence, text="hello there", phonemes=phones if mode == "phonemes" else None,
                   mode=mode)
    assert w[:, MOUTH].max() < 1e-3
    assert w[:, I["browInnerUp"]].max() < 1e-3


def test_bilabials_close_the_lips(clips: dict[str, Clip], alignments, engine: FaceEngine) -> None:
    """Inside aligned /p b m/: lips sealed and pressed, jaw lower than on open vowels."""
    closed, opened, jaw_closed, jaw_open = [], [], [], []
    for name, clip in clips.items():
        w = engine.run(clip.audio, sample_rate_hz=clip.sample_rate_hz, text=clip.text)
        phones = alignments[name]
        lab = frames_inside(phones, BILABIALS, len(w))
        vow = frames_inside(phones, OPEN_VOWELS, len(w), margin_s=0.02)
        seal = w[:, I["mouthPressLeft"]] + w[:, I["mouthClose"]]
        if len(lab) and len(vow):
            closed.append(seal[lab].mean())
            opened.append(seal[vow].mean())
            jaw_closed.append(w[lab, I["jawOpen"]].mean())
            jaw_open.append(w[vow, I["jawOpen"]].mean())
            assert seal[lab].mean() > 0.5, name
            assert seal[lab].mean() > 4 * seal[vow].mean(), name
    assert len(closed) >= 5
    assert np.mean(jaw_closed) < 0.6 * np.mean(jaw_open)


def test_open_vowels_open_the_jaw(clips: dict[str, Clip], alignments, engine: FaceEngine) -> None:
    """Jaw on AA/AE/AO is wide open and wider than on close vowels and sibilants."""
    open_jaw, other_jaw = [], []
    for name, clip in clips.items():
        w = engine.run(clip.audio, sample_rate_hz=clip.sample_rate_hz, text=clip.text)
        phones = alignments[name]
        vow = frames_inside(phones, OPEN_VOWELS, len(w), margin_s=0.02)
        narrow = frames_inside(phones, {"IY", "UW", "S", "Z", "F", "V"}, len(w), margin_s=0.02)
        open_jaw.extend(w[vow, I["jawOpen"]])
        other_jaw.extend(w[narrow, I["jawOpen"]])
    assert len(open_jaw) > 20 and len(other_jaw) > 20
    assert np.mean(open_jaw) > 0.45
    assert np.mean(open_jaw) > 1.8 * np.mean(other_jaw)


@pytest.mark.parametrize("character", ["claire", "james", "mark"])
def test_lower_face_is_exactly_symmetric(engine: FaceEngine, clips: dict[str, Clip],
                                         character: str) -> None:
    """Every left/right pair below the eyes and brows is identical, in every mode."""
    clip = clips["arctic_a0007"]
    for mode in ("audio", "align"):
        w = engine.run(clip.audio, sample_rate_hz=clip.sample_rate_hz, text=clip.text,
                       character=character, mode=mode)
        for left, right in SYMMETRIC_PAIRS:
            np.testing.assert_array_equal(w[:, I[left]], w[:, I[right]], err_msg=left)


def test_characters_differ_measurably(engine: FaceEngine, clips: dict[str, Clip]) -> None:
    """Mark opens wider than Claire, Claire wider than James; brows and blink rates differ too."""
    clip = clips["sense_and_sensibility_01_austen_64kb-0870"]
    runs = {c: engine.run(clip.audio, sample_rate_hz=clip.sample_rate_hz, text=clip.text,
                          character=c) for c in ("claire", "james", "mark")}
    jaw = {c: w[:, I["jawOpen"]].mean() for c, w in runs.items()}
    assert jaw["mark"] > 1.1 * jaw["claire"] > 1.1 * jaw["james"]
    brows = {c: w[:, I["browInnerUp"]].mean() for c, w in runs.items()}
    assert brows["mark"] > brows["james"] * 1.5
    smooth = {c: np.abs(np.diff(w[:, I["jawOpen"]])).mean() / w[:, I["jawOpen"]].mean()
              for c, w in runs.items()}
    assert smooth["james"] < smooth["mark"]  # James is smoother relative to his amplitude
    blinks = {c: _count_blinks(engine.run(np.zeros(16_000 * 120, np.float32), character=c,
                                          mode="audio")[:, I["eyeBlinkLeft"]])
              for c in ("james", "mark")}
    assert blinks["mark"] > 1.3 * blinks["james"]


def _count_blinks(curve: np.ndarray) -> int:
    closed = curve > 0.5
    return int(np.count_nonzero(closed[1:] & ~closed[:-1]) + closed[0])


def test_blinks_are_periodic_with_natural_randomness(engine: FaceEngine) -> None:
    """Claire blinks at ~18/min, never twice in a row at identical intervals, eyes together."""
    w = engine.run(np.zeros(16_000 * 180, np.float32), character="claire", mode="audio")
    blink = w[:, I["eyeBlinkLeft"]]
    np.testing.assert_array_equal(blink, w[:, I["eyeBlinkRight"]])
    closed = blink > 0.5
    onsets = np.flatnonzero(closed[1:] & ~closed[:-1]) / 30.0
    per_minute = len(onsets) / 3.0
    assert 12 <= per_minute <= 26
    gaps = np.diff(onsets)
    assert gaps.std() > 0.5 and gaps.min() > 0.2


def test_unknown_character_lists_the_known_ones(engine: FaceEngine) -> None:
    """An unknown character raises face.unknown_character with details.known."""
    with pytest.raises(RequestError) as err:
        engine.run(np.zeros(1600, np.float32), character="gandalf")
    assert err.value.code == "face.unknown_character"
    assert {"claire", "james", "mark"} <= set(err.value.details["known"])


def test_characters_can_be_added_as_data_files(tmp_path: Path) -> None:
    """A JSON dropped in the user folder appears (and a malformed one is skipped)."""
    from atelico.engines.face.character import BUILTIN_DIR

    engine = FaceEngine((BUILTIN_DIR, tmp_path))
    assert "zoe" not in engine.characters()
    spec = json.loads((BUILTIN_DIR / "claire.json").read_text())
    spec.update(name="zoe", amplitude={"jaw": 0.3})
    (tmp_path / "zoe.json").write_text(json.dumps(spec))
    (tmp_path / "broken.json").write_text("{not json")
    assert "zoe" in engine.characters() and "broken" not in engine.characters()
    tone = voiced_tone(1.0)
    phones = [PhonemeTiming("ɑ", 0.1, 0.9)]
    quiet = engine.run(tone, phonemes=phones, character="zoe")[:, I["jawOpen"]].max()
    normal = engine.run(tone, phonemes=phones, character="claire")[:, I["jawOpen"]].max()
    assert quiet < 0.45 * normal


@pytest.mark.parametrize("symbols", [("ɑ", "m", "p", "ɑ"), ("AA1", "M", "P", "AA0")])
def test_tts_phonemes_drive_the_mouth_frame_exactly(engine: FaceEngine,
                                                    symbols: tuple[str, ...]) -> None:
    """Given phone timing (IPA or ARPAbet), the lips are sealed exactly inside m/p ± 1 frame."""
    a, m, p, a2 = symbols
    phones = [PhonemeTiming(a, 0.20, 0.60), PhonemeTiming(m, 0.60, 0.72),
              PhonemeTiming(a, 0.72, 1.10), PhonemeTiming(p, 1.10, 1.19),
              PhonemeTiming(a2, 1.19, 1.60)]
    w = engine.run(voiced_tone(1.8), phonemes=phones, character="claire")
    press = w[:, I["mouthPressLeft"]] / 0.7  # claire's press amplitude
    t = np.arange(len(w)) / 30.0
    for start, end in ((0.60, 0.72), (1.10, 1.19)):
        inside = (t >= start) & (t < end)
        assert inside.any() and press[inside].min() > 0.9
        far = ((t < start - 1.5 / 30) & (t > start - 0.3)) | ((t >= end + 1.5 / 30) & (t < end + 0.3))
        assert press[far].max() < 0.6
        assert w[(t > start - 0.3) & (t < start - 0.1), I["jawOpen"]].min() > 0.4


def test_stream_equals_offline_audio_path(engine: FaceEngine, clips: dict[str, Clip]) -> None:
    """Pushing audio in random pieces gives the offline audio-only frames, contiguous."""
    clip = clips["sense_and_sensibility_01_austen_64kb-0890"]
    for rate in (16_000, 24_000):
        audio = clip.audio if rate == 16_000 else \
            resample_poly(clip.audio, 3, 2).astype(np.float32)
        offline = engine.run(audio, sample_rate_hz=rate, character="mark", mode="audio")
        stream = engine.stream(character="mark", sample_rate_hz=rate)
        rng = np.random.default_rng(rate)
        got, pos, next_frame = [], 0, 0
        while pos < len(audio):
            size = int(rng.integers(1, 4000))
            for block in (stream.push(audio[pos:pos + size]),):
                if block is not None:
                    assert block.start_frame == next_frame
                    next_frame += len(block.weights)
                    got.append(block.weights)
            pos += size
        tail = stream.finish()
        if tail is not None:
            assert tail.start_frame == next_frame
            got.append(tail.weights)
        streamed = np.concatenate(got)
        assert streamed.shape == offline.shape
        np.testing.assert_allclose(streamed, offline, atol=1e-5)


def test_tts_chunks_are_continuous(engine: FaceEngine, clips: dict[str, Clip], alignments) -> None:
    """Chunks of one utterance tile the frames and join without a jump at the boundary."""
    clip = clips["sense_and_sensibility_01_austen_64kb-0870"]
    phones = alignments[clip.name]
    cut_s = 3.0
    cut = int(cut_s * clip.sample_rate_hz)
    parts = [(clip.audio[:cut], [p for p in phones if p.end_s <= cut_s]),
             (clip.audio[cut:], [PhonemeTiming(p.phoneme, p.start_s - cut_s, p.end_s - cut_s)
                                  for p in phones if p.end_s > cut_s])]
    tts = engine.tts_face(character="claire", sample_rate_hz=clip.sample_rate_hz)
    blocks = [tts.push(SpeechChunk(i, "", audio, clip.sample_rate_hz, phonemes=tuple(ph)))
              for i, (audio, ph) in enumerate(parts)]
    assert tts.finish() is None
    assert blocks[0][0] == 0 and blocks[1][0] == len(blocks[0][1])
    joined = np.concatenate([b[1] for b in blocks])
    assert len(joined) == frame_count(len(clip.audio), clip.sample_rate_hz)
    whole = engine.run(clip.audio, sample_rate_hz=clip.sample_rate_hz, phonemes=phones)
    jump = np.abs(np.diff(joined[:, MOUTH], axis=0)).max(axis=1)
    boundary = len(blocks[0][1]) - 1
    assert jump[boundary] <= np.percentile(jump, 95)
    far = np.r_[0:boundary - 10, boundary + 10:len(joined)]
    np.testing.assert_allclose(joined[far][:, MOUTH], whole[far][:, MOUTH], atol=0.02)


def test_audio_only_jaw_follows_loudness(engine: FaceEngine, clips: dict[str, Clip]) -> None:
    """With no phones at all the jaw moves with speech: correlation with the RMS envelope."""
    for name in ("arctic_a0007", "sense_and_sensibility_01_austen_64kb-0920"):
        clip = clips[name]
        w = engine.run(clip.audio, sample_rate_hz=clip.sample_rate_hz, mode="audio")
        hop = clip.sample_rate_hz // 30
        env = np.array([np.sqrt(np.mean(clip.audio[max(0, k * hop - 400):k * hop + 400] ** 2))
                        for k in range(len(w))])
        r = np.corrcoef(w[:, I["jawOpen"]], env)[0, 1]
        assert r > 0.6, (name, r)
        assert w[:, I["jawOpen"]].max() > 0.5


def test_curves_are_smooth(engine: FaceEngine, clips: dict[str, Clip]) -> None:
    """No frame-to-frame jitter: hardly any up-down-up zig-zags of the jaw."""
    clip = clips["sense_and_sensibility_01_austen_64kb-0920"]
    for mode in ("align", "recognize", "audio"):
        jaw = engine.run(clip.audio, sample_rate_hz=clip.sample_rate_hz, text=clip.text,
                         mode=mode)[:, I["jawOpen"]]
        d = np.diff(jaw)
        zigzag = (d[:-1] * d[1:] < 0) & (np.minimum(np.abs(d[:-1]), np.abs(d[1:])) > 0.05)
        assert zigzag.mean() < 0.05, mode


def test_other_sample_rates_match_16k(engine: FaceEngine, clips: dict[str, Clip]) -> None:
    """44.1 kHz input (resampled for the aligner) animates like the 16 kHz original."""
    clip = clips["arctic_a0007"]
    hi = resample_poly(clip.audio, 441, 160).astype(np.float32)
    a = engine.run(clip.audio, sample_rate_hz=16_000, text=clip.text)
    b = engine.run(hi, sample_rate_hz=44_100, text=clip.text)
    assert a.shape == b.shape
    assert np.corrcoef(a[:, I["jawOpen"]], b[:, I["jawOpen"]])[0, 1] > 0.95


def test_wrong_text_falls_back_to_recognition(engine: FaceEngine, clips: dict[str, Clip]) -> None:
    """A transcript that does not fit still gives a moving mouth (and never an exception)."""
    clip = clips["goforward"]
    w = engine.run(clip.audio, text="zebra " * 40)
    assert w.shape[0] == frame_count(len(clip.audio), 16_000)
    assert w[:, I["jawOpen"]].max() > 0.3
