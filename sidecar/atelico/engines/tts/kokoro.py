"""Kokoro-82M text-to-speech: int8 ONNX (onnxruntime) or fp32 torch, streamed with timings."""

from __future__ import annotations

import logging
import math
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterator, TypeVar

import numpy as np

from atelico.audio.pcm import EDGE_FADE_S, fade_edges
from atelico.engines.base import (CloneOptions, ClonedVoice, CloneProgress, PhonemeTiming,
                                  SpeechChunk, VoiceInfo, WordTiming)
from atelico.errors import EngineError, ModelLoadFailed, ModelNotInstalled, RequestError

from . import kokoro_voices
from .g2p import G2P, LANGUAGES, Phonemized, language_code
from .kokoro_align import (FADE_S, FRAME_S, MAX_PHONEME_TOKENS, PAUSE_AFTER_S, AUDIO_LEAD_S, Rendered,
                           align, chunk_tokens, token_ids)
from .kokoro_backends import ONNX_FILE, KokoroBackend, OnnxBackend, TorchBackend
from .kokoro_voices import DEFAULT_VOICE, VoiceBank
from .kokoro_windows import (FRAME_SAMPLES, SAMPLE_RATE_HZ, Pacer, SpeedMeter, SplitSessions,
                             Stitcher, Window, cut_points, windows)
from .text import Boundary, TextChunk, chunk_text, has_speakable, split_sentences

if TYPE_CHECKING:
    from atelico.config import Settings
    from atelico.models.catalog import ModelSpec

log = logging.getLogger(__name__)

MIN_SPEED, MAX_SPEED = 0.25, 4.0

__all__ = ["FRAME_SAMPLES", "ONNX_FILE", "SAMPLE_RATE_HZ", "KokoroBackend", "KokoroEngine",
           "OnnxBackend", "TorchBackend", "align", "list_voices", "load"]


