"""Shared bench helpers: machine facts, process probes, statistics, test audio and texts."""

from __future__ import annotations

import json
import math
import os
import platform
import re
import statistics
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
SPEECH_DIR = ROOT / "tests" / "data" / "speech"
STT_RATE_HZ = 16_000

#: The streamed paragraph: its first sentence is timed alone for the time-to-first-audio target.
PARAGRAPH = ("The old lighthouse keeper climbed the spiral stairs one last time, counting every "
             "step as he went. Outside, the storm had finally passed, and the sea lay calm "
             "beneath a sky full of stars. He lit the lamp, sat down by the window, and waited "
             "for the morning boats to come home.")
FIRST_SENTENCE = PARAGRAPH.split(". ")[0] + "."
SHORT_LINE = "Stay close to me, the bridge ahead is not safe."

_PROSE = (
    "Travellers came to the village at the edge of the forest every spring. ",
    "Some of them sold cloth and spices, and others only wanted a warm bed for the night. ",
    "The innkeeper remembered every face, although she rarely said so. ",
    "When the river flooded, the whole valley worked together to carry the grain uphill. ",
    "Children ran between the carts, laughing, while their parents argued about prices. ",
    "At dusk the bells rang twice, and the gates were closed until morning. ",
    "Nobody could say how old the stone bridge was, but it had never once fallen. ",
)


def prose(n_chars: int) -> str:
    """English prose of about ``n_chars`` characters, cut at a word boundary."""
    out = ""
    i = 0
    while len(out) < n_chars:
        out += _PROSE[i % len(_PROSE)]
        i += 1
    cut = out[:n_chars]
    if len(out) > n_chars and " " in cut:
        cut = cut[:cut.rindex(" ")]
    return cut.strip().rstrip(",") + ("" if cut.rstrip().endswith(".") else ".")


# ---------------------------------------------------------------------- audio assets
@dataclass(frozen=True)
class Clip:
    """Real recorded speech at 16 kHz with its transcript."""

    name: str
    audio: np.ndarray
    transcript: str

    @property
    def seconds(self) -> float:
        return len(self.audio) / STT_RATE_HZ


def speech_clips() -> list[Clip]:
    """Every clip of ``tests/data/speech`` (LibriVox, CMU ARCTIC, pocketsphinx), 16 kHz mono."""
    import soundfile as sf

    manifest = json.loads((SPEECH_DIR / "manifest.json").read_text())
    clips = []
    for entry in manifest:
        audio, rate = sf.read(SPEECH_DIR / entry["file"], dtype="float32", always_2d=False)
        if rate != STT_RATE_HZ or audio.ndim != 1:
            continue
        clips.append(Clip(entry["file"], audio, entry["transcript"]))
    return clips


def joined_clip(clips: Sequence[Clip], gap_s: float = 0.6) -> Clip:
    """All clips in a row with ``gap_s`` of silence between them."""
    gap = np.zeros(int(gap_s * STT_RATE_HZ), np.float32)
    parts: list[np.ndarray] = []
    for c in clips:
        parts += [c.audio, gap]
    return Clip("joined", np.concatenate(parts[:-1]), " ".join(c.transcript for c in clips))


def long_clip(clips: Sequence[Clip], seconds: float, gap_s: float = 1.0) -> np.ndarray:
    """Speech clips repeated with ``gap_s`` of silence between them, cut to ``seconds``."""
    gap = np.zeros(int(gap_s * STT_RATE_HZ), np.float32)
    want = int(seconds * STT_RATE_HZ)
    parts: list[np.ndarray] = []
    have = 0
    i = 0
    while have < want:
        piece = np.concatenate([clips[i % len(clips)].audio, gap])
        parts.append(piece)
        have += len(piece)
        i += 1
    return np.concatenate(parts)[:want].astype(np.float32)


def speech_end_s(audio: np.ndarray) -> float:
    """Where the last speech ends (Silero VAD, as the sidecar uses), seconds."""
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    stamps = get_speech_timestamps(audio, VadOptions(min_speech_duration_ms=100, speech_pad_ms=0))
    return stamps[-1]["end"] / STT_RATE_HZ if stamps else len(audio) / STT_RATE_HZ


def wav_bytes(audio: np.ndarray, rate: int = STT_RATE_HZ) -> bytes:
    """16-bit PCM WAV file bytes."""
    import io

    import soundfile as sf

    buf = io.BytesIO()
    sf.write(buf, audio, rate, format="WAV", subtype="PCM_16")
    return buf.getvalue()


def wer(reference: str, hypothesis: str) -> float:
    """Word error rate after lower-casing and dropping punctuation."""
    def words(s: str) -> list[str]:
        return re.sub(r"[^a-z0-9' ]+", " ", s.lower()).split()

    ref, hyp = words(reference), words(hypothesis)
    if not ref:
        return 0.0 if not hyp else 1.0
    row = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        prev, row[0] = row[0], i
        for j, h in enumerate(hyp, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (r != h))
    return row[-1] / len(ref)


# ---------------------------------------------------------------------- statistics
def median(xs: Sequence[float]) -> float:
    return float(statistics.median(xs)) if xs else float("nan")


def percentile(xs: Sequence[float], q: float) -> float:
    return float(np.percentile(np.asarray(xs, float), q)) if xs else float("nan")


