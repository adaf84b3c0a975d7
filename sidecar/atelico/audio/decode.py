"""Bounded decoding of user audio: probe first, refuse early, decode with a running budget.

A compressed file can hold far more audio than its size suggests (an hour of silence at
192 kHz is a 156 KB FLAC, 2.6 GB once decoded as float32). Every path that decodes audio a
client sent goes through :func:`open_audio`, which

1. reads the sample rate, channel count and declared duration from the container (a WAV
   header is parsed here; anything else is probed with PyAV) and refuses an out-of-range
   rate (``audio.invalid``) or a declared duration over the limit (``audio.too_long``)
   before decoding a single frame;
2. decodes frame by frame with a running budget of *decoded seconds*, so a header that lies
   about the length fails with ``audio.too_long`` once the budget is spent, never after the
   whole file has been expanded;
3. downmixes and resamples each block as it goes (``rate=``), so nothing is ever held at the
   source rate: callers get float32 mono blocks at the rate they need (16 kHz for STT/face).
"""

from __future__ import annotations

import io
import struct
from dataclasses import dataclass
from typing import IO, Any, Generator, Iterator

import numpy as np

from atelico.audio.resample import MAX_SAMPLE_RATE_HZ, MIN_SAMPLE_RATE_HZ, StreamResampler
from atelico.errors import AudioError

#: more channels than this in a file is refused (no game audio has them; each costs decode time)
MAX_FILE_CHANNELS = 32
#: source frames read per block from a WAV file
BLOCK_FRAMES = 32_768
#: container durations are estimates for some formats (MP3 without a Xing header): refuse
#: early only beyond this slack; the running budget is exact either way
DECLARED_SLACK = 1.05

@dataclass(frozen=True)
class _Wav:
    fmt: int  # 1 = integer PCM, 3 = IEEE float
    channels: int
    rate: int
    bits: int
    data_offset: int
    data_bytes: int  # what the file really holds (a lying size is cut to the file)


def _as_file(source: Any) -> tuple[IO[bytes], int]:
    if isinstance(source, (bytes, bytearray, memoryview)):
        source = io.BytesIO(bytes(source))
    source.seek(0, io.SEEK_END)
    size = source.tell()
    source.seek(0)
    return source, size


def _check_rate(rate: Any) -> int:
    if not isinstance(rate, int) or not MIN_SAMPLE_RATE_HZ <= rate <= MAX_SAMPLE_RATE_HZ:
        raise AudioError(f"the file's sample rate {rate} Hz is outside [{MIN_SAMPLE_RATE_HZ}, "
                         f"{MAX_SAMPLE_RATE_HZ}]", code="audio.invalid", details={"sample_rate_hz": rate})
    return rate


def _check_channels(channels: int) -> int:
    if not 1 <= channels <= MAX_FILE_CHANNELS:
        raise AudioError(f"the file has {channels} channels; at most {MAX_FILE_CHANNELS} are accepted",
                         code="audio.invalid", details={"channels": channels})
    return channels


def _too_long(seconds: float, limit: float, *, declared: bool) -> AudioError:
    what = "declares" if declared else "holds more than"
    return AudioError(f"the file {what} {seconds:.1f} s of audio; the limit is {limit:.0f} s",
                      code="audio.too_long", details={"max_audio_s": limit})


def _parse_wav(f: IO[bytes], size: int) -> _Wav | None:
    """The fmt and data chunks of a RIFF/WAVE file; None when it is not one this reader
    handles (PyAV then tries it)."""
    head = f.read(12)
    if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
        return None
    fmt: tuple[int, int, int, int] | None = None
    for _ in range(256):  # a bounded walk over the chunks
        chunk = f.read(8)
        if len(chunk) < 8:
            return None
        cid, csize = chunk[:4], struct.unpack("<I", chunk[4:])[0]
        if cid == b"fmt ":
            body = f.read(min(csize, 64))
            if len(body) < 16:
                return None
            tag, channels, rate, _, _, bits = struct.unpack("<HHIIHH", body[:16])
            if tag == 0xFFFE and len(body) >= 26:  # WAVE_FORMAT_EXTENSIBLE: the sub-format GUID
                tag = struct.unpack("<H", body[24:26])[0]
            fmt = (tag, channels, rate, bits)
            f.seek(csize - len(body) + (csize & 1), io.SEEK_CUR)
        elif cid == b"data":
            if fmt is None:
                return None
            tag, channels, rate, bits = fmt
            if (tag, bits) not in ((1, 8), (1, 16), (1, 24), (1, 32), (3, 32), (3, 64)):
                return None
            _check_rate(rate)
            _check_channels(channels)
            offset = f.tell()
            return _Wav(tag, channels, rate, bits, offset, min(csize, max(0, size - offset)))
        else:
            f.seek(csize + (csize & 1), io.SEEK_CUR)
    return None