class KokoroEngine:
    """Kokoro-82M behind :class:`~atelico.engines.base.TextToSpeech`.

    Responsibilities: validate requests, resolve voices (blends, cloned voices), phonemize
    per language, chunk text (a short first chunk, then sentences within 510 phoneme tokens),
    run the backend, turn per-token durations into word and phoneme timings and trim each
    chunk's silence so the streamed chunks join naturally. Thread-safe.
    """

    sample_rate_hz: int = SAMPLE_RATE_HZ

    def __init__(self, backend: KokoroBackend, voices: VoiceBank, *, model_id: str = "kokoro",
                 g2p: G2P | None = None, default_voice: str = DEFAULT_VOICE,
                 first_chunk_words: int = 4, windowed: bool = True,
                 first_window_s: float = 0.2) -> None:
        self.model_id = model_id
        self.backend = backend
        self.default_voice = default_voice
        self.first_chunk_words = first_chunk_words
        #: with a backend that can plan and decode separately (:class:`OnnxBackend`), stream
        #: each sentence in windows of its whole-sentence plan instead of clause-first chunks
        self.windowed = windowed
        self.first_window_s = first_window_s
        #: decode speed of this machine (seconds per audio second), shared by all streams
        self.meter = SpeedMeter()
        self._voices = voices
        self._g2p = g2p or G2P()

    @classmethod
    def from_onnx(cls, model_path: Path, voices_dir: Path, *,
                  custom_voices_dir: Path | None = None, threads: int = 0,
                  model_id: str = "kokoro", parts_dir: Path | None = None) -> KokoroEngine:
        """Load the int8 ONNX model file and the voices folder (``<id>.bin`` files);
        ``parts_dir`` keeps the model's cut halves as files (see :class:`OnnxBackend`)."""
        backend = OnnxBackend(Path(model_path), threads=threads, parts_dir=parts_dir)
        return cls(backend, _voice_bank(voices_dir, custom_voices_dir), model_id=model_id)

    @classmethod
    def from_torch(cls, weights_dir: Path, voices_dir: Path, *,
                   custom_voices_dir: Path | None = None, device: str = "auto",
                   model_id: str = "kokoro") -> KokoroEngine:
        """Load the fp32 hub weights (``kokoro-v1_0.pth`` + ``config.json`` in a folder)."""
        backend = TorchBackend(Path(weights_dir), device=device)
        return cls(backend, _voice_bank(voices_dir, custom_voices_dir), model_id=model_id)

    def warm_up(self) -> None:
        """Load the default voice's phonemizer and run one tiny inference, so that the first
        request does not pay for spaCy's load and onnxruntime's first-run allocations."""
        style, code = self._voices.resolve(self.default_voice)
        self._g2p.ensure(code)
        ids, _ = token_ids(self._g2p("Hi.", code))
        self.backend.infer(ids, style[len(ids) - 1], 1.0)

    # -- voices --------------------------------------------------------------------------

    def voices(self) -> list[VoiceInfo]:
        return self._voices.infos()

    def rescan_voices(self) -> list[str]:
        """Pick up voices added to the custom voices folder; returns the custom ids."""
        return self._voices.rescan()

    def voice_language(self, voice: str) -> str:
        """The BCP-47 language a voice (or a blend: its first voice) speaks (raises VoiceError)."""
        return LANGUAGES[self._voices.resolve(voice)[1]]

    def voice_tensor(self, voice: str) -> np.ndarray:
        """The ``[510, 256]`` style tensor of a voice or blend (raises VoiceError)."""
        return self._voices.resolve(voice)[0]

    def clone_voice(self, reference: np.ndarray, sample_rate_hz: int, voice_id: str, *,
                    options: CloneOptions = CloneOptions(),
                    progress: Callable[[CloneProgress], None] | None = None,
                    cancel: threading.Event | None = None) -> ClonedVoice:
        """Evolve a voice like ``reference`` (:func:`.clone.clone_voice`) from its first
        ``options.max_seconds`` into the custom voices folder; listed at once.

        Raises RequestError (``voice.invalid_name``, ``voice.exists``; also when the engine
        was made without a custom voices folder), AudioError, Cancelled.
        """
        from .clone import EvolutionConfig, clone_voice

        custom = self._voices.custom_dir
        if custom is None:
            raise RequestError("this Kokoro engine has no custom voices folder to clone into",
                               code="request.invalid", details={"field": "name"})
        clip = np.asarray(reference, np.float32)[: int(options.max_seconds * sample_rate_hz)]
        config = EvolutionConfig(generations=options.generations, population=options.population,
                                 elite=min(options.elite, options.population - 1))
        result = clone_voice(self, clip, sample_rate_hz, voice_id, custom.parent, config=config,
                             progress=progress, cancel=cancel, overwrite=options.overwrite)
        self.rescan_voices()
        return ClonedVoice(result.voice_id, result.path, result.best_distance,
                           result.initial_distance)

    # -- synthesis -----------------------------------------------------------------------

    def synthesize(self, text: str, *, voice: str | None = None, speed: float = 1.0,
                   language: str | None = None,
                   cancel: threading.Event | None = None) -> Iterator[SpeechChunk]:
        """Stream speech for ``text``, one chunk per clause/sentence, the first one short.

        Args:
            text: what to say.
            voice: a voice id, a blend such as ``af_bella(2)+af_sky(1)``, or None (default).
            speed: 0.25 to 4.0 (1.0 is normal).
            language: BCP-47 tag overriding the voice's language (e.g. ``en-GB``).
            cancel: when set, the stream stops before the next chunk.

        Raises (before the first chunk):
            RequestError: empty text (``request.missing_input``) or bad speed
                (``request.invalid``, ``details.field == "speed"``). Text with letters or
                symbols the phonemizer still turns into no sound (only ``♪``) raises
                ``request.missing_input`` from the stream, before any chunk.
            VoiceError: unknown (``voice.unknown``) or malformed (``voice.invalid``) voice.
            LanguageError: unsupported language or its phonemizer is not installed.
        """
        return self._synthesize(text, voice, speed, language, cancel, whole=False)

    def _synthesize(self, text: str, voice: str | None, speed: float, language: str | None,
                    cancel: threading.Event | None, *, whole: bool) -> Iterator[SpeechChunk]:
        """:meth:`synthesize`; ``whole``: every sentence in one pass (no windows, no short
        first clause), the same audio for the same input."""
        sentences = split_sentences(text) if isinstance(text, str) else []
        if not sentences:
            raise RequestError("input text is empty", code="request.missing_input",
                               details={"field": "input"})
        if not has_speakable(text):
            raise _nothing_to_say()
        speed = _check_speed(speed)
        style, code = self._voices.resolve(voice or self.default_voice)
        if language:
            code = language_code(language)
        self._g2p.ensure(code)
        split = self.backend.split if self.windowed and not whole else None
        if split is not None:
            return self._stream_windowed(split, sentences, style, code, speed, cancel)
        return self._stream(sentences, style, code, speed, cancel,
                            None if whole else self.first_chunk_words)

    def synthesize_all(self, text: str, *, voice: str | None = None, speed: float = 1.0,
                       language: str | None = None,
                       cancel: threading.Event | None = None) -> SpeechChunk:
        """Blocking synthesis: each sentence rendered whole (nobody is listening yet, so no
        windows: the reference audio, the same every time), joined into one chunk."""
        audio: list[np.ndarray] = []
        words: list[WordTiming] = []
        phonemes: list[PhonemeTiming] = []
        texts: list[str] = []
        offset_s = 0.0
        for chunk in self._synthesize(text, voice, speed, language, cancel, whole=True):
            audio.append(chunk.audio)
            texts.append(chunk.text)
            words.extend(WordTiming(w.word, w.start_s + offset_s, w.end_s + offset_s)
                         for w in chunk.words)
            phonemes.extend(PhonemeTiming(p.phoneme, p.start_s + offset_s, p.end_s + offset_s)
                            for p in chunk.phonemes)
            offset_s += len(chunk.audio) / SAMPLE_RATE_HZ
        joined = np.concatenate(audio) if audio else np.zeros(0, np.float32)
        return SpeechChunk(0, " ".join(t for t in texts if t), joined, SAMPLE_RATE_HZ, tuple(words),
                           tuple(phonemes))

    def phonemize(self, text: str, language: str = "en-US") -> str:
        """Kokoro phonemes for ``text`` (raises LanguageError)."""
        return self._g2p(text, language_code(language)).phonemes

    def render(self, text: str, style: np.ndarray, *, language: str = "en-US",
               speed: float = 1.0) -> np.ndarray:
        """Audio for ``text`` spoken with a raw ``[510, 256]`` style tensor (used by cloning).

        ``text`` must fit one chunk (510 phoneme tokens); silence is trimmed as in a stream.
        """
        code = language_code(language)
        phonemized = self._g2p(text, code)
        rendered = self._render(phonemized, np.asarray(style, np.float32), speed, "end")
        if rendered is None:  # no phoneme token in the text: nothing to say
            raise _nothing_to_say()
        return rendered.audio

    def _stream(self, sentences: list[str], style: np.ndarray, code: str, speed: float,
                cancel: threading.Event | None,
                first_words: int | None) -> Iterator[SpeechChunk]:
        sequence = 0
        for index, sentence in enumerate(sentences):
            chunks = chunk_text(sentence, max_units=MAX_PHONEME_TOKENS,
                                measure=lambda s: len(token_ids(self._g2p(s, code))[0]),
                                first_max_words=first_words if index == 0 else None)
            for position, chunk in enumerate(chunks):
                if cancel is not None and cancel.is_set():
                    return
                last = index == len(sentences) - 1 and position == len(chunks) - 1
                rendered = self._render_chunk(chunk, style, code, speed, last)
                if rendered is None:
                    continue
                if cancel is not None and cancel.is_set():
                    return
                yield SpeechChunk(sequence, chunk.text, rendered.audio, SAMPLE_RATE_HZ,
                                  rendered.words, rendered.phonemes)
                sequence += 1
        if sequence == 0 and not (cancel is not None and cancel.is_set()):
            raise _nothing_to_say()  # no phoneme in the whole text: never a silent success

    def _stream_windowed(self, split: SplitSessions, sentences: list[str], style: np.ndarray,
                         code: str, speed: float,
                         cancel: threading.Event | None) -> Iterator[SpeechChunk]:
        """Plan each sentence whole, hand it out in windows sized by a :class:`Pacer`."""
        pacer = self.new_pacer()
        sequence = 0
        for index, sentence in enumerate(sentences):
            chunks = chunk_text(sentence, max_units=MAX_PHONEME_TOKENS,
                                measure=lambda s: len(token_ids(self._g2p(s, code))[0]),
                                first_max_words=None)  # the whole sentence is planned at once
            for position, chunk in enumerate(chunks):
                if cancel is not None and cancel.is_set():
                    return
                last = index == len(sentences) - 1 and position == len(chunks) - 1
                for piece in self._windows(split, chunk, style, code, speed, last, pacer):
                    if cancel is not None and cancel.is_set():
                        return
                    yield SpeechChunk(sequence, *piece)
                    pacer.handed(len(piece[1]) / SAMPLE_RATE_HZ)
                    sequence += 1
        if sequence == 0 and not (cancel is not None and cancel.is_set()):
            raise _nothing_to_say()

    def new_pacer(self) -> Pacer:
        """The window sizer of one stream (a hook: tests fix the schedule with it)."""
        return Pacer(self.meter, first_s=self.first_window_s)

    def _windows(self, split: SplitSessions, chunk: TextChunk, style: np.ndarray, code: str,
                 speed: float, last: bool, pacer: Pacer) -> Iterator[_Piece]:
        """``(text, audio, rate, words, phonemes)`` per window of one planned chunk."""
        phonemized = self._g2p(chunk.text, code)
        ids, positions = chunk_tokens(phonemized)
        if not ids:
            return
        started = time.perf_counter()
        plan = _engine_call(lambda: split.plan(ids, style[len(ids) - 1], speed))
        plan_s = time.perf_counter() - started
        _check_durations(plan.durations, ids)
        boundary = "end" if last else chunk.boundary
        # the timings and the kept span, from the durations alone (no audio decoded yet)
        timed = align(phonemized, positions, plan.durations,
                      np.zeros(plan.frames * FRAME_SAMPLES, np.float32), speed,
                      PAUSE_AFTER_S.get(boundary, PAUSE_AFTER_S["sentence"]))
        length = len(timed.audio)
        offset = int(round(max(0.0, int(plan.durations[0]) * FRAME_S - AUDIO_LEAD_S)
                           * SAMPLE_RATE_HZ))
        tokens = chunk.text.split()
        texts = tokens if len(tokens) == len(timed.words) else None
        cuts = cut_points([(w.start_s, w.end_s) for w in timed.words], length)
        stitcher = Stitcher(split, plan, offset, length, self.meter)
        speech_end = int(timed.words[-1].end_s * SAMPLE_RATE_HZ) if timed.words else None
        for window in windows(cuts, length, len(timed.words), pacer, extra_cost_s=plan_s,
                              speech_end=speech_end):
            audio = _engine_call(lambda: stitcher.render(window.start, window.end))
            # the sentence's free edges start and end at zero (no click, no DC step); the
            # joins between its windows are one continuous signal and stay untouched
            audio = fade_edges(audio, SAMPLE_RATE_HZ,
                               head_s=EDGE_FADE_S if window.start == 0 else 0.0,
                               tail_s=FADE_S if window.end == length else 0.0)
            if texts is not None:
                text = " ".join(texts[window.first_word:window.end_word])
            else:
                text = chunk.text if window.start == 0 else ""
            words, phones = _window_times(timed, window, length,
                                          stitcher.last_start / SAMPLE_RATE_HZ,
                                          len(audio) / SAMPLE_RATE_HZ)
            yield text, audio, SAMPLE_RATE_HZ, words, phones

    def _render_chunk(self, chunk: TextChunk, style: np.ndarray, code: str, speed: float,
                      last: bool) -> Rendered | None:
        phonemized = self._g2p(chunk.text, code)
        boundary: str = "end" if last else chunk.boundary
        return self._render(phonemized, style, speed, boundary)

    def _render(self, phonemized: Phonemized, style: np.ndarray, speed: float,
                boundary: Boundary | str) -> Rendered | None:
        ids, positions = chunk_tokens(phonemized)
        if not ids:
            return None
        started = time.perf_counter()
        audio, durations = _engine_call(lambda: self.backend.infer(ids, style[len(ids) - 1], speed))
        log.debug("kokoro: %d tokens -> %.2f s audio in %.3f s", len(ids),
                  len(audio) / SAMPLE_RATE_HZ, time.perf_counter() - started)
        _check_durations(durations, ids)
        return align(phonemized, positions, durations, audio, speed,
                     PAUSE_AFTER_S.get(boundary, PAUSE_AFTER_S["sentence"]))