def linear_fit(x: Sequence[float], y: Sequence[float]) -> dict[str, float]:
    """Least-squares line ``y = slope * x + intercept`` with its R²."""
    xa, ya = np.asarray(x, float), np.asarray(y, float)
    slope, intercept = np.polyfit(xa, ya, 1)
    pred = slope * xa + intercept
    ss_res = float(np.sum((ya - pred) ** 2))
    ss_tot = float(np.sum((ya - ya.mean()) ** 2))
    return {"slope": float(slope), "intercept": float(intercept),
            "r2": 1.0 - ss_res / ss_tot if ss_tot > 0 else 1.0}


def ratio_stats(numer: Sequence[float], denom: Sequence[float]) -> dict[str, float]:
    """Ratio of medians and the median of paired ratios (repetitions were interleaved)."""
    pairs = [a / b for a, b in zip(numer, denom) if b > 0]
    return {"ratio_of_medians": median(numer) / median(denom) if median(denom) > 0 else float("nan"),
            "median_paired_ratio": median(pairs)}


def rounded(obj: Any, digits: int = 4) -> Any:
    """Round floats in a JSON-ish tree; NaN and infinities become None."""
    if isinstance(obj, float):
        return round(obj, digits) if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: rounded(v, digits) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [rounded(v, digits) for v in obj]
    if isinstance(obj, np.generic):
        return rounded(obj.item(), digits)
    return obj


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def interleaved(variants: dict[str, Callable[[], Any]], reps: int) -> dict[str, list[float]]:
    """Run each variant ``reps`` times, rotating the order every round; seconds per call."""
    names = list(variants)
    times: dict[str, list[float]] = {n: [] for n in names}
    for r in range(reps):
        order = names[r % len(names):] + names[:r % len(names)]
        for name in order:
            times[name].append(timed(variants[name])[0])
    return times


# ---------------------------------------------------------------------- processes
def rss_mb(pid: int | str = "self", key: str = "VmRSS") -> float:
    """A /proc/<pid>/status memory field in MiB (VmRSS now, VmHWM peak)."""
    with open(f"/proc/{pid}/status") as fh:
        for line in fh:
            if line.startswith(key + ":"):
                return int(line.split()[1]) / 1024.0
    return float("nan")


def cpu_s(pid: int | str = "self") -> float:
    """User + system CPU seconds used by a process so far."""
    with open(f"/proc/{pid}/stat") as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class RssSampler:
    """Samples a process's VmRSS every ``interval_s`` in a thread; ``peak_mb`` while it runs."""

    def __init__(self, pid: int, interval_s: float = 0.05) -> None:
        self.pid = pid
        self.interval_s = interval_s
        self.start_mb = rss_mb(pid)
        self.peak_mb = self.start_mb
        self.end_mb = self.start_mb
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            try:
                self.peak_mb = max(self.peak_mb, rss_mb(self.pid))
            except OSError:
                return

    def __enter__(self) -> "RssSampler":
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        self._thread.join(2)
        self.end_mb = rss_mb(self.pid)
        self.peak_mb = max(self.peak_mb, self.end_mb)


@dataclass
class CpuMeter:
    """CPU seconds a process used between ``__enter__`` and ``__exit__``."""

    pid: int
    used_s: float = 0.0
    _start: float = field(default=0.0, repr=False)

    def __enter__(self) -> "CpuMeter":
        self._start = cpu_s(self.pid)
        return self

    def __exit__(self, *exc: Any) -> None:
        self.used_s = cpu_s(self.pid) - self._start


def machine() -> dict[str, Any]:
    """What ran the benchmark: cores, CPU model, memory, library versions."""
    info: dict[str, Any] = {"nproc": os.cpu_count(), "platform": platform.platform(),
                            "python": platform.python_version()}
    try:
        cpuinfo = Path("/proc/cpuinfo").read_text()
        model = re.search(r"^model name\s*:\s*(.+)$", cpuinfo, re.M)
        info["cpu_model"] = model.group(1).strip() if model else platform.processor()
        flags = re.search(r"^flags\s*:\s*(.+)$", cpuinfo, re.M)
        if flags:
            have = set(flags.group(1).split())
            info["cpu_flags"] = sorted(have & {"avx", "avx2", "avx512f", "avx512_vnni", "avx_vnni",
                                               "fma", "f16c", "amx_int8"})
        mem = re.search(r"^MemTotal:\s*(\d+)", Path("/proc/meminfo").read_text(), re.M)
        info["ram_gib"] = round(int(mem.group(1)) / 2**20, 1) if mem else None
    except OSError:
        pass
    import importlib.metadata as md

    for dist in ("onnxruntime", "ctranslate2", "faster-whisper", "numpy", "torch", "atelico",
                 "pocketsphinx", "uvicorn", "websockets"):
        try:
            info.setdefault("versions", {})[dist] = md.version(dist)
        except md.PackageNotFoundError:
            info.setdefault("versions", {})[dist] = None
    return info


def load_avg() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def chunks_of(audio: np.ndarray, frame_samples: int) -> Iterator[np.ndarray]:
    for i in range(0, len(audio), frame_samples):
        yield audio[i:i + frame_samples]
