"""Whisper speech-to-text on faster-whisper (CTranslate2) with hallucination guards."""

from __future__ import annotations

import dataclasses
import logging
import os
import threading
from pathlib import Path
from typing import Any, Iterator, Mapping, Protocol

import numpy as np

from atelico.config import Settings
from atelico.engines.base import STT_SAMPLE_RATE_HZ, Segment, TranscriptionInfo
from atelico.engines.stt.whisper_segments import (COMPRESSION_RATIO_THRESHOLD,
                                                  LOG_PROB_THRESHOLD, NO_SPEECH_THRESHOLD,
                                                  _guarded, split_at_sentences)
from atelico.errors import AudioError, LanguageError, ModelLoadFailed, RequestError

log = logging.getLogger(__name__)

__all__ = ["WhisperEngine", "load", "normalize_language", "resolve_compute_type",
           "resolve_device", "whisper_languages"]

TASKS = ("transcribe", "translate")
#: Files a CTranslate2 Whisper directory must hold.
MODEL_FILES = ("model.bin", "config.json", "tokenizer.json", "vocabulary.txt")

class _ModelSpecLike(Protocol):
    id: str


def whisper_languages() -> tuple[str, ...]:
    """ISO 639-1 (and a few 639-3) codes Whisper knows, e.g. ``("en", "zh", "de", ...)``."""
    from faster_whisper.tokenizer import _LANGUAGE_CODES

    return tuple(_LANGUAGE_CODES)


def normalize_language(language: str | None) -> str | None:
    """``"en-US"``/``"EN"``/``"en_gb"`` -> ``"en"``; ``None``/``""``/``"auto"`` -> ``None``."""
    if language is None:
        return None
    code = language.strip().replace("_", "-").split("-")[0].lower()
    return None if code in ("", "auto") else code


def resolve_device(device: str) -> str:
    """``auto`` -> ``cuda`` when CTranslate2 sees a GPU, else ``cpu``."""
    if device != "auto":
        return device
    import ctranslate2

    try:
        return "cuda" if ctranslate2.get_cuda_device_count() > 0 else "cpu"
    except Exception:  # noqa: BLE001 - a broken CUDA install means CPU
        return "cpu"


def resolve_compute_type(requested: str, device: str) -> str:
    """Pick a CTranslate2 compute type: ``auto`` is int8 on CPU and float16 on CUDA.

    A type the device cannot run (e.g. ``int8_float16`` or ``float16`` on a CPU) falls back
    to the closest supported one with a warning.
    """
    import ctranslate2

    requested = (requested or "auto").lower()
    try:
        supported = set(ctranslate2.get_supported_compute_types(device))
    except Exception:  # noqa: BLE001 - unknown device: let CTranslate2 report it at load
        supported = set()
    preferred: tuple[str, ...]
    if requested == "auto":
        preferred = ("float16", "int8_float16", "int8", "float32") if device == "cuda" else (
            "int8", "int8_float32", "float32")
    else:
        known = {"int8", "int8_float16", "int8_float32", "int8_bfloat16", "int16", "float16",
                 "bfloat16", "float32", "default"}
        if requested not in known:
            raise RequestError(f"unknown stt_compute_type {requested!r}; use one of "
                               f"{sorted(known | {'auto'})}",
                               details={"field": "stt_compute_type"})
        fallbacks = {"int8_float16": ("int8_float16", "int8", "float32"),
                     "int8_bfloat16": ("int8_bfloat16", "int8", "float32"),
                     "float16": ("float16", "float32"),
                     "bfloat16": ("bfloat16", "float32")}
        preferred = fallbacks.get(requested, (requested, "float32"))
    if not supported:
        return preferred[0]
    for candidate in preferred:
        if candidate in supported:
            if requested not in ("auto", candidate):
                log.warning("compute type %s is not supported on %s; using %s",
                            requested, device, candidate)
            return candidate
    return "default"


