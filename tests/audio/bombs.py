"""Decompression bombs and lying files, built at test time with PyAV (nothing is stored),
and :class:`PeakRss`, the peak-memory probe the tests and ``bench/memory.py`` measure them with.

Each builder encodes silence block by block, so building an hour never holds an hour of
samples; the ``lying_*`` helpers patch a header so that it declares something else than
the file holds. Shared by tests/audio, tests/reliability and bench/memory.py.
"""

from __future__ import annotations

import io
import os
import struct
from pathlib import Path
from typing import Callable

import numpy as np

#: (container, codec, samples per encoded frame): the codecs FFmpeg builds here can write
CODECS = {"flac": ("flac", "flac", 4608 * 4), "ogg": ("ogg", "libopus", 960 * 50),
          "mp3": ("mp3", "libmp3lame", 1152 * 16)}


class PeakRss:
    """Peak RSS growth of a process (``"self"`` or a pid) from :meth:`start` on: VmHWM is reset
    to the current RSS through ``/proc/<pid>/clear_refs``, so each measurement is its own."""

    def __init__(self, pid: int | str = "self") -> None:
        self.pid = pid
        self.base_mb = 0.0

    def start(self) -> "PeakRss":
        from bench.common import rss_mb

        with open(f"/proc/{self.pid}/clear_refs", "w") as fh:
            fh.write("5")
        self.base_mb = rss_mb(self.pid)
        return self

    @property
    def growth_mb(self) -> float:
        from bench.common import rss_mb

        return rss_mb(self.pid, "VmHWM") - self.base_mb


def silence(fmt: str, rate: int, seconds: float) -> bytes:
    """``seconds`` of digital silence at ``rate`` as a ``fmt`` file (flac, ogg or mp3)."""
    import av

    container, codec, block = CODECS[fmt]
    buf = io.BytesIO()
    with av.open(buf, "w", format=container) as out:
        stream = out.add_stream(codec, rate=rate)
        stream.layout = "mono"
        if codec == "libmp3lame":
            stream.bit_rate = 32_000
        total = int(seconds * rate)
        for start in range(0, total, block):
            n = min(block, total - start)
            frame = av.AudioFrame.from_ndarray(np.zeros((1, n), np.int16), format="s16", layout="mono")
            frame.sample_rate, frame.pts = rate, start
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return buf.getvalue()


def cached(name: str, build: Callable[[], bytes], folder: Path | None = None) -> bytes:
    """Build once per machine (bombs of an hour take seconds to encode); kept in /tmp."""
    folder = folder or Path(os.environ.get("TMPDIR", "/tmp")) / "atelico-bombs"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    if not path.exists():
        tmp = path.with_suffix(".part")
        tmp.write_bytes(build())
        tmp.replace(path)
    return path.read_bytes()


def _streaminfo(data: bytes) -> int:
    assert data[:4] == b"fLaC" and data[4] & 0x7F == 0, "STREAMINFO must be the first block"
    return 8 + 10  # fLaC, block header (4), min/max block (4), min/max frame (6)


def lying_flac_length(data: bytes, total_samples: int) -> bytes:
    """A FLAC whose STREAMINFO declares ``total_samples`` (0 = unknown) instead of the truth."""
    b = bytearray(data)
    i = _streaminfo(data)
    v = int.from_bytes(b[i:i + 8], "big")
    v = (v & ~((1 << 36) - 1)) | total_samples
    b[i:i + 8] = v.to_bytes(8, "big")
    return bytes(b)


def wav(rate: int, seconds: float, *, channels: int = 1, bits: int = 16, declared_bytes: int | None = None,
        tag: int = 1) -> bytes:
    """A WAV of silence; ``declared_bytes`` writes another data size into the header."""
    block = channels * bits // 8
    data = bytes(int(seconds * rate) * block)
    size = len(data) if declared_bytes is None else declared_bytes
    return (b"RIFF" + struct.pack("<I", (36 + size) & 0xFFFFFFFF) + b"WAVEfmt "
            + struct.pack("<IHHIIHH", 16, tag, channels, rate, (rate * block) & 0xFFFFFFFF, block & 0xFFFF, bits)
            + b"data" + struct.pack("<I", size & 0xFFFFFFFF) + data)


def bomb_set(limit_s: float, *, hour_s: float = 3600.0) -> dict[str, tuple[bytes, str]]:
    """Named hostile files for a server that accepts ``limit_s`` seconds: (bytes, the code each
    must be refused with). ``hour_s`` is the length of the long ones (> ``limit_s``)."""
    flac_long = cached(f"flac192k-{hour_s:.0f}s.flac", lambda: silence("flac", 192_000, hour_s))
    flac48 = cached(f"flac48k-{hour_s:.0f}s.flac", lambda: silence("flac", 48_000, hour_s))
    return {
        f"flac 192 kHz {hour_s:.0f} s": (flac_long, "audio.too_long"),
        f"flac 48 kHz {hour_s:.0f} s": (flac48, "audio.too_long"),
        "flac declaring 10 s": (lying_flac_length(flac_long, 192_000 * 10), "audio.too_long"),
        "flac declaring no length": (lying_flac_length(flac_long, 0), "audio.too_long"),
        "flac at 655,350 Hz": (cached("flac655k-60s.flac", lambda: silence("flac", 655_350, 60)),
                               "audio.invalid"),
        "ogg opus over the limit": (cached(f"opus-{limit_s * 1.5:.0f}s.ogg",
                                           lambda: silence("ogg", 48_000, limit_s * 1.5)), "audio.too_long"),
        "mp3 over the limit": (cached(f"mp3-{limit_s * 1.5:.0f}s.mp3",
                                      lambda: silence("mp3", 48_000, limit_s * 1.5)), "audio.too_long"),
        "wav at 655,350 Hz": (wav(655_350, 2.0), "audio.invalid"),
        "wav declaring 4 GiB": (wav(16_000, 1.0, declared_bytes=0xFFFFFFF0), None),
        "wav of 65535 channels": (wav(16_000, 0.001, channels=65535), "audio.invalid"),
    }