_token_ids = token_ids  # the name tests and benches use

#: one window of a stream: text, audio, rate, word times, phoneme times
_Piece = tuple[str, np.ndarray, int, tuple[WordTiming, ...], tuple[PhonemeTiming, ...]]
_T = TypeVar("_T")


def _engine_call(run: Callable[[], _T]) -> _T:
    """Backend runtime failures surface as engine errors."""
    try:
        return run()
    except Exception as exc:
        raise EngineError(f"Kokoro inference failed: {exc}") from exc


def _check_durations(durations: np.ndarray, ids: list[int]) -> None:
    if len(durations) != len(ids) + 2:
        raise EngineError(f"Kokoro returned {len(durations)} durations for "
                          f"{len(ids) + 2} tokens")


def _window_times(timed: Rendered, window: Window, length: int, t0: float, t1: float
                  ) -> tuple[tuple[WordTiming, ...], tuple[PhonemeTiming, ...]]:
    """The words and phonemes of one window, in seconds from its audio's start ``t0``
    (clamped to its duration ``t1``)."""
    def rel(t: float) -> float:
        return float(min(t1, max(0.0, t - t0)))

    these = timed.words[window.first_word:window.end_word]
    words = tuple(WordTiming(w.word, rel(w.start_s), rel(w.end_s)) for w in these)
    phones = tuple(PhonemeTiming(p.phoneme, rel(p.start_s), rel(p.end_s))
                   for p in timed.phonemes
                   if window.start <= p.start_s * SAMPLE_RATE_HZ < window.end
                   or (window.end == length and p.start_s * SAMPLE_RATE_HZ >= length))
    return words, phones