class WhisperEngine:
    """Offline Whisper transcription and translation (satisfies ``SpeechToText``).

    Responsibilities:
      - load a CTranslate2 Whisper directory on the configured device/compute type;
      - validate the request (audio, language, task) before any decoding happens;
      - skip audio with no speech (Silero VAD) without running the decoder at all;
      - decode with temperature fallback and drop hallucinated segments: high
        ``no_speech_prob`` with low ``avg_logprob``, compression ratio above 2.4, and
        runaway repetitions;
      - stop between segments when ``cancel`` is set.
    """

    def __init__(self, model_dir: Path | str, *, model_id: str, device: str = "auto",
                 compute_type: str = "auto", cpu_threads: int = 0) -> None:
        """Load the model.

        Args:
            model_dir: a directory with ``model.bin``, ``config.json``, ``tokenizer.json``
                and ``vocabulary.txt``.
            model_id: the catalog id served, e.g. ``"whisper-base"``.
            device: ``cpu``, ``cuda`` or ``auto``.
            compute_type: CTranslate2 compute type or ``auto``.
            cpu_threads: intra-op threads; 0 = all cores.

        Raises:
            ModelLoadFailed: files missing or CTranslate2 refused the model.
        """
        from faster_whisper import WhisperModel

        model_dir = Path(model_dir)
        missing = [name for name in MODEL_FILES if not (model_dir / name).is_file()]
        if missing:
            raise ModelLoadFailed(f"{model_id}: {model_dir} lacks {', '.join(missing)}",
                                  details={"model": model_id, "missing": missing})
        self.model_id = model_id
        self.device = resolve_device(device)
        self.compute_type = resolve_compute_type(compute_type, self.device)
        self.cpu_threads = cpu_threads or (os.cpu_count() or 1)
        try:
            self._model = WhisperModel(str(model_dir), device=self.device,
                                       compute_type=self.compute_type,
                                       cpu_threads=self.cpu_threads,
                                       num_workers=2)  # two requests may decode at once
        except Exception as exc:  # noqa: BLE001 - CTranslate2 raises plain RuntimeErrors
            raise ModelLoadFailed(f"{model_id}: could not load {model_dir}: {exc}",
                                  details={"model": model_id}) from exc
        self.multilingual: bool = bool(self._model.model.is_multilingual)
        self._batched: Any = None  # faster-whisper's BatchedInferencePipeline, made on first use
        log.info("loaded %s from %s on %s (%s, %d threads)", model_id, model_dir, self.device,
                 self.compute_type, self.cpu_threads)

    @property
    def english_only(self) -> bool:
        return not self.multilingual

    def languages(self) -> tuple[str, ...]:
        """Language codes this model accepts for ``language=``."""
        return whisper_languages() if self.multilingual else ("en",)

    def check_request(self, language: str | None, task: str) -> str | None:
        """Validate ``language`` and ``task``; return the normalised language code.

        Raises:
            LanguageError: unknown code, or a non-English language on an English-only model.
            RequestError: an unknown task, or ``translate`` on an English-only model.
        """
        if task not in TASKS:
            raise RequestError(f"task must be one of {list(TASKS)}, not {task!r}",
                               details={"field": "task"})
        code = normalize_language(language)
        if code is not None and code not in whisper_languages():
            raise LanguageError(f"unknown language code {language!r}: use an ISO 639-1 code "
                                f"such as 'en', 'fr' or 'ja'",
                                details={"language": language, "model": self.model_id,
                                         "supported": list(self.languages())})
        if not self.multilingual:
            if code not in (None, "en"):
                raise LanguageError(
                    f"{self.model_id} is an English-only model and cannot transcribe "
                    f"{code!r}; use a multilingual model such as whisper-base",
                    details={"language": code, "model": self.model_id, "supported": ["en"]})
            if task == "translate":
                raise RequestError(f"{self.model_id} is English-only and cannot translate; "
                                   f"use a multilingual model such as whisper-base",
                                   details={"field": "task", "model": self.model_id})
        return code

    def transcribe(self, audio: np.ndarray, *, language: str | None = None,
                   task: str = "transcribe", prompt: str | None = None,
                   temperature: float = 0.0, word_timestamps: bool = False,
                   cancel: threading.Event | None = None, vad_filter: bool = True,
                   beam_size: int = 5, temperature_fallback: bool = True,
                   encoder_pad_s: float | None = None, batched: bool = False
                   ) -> tuple[Iterator[Segment], TranscriptionInfo]:
        """Transcribe (or translate to English) mono float32 16 kHz audio.

        Args:
            audio: 1-D float32 samples in [-1, 1] at 16 kHz.
            language: ISO 639-1 code; ``None`` auto-detects (multilingual models).
            task: ``transcribe`` or ``translate`` (to English; multilingual models only).
            prompt: text that conditions the first window (names, spelling, style).
            temperature: first sampling temperature; 0 is greedy/beam search.
            word_timestamps: fill ``Segment.words``.
            cancel: when set, the segment iterator stops before the next segment.
            vad_filter: drop non-speech with Silero VAD before decoding (recommended for
                whole clips; live transcription passes already-segmented audio).
            beam_size: beam width (1 = greedy; fast partials).
            temperature_fallback: retry failing windows at higher temperatures.
            encoder_pad_s: ``None`` encodes Whisper's full 30 s window (silence-padded, as
                trained); a number encodes only the audio plus this much padding, which
                costs a fraction of the encoder time on short audio (live utterances).
            batched: with ``vad_filter``, decode the speech chunks the VAD finds as one
                batch (faster-whisper's ``BatchedInferencePipeline``, as speaches serves):
                no timestamp tokens, one segment per chunk (≤ 30 s), word times kept. A
                window whose batched result fails the thresholds that trigger temperature
                fallback (compression ratio, log probability) is decoded again the
                sequential way, with fallback.

        Returns:
            A lazy iterator of segments (decoding happens while iterating) and the info.

        Raises:
            AudioError: not 1-D, empty or not finite.
            LanguageError, RequestError: see :meth:`check_request`.
        """
        samples = _check_audio(audio)
        code = self.check_request(language, task)
        if not 0.0 <= temperature <= 1.0:
            raise RequestError(f"temperature must be within [0, 1], not {temperature}",
                               details={"field": "temperature"})
        if beam_size < 1:
            raise RequestError("beam_size must be at least 1", details={"field": "beam_size"})
        duration_s = len(samples) / STT_SAMPLE_RATE_HZ
        decode_language = code if self.multilingual else "en"
        # Given a language, the decode's own VAD pass finds no speech just as well (and
        # yields nothing); without one, faster-whisper would detect a language on the noise.
        if vad_filter and (_silent(samples)
                           or (decode_language is None and not _has_speech(samples))):
            empty: Iterator[Segment] = iter(())
            return empty, TranscriptionInfo(language=code or "en", language_probability=0.0,
                                            duration_s=duration_s, model_id=self.model_id)
        options = _decode_options(
            language=decode_language, task=task, prompt=prompt,
            beam_size=beam_size, temperature=temperature,
            temperature_fallback=temperature_fallback, word_timestamps=word_timestamps,
            vad_filter=vad_filter)
        if batched and vad_filter:
            done = self._transcribe_batched(samples, options, cancel)
            if done is not None:
                chunks, fw_info = done
                return iter(chunks), self._info(fw_info, duration_s)
        segments, fw_info = self._model.transcribe(samples, **options)
        pad_frames = None if encoder_pad_s is None else max(0, int(encoder_pad_s * 100))
        return _guarded(segments, cancel, pad_frames), self._info(fw_info, duration_s)

    def _info(self, fw_info: Any, duration_s: float) -> TranscriptionInfo:
        return TranscriptionInfo(language=fw_info.language,
                                 language_probability=float(fw_info.language_probability),
                                 duration_s=duration_s, model_id=self.model_id)

    def _transcribe_batched(self, samples: np.ndarray, options: dict[str, Any],
                            cancel: threading.Event | None) -> tuple[list[Segment], Any] | None:
        """The batched decode of one window, or ``None`` when a chunk looks hallucinated
        (the batched pipeline has no temperature fallback: the caller decodes it again)."""
        if self._batched is None:
            from faster_whisper import BatchedInferencePipeline

            self._batched = BatchedInferencePipeline(model=self._model)
        # word times always: they cut each chunk (≤ 30 s) back into sentence-sized segments
        segments, fw_info = self._batched.transcribe(samples, batch_size=8,
                                                     **{**options, "word_timestamps": True})
        raw = list(segments)
        if any(seg.compression_ratio > COMPRESSION_RATIO_THRESHOLD
               or (seg.avg_logprob < LOG_PROB_THRESHOLD and seg.no_speech_prob < NO_SPEECH_THRESHOLD)
               for seg in raw if seg.text.strip()):
            # what the sequential decoder would retry at a higher temperature
            log.info("a batched chunk failed the decoding thresholds; decoding sequentially")
            return None
        keep_words = bool(options["word_timestamps"])
        out: list[Segment] = []
        for seg in _guarded(raw, cancel):
            for piece in split_at_sentences(seg):
                out.append(dataclasses.replace(piece, id=len(out),
                                               words=piece.words if keep_words else ()))
        return out, fw_info


