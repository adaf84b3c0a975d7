"""Live transcription: streaming VAD cuts utterances, partials while speaking, one final each."""

from __future__ import annotations

import collections
import logging
import threading
import time
from typing import Callable, Literal

import numpy as np

from atelico.config import Settings
from atelico.engines.base import (SPEECH_STARTED, SPEECH_STOPPED, STT_SAMPLE_RATE_HZ, LiveEvent,
                                  LiveResult, LiveWarning, SpeechToText, WordTiming)
from atelico.audio.resample import StreamResampler
from atelico.engines.stt.live_decode import UtteranceDecoder
from atelico.engines.stt.vad import (SILERO_VAD, WINDOW_SAMPLES, EnergyVad, SileroModel, SileroVad,
                                     Vad, windows_in)
from atelico.errors import AudioError, RequestError

log = logging.getLogger(__name__)

__all__ = ["SILERO_VAD", "EnergyVad", "LiveTranscriber", "LiveWarning", "SileroVad", "VadKind"]

VadKind = Literal["silero", "energy"]
_SENTENCE_END = (".", "?", "!")


class LiveTranscriber:
    """Incremental transcription of one live stream (satisfies ``base.LiveTranscriber``).

    Responsibilities:
      - cut the 16 kHz mono stream into utterances with a streaming VAD (Silero or energy),
        keeping ``pre_roll_s`` of audio before the detected onset so first words survive;
      - emit partials (greedy, beam 1) while an utterance grows, at most every
        ``partial_interval_s`` of new audio (and never more often than compute allows);
      - emit exactly one final per utterance (beam search, word times) once trailing
        silence reaches ``min_silence_s`` or the utterance reaches ``max_utterance_s``
        (then cut at its quietest recent window);
      - finish fast: as soon as ``speculate_silence_s`` of silence follows the speech, the
        final is decoded speculatively; it is committed once ``endpoint_silence_s`` of
        silence confirms the end (when its text ends a sentence; otherwise at
        ``min_silence_s``) and discarded if speech resumes first. No partial starts once
        the VAD has fallen, and every decode encodes only the utterance plus
        ``encoder_pad_s`` instead of Whisper's whole 30 s window;
      - with ``events``, report the endpoints too (:class:`LiveEvent`): ``speech_started``
        on the push holding the onset window, ``speech_stopped`` just before the final;
      - keep lag bounded: compute time is charged against audio time; when behind, partials
        are skipped first, and beyond ``max_lag_s`` incoming audio is dropped (reported in
        :attr:`warnings`) until the backlog is halved.

    Segment ids start at 0 and increase by one per final; times are seconds since the
    stream started (dropped audio still advances the clock). With no ``language`` on a
    multilingual engine, the first confident final fixes the language for the rest of the
    stream (``lock_language``), which saves a language-detection encoder pass per call.
    """

    @classmethod
    def from_settings(cls, engine: SpeechToText, settings: Settings, *,
                      language: str | None = None, vad: VadKind = "silero",
                      partials: bool = True, sample_rate_hz: int = STT_SAMPLE_RATE_HZ,
                      cancel: threading.Event | None = None,
                      events: bool = False,
                      vad_model: SileroModel | None = None) -> LiveTranscriber:
        """The server's constructor: lag bound from ``settings.limits.live_max_lag_s``;
        ``vad_model`` is the registry's Silero (``registry.part(SILERO_VAD)``)."""
        return cls(engine, language=language, vad=vad, partials=partials,
                   sample_rate_hz=sample_rate_hz,
                   max_lag_s=settings.limits.live_max_lag_s, cancel=cancel, events=events,
                   vad_model=vad_model)

    def __init__(self, engine: SpeechToText, *, language: str | None = None,
                 sample_rate_hz: int = STT_SAMPLE_RATE_HZ, vad: VadKind = "silero",
                 partials: bool = True, max_lag_s: float = 4.0,
                 min_silence_s: float = 0.6, pre_roll_s: float = 0.3,
                 min_speech_s: float = 0.25, max_utterance_s: float = 25.0,
                 partial_interval_s: float = 1.0, threshold: float = 0.5,
                 final_beam_size: int = 5, lock_language: bool = True,
                 speculate_silence_s: float = 0.2, endpoint_silence_s: float = 0.3,
                 encoder_pad_s: float | None = 5.0, events: bool = False,
                 clock: Callable[[], float] = time.perf_counter,
                 cancel: threading.Event | None = None,
                 vad_model: SileroModel | None = None) -> None:
        """Times are in seconds; ``clock`` measures compute time (tests inject a fake one).

        ``sample_rate_hz`` is the rate of the frames given to :meth:`push`; anything but
        16 kHz is resampled with a stateful (seamless) resampler. ``vad_model``: the shared
        Silero model (``registry.part(SILERO_VAD)``; default: a process-wide one).

        Raises:
            RequestError: an unknown ``vad`` or out-of-range timing option.
        """
        if vad == "silero":
            self._vad: Vad = SileroVad(vad_model)
        elif vad == "energy":
            self._vad = EnergyVad()
        else:
            raise RequestError(f"vad must be 'silero' or 'energy', not {vad!r}",
                               details={"field": "vad"})
        if (max_lag_s <= 0 or min_silence_s <= 0 or max_utterance_s < 2.0
                or not 0 < speculate_silence_s <= endpoint_silence_s <= min_silence_s):
            raise RequestError("max_lag_s and min_silence_s must be > 0, max_utterance_s "
                               ">= 2 and 0 < speculate_silence_s <= endpoint_silence_s <= "
                               "min_silence_s", details={"field": "live"})
        self.engine = engine
        self._decoder = UtteranceDecoder(engine, language=language, lock_language=lock_language,
                                         encoder_pad_s=encoder_pad_s, cancel=cancel)
        self._resampler = (StreamResampler(sample_rate_hz)
                           if sample_rate_hz != STT_SAMPLE_RATE_HZ else None)
        self.partials = partials
        self.max_lag_s = max_lag_s
        self._threshold = threshold
        self._neg_threshold = max(threshold - 0.15, 0.01)
        self._min_silence_windows = windows_in(min_silence_s)
        self._speculate_windows = max(1, windows_in(speculate_silence_s))
        self._endpoint_windows = max(self._speculate_windows, windows_in(endpoint_silence_s))
        self.events = events
        self._pre_roll_windows = windows_in(pre_roll_s)
        self._min_speech_windows = max(1, windows_in(min_speech_s))
        self._max_utterance_windows = windows_in(max_utterance_s)
        self._partial_interval_samples = int(partial_interval_s * STT_SAMPLE_RATE_HZ)
        self._final_beam_size = final_beam_size
        self._clock = clock

        self._pending = np.zeros(0, np.float32)
        self._samples_seen = 0  # stream clock, in samples (includes dropped audio)
        self._preroll: collections.deque[np.ndarray] = collections.deque(
            maxlen=max(self._pre_roll_windows, 1))
        self._utt: list[np.ndarray] = []
        self._utt_probs: list[float] = []
        self._utt_start = 0  # sample index of the utterance's first (pre-roll) window
        self._utt_speech_windows = 0
        self._silence_run = 0
        self._partial_sent = False
        self._partial_at_windows = 0
        self._last_partial_cost_s = 0.0
        self._last_prob = 0.0
        self._speech_end = 0  # sample index where the utterance's last speech window ends
        self._onset_s = 0.0  # where the utterance's first speech window starts, seconds
        # the final decoded ahead of time: (windows of the utterance it covers, text, words)
        self._spec: tuple[int, str, tuple[WordTiming, ...]] | None = None
        self.speculations = 0  # speculative finals decoded ...
        self.speculations_discarded = 0  # ... and thrown away because speech resumed
        self._next_segment_id = 0
        self._debt_s = 0.0
        self._dropping_since: int | None = None
        self._dropped_samples = 0
        self.warnings: list[LiveWarning] = []
        self.max_debt_s = 0.0  # the largest backlog seen (for tests and metrics)
        self.finished = False

    # -- public API -------------------------------------------------------------------------

    @property
    def duration_s(self) -> float:
        """Seconds of audio received so far (dropped audio included)."""
        return (self._samples_seen + len(self._pending)) / STT_SAMPLE_RATE_HZ

    @property
    def language(self) -> str | None:
        """The language asked for (normalised by the engine), ``None`` to detect it."""
        return self._decoder.language

    @property
    def full_window_retries(self) -> int:
        """Short-window finals decoded again on the full window."""
        return self._decoder.full_window_retries

    @property
    def lag_s(self) -> float:
        """How far compute is behind real time, seconds (0 when keeping up)."""
        return self._debt_s

    def pop_warnings(self) -> list[LiveWarning]:
        """Return and clear the warnings gathered since the last call."""
        out, self.warnings = self.warnings, []
        return out

    def push(self, audio: np.ndarray) -> list[LiveResult | LiveEvent]:
        """Feed float32 samples (any length) at ``sample_rate_hz``, mono 1-D or
        ``[samples, channels]``; return the new partials and finals (and, with ``events``,
        the speech endpoints) in order.

        Raises:
            AudioError: not 1-D or not finite.
            RequestError: called after :meth:`finish`.
        """
        if self.finished:
            raise RequestError("this live transcription has finished", details={"field": "audio"})
        samples = self._mono16k(audio)
        if samples.size == 0:
            return []
        started = self._clock()
        audio_s = len(samples) / STT_SAMPLE_RATE_HZ
        results: list[LiveResult | LiveEvent] = []
        if self._dropping_since is None and self._debt_s > self.max_lag_s:
            results += self._start_dropping()
        if self._dropping_since is not None:
            self._dropped_samples += len(samples)
            self._samples_seen += len(samples)
            self._charge(started, audio_s)
            if self._debt_s <= self.max_lag_s / 2:
                self._stop_dropping()
            return self._out(results)
        results += self._detect(samples)
        if self._speculation_due():
            results += self._speculate()
            if self._endpoint_confirmed():
                results += self._finalize(self._end_of_speech_windows())
        elif self._partial_due():
            results += self._partial()
        self._charge(started, audio_s)
        return self._out(results)

    def _mono16k(self, audio: np.ndarray) -> np.ndarray:
        """Checked mono float32 samples at 16 kHz (raises AudioError)."""
        samples = np.asarray(audio)
        if samples.ndim == 2 and 1 <= samples.shape[1] <= 8:
            samples = samples.mean(axis=1)
        if samples.ndim != 1:
            raise AudioError(f"expected mono 1-D or [samples, channels] audio, got shape "
                             f"{samples.shape}")
        samples = samples.astype(np.float32, copy=False)
        if not np.isfinite(samples).all():
            raise AudioError("the audio holds NaN or infinite samples")
        return self._resampler(samples) if self._resampler is not None else samples

    def _detect(self, samples: np.ndarray) -> list[LiveResult | LiveEvent]:
        """Run the VAD over every whole window now pending and step the utterance state."""
        self._pending = np.concatenate([self._pending, samples])
        n_windows = len(self._pending) // WINDOW_SAMPLES
        if not n_windows:
            return []
        windows = self._pending[:n_windows * WINDOW_SAMPLES].reshape(n_windows, WINDOW_SAMPLES)
        self._pending = self._pending[n_windows * WINDOW_SAMPLES:].copy()
        results: list[LiveResult | LiveEvent] = []
        for window, prob in zip(windows, self._vad(windows)):
            results += self._step(window, float(prob))
        return results

    def finish(self) -> list[LiveResult | LiveEvent]:
        """Flush: finalize the utterance in progress (if any) and close the stream."""
        if self.finished:
            return []
        results: list[LiveResult | LiveEvent] = []
        if self._dropping_since is not None:
            self._stop_dropping()
        if self._resampler is not None:
            self._pending = np.concatenate([self._pending, self._resampler.flush()])
        if len(self._pending):
            tail = np.zeros(WINDOW_SAMPLES, np.float32)
            tail[:len(self._pending)] = self._pending
            n = len(self._pending)
            self._pending = np.zeros(0, np.float32)
            prob = float(self._vad(tail[None, :])[0])
            results += self._step(tail, prob)
            self._samples_seen += n - WINDOW_SAMPLES  # only the real samples count as time
        if self._utt:
            results += self._finalize(len(self._utt))
        self.finished = True
        return self._out(results)

    def _out(self, results: list[LiveResult | LiveEvent]) -> list[LiveResult | LiveEvent]:
        return results if self.events else [r for r in results if not isinstance(r, LiveEvent)]

    # -- utterance state machine ----------------------------------------------------------------

    def _step(self, window: np.ndarray, prob: float) -> list[LiveResult | LiveEvent]:
        start = self._samples_seen
        self._samples_seen += WINDOW_SAMPLES
        self._last_prob = prob
        if not self._utt:
            if prob >= self._threshold:
                self._utt = [*self._preroll, window]
                self._utt_probs = [0.0] * len(self._preroll) + [prob]
                self._utt_start = start - len(self._preroll) * WINDOW_SAMPLES
                self._utt_speech_windows = 1
                self._speech_end = self._samples_seen
                self._onset_s = start / STT_SAMPLE_RATE_HZ
                self._silence_run = 0
                self._partial_sent = False
                self._partial_at_windows = 0
                self._preroll.clear()
                return [LiveEvent(SPEECH_STARTED, self._next_segment_id, self._onset_s)]
            if self._pre_roll_windows:
                self._preroll.append(window)
            return []
        self._utt.append(window)
        self._utt_probs.append(prob)
        if prob >= self._threshold:
            self._utt_speech_windows += 1
            self._speech_end = self._samples_seen
            self._silence_run = 0
            if self._spec is not None:  # speech resumed: the speculative final is stale
                self._spec = None
                self.speculations_discarded += 1
        elif prob < self._neg_threshold:
            self._silence_run += 1
        if self._silence_run >= self._min_silence_windows or self._endpoint_confirmed():
            return self._finalize(self._end_of_speech_windows())
        if len(self._utt) >= self._max_utterance_windows:
            return self._finalize(self._quiet_cut())
        return []

    def _end_of_speech_windows(self) -> int:
        """The utterance up to 0.2 s past its trailing silence's start."""
        return len(self._utt) - self._silence_run + windows_in(0.2)

    def _speculation_due(self) -> bool:
        return (bool(self._utt) and self._spec is None
                and self._silence_run >= self._speculate_windows
                and self._utt_speech_windows >= self._min_speech_windows
                and self._debt_s <= self.max_lag_s / 2)  # far behind: finals decode at the end

    def _speculate(self) -> list[LiveResult]:
        """Decode the final now, while the silence that will confirm it is still coming;
        its text goes out as a partial at once (it is the best guess so far)."""
        text, words = self._decoder(np.concatenate(self._utt), beam_size=self._final_beam_size,
                                words=True)
        self._spec = (len(self._utt), text, words)
        self.speculations += 1
        self._partial_at_windows = len(self._utt)
        return self._partial_result(text)

    def _endpoint_confirmed(self) -> bool:
        """A speculative final that ends a sentence needs only ``endpoint_silence_s``."""
        return (self._spec is not None and self._silence_run >= self._endpoint_windows
                and self._spec[1].rstrip().endswith(_SENTENCE_END))

    def _quiet_cut(self) -> int:
        """Where to cut an over-long utterance: after its quietest window of the last 40%."""
        probs = np.asarray(self._utt_probs)
        energy = np.array([float(np.mean(w * w)) for w in self._utt])
        lo = int(len(probs) * 0.6)
        score = probs[lo:] + energy[lo:] / (energy.max() + 1e-12)
        return lo + int(np.argmin(score)) + 1

    def _finalize(self, keep_windows: int) -> list[LiveResult | LiveEvent]:
        """Close the utterance with its first ``keep_windows`` windows; carry the rest on."""
        keep_windows = max(1, min(keep_windows, len(self._utt)))
        head, rest = self._utt[:keep_windows], self._utt[keep_windows:]
        rest_probs = self._utt_probs[keep_windows:]
        speech_windows = sum(p >= self._threshold for p in self._utt_probs[:keep_windows])
        start_sample = self._utt_start
        partial_sent = self._partial_sent
        spec, self._spec = self._spec, None
        results: list[LiveResult | LiveEvent] = []
        self._utt, self._utt_probs = [], []
        self._partial_sent = False
        self._silence_run = 0
        continues = bool(rest) and any(p >= self._threshold for p in rest_probs)
        if not continues:
            results.append(LiveEvent(SPEECH_STOPPED, self._next_segment_id,
                                     self._onset_s, self._speech_end / STT_SAMPLE_RATE_HZ))
        if speech_windows >= self._min_speech_windows or partial_sent:
            results += self._final(np.concatenate(head), start_sample, partial_sent, spec)
        if continues:  # a cut mid-speech
            self._utt, self._utt_probs = rest, rest_probs
            self._utt_start = start_sample + keep_windows * WINDOW_SAMPLES
            self._utt_speech_windows = sum(p >= self._threshold for p in rest_probs)
            self._partial_at_windows = 0
        else:
            self._preroll.clear()
            for window in rest[-self._pre_roll_windows:] if self._pre_roll_windows else ():
                self._preroll.append(window)
        return results

    def _final(self, audio: np.ndarray, start_sample: int, partial_sent: bool,
               spec: tuple[int, str, tuple[WordTiming, ...]] | None = None) -> list[LiveResult]:
        if spec is not None:  # decoded at the first silence; nothing was said since
            _, text, words = spec
        else:
            text, words = self._decoder(audio, beam_size=self._final_beam_size, words=True)
        if not text and not partial_sent:
            return []  # nothing said (noise): no segment id is used
        offset_s = start_sample / STT_SAMPLE_RATE_HZ
        words = tuple(WordTiming(w.word, w.start_s + offset_s, w.end_s + offset_s, w.probability)
                      for w in words)
        start_s = words[0].start_s if words else offset_s
        end_s = words[-1].end_s if words else offset_s + len(audio) / STT_SAMPLE_RATE_HZ
        result = LiveResult(segment_id=self._next_segment_id, text=text, start_s=start_s,
                            end_s=end_s, is_final=True, words=words)
        self._next_segment_id += 1
        return [result]

    # -- partials -----------------------------------------------------------------------------

    def _partial_due(self) -> bool:
        if not (self.partials and self._utt) or self._utt_speech_windows < self._min_speech_windows:
            return False
        if self._debt_s > self.max_lag_s / 4:
            return False  # behind real time: partials are the first thing to go
        if self._silence_run or self._last_prob < self._threshold:
            return False  # the speech may be ending: keep the worker free for the final
        new_samples = (len(self._utt) - self._partial_at_windows) * WINDOW_SAMPLES
        needed = max(self._partial_interval_samples,
                     int(1.5 * self._last_partial_cost_s * STT_SAMPLE_RATE_HZ))
        return new_samples >= needed

    def _partial(self) -> list[LiveResult]:
        started = self._clock()
        text, _ = self._decoder(np.concatenate(self._utt), beam_size=1, words=False)
        self._last_partial_cost_s = self._clock() - started
        self._partial_at_windows = len(self._utt)
        return self._partial_result(text)

    def _partial_result(self, text: str) -> list[LiveResult]:
        if not text or not self.partials:
            return []
        self._partial_sent = True
        start_s = self._utt_start / STT_SAMPLE_RATE_HZ
        return [LiveResult(segment_id=self._next_segment_id, text=text, start_s=start_s,
                           end_s=start_s + len(self._utt) * WINDOW_SAMPLES / STT_SAMPLE_RATE_HZ,
                           is_final=False)]

    # -- engine, lag ------------------------------------------------------------------------------

    def _charge(self, started: float, audio_s: float) -> None:
        """Add this push's compute time and subtract the real time its audio represents."""
        self._debt_s = max(0.0, self._debt_s + (self._clock() - started) - audio_s)
        self.max_debt_s = max(self.max_debt_s, self._debt_s)

    def _start_dropping(self) -> list[LiveResult | LiveEvent]:
        log.warning("live transcription %.1f s behind real time; dropping audio", self._debt_s)
        results: list[LiveResult | LiveEvent] = []
        if self._utt:
            results += self._finalize(len(self._utt))
        self._samples_seen += len(self._pending)
        self._dropped_samples = len(self._pending)
        self._pending = np.zeros(0, np.float32)
        self._dropping_since = self._samples_seen - self._dropped_samples
        self._behind(f"transcription is {self._debt_s:.1f} s behind real time; audio is "
                     "skipped until it catches up", 0.0)
        return results

    def _behind(self, message: str, dropped_s: float) -> None:
        assert self._dropping_since is not None
        start_s = self._dropping_since / STT_SAMPLE_RATE_HZ
        self.warnings.append(LiveWarning("stt.behind", message, dropped_s, start_s,
                                         start_s + dropped_s))

    def _stop_dropping(self) -> None:
        dropped_s = self._dropped_samples / STT_SAMPLE_RATE_HZ
        self._behind(f"transcription fell more than {self.max_lag_s:g} s behind real time; "
                     f"{dropped_s:.2f} s of audio were skipped", dropped_s)
        self._dropping_since = None
        self._dropped_samples = 0
        self._vad.reset()
        self._preroll.clear()
