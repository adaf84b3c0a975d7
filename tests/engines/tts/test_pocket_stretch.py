"""WSOLA time-stretching used for Pocket TTS ``speed``: tempo changes, pitch does not."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from atelico.engines.tts.pocket_stretch import time_stretch

SR = 24_000


def tone_bursts(seconds: float = 3.0, burst_every_s: float = 0.5, pitch_hz: float = 200.0
                ) -> np.ndarray:
    """200 Hz bursts of 100 ms every ``burst_every_s``: a tempo we can measure."""
    t = np.arange(int(seconds * SR)) / SR
    gate = (np.mod(t, burst_every_s) < 0.1).astype(np.float32)
    return (0.5 * np.sin(2 * np.pi * pitch_hz * t) * gate).astype(np.float32)


def peak_hz(audio: np.ndarray) -> float:
    spectrum = np.abs(np.fft.rfft(audio * np.hanning(len(audio))))
    return float(np.fft.rfftfreq(len(audio), 1 / SR)[np.argmax(spectrum)])


def burst_onsets_s(audio: np.ndarray) -> np.ndarray:
    """Times where the 5 ms envelope rises above half the peak."""
    frame = SR // 200
    env = np.abs(audio[: len(audio) // frame * frame]).reshape(-1, frame).max(axis=1)
    loud = env > 0.5 * env.max()
    rises = np.flatnonzero(loud[1:] & ~loud[:-1]) + 1
    return rises * frame / SR


@pytest.mark.parametrize("speed", [0.5, 0.8, 1.5, 2.0, 4.0])
def test_duration_scales_and_pitch_stays(speed: float) -> None:
    """Output lasts duration/speed, keeps the 200 Hz pitch, and the bursts come speed× faster."""
    x = tone_bursts()
    y = time_stretch(x, speed, SR)
    assert y.dtype == np.float32 and y.ndim == 1
    assert len(y) == round(len(x) / speed)
    assert abs(peak_hz(y) - 200.0) < 3.0
    intervals = np.diff(burst_onsets_s(y))
    assert len(intervals) >= 3
    assert np.median(intervals) == pytest.approx(0.5 / speed, rel=0.1)
    assert np.abs(y).max() <= 0.55  # overlap-add is normalized: no gain change


def test_speed_one_is_identity() -> None:
    """speed 1.0 returns the samples unchanged."""
    x = tone_bursts(1.0)
    np.testing.assert_array_equal(time_stretch(x, 1.0, SR), x)


@pytest.mark.parametrize("speed", [0.2, 4.5, 0.0, -1.0])
def test_speed_out_of_range_is_refused(speed: float) -> None:
    """Only 0.25–4.0 is accepted, as in the protocol."""
    with pytest.raises(ValueError):
        time_stretch(tone_bursts(0.5), speed, SR)


def test_short_and_empty_audio() -> None:
    """Audio shorter than one frame and empty audio still come back at the right length."""
    assert len(time_stretch(np.zeros(0, np.float32), 2.0, SR)) == 0
    short = np.ones(100, np.float32) * 0.1
    assert len(time_stretch(short, 2.0, SR)) == 50




@pytest.mark.slow
@pytest.mark.parametrize("speed", [0.75, 1.5])
def test_stretched_real_speech_stays_intelligible(whisper: Any, speed: float) -> None:
    """Recorded speech time-stretched by WSOLA is still transcribed right by Whisper tiny.en.

    ``whisper`` is the session's faster-whisper tiny.en (tests/engines/tts/conftest.py).
    Measured: WER 0-0.09 from 0.5x to 1.5x; at 2x words start to drop (0.14).
    """
    import soundfile

    from tests.helpers.wer import word_error_rate

    speech = Path(__file__).resolve().parents[2] / "data" / "speech"
    manifest = {e["file"]: e["transcript"]
                for e in json.loads((speech / "manifest.json").read_text())}
    for name in ("sense_and_sensibility_01_austen_64kb-0870.wav",
                 "sense_and_sensibility_01_austen_64kb-0890.wav"):
        audio, rate = soundfile.read(str(speech / name), dtype="float32")
        stretched = time_stretch(audio, speed, rate)
        segments, _ = whisper.transcribe(stretched, language="en", beam_size=5,
                                         condition_on_previous_text=False)
        text = " ".join(s.text for s in segments)
        assert word_error_rate(manifest[name], text) <= 0.1, text
