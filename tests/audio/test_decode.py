"""The bounded decoder: early refusal from the container, a running budget, bounded memory."""

from __future__ import annotations

import io
import json
import wave
from pathlib import Path

import numpy as np
import pytest

from atelico.audio.codecs import decode_file, encode
from atelico.audio.decode import open_audio
from atelico.audio.pcm import resample
from atelico.errors import AudioError
from tests.audio import bombs
from tests.audio.bombs import PeakRss

SPEECH = Path(__file__).resolve().parents[1] / "data" / "speech"
CLIP = SPEECH / "arctic_a0007.wav"
HOUR = 3600.0
LIMIT = 1800.0  # the default max_audio_s


def peak_growth_mb(fn) -> float:
    """Peak RSS growth of this process while ``fn`` runs (an AudioError ends it as well)."""
    rss = PeakRss().start()
    try:
        fn()
    except AudioError:
        pass
    return rss.growth_mb


def code_of(fn) -> str:
    with pytest.raises(AudioError) as info:
        fn()
    assert info.value.message
    return info.value.code


def test_a_declared_hour_is_refused_before_any_frame_is_decoded():
    """1 h of 192 kHz FLAC (~550 KB) is refused by open_audio itself, from STREAMINFO."""
    data = bombs.cached("flac192k-3600s.flac", lambda: bombs.silence("flac", 192_000, HOUR))
    assert len(data) < 1_000_000
    with pytest.raises(AudioError) as info:
        open_audio(data, max_duration_s=LIMIT, rate=16_000)
    assert info.value.code == "audio.too_long" and "declares 3600" in info.value.message
    assert info.value.details["max_audio_s"] == LIMIT


def test_absurd_rates_are_refused_at_the_probe():
    """655,350 Hz (a real FLAC at FLAC's highest rate, and a WAV header) and 0 Hz are refused
    by open_audio, before the data is touched."""
    flac = bombs.cached("flac655k-60s.flac", lambda: bombs.silence("flac", 655_350, 60))
    for data in (flac, bombs.wav(655_350, 1.0), bombs.wav(0, 0.0) + bytes(100)):
        with pytest.raises(AudioError) as info:
            open_audio(data, max_duration_s=LIMIT)
        assert info.value.code == "audio.invalid" and "sample rate" in info.value.message


@pytest.mark.parametrize("total", [192_000 * 10, 0], ids=["declares 10 s", "declares no length"])
def test_a_lying_header_is_stopped_by_the_running_budget_in_bounded_memory(total):
    """A FLAC holding 1 h at 192 kHz that declares 10 s (or nothing) fails with audio.too_long
    once the decoded seconds pass the limit, and the decoder's peak RSS growth stays far
    under 200 MB (the old decoder expanded it to 1.4 GB of float32 and then doubled it)."""
    data = bombs.lying_flac_length(
        bombs.cached("flac192k-3600s.flac", lambda: bombs.silence("flac", 192_000, HOUR)), total)
    stream = open_audio(data, max_duration_s=LIMIT, rate=16_000)  # the probe lets it through ...
    seen = []

    def consume():
        for block in stream.blocks():
            seen.append(len(block))

    growth = peak_growth_mb(consume)
    assert code_of(lambda: decode_file(data, max_duration_s=60, rate=16_000)) == "audio.too_long"
    assert LIMIT * 16_000 * 0.99 <= sum(seen) <= LIMIT * 16_000 * 1.01  # ... the budget stops it
    assert growth < 50, f"streaming decode grew RSS by {growth:.0f} MB"
    whole = peak_growth_mb(lambda: decode_file(data, max_duration_s=LIMIT, rate=16_000))
    assert whole < 200, f"decode_file grew RSS by {whole:.0f} MB"  # ~115 MB: 1800 s at 16 kHz


@pytest.mark.parametrize("name", ["flac 48 kHz 3600 s", "ogg opus over the limit", "mp3 over the limit",
                                  "wav at 655,350 Hz", "wav of 65535 channels", "flac at 655,350 Hz"])
def test_each_bomb_is_refused_with_its_code_in_bounded_memory(name):
    data, code = bombs.bomb_set(LIMIT / 10)[name]
    growth = peak_growth_mb(lambda: decode_file(data, max_duration_s=LIMIT / 10, rate=16_000))
    assert code_of(lambda: decode_file(data, max_duration_s=LIMIT / 10, rate=16_000)) == code
    assert growth < 50, f"{name}: RSS grew by {growth:.0f} MB"


