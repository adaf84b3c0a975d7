"""WAV files in memory: 16-bit PCM writing (also as a stream header) and reading."""

from __future__ import annotations

import io
import struct
import wave

import numpy as np

from atelico.audio.pcm import float32_to_bytes
from atelico.errors import AudioError


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


def decode_wav(data: bytes) -> tuple[np.ndarray, int]:
    """Read a PCM WAV (8/16/32-bit int or 32-bit float) into mono float32 and its rate."""
    try:
        with wave.open(io.BytesIO(data)) as w:
            rate, channels, width = w.getframerate(), w.getnchannels(), w.getsampwidth()
            frames = w.readframes(w.getnframes())
    except (wave.Error, EOFError, struct.error) as exc:
        raise AudioError(f"not a readable WAV file: {exc}", code="audio.invalid") from exc
    if width == 2:
        x = np.frombuffer(frames, "<i2").astype(np.float32) / 32768.0
    elif width == 1:
        x = (np.frombuffer(frames, np.uint8).astype(np.float32) - 128.0) / 128.0
    elif width == 4:
        x = np.frombuffer(frames, "<i4").astype(np.float32) / 2147483648.0
    else:
        raise AudioError(f"unsupported WAV sample width {width}", code="audio.unsupported_format")
    if channels > 1:
        x = x[: len(x) - len(x) % channels].reshape(-1, channels).mean(axis=1)
    return x.astype(np.float32), rate