def _wav_block(raw: bytes, w: _Wav) -> np.ndarray:
    width = w.bits // 8
    usable = len(raw) - len(raw) % (width * w.channels)
    raw = raw[:usable]
    if w.fmt == 3:
        x = np.frombuffer(raw, "<f4" if w.bits == 32 else "<f8").astype(np.float32)
    elif w.bits == 8:
        x = (np.frombuffer(raw, np.uint8).astype(np.float32) - 128.0) / 128.0
    elif w.bits == 16:
        x = np.frombuffer(raw, "<i2").astype(np.float32) / 32768.0
    elif w.bits == 24:
        b = np.frombuffer(raw, np.uint8).reshape(-1, 3)
        wide = np.zeros((len(b), 4), np.uint8)
        wide[:, 1:] = b
        x = (wide.view("<i4").reshape(-1) >> 8).astype(np.float32) / 8388608.0
    else:
        x = np.frombuffer(raw, "<i4").astype(np.float32) / 2147483648.0
    if w.channels > 1:
        x = x.reshape(-1, w.channels).mean(axis=1, dtype=np.float32)
    return x


class AudioStream:
    """An opened, probed audio file. Iterate :meth:`blocks` for float32 mono at ``rate``.

    Attributes:
        source_rate: the file's own sample rate.
        rate: the rate of the blocks (the requested one, else the source rate).
        declared_s: the duration the container declares (None when it does not say).
    """

    def __init__(self, source: Any, *, max_duration_s: float | None = None,
                 rate: int | None = None) -> None:
        self._file, self._size = _as_file(source)
        if self._size == 0:
            raise AudioError("the audio file is empty", code="audio.empty")
        self.max_duration_s = max_duration_s
        self._container: Any = None
        self._wav = _parse_wav(self._file, self._size)
        if self._wav is not None:
            self.source_rate = self._wav.rate
            frames = self._wav.data_bytes // (self._wav.channels * self._wav.bits // 8)
            self.declared_s: float | None = frames / self._wav.rate
        else:
            self._open_av()
        self.rate = rate or self.source_rate
        if max_duration_s is not None and self.declared_s is not None and (
                self.declared_s > max_duration_s * DECLARED_SLACK + 1.0):
            self.close()
            raise _too_long(self.declared_s, max_duration_s, declared=True)

    def _open_av(self) -> None:
        import av

        self._file.seek(0)
        try:
            self._container = av.open(self._file, mode="r")
            streams = self._container.streams.audio
            if not streams:
                raise AudioError("the file has no audio stream", code="audio.invalid")
            stream = streams[0]
            ctx = stream.codec_context
            rate = stream.rate or ctx.sample_rate
            channels = ctx.channels
        except AudioError:
            self.close()
            raise
        except Exception as exc:  # av raises many error types for garbage input
            self.close()
            raise AudioError(f"could not decode the audio file: {exc}", code="audio.invalid") from exc
        try:
            _check_rate(int(rate or 0))
            _check_channels(int(channels or 1))
        except AudioError:
            self.close()
            raise
        self._stream = stream
        self.source_rate = int(rate)
        declared = None
        if stream.duration and stream.time_base:
            declared = float(stream.duration * stream.time_base)
        elif self._container.duration:
            declared = self._container.duration / av.time_base
        self.declared_s = declared

    def close(self) -> None:
        if self._container is not None:
            self._container.close()
            self._container = None

    def __enter__(self) -> "AudioStream":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def blocks(self) -> Generator[np.ndarray, None, None]:
        """Float32 mono blocks at ``rate``; raises AudioError (``audio.too_long`` once more than
        ``max_duration_s`` has been decoded, ``audio.invalid`` for NaN/inf or a corrupt
        stream, ``audio.empty`` when the file holds no samples)."""
        produced = 0
        try:
            raw = self._wav_blocks() if self._wav is not None else self._av_blocks()
            for block in raw:
                if block.size and not np.all(np.isfinite(block)):
                    raise AudioError("audio contains NaN or infinite samples", code="audio.invalid")
                produced += len(block)
                if block.size:
                    yield block
        finally:
            self.close()
        if produced == 0:
            raise AudioError("the audio file holds no samples", code="audio.empty")

    def _budget(self, seconds: float) -> None:
        if self.max_duration_s is not None and seconds > self.max_duration_s:
            raise _too_long(seconds, self.max_duration_s, declared=False)

    def _wav_blocks(self) -> Iterator[np.ndarray]:
        w = self._wav
        assert w is not None
        resample = StreamResampler(w.rate, self.rate) if self.rate != w.rate else None
        frame_bytes = w.channels * w.bits // 8
        self._file.seek(w.data_offset)
        left = w.data_bytes - w.data_bytes % frame_bytes
        frames = 0
        while left > 0:
            raw = self._file.read(min(left, BLOCK_FRAMES * frame_bytes))
            if not raw:
                break
            left -= len(raw)
            block = _wav_block(raw, w)
            frames += len(block)
            self._budget(frames / w.rate)
            yield resample(block) if resample else block
        if resample is not None:
            yield resample.flush()

    def _av_blocks(self) -> Iterator[np.ndarray]:
        import av

        resampler = av.AudioResampler(format="flt", layout="mono", rate=self.rate)
        seconds = 0.0
        try:
            for frame in self._container.decode(self._stream):
                _check_rate(int(frame.sample_rate or 0))
                seconds += frame.samples / frame.sample_rate
                self._budget(seconds)
                for out in resampler.resample(frame):
                    yield out.to_ndarray().reshape(-1)
            for out in resampler.resample(None):
                yield out.to_ndarray().reshape(-1)
        except AudioError:
            raise
        except Exception as exc:  # a stream that breaks mid-way
            raise AudioError(f"could not decode the audio file: {exc}", code="audio.invalid") from exc


