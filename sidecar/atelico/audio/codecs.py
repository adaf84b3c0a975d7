"""Decode any audio file (PyAV/FFmpeg) and encode speech as wav, mp3, opus, aac, flac or pcm."""

from __future__ import annotations

import io
import logging
from typing import Any

import numpy as np

from atelico.audio.decode import decode_all
from atelico.audio.pcm import float32_to_bytes
from atelico.audio.resample import resample
from atelico.audio.wav import encode_wav, wav_header
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


#: Formats whose bytes can be sent while the audio is still being synthesized.
STREAMABLE = ("pcm", "wav", "mp3", "opus", "aac")


def encode(audio: np.ndarray, sample_rate_hz: int, fmt: str) -> bytes:
    """Encode mono float32 audio as a complete file of ``fmt`` (see ENCODINGS)."""
    if fmt == "wav":
        return encode_wav(audio, sample_rate_hz)
    if fmt == "pcm":
        return float32_to_bytes(audio, "s16le")
    if fmt not in ENCODINGS:
        raise AudioError(f"unsupported format {fmt!r}; use one of {sorted(ENCODINGS)}",
                         code="audio.unsupported_format")
    encoder = StreamEncoder(fmt, sample_rate_hz, whole=True)
    encoder.push(audio)
    return encoder.finish()


class _Sink(io.RawIOBase):
    """A write-only file that hands out what was written since the last ``take``."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        self._parts.append(bytes(data))
        return len(data)

    def take(self) -> bytes:
        out, self._parts = b"".join(self._parts), []
        return out


class StreamEncoder:
    """One encoder for a whole stream: ``push`` each piece of audio as it is synthesized and
    send the bytes it returns at once; ``finish`` returns the rest. The concatenated bytes are
    one file: one MP3/AAC/Ogg Opus stream (no gap or header between pieces), raw PCM, or a
    WAV whose header has open-ended sizes (its length is not known when it is sent).

    ``whole=True`` (mp3, opus, aac, flac) writes one complete file instead, all of it returned
    by ``finish``: the muxer may then seek back (MP3's gapless Xing/LAME header) and Ogg
    pages stay long. Whole WAV and PCM files come from :func:`encode`.
    """

    def __init__(self, fmt: str, sample_rate_hz: int, *, whole: bool = False) -> None:
        if fmt not in ENCODINGS:
            raise AudioError(f"unsupported format {fmt!r}; use one of {sorted(ENCODINGS)}",
                             code="audio.unsupported_format")
        self.fmt = fmt
        self.in_rate = self.rate = sample_rate_hz
        self._whole = whole
        self._head = wav_header(sample_rate_hz) if fmt == "wav" else b""
        self._samples = 0
        self._out: Any = None
        self._raw = fmt in ("wav", "pcm")
        if self._raw and whole:
            raise ValueError("use encode() for a whole WAV or PCM file")
        if self._raw:
            return
        import av

        container_fmt, codec, _ = ENCODINGS[fmt]
        if codec == "libopus" and self.rate not in (8000, 12000, 16000, 24000, 48000):
            self.rate = 48000
        self._sink: Any = io.BytesIO() if whole else _Sink()
        # short Ogg pages when streaming: a page leaves once it holds 20 ms, not after a second
        options = {"page_duration": "20000"} if container_fmt == "ogg" and not whole else {}
        self._out = av.open(self._sink, mode="w", format=container_fmt, options=options)
        self._stream = self._out.add_stream(codec, rate=self.rate)
        self._stream.layout = "mono"

    def push(self, audio: np.ndarray) -> bytes:
        pcm = np.clip(np.nan_to_num(np.asarray(audio, np.float32)), -1, 1)
        head, self._head = self._head, b""
        if self._raw:
            return head + float32_to_bytes(pcm, "s16le")
        if self._out is None:
            raise RuntimeError("push after finish")
        import av

        pcm = resample(pcm, self.in_rate, self.rate)
        if len(pcm):
            frame = av.AudioFrame.from_ndarray((pcm * 32767).astype(np.int16).reshape(1, -1),
                                               format="s16", layout="mono")
            frame.sample_rate = self.rate
            frame.pts = self._samples
            self._samples += len(pcm)
            for packet in self._stream.encode(frame):
                self._out.mux(packet)
        return b"" if self._whole else self._sink.take()

    def finish(self) -> bytes:
        """The encoder's last bytes (flushed frames, the trailer); nothing may follow."""
        head, self._head = self._head, b""
        if self._out is None:
            return head
        for packet in self._stream.encode(None):
            self._out.mux(packet)
        self.close()
        data: bytes = self._sink.getvalue() if self._whole else self._sink.take()
        return data

    def close(self) -> None:
        """End the container (also when the client went away before ``finish``)."""
        if self._out is not None:
            out, self._out = self._out, None
            out.close()
