"""Decoding the utterances of one live stream: short encoder windows, retries, language lock."""

from __future__ import annotations

import threading

import numpy as np

from atelico.engines.base import (RequestChecks, Segment, SpeechToText, TranscriptionInfo,
                                  WordTiming)


class UtteranceDecoder:
    """Runs the STT engine on one stream's utterances.

    Every decode encodes only the utterance plus ``encoder_pad_s`` (``None``: Whisper's
    whole 30 s window); a final whose words come out doubtful is decoded again on the full
    window (the more confident of the two decodes is kept). With no ``language`` and
    ``lock_language``, the first confident final fixes the language for the rest of the
    stream (saving a language-detection pass per call).
    """

    def __init__(self, engine: SpeechToText, *, language: str | None, lock_language: bool,
                 encoder_pad_s: float | None, cancel: threading.Event | None) -> None:
        """Raises the engine's LanguageError / RequestError for a bad ``language``."""
        self.engine = engine
        self.language = (engine.check_request(language, "transcribe")
                         if isinstance(engine, RequestChecks) else language)
        self.lock_language = lock_language
        self.detected_language: str | None = None
        self.encoder_pad_s = encoder_pad_s
        self.cancel = cancel
        self.full_window_retries = 0

    def __call__(self, audio: np.ndarray, *, beam_size: int, words: bool
             ) -> tuple[str, tuple[WordTiming, ...]]:
        """The utterance's text and word times (``words``: a final, else a partial)."""
        language = self.language or self.detected_language
        segs, info = self._decode(audio, language, beam_size, words, self.encoder_pad_s,
                                  fallback=beam_size > 1)
        if words and self.encoder_pad_s is not None and _doubtful(segs):
            segs, info = self._retry(audio, language, beam_size, (segs, info))
        if (words and segs and language is None and self.lock_language
                and info.language_probability >= 0.8):
            # Detecting the language costs a second encoder pass per call; a live stream
            # rarely switches language, so the first confident final decides it.
            self.detected_language = info.language
        text = " ".join(t for t in (s.text.strip() for s in segs) if t)
        all_words = tuple(w for s in segs for w in s.words)
        return text, all_words

    def _retry(self, audio: np.ndarray, language: str | None, beam_size: int,
               first: tuple[list[Segment], TranscriptionInfo]
               ) -> tuple[list[Segment], TranscriptionInfo]:
        """A short encoder window can derail the decoder (seen on audio that ends right after
        the speech); the words' confidence shows it: decode the full window once more,
        without the temperature fallback (on a 30 s window that can take seconds), and keep
        the more confident of the two."""
        self.full_window_retries += 1
        again = self._decode(audio, language, beam_size, words=True, encoder_pad_s=None,
                             fallback=False)
        return again if _confidence(again[0]) > _confidence(first[0]) else first

    def _decode(self, audio: np.ndarray, language: str | None, beam_size: int, words: bool,
                encoder_pad_s: float | None, *, fallback: bool
                ) -> tuple[list[Segment], TranscriptionInfo]:
        # Partials skip the engine's VAD for speed. Finals keep it: an utterance the stream
        # VAD opened on noise (likely with the energy VAD) is then skipped instead of decoded
        # through every temperature fallback.
        segments, info = self.engine.transcribe(
            audio, language=language, word_timestamps=words, cancel=self.cancel,
            vad_filter=words, beam_size=beam_size, temperature_fallback=fallback,
            encoder_pad_s=encoder_pad_s)
        return list(segments), info


def _word_probs(segments: list[Segment]) -> list[float]:
    return [w.probability for seg in segments for w in seg.words if w.probability is not None]


def _confidence(segments: list[Segment]) -> float:
    """The words' mean probability (0 with no words)."""
    probs = _word_probs(segments)
    return float(np.mean(probs)) if probs else 0.0


def _doubtful(segments: list[Segment]) -> bool:
    """Words decoded with little confidence: a mean probability under 0.45 or one near 0
    (a short command's first word alone often comes out near 0.1: not a derailed decode)."""
    probs = _word_probs(segments)
    return bool(probs) and (float(np.mean(probs)) < 0.45 or min(probs) < 0.02)