def test_a_wav_declaring_more_than_it_holds_reads_what_is_there():
    audio, rate = decode_file(bombs.wav(16_000, 1.0, declared_bytes=0xFFFFFFF0), max_duration_s=60)
    assert rate == 16_000 and len(audio) == 16_000


def test_the_budget_is_exact_at_the_limit():
    """A clip of exactly the limit decodes; one second more is audio.too_long (WAV and FLAC)."""
    for seconds, ok in ((10.0, True), (11.0, False)):
        for data in (bombs.wav(8_000, seconds), bombs.silence("flac", 8_000, seconds)):
            if ok:
                audio, _ = decode_file(data, max_duration_s=10.0, rate=16_000)
                assert abs(len(audio) - 16_000 * 10) < 16_000 * 0.6  # FLAC rounds to whole blocks
            else:
                assert code_of(lambda: decode_file(data, max_duration_s=10.0)) == "audio.too_long"


def _pcm_wav(samples: np.ndarray, rate: int, width: int, channels: int = 1) -> bytes:
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(width)
        w.setframerate(rate)
        w.writeframes(samples.tobytes())
    return buf.getvalue()


def test_wav_variants_decode_like_the_reference():
    """8/16/24/32-bit integer, float and stereo WAV decode to the same mono float32, and
    resampling while decoding matches resampling the whole clip (streaming leaves no seams)."""
    t = np.arange(16_000) / 16_000
    ref = (0.5 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
    i16 = np.round(ref * 32767).astype("<i2")
    cases = {
        "16": _pcm_wav(i16, 16_000, 2),
        "8": _pcm_wav((np.round(ref * 127) + 128).astype(np.uint8), 16_000, 1),
        "24": _pcm_wav(np.frombuffer(b"".join(int(v * 8388607).to_bytes(3, "little", signed=True)
                                              for v in ref), np.uint8), 16_000, 3),
        "32": _pcm_wav(np.round(ref * 2147483647).astype("<i4"), 16_000, 4),
        "stereo": _pcm_wav(np.repeat(i16, 2), 16_000, 2, channels=2),
        "float": bombs.wav(16_000, 0.0, bits=32, tag=3)[:-8] + b"data"
                 + len(ref.tobytes()).to_bytes(4, "little") + ref.astype("<f4").tobytes(),
    }
    for name, data in cases.items():
        audio, rate = decode_file(data)
        assert rate == 16_000 and len(audio) == 16_000, name
        assert np.max(np.abs(audio - ref)) < 0.01, name
    audio48, _ = decode_file(cases["16"], rate=48_000)
    whole = resample(ref, 16_000, 48_000)
    assert abs(len(audio48) - len(whole)) <= 64
    n = min(len(audio48), len(whole)) - 200
    assert np.corrcoef(audio48[200:n], whole[200:n])[0, 1] > 0.999


def test_real_speech_in_compressed_formats_and_keep_s():
    """A speech clip survives mp3/flac/opus round trips at 16 kHz; keep_s keeps its start."""
    ref, rate = decode_file(CLIP.read_bytes())
    ref16 = resample(ref, rate, 16_000)
    for fmt in ("flac", "mp3", "opus"):
        audio, out_rate = decode_file(encode(ref, rate, fmt), max_duration_s=60, rate=16_000)
        assert out_rate == 16_000 and abs(len(audio) - len(ref16)) < 16_000 * 0.1, fmt
    head, _ = decode_file(CLIP.read_bytes(), rate=16_000, keep_s=1.0)
    assert len(head) == 16_000
    assert np.max(np.abs(head[100:15_000] - ref16[100:15_000])) < 0.02


def test_garbage_and_empty_inputs():
    assert code_of(lambda: decode_file(b"")) == "audio.empty"
    assert code_of(lambda: decode_file(np.random.default_rng(3).bytes(5000))) == "audio.invalid"
    assert code_of(lambda: decode_file(bombs.wav(16_000, 0.0))) == "audio.empty"
    nan = bombs.wav(16_000, 0.0, bits=32, tag=3)[:-8] + b"data\x10\x00\x00\x00" + np.full(4, np.nan, "<f4").tobytes()
    assert code_of(lambda: decode_file(nan)) == "audio.invalid"
    assert json.loads((SPEECH / "manifest.json").read_text())  # the speech data is present