def open_audio(source: Any, *, max_duration_s: float | None = None,
               rate: int | None = None) -> AudioStream:
    """Probe ``source`` (bytes or a seekable binary file) and return its :class:`AudioStream`.

    Raises:
        AudioError: ``audio.empty`` (no bytes), ``audio.invalid`` (not decodable, a sample
            rate outside [1 kHz, 384 kHz], too many channels), ``audio.too_long`` (the
            container declares more than ``max_duration_s``).
    """
    return AudioStream(source, max_duration_s=max_duration_s, rate=rate)


def decode_all(source: Any, *, max_duration_s: float | None = None, rate: int | None = None,
               keep_s: float | None = None) -> tuple[np.ndarray, int]:
    """Decode the whole file (or its first ``keep_s`` seconds) into one float32 mono array at
    ``rate`` (default: the file's rate). With a limit, the array is reserved once at its
    largest possible size (pages are only committed as samples arrive), so the peak is the
    result itself, never a grown copy of it, whatever the header claims."""
    stream = open_audio(source, max_duration_s=max_duration_s, rate=rate)
    limit = None if keep_s is None else max(1, int(keep_s * stream.rate))
    bounds = [s for s in (max_duration_s, keep_s) if s is not None]
    capacity_s = min(bounds) + 1.0 if bounds else (stream.declared_s or 1.0)
    out = np.empty(int(capacity_s * stream.rate) + 8192, np.float32)
    n = 0
    blocks = stream.blocks()
    try:
        for block in blocks:
            if limit is not None:
                block = block[: limit - n]
            if n + len(block) > len(out):  # only without a limit (a header that lied)
                out = np.resize(out, max(n + len(block), int(len(out) * 1.5)))
            out[n:n + len(block)] = block
            n += len(block)
            if limit is not None and n >= limit:
                break
    finally:
        blocks.close()
        stream.close()
    return out[:n], stream.rate