def _nothing_to_say() -> RequestError:
    return RequestError("input has nothing to speak: no letters, digits or symbols the "
                        "phonemizer can pronounce (only whitespace, punctuation, control or "
                        "zero-width characters?)", code="request.missing_input",
                        details={"field": "input"})


def _check_speed(speed: Any) -> float:
    if isinstance(speed, bool) or not isinstance(speed, (int, float)) \
            or not math.isfinite(speed) or not MIN_SPEED <= speed <= MAX_SPEED:
        raise RequestError(f"speed must be a number from {MIN_SPEED} to {MAX_SPEED}, "
                           f"got {speed!r}", details={"field": "speed", "value": repr(speed)})
    return float(speed)


def _voice_bank(voices_dir: Path, custom_voices_dir: Path | None) -> VoiceBank:
    try:
        return VoiceBank(Path(voices_dir), custom_voices_dir)
    except FileNotFoundError as exc:
        raise ModelNotInstalled(str(exc), details={"path": str(voices_dir)}) from exc
    except ValueError as exc:
        raise ModelLoadFailed(f"bad Kokoro voice file: {exc}") from exc


_INT8_ALIASES = {"int8": None, "q8_0": "q8_0", "q4_0": "q4_0", "q8": "q8_0", "q4": "q4_0"}
_FP32_ALIASES = {"fp32", "f32", "float32"}


