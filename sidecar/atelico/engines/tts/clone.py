"""Evolutionary Kokoro voice cloning: search voice-tensor space to sound like a reference clip.

A population of voice tensors, seeded from existing voices, is scored by how close the
speech it synthesizes is to the reference in speaker features (log-mel spectrum statistics,
MFCC statistics and pitch), then bred by crossover and mutation. Mutations move every row of
the ``[510, 256]`` tensor by the same 256-d offset, scaled by how much the built-in voices
differ from each other in that dimension, so candidates stay among plausible voices. The
best tensor is written atomically to ``<voices_dir>/kokoro/<voice_id>.bin``, where the engine
finds it (``KokoroEngine.rescan_voices`` or the next load).
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from atelico.engines.base import CloneProgress
from atelico.errors import AudioError, Cancelled, RequestError

from .kokoro import SAMPLE_RATE_HZ, KokoroEngine
from .kokoro_voices import save_voice_file
from .voice_names import check_new_voice_name, existing_custom_files

log = logging.getLogger(__name__)

DEFAULT_SEEDS: tuple[str, ...] = ("af_heart", "am_adam", "bf_emma")
DEFAULT_TEXT = "The quick brown fox jumps over the lazy dog by the quiet river."

_N_FFT = 1024
_HOP = 256
_N_MELS = 40
_N_MFCC = 13


@dataclass(frozen=True)
class EvolutionConfig:
    """Search size and step sizes. Cost ~ generations x population syntheses of ``text``."""

    generations: int = 10
    population: int = 8
    elite: int = 2
    mutation_scale: float = 0.35  # times the per-dimension spread of the built-in voices
    mutation_decay: float = 0.9  # per generation
    text: str = DEFAULT_TEXT
    language: str = "en-US"
    seed: int = 0


#: Reported after each generation (the engines' common progress record).
Progress = CloneProgress


@dataclass(frozen=True)
class CloneResult:
    """Where the voice was saved and how close it got (distance 0 = identical features)."""

    voice_id: str
    path: Path
    best_distance: float
    initial_distance: float
    generations_run: int


def speaker_features(audio: np.ndarray, sample_rate_hz: int) -> np.ndarray:
    """Speaker-ish summary of speech: log-mel mean/std, MFCC mean/std, pitch statistics.

    Frames quieter than 40 dB below the loudest are ignored, so pauses do not count.
    """
    audio = _resample(np.asarray(audio, dtype=np.float32).reshape(-1), sample_rate_hz)
    if len(audio) < _N_FFT * 2:
        raise AudioError("reference audio is too short (need at least 0.1 s of speech)",
                         code="audio.invalid" if len(audio) else "audio.empty")
    window = np.hanning(_N_FFT).astype(np.float32)
    count = 1 + (len(audio) - _N_FFT) // _HOP
    index = np.arange(_N_FFT)[None, :] + _HOP * np.arange(count)[:, None]
    frames = audio[index] * window
    power = np.abs(np.fft.rfft(frames, axis=1)) ** 2
    energy_db = 10 * np.log10(power.sum(axis=1) + 1e-10)
    voiced = energy_db > energy_db.max() - 40
    if voiced.sum() < 4:
        raise AudioError("reference audio has no speech", code="audio.empty")
    logmel = np.log(power[voiced] @ _mel_filterbank().T + 1e-8)
    logmel -= logmel.mean()  # level-invariant: loudness is not the speaker
    mfcc = logmel @ _dct_matrix().T
    pitch = _pitch_track(frames[voiced])
    pitch_stats = (np.array([np.log(np.median(pitch)), np.std(np.log(pitch))])
                   if len(pitch) >= 3 else np.array([np.log(150.0), 0.0]))
    return np.concatenate([logmel.mean(0), logmel.std(0), mfcc[:, 1:].mean(0),
                           mfcc[:, 1:].std(0), pitch_stats]).astype(np.float64)


def feature_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Weighted distance between two :func:`speaker_features` vectors."""
    m, k = _N_MELS, _N_MFCC - 1
    parts = (
        (slice(0, m), 1.0),                       # mean log-mel (timbre / spectral tilt)
        (slice(m, 2 * m), 0.5),                   # log-mel spread
        (slice(2 * m, 2 * m + k), 0.15),          # MFCC means
        (slice(2 * m + k, 2 * m + 2 * k), 0.1),   # MFCC spread
    )
    total = 0.0
    for part, weight in parts:
        diff = a[part] - b[part]
        total += weight * float(np.sqrt(np.mean(diff ** 2)))
    total += 4.0 * abs(float(a[-2] - b[-2]))  # log-pitch median (speaker pitch)
    total += 1.0 * abs(float(a[-1] - b[-1]))  # pitch variability
    return total


