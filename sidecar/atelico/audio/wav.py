"""WAV files in memory: 16-bit PCM writing (also as a stream header); reading is in decode.py."""

from __future__ import annotations

import struct

import numpy as np

from atelico.audio.pcm import float32_to_bytes


def wav_header(sample_rate_hz: int, channels: int = 1, bits: int = 16,
               data_bytes: int | None = None) -> bytes:
    """A 44-byte RIFF header. ``data_bytes=None`` writes 0xFFFFFFFF sizes (streamed WAV)."""
    block = channels * bits // 8
    if data_bytes is None:
        riff_size = data_size = 0xFFFFFFFF
    else:
        data_size = data_bytes
        riff_size = 36 + data_bytes
    return (b"RIFF" + struct.pack("<I", riff_size) + b"WAVE" + b"fmt "
            + struct.pack("<IHHIIHH", 16, 1, channels, sample_rate_hz, sample_rate_hz * block, block, bits)
            + b"data" + struct.pack("<I", data_size))


def encode_wav(audio: np.ndarray, sample_rate_hz: int) -> bytes:
    """Mono float32 audio -> a complete 16-bit PCM WAV file."""
    pcm = float32_to_bytes(audio, "s16le")
    return wav_header(sample_rate_hz, data_bytes=len(pcm)) + pcm