def _decode_options(*, language: str | None, task: str, prompt: str | None, beam_size: int,
                    temperature: float, temperature_fallback: bool, word_timestamps: bool,
                    vad_filter: bool) -> dict[str, Any]:
    """faster-whisper's ``transcribe`` keywords, with our guards' thresholds."""
    if temperature_fallback:
        temperatures = tuple(round(t, 2) for t in np.arange(temperature, 1.0001, 0.2))
    else:
        temperatures = (temperature,)
    return dict(
        language=language, task=task, initial_prompt=prompt or None, beam_size=beam_size,
        best_of=5 if beam_size > 1 else 1, temperature=list(temperatures),
        compression_ratio_threshold=COMPRESSION_RATIO_THRESHOLD,
        log_prob_threshold=LOG_PROB_THRESHOLD, no_speech_threshold=NO_SPEECH_THRESHOLD,
        condition_on_previous_text=False, word_timestamps=word_timestamps,
        vad_filter=vad_filter,
        vad_parameters={"min_silence_duration_ms": 1000, "speech_pad_ms": 400}
        if vad_filter else None)


def _check_audio(audio: np.ndarray) -> np.ndarray:
    samples = np.asarray(audio)
    if samples.ndim != 1:
        raise AudioError(f"expected mono 1-D audio, got shape {samples.shape}",
                         code="audio.invalid")
    if samples.size == 0:
        raise AudioError("the audio is empty", code="audio.empty")
    samples = samples.astype(np.float32, copy=False)
    if not np.isfinite(samples).all():
        raise AudioError("the audio holds NaN or infinite samples", code="audio.invalid")
    return samples


