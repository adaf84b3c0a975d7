"""Unit tests for atelico.audio.pcm: description checks, PCM bytes <-> float32, downmixing.

The expected bytes are built with ``struct`` (an independent oracle), not with the encoder.
"""

from __future__ import annotations

import struct

import numpy as np
import pytest

from atelico.audio import pcm
from atelico.audio.resample import resample
from atelico.errors import AudioError


def _codes(excinfo: pytest.ExceptionInfo[AudioError]) -> tuple[str, object]:
    return excinfo.value.code, excinfo.value.details.get("field")


@pytest.mark.parametrize("rate,fmt,channels", [(1_000, "s16le", 1), (384_000, "f32le", 8),
                                               (44_100, "s16le", 2)])
def test_check_description_accepts_the_bounds(rate: int, fmt: str, channels: int) -> None:
    assert pcm.check_description(rate, fmt, channels) == (rate, fmt, channels)


@pytest.mark.parametrize("rate,fmt,channels,code,field", [
    (999, "s16le", 1, "audio.invalid", "sample_rate_hz"),
    (384_001, "s16le", 1, "audio.invalid", "sample_rate_hz"),
    (True, "s16le", 1, "audio.invalid", "sample_rate_hz"),  # bool is not an int here
    (16_000.0, "s16le", 1, "audio.invalid", "sample_rate_hz"),
    (16_000, "s24le", 1, "audio.unsupported_format", "sample_format"),
    (16_000, "s16le", 0, "audio.invalid", "channels"),
    (16_000, "s16le", 9, "audio.invalid", "channels"),
    (16_000, "s16le", False, "audio.invalid", "channels"),
])
def test_check_description_names_the_bad_field(rate: object, fmt: object, channels: object,
                                               code: str, field: str) -> None:
    with pytest.raises(AudioError) as excinfo:
        pcm.check_description(rate, fmt, channels)
    assert _codes(excinfo) == (code, field)


def test_s16le_bytes_decode_to_scaled_floats() -> None:
    data = struct.pack("<4h", 0, 16384, -32768, 32767)
    out = pcm.bytes_to_float32(data, "s16le")
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, [0.0, 0.5, -1.0, 32767 / 32768])


def test_f32le_bytes_are_clipped_to_unit_range() -> None:
    data = struct.pack("<3f", 0.25, 1.5, -2.0)
    np.testing.assert_array_equal(pcm.bytes_to_float32(data, "f32le"), [0.25, 1.0, -1.0])


def test_interleaved_channels_are_averaged() -> None:
    data = struct.pack("<4h", 16384, 0, -16384, -16384)  # frames (0.5, 0), (-0.5, -0.5)
    np.testing.assert_array_equal(pcm.bytes_to_float32(data, "s16le", channels=2), [0.25, -0.5])
    assert pcm.downmix(np.array([1.0, 2.0, 3.0], np.float32), 1).tolist() == [1.0, 2.0, 3.0]


@pytest.mark.parametrize("data,fmt,channels", [(b"\x00", "s16le", 1), (b"\x00" * 6, "f32le", 1),
                                               (b"\x00" * 6, "s16le", 2)])
def test_partial_frames_are_refused(data: bytes, fmt: str, channels: int) -> None:
    with pytest.raises(AudioError) as excinfo:
        pcm.bytes_to_float32(data, fmt, channels)
    assert excinfo.value.code == "audio.invalid"
    assert "whole number" in excinfo.value.message


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), float("-inf")])
def test_non_finite_f32le_samples_are_refused(bad: float) -> None:
    with pytest.raises(AudioError) as excinfo:
        pcm.bytes_to_float32(struct.pack("<2f", 0.0, bad), "f32le")
    assert excinfo.value.code == "audio.invalid"


def test_unknown_formats_are_refused_both_ways() -> None:
    for call in (lambda: pcm.bytes_to_float32(b"\x00" * 4, "u8"),
                 lambda: pcm.float32_to_bytes(np.zeros(2, np.float32), "u8")):
        with pytest.raises(AudioError) as excinfo:
            call()
        assert excinfo.value.code == "audio.unsupported_format"


def test_float32_to_s16le_rounds_clips_and_zeroes_nan() -> None:
    x = np.array([0.5, -0.5, 2.0, -2.0, np.nan, 0.75 / 32767], np.float32)
    assert pcm.float32_to_bytes(x, "s16le") == struct.pack("<6h", 16384, -16384, 32767, -32767,
                                                           0, 1)


def test_float32_to_f32le_is_little_endian_ieee() -> None:
    x = np.array([0.125, -1.0, 3.0], np.float32)
    assert pcm.float32_to_bytes(x, "f32le") == struct.pack("<3f", 0.125, -1.0, 1.0)


def test_f32le_round_trip_is_exact_and_s16le_within_one_and_a_half_steps() -> None:
    """s16le is written as x * 32767 and read as n / 32768: rounding plus that scale step."""
    x = np.random.default_rng(7).uniform(-1, 1, 1000).astype(np.float32)
    np.testing.assert_array_equal(pcm.bytes_to_float32(pcm.float32_to_bytes(x, "f32le"),
                                                       "f32le"), x)
    back = pcm.bytes_to_float32(pcm.float32_to_bytes(x, "s16le"), "s16le")
    assert np.max(np.abs(back - x)) <= 1.5 / 32768 + 1e-7


def test_to_float32_accepts_int16_and_floats_only() -> None:
    np.testing.assert_array_equal(pcm.to_float32(np.array([-32768, 16384], np.int16)),
                                  [-1.0, 0.5])
    out = pcm.to_float32(np.array([0.5, -0.25], np.float64))
    assert out.dtype == np.float32 and out.tolist() == [0.5, -0.25]
    with pytest.raises(AudioError) as excinfo:
        pcm.to_float32(np.array([1, 2], np.int32))
    assert excinfo.value.code == "audio.invalid" and "int16" in excinfo.value.message
    with pytest.raises(AudioError):
        pcm.to_float32(np.array([0.0, np.nan]))


def test_resample_is_reexported_and_changes_the_length_by_the_ratio() -> None:
    assert pcm.resample is resample
    x = np.zeros(4410, np.float32)
    assert len(resample(x, 44_100, 16_000)) == 1600
    same = resample(x, 16_000, 16_000)
    assert same.dtype == np.float32 and len(same) == 4410


def test_an_odd_rate_is_approximated_with_a_bounded_filter() -> None:
    """383,999 Hz -> 16 kHz would need an exact filter of millions of taps; the length stays
    within 0.05% of the exact ratio."""
    x = np.zeros(38_400, np.float32)
    y = resample(x, 383_999, 16_000)
    assert abs(len(y) - 38_400 * 16_000 / 383_999) / len(y) < 5e-4
