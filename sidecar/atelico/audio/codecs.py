"""Decode any audio file (PyAV/FFmpeg) and encode speech as wav, mp3, opus, aac, flac or pcm."""

from __future__ import annotations

import io
import logging

import numpy as np

from atelico.audio.pcm import MAX_SAMPLE_RATE_HZ, MIN_SAMPLE_RATE_HZ, float32_to_bytes, resample
from atelico.audio.wav import decode_wav, encode_wav
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


def decode_file(data: bytes, *, max_duration_s: float | None = None) -> tuple[np.ndarray, int]:
    """Decode an audio file of any common container into mono float32 and its sample rate.

    Raises:
        AudioError: ``audio.empty`` for no bytes or no samples, ``audio.invalid`` when it
            cannot be decoded, ``audio.too_long`` beyond ``max_duration_s``.
    """
    if not data:
        raise AudioError("the audio file is empty", code="audio.empty")
    if data[:4] == b"RIFF" and data[8:12] == b"WAVE":
        try:
            audio, rate = decode_wav(data)
        except AudioError:
            audio, rate = _decode_av(data, max_duration_s)
    else:
        audio, rate = _decode_av(data, max_duration_s)
    if not MIN_SAMPLE_RATE_HZ <= rate <= MAX_SAMPLE_RATE_HZ:
        raise AudioError(f"the file's sample rate {rate} Hz is outside [{MIN_SAMPLE_RATE_HZ}, "
                         f"{MAX_SAMPLE_RATE_HZ}]", code="audio.invalid",
                         details={"sample_rate_hz": rate})
    if audio.size == 0:
        raise AudioError("the audio file holds no samples", code="audio.empty")
    if max_duration_s is not None and len(audio) / rate > max_duration_s:
        raise AudioError(f"audio is {len(audio) / rate:.1f} s long; the limit is {max_duration_s:.0f} s",
                         code="audio.too_long")
    if not np.all(np.isfinite(audio)):
        raise AudioError("audio contains NaN or infinite samples", code="audio.invalid")
    return audio, rate


def _decode_av(data: bytes, max_duration_s: float | None) -> tuple[np.ndarray, int]:
    import av

    try:
        with av.open(io.BytesIO(data), mode="r") as container:
            if not container.streams.audio:
                raise AudioError("the file has no audio stream", code="audio.invalid")
            stream = container.streams.audio[0]
            rate = stream.rate or stream.codec_context.sample_rate
            resampler = av.AudioResampler(format="flt", layout="mono", rate=rate)
            parts: list[np.ndarray] = []
            total = 0
            limit = None if max_duration_s is None else int((max_duration_s + 1) * rate)
            for frame in container.decode(stream):
                for out in resampler.resample(frame):
                    arr = out.to_ndarray().reshape(-1)
                    parts.append(arr)
                    total += len(arr)
                if limit is not None and total > limit:
                    break
            for out in resampler.resample(None):
                parts.append(out.to_ndarray().reshape(-1))
    except AudioError:
        raise
    except Exception as exc:  # av raises many error types for garbage input
        raise AudioError(f"could not decode the audio file: {exc}", code="audio.invalid") from exc
    audio = np.concatenate(parts).astype(np.float32) if parts else np.zeros(0, np.float32)
    return audio, int(rate)


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