def _silent(samples: np.ndarray) -> bool:
    """Digital silence (no sample above -80 dBFS)."""
    return float(np.max(np.abs(samples))) < 1e-4


def _has_speech(samples: np.ndarray) -> bool:
    """Whether Silero VAD finds any speech."""
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    return bool(get_speech_timestamps(samples, VadOptions(min_speech_duration_ms=100)))


def load(spec: _ModelSpecLike, assets: Mapping[str, Path], settings: Settings) -> WhisperEngine:
    """Catalog loader: build the engine for ``spec.id`` from its one CTranslate2 asset.

    Raises:
        ModelLoadFailed: no asset directory was given, or the model would not load.
    """
    if not assets:
        raise ModelLoadFailed(f"{spec.id}: no model asset was provided",
                              details={"model": spec.id})
    model_dir = next((path for name, path in assets.items() if name.endswith("-ct2")),
                     next(iter(assets.values())))
    engine = WhisperEngine(model_dir, model_id=spec.id, device=settings.models.device,
                           compute_type=settings.models.stt_compute_type,
                           cpu_threads=settings.models.threads)
    if engine.english_only != spec.id.endswith(".en"):
        log.warning("%s: the weights are %s but the id says otherwise", spec.id,
                    "English-only" if engine.english_only else "multilingual")
    return engine
