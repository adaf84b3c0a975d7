"""audio.payload: a request's payload as samples, by its (pure) description."""

from __future__ import annotations

import numpy as np
import pytest

from atelico.audio.payload import to_float32
from atelico.audio.wav import encode_wav
from atelico.errors import AudioError
from atelico.protocol.audio_desc import AudioDescription


def test_raw_pcm_keeps_its_rate_and_mixes_channels():
    desc = AudioDescription.from_data({"sample_rate_hz": 8000, "sample_format": "s16le", "channels": 2})
    stereo = np.array([[16384, -16384], [32767, 32767]], "<i2").tobytes()
    audio, rate = to_float32(desc, stereo)
    assert rate == 8000 and audio.dtype == np.float32
    np.testing.assert_allclose(audio, [0.0, 32767 / 32768], atol=1e-4)


def test_a_file_is_decoded_to_16_khz():
    tone = (0.3 * np.sin(np.arange(24000) * 2 * np.pi * 440 / 24000)).astype(np.float32)
    audio, rate = to_float32(AudioDescription.from_data({"encoding": "wav"}), encode_wav(tone, 24000))
    assert rate == 16000 and abs(len(audio) - 16000) <= 16


@pytest.mark.parametrize("payload,limit,code", [(None, None, "audio.empty"), (b"", None, "audio.empty"),
                                                (b"\x00" * 4000, 0.1, "audio.too_long"),
                                                (b"\x00" * 3, None, "audio.invalid")])
def test_refusals(payload, limit, code):
    desc = AudioDescription.from_data({"sample_rate_hz": 16000})
    with pytest.raises(AudioError) as err:
        to_float32(desc, payload, max_duration_s=limit)
    assert err.value.code == code
