"""Decode any audio file (PyAV/FFmpeg) and encode speech as wav, mp3, opus, aac, flac or pcm."""

from __future__ import annotations

import io
import logging
from typing import Any

import numpy as np

from atelico.audio.decode import decode_all
from atelico.audio.pcm import float32_to_bytes, resample
from atelico.audio.wav import encode_wav
from atelico.errors import AudioError

log = logging.getLogger(__name__)

#: response_format -> (container, codec, media type)
ENCODINGS: dict[str, tuple[str | None, str | None, str]] = {
    "wav": (None, None, "audio/wav"),
    "pcm": (None, None, "audio/L16"),
    "mp3": ("mp3", "libmp3lame", "audio/mpeg"),
    "opus": ("ogg", "libopus", "audio/ogg"),
    "aac": ("adts", "aac", "audio/aac"),
    "flac": ("flac", "flac", "audio/flac"),
}


def media_type(fmt: str) -> str:
    return ENCODINGS[fmt][2]


def decode_file(data: Any, *, max_duration_s: float | None = None, rate: int | None = None,
                keep_s: float | None = None) -> tuple[np.ndarray, int]:
    """Decode an audio file (bytes or a seekable binary file) of any common container into
    mono float32 at ``rate`` (default: the file's own rate), within a bounded budget (see
    :mod:`atelico.audio.decode`); ``keep_s`` keeps only the first seconds.

    Raises:
        AudioError: ``audio.empty`` for no bytes or no samples, ``audio.invalid`` when it
            cannot be decoded or its rate is out of range, ``audio.too_long`` beyond
            ``max_duration_s`` (declared by the container or found while decoding).
    """
    return decode_all(data, max_duration_s=max_duration_s, rate=rate, keep_s=keep_s)


def encode(audio: np.ndarray, sample_rate_hz: int, fmt: str) -> bytes:
    """Encode mono float32 audio as a complete file of ``fmt`` (see ENCODINGS)."""
    if fmt == "wav":
        return encode_wav(audio, sample_rate_hz)
    if fmt == "pcm":
        return float32_to_bytes(audio, "s16le")
    if fmt not in ENCODINGS:
        raise AudioError(f"unsupported format {fmt!r}; use one of {sorted(ENCODINGS)}",
                         code="audio.unsupported_format")
    return _encode_av(audio, sample_rate_hz, fmt)


def _encode_av(audio: np.ndarray, sample_rate_hz: int, fmt: str) -> bytes:
    import av

    container_fmt, codec, _ = ENCODINGS[fmt]
    rate = sample_rate_hz
    if codec == "libopus" and rate not in (8000, 12000, 16000, 24000, 48000):
        audio, rate = resample(audio, rate, 48000), 48000
    buf = io.BytesIO()
    with av.open(buf, mode="w", format=container_fmt) as out:
        stream = out.add_stream(codec, rate=rate)
        stream.layout = "mono"
        pcm = np.clip(np.nan_to_num(audio), -1, 1).astype(np.float32)
        s16 = (pcm * 32767).astype(np.int16).reshape(1, -1)
        frame = av.AudioFrame.from_ndarray(s16, format="s16", layout="mono")
        frame.sample_rate = rate
        for packet in stream.encode(frame):
            out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return buf.getvalue()