def clone_voice(engine: KokoroEngine, reference: np.ndarray, sample_rate_hz: int,
                voice_id: str, voices_dir: Path, *,
                seeds: Sequence[str] = DEFAULT_SEEDS,
                config: EvolutionConfig | None = None,
                progress: Callable[[Progress], None] | None = None,
                cancel: threading.Event | None = None,
                overwrite: bool = False) -> CloneResult:
    """Evolve a Kokoro voice that sounds like ``reference`` and save it as ``voice_id``.

    Args:
        engine: a loaded Kokoro engine (its backend renders every candidate).
        reference: mono float audio of the target speaker (a few seconds of clean speech).
        sample_rate_hz: the reference's sample rate (resampled internally).
        voice_id: the new voice's name (``[a-z0-9][a-z0-9_-]{0,63}``; not a built-in id).
        voices_dir: the voices root; the file goes to ``voices_dir/kokoro/<voice_id>.bin``.
        seeds: voices the first population is drawn from (blends of them plus mutations).
        config: search sizes (defaults run in a few minutes on two CPU cores).
        progress: called after each generation with a :class:`Progress`.
        cancel: when set, the search stops after the current candidate and nothing is saved.
        overwrite: replace an existing custom voice of that name (else ``voice.exists``).

    Raises:
        RequestError: ``voice.invalid_name``, ``voice.exists`` (409: a built-in name, or a
            custom one without ``overwrite``), or a bad config. VoiceError: unknown seed voice.
        AudioError: reference without usable speech. Cancelled: ``cancel`` was set.
    """
    config = config or EvolutionConfig()
    _check_request(engine, voice_id, voices_dir, overwrite, config, seeds)
    search = _Search(engine, speaker_features(reference, sample_rate_hz), config, cancel)
    population, scores = search.first_population([engine.voice_tensor(s) for s in seeds])
    initial = min(scores)
    log.info("voice clone %s: initial best distance %.4f", voice_id, initial)
    for generation in range(1, config.generations + 1):
        population, scores = search.next_generation(population, scores)
        best = float(min(scores))
        if progress is not None:
            progress(Progress(generation, config.generations, best, initial))
        search.check_cancel()
    path = _save(population[int(np.argmin(scores))], voice_id, voices_dir, overwrite)
    log.info("voice clone %s: distance %.4f -> %.4f, saved to %s", voice_id, initial,
             min(scores), path)
    return CloneResult(voice_id, path, float(min(scores)), float(initial), config.generations)


def _check_request(engine: KokoroEngine, voice_id: str, voices_dir: Path, overwrite: bool,
                   config: EvolutionConfig, seeds: Sequence[str]) -> None:
    """Refuse a bad name, a taken one, a bad config or no seeds (before any synthesis)."""
    check_new_voice_name(voice_id)
    if any(v.id == voice_id and not v.custom for v in engine.voices()):
        raise RequestError(f"{voice_id!r} is a built-in Kokoro voice; choose another name",
                           code="voice.exists", http_status=409,
                           details={"field": "name", "voice": voice_id})
    _check_not_taken(voice_id, voices_dir, overwrite)
    if config.generations < 1 or config.population < 2 or not 0 <= config.elite < \
            config.population:
        raise RequestError("evolution needs generations >= 1, population >= 2 and "
                           "0 <= elite < population", details={"field": "config"})
    if not seeds:
        raise RequestError("at least one seed voice is needed", details={"field": "seeds"})