def load(spec: ModelSpec, assets: dict[str, Path], settings: Settings) -> KokoroEngine:
    """The catalog's loader: pick the variant from ``settings.models.kokoro_quant``.

    ``int8`` (default) runs ``kokoro-82m-onnx-int8`` on onnxruntime with
    ``settings.models.threads`` intra-op threads (0 = all cores); the reference's ``q8_0`` /
    ``q4_0`` map to it. ``fp32`` runs the hub's ``kokoro-82m-pth`` weights with torch.
    Cloned voices are read from ``settings.voices_dir / "kokoro"``. The engine is warmed up
    (phonemizer loaded, one tiny inference) before it is returned.

    Raises:
        ModelNotInstalled: an asset or a required package is missing.
        ModelLoadFailed: an unknown ``kokoro_quant`` or unreadable weights.
    """
    quant = settings.models.kokoro_quant.strip().lower()
    custom_dir = settings.voices_dir / "kokoro"
    voices_dir = _asset(assets, "kokoro-82m-voices")
    started = time.perf_counter()
    if quant in _INT8_ALIASES:
        if _INT8_ALIASES[quant]:
            log.info("kokoro_quant=%s: the offline Kokoro build is int8 ONNX; using int8", quant)
        engine = KokoroEngine.from_onnx(_asset(assets, "kokoro-82m-onnx-int8") / ONNX_FILE,
                                        voices_dir, custom_voices_dir=custom_dir,
                                        threads=settings.models.threads, model_id=spec.id,
                                        parts_dir=settings.models.cache_dir / "kokoro-parts")
    elif quant in _FP32_ALIASES:
        engine = KokoroEngine.from_torch(_asset(assets, "kokoro-82m-pth"), voices_dir,
                                         custom_voices_dir=custom_dir,
                                         device=settings.models.device, model_id=spec.id)
    else:
        raise ModelLoadFailed(f"unknown kokoro_quant {settings.models.kokoro_quant!r}: "
                              "use int8 (or q8_0/q4_0) or fp32",
                              details={"kokoro_quant": settings.models.kokoro_quant})
    engine.warm_up()
    log.info("Kokoro %s loaded in %.2f s", engine.backend.variant, time.perf_counter() - started)
    return engine


def list_voices(spec: ModelSpec, assets: dict[str, Path], settings: Settings) -> list[VoiceInfo]:
    """The catalog's voice lister: the voices :func:`load` would offer, read from the voice
    files alone (no ONNX session, no phonemizer), so listing voices never loads Kokoro."""
    try:
        return kokoro_voices.list_voices(_asset(assets, "kokoro-82m-voices"), settings.voices_dir / "kokoro")
    except FileNotFoundError as exc:
        raise ModelNotInstalled(str(exc), details={"model": spec.id}) from exc


def _asset(assets: dict[str, Path], asset_id: str) -> Path:
    try:
        return Path(assets[asset_id])
    except KeyError:
        raise ModelNotInstalled(f"Kokoro needs the asset {asset_id!r}",
                                details={"asset": asset_id}) from None