class _Search:
    """The evolutionary search: scores voice tensors against the target features and breeds
    the next generation by crossover and mutation."""

    def __init__(self, engine: KokoroEngine, target: np.ndarray, config: EvolutionConfig,
                 cancel: threading.Event | None) -> None:
        self.engine, self.target, self.config, self.cancel = engine, target, config, cancel
        self.rng = np.random.default_rng(config.seed)
        self.spread = _voice_spread(engine)
        self.scale = config.mutation_scale

    def check_cancel(self) -> None:
        if self.cancel is not None and self.cancel.is_set():
            raise Cancelled("voice cloning was cancelled")

    def score(self, tensor: np.ndarray) -> float:
        self.check_cancel()
        audio = self.engine.render(self.config.text, tensor, language=self.config.language)
        return feature_distance(speaker_features(audio, SAMPLE_RATE_HZ), self.target)

    def first_population(self, seeds: list[np.ndarray]
                         ) -> tuple[list[np.ndarray], list[float]]:
        """The seeds themselves, then mutated blends of them, with their scores."""
        population = [t.copy() for t in seeds[:self.config.population]]
        while len(population) < self.config.population:
            weights = self.rng.dirichlet(np.ones(len(seeds)))
            blend = np.tensordot(weights, np.stack(seeds), axes=1)
            population.append(_mutate(blend, self.spread, self.scale, self.rng))
        return population, [self.score(t) for t in population]

    def next_generation(self, population: list[np.ndarray], scores: list[float]
                        ) -> tuple[list[np.ndarray], list[float]]:
        """Keep the elite, breed the rest from the better half; mutations then shrink."""
        order = np.argsort(scores)
        parents = [population[i] for i in order[:max(2, self.config.population // 2)]]
        children = [population[i] for i in order[:self.config.elite]]
        child_scores = [scores[i] for i in order[:self.config.elite]]
        while len(children) < self.config.population:
            a, b = self.rng.choice(len(parents), size=2, replace=False)
            alpha = self.rng.uniform(0.0, 1.0)
            child = _mutate(alpha * parents[a] + (1 - alpha) * parents[b], self.spread,
                            self.scale, self.rng)
            children.append(child)
            child_scores.append(self.score(child))
        self.scale *= self.config.mutation_decay
        return children, child_scores


def _save(tensor: np.ndarray, voice_id: str, voices_dir: Path, overwrite: bool) -> Path:
    _check_not_taken(voice_id, voices_dir, overwrite)  # another clone may have taken it since
    path = save_voice_file(voices_dir / "kokoro" / f"{voice_id}.bin", tensor)
    for other in existing_custom_files("kokoro", voice_id, voices_dir):
        if other != path:  # an older .npy/.safetensors of that name would shadow the new file
            other.unlink(missing_ok=True)
    return path


def _check_not_taken(voice_id: str, voices_dir: Path, overwrite: bool) -> None:
    if not overwrite and existing_custom_files("kokoro", voice_id, voices_dir):
        raise RequestError(f"a custom Kokoro voice named {voice_id!r} already exists; pass "
                           "overwrite=True to replace it", code="voice.exists", http_status=409,
                           details={"field": "name", "voice": voice_id})


def _mutate(tensor: np.ndarray, spread: np.ndarray, scale: float,
            rng: np.random.Generator) -> np.ndarray:
    """Shift every row by the same random offset (keeps the tensor's length structure)."""
    offset = rng.normal(0.0, 1.0, size=spread.shape) * spread * scale
    mutated: np.ndarray = (tensor + offset[None, :]).astype(np.float32)
    return mutated


def _voice_spread(engine: KokoroEngine) -> np.ndarray:
    """Per-dimension standard deviation across the built-in voices (averaged over rows)."""
    tensors = [engine.voice_tensor(v.id) for v in engine.voices() if not v.custom]
    stacked = np.stack([t.mean(axis=0) for t in tensors])
    spread: np.ndarray = stacked.std(axis=0).astype(np.float32) + 1e-4
    return spread


def _resample(audio: np.ndarray, sample_rate_hz: int) -> np.ndarray:
    from atelico.audio.resample import resample

    return resample(audio, int(sample_rate_hz), SAMPLE_RATE_HZ)


def _hz_to_mel(hz: np.ndarray) -> np.ndarray:
    return 2595.0 * np.log10(1.0 + hz / 700.0)


def _mel_filterbank() -> np.ndarray:
    """Triangular mel filters, 60 Hz to 8 kHz, shape ``[n_mels, n_fft // 2 + 1]``."""
    mels = np.linspace(_hz_to_mel(np.array(60.0)), _hz_to_mel(np.array(8000.0)), _N_MELS + 2)
    hz = 700.0 * (10 ** (mels / 2595.0) - 1.0)
    bins = np.fft.rfftfreq(_N_FFT, 1.0 / SAMPLE_RATE_HZ)
    bank = np.zeros((_N_MELS, len(bins)))
    for i in range(_N_MELS):
        lo, mid, hi = hz[i], hz[i + 1], hz[i + 2]
        rising = (bins - lo) / (mid - lo)
        falling = (hi - bins) / (hi - mid)
        bank[i] = np.clip(np.minimum(rising, falling), 0.0, None)
    return bank


def _dct_matrix() -> np.ndarray:
    n = np.arange(_N_MELS)
    k = np.arange(_N_MFCC)[:, None]
    dct: np.ndarray = np.cos(np.pi / _N_MELS * (n + 0.5) * k)
    return dct


def _pitch_track(frames: np.ndarray) -> np.ndarray:
    """F0 per frame by autocorrelation (60-400 Hz); unvoiced frames are dropped."""
    lo, hi = SAMPLE_RATE_HZ // 400, SAMPLE_RATE_HZ // 60
    spectrum = np.fft.rfft(frames, n=2 * _N_FFT, axis=1)
    corr = np.fft.irfft(np.abs(spectrum) ** 2, axis=1)[:, :_N_FFT]
    corr = corr / (corr[:, :1] + 1e-10)
    lag = lo + np.argmax(corr[:, lo:hi], axis=1)
    strength = corr[np.arange(len(corr)), lag]
    f0: np.ndarray = (SAMPLE_RATE_HZ / lag[strength > 0.45]).astype(np.float64)
    return f0
