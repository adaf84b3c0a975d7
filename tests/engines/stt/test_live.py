"""LiveTranscriber: VAD-cut utterances, partials then finals, pre-roll, bounded lag."""

from __future__ import annotations

import threading
from typing import Iterator

import numpy as np
import pytest

from atelico.engines.base import LiveResult, Segment, TranscriptionInfo, WordTiming
from atelico.engines.stt.live import EnergyVad, LiveTranscriber, SileroVad
from atelico.engines.stt.whisper import WhisperEngine
from atelico.errors import AudioError, LanguageError, RequestError
from tests.engines.stt.conftest import SAMPLE_RATE_HZ, Clip
from tests.helpers.wer import word_error_rate


def silence(seconds: float) -> np.ndarray:
    return np.zeros(int(seconds * SAMPLE_RATE_HZ), np.float32)


def stream(live: LiveTranscriber, audio: np.ndarray, *, seed: int = 0
           ) -> list[tuple[float, LiveResult]]:
    """Feed ``audio`` as fast as possible in 20–100 ms frames, then finish.

    Returns each result with the stream time (seconds of audio pushed) when it came out.
    """
    rng = np.random.default_rng(seed)
    out: list[tuple[float, LiveResult]] = []
    position = 0
    while position < len(audio):
        frame = int(rng.integers(20, 101)) * SAMPLE_RATE_HZ // 1000
        chunk = audio[position:position + frame]
        position += len(chunk)
        out += [(position / SAMPLE_RATE_HZ, r) for r in live.push(chunk)]
    out += [(position / SAMPLE_RATE_HZ, r) for r in live.finish()]
    return out


def audio_time() -> float:
    """A compute clock that never advances: real-model tests judge behaviour in audio time
    (identical on a loaded CI machine); lag handling is tested with a fake clock below."""
    return 0.0


def finals(results: list[tuple[float, LiveResult]]) -> list[LiveResult]:
    return [r for _, r in results if r.is_final]


@pytest.mark.slow
def test_streamed_speech_gives_partials_then_one_final_per_utterance(
        tiny_en_engine: WhisperEngine, clips: dict[str, Clip]) -> None:
    """Three clips 1.5 s apart: partials while speaking, then finals 0, 1, 2 matching the speech."""
    chosen = [clips[n] for n in ("arctic_a0007", "goforward",
                                 "sense_and_sensibility_01_austen_64kb-0870")]
    parts, spans, t = [silence(0.5)], [], 0.5
    for clip in chosen:
        parts += [clip.audio, silence(1.5)]
        spans.append((t, t + clip.duration_s))
        t += clip.duration_s + 1.5
    live = LiveTranscriber(tiny_en_engine, vad="silero", clock=audio_time)
    results = stream(live, np.concatenate(parts))

    done = finals(results)
    assert [f.segment_id for f in done] == [0, 1, 2]
    for final, clip, (start_s, end_s) in zip(done, chosen, spans):
        assert word_error_rate(clip.transcript, final.text) <= 0.15, final.text
        assert start_s - 0.35 <= final.start_s < final.end_s <= end_s + 0.1
        assert final.words and all(start_s - 0.35 <= w.start_s <= w.end_s <= end_s + 0.1
                                   for w in final.words)
    joined = " ".join(f.text for f in done)
    assert word_error_rate(" ".join(c.transcript for c in chosen), joined) <= 0.1
    # The long clip (7 s) got partials before its final, all with its segment id.
    partials = [(at, r) for at, r in results if not r.is_final and r.segment_id == 2]
    final_at = next(at for at, r in results if r.is_final and r.segment_id == 2)
    assert len(partials) >= 5 and all(at < final_at for at, _ in partials)
    said = partials[-1][1].text
    prefix = " ".join(chosen[2].transcript.split()[:len(said.split())])
    assert word_error_rate(prefix, said) <= 0.3  # what was heard so far, nearly right
    # No partial outlives its final, and each final comes soon after its speech ends.
    for at, result in results:
        if not result.is_final:
            assert result.segment_id not in {f.segment_id for f in finals(
                [(a, r) for a, r in results if a < at])}
    for final in done:
        emitted_at = next(at for at, r in results
                          if r.is_final and r.segment_id == final.segment_id)
        assert emitted_at - final.end_s <= 1.2  # min_silence 0.6 s plus VAD decay
    assert live.warnings == [] and live.duration_s == pytest.approx(t)


@pytest.mark.slow
@pytest.mark.parametrize("vad", ["silero", "energy"])
def test_two_utterances_give_two_finals(vad: str, tiny_en_engine: WhisperEngine,
                                        clips: dict[str, Clip]) -> None:
    """1.5 s of silence between two sentences splits them into segment ids 0 and 1."""
    first, second = clips["goforward"], clips["arctic_a0007"]
    audio = np.concatenate([first.audio, silence(1.5), second.audio])
    live = LiveTranscriber(tiny_en_engine, vad=vad, partials=False, clock=audio_time)
    done = finals(stream(live, audio, seed=1))
    assert [f.segment_id for f in done] == [0, 1]
    assert word_error_rate(first.transcript, done[0].text) <= 0.15
    assert word_error_rate(second.transcript, done[1].text) <= 0.15
    assert done[0].end_s < first.duration_s + 0.1 < done[1].start_s


@pytest.mark.slow
def test_pre_roll_keeps_the_first_word(tiny_en_engine: WhisperEngine,
                                       clips: dict[str, Clip]) -> None:
    """Speech starting abruptly after silence keeps its first word ('go') and its onset time."""
    clip = clips["goforward"]
    onset_s = 0.45  # the recording's own speech starts at ~0.5 s
    audio = np.concatenate([silence(1.0), clip.audio[int(onset_s * SAMPLE_RATE_HZ):]])
    live = LiveTranscriber(tiny_en_engine, partials=False, clock=audio_time)
    done = finals(stream(live, audio, seed=2))
    assert len(done) == 1
    assert done[0].text.lower().startswith("go")
    assert word_error_rate(clip.transcript, done[0].text) == 0.0
    assert 0.7 <= done[0].start_s <= 1.15


@pytest.mark.slow
@pytest.mark.parametrize("vad", ["silero", "energy"])
def test_silence_and_noise_streams_give_no_words(vad: str, tiny_en_engine: WhisperEngine) -> None:
    """Five seconds of silence then five of white noise produce no words.

    Silero never opens an utterance. The energy VAD does hear the noise as speech until it
    has learnt the floor, and the final's guards then turn it into nothing.
    """
    rng = np.random.default_rng(3)
    noise = (0.05 * rng.standard_normal(5 * SAMPLE_RATE_HZ)).astype(np.float32)
    live = LiveTranscriber(tiny_en_engine, vad=vad, clock=audio_time)
    results = stream(live, np.concatenate([silence(5.0), noise]))
    if vad == "silero":
        assert results == []
    assert all(r.text == "" for _, r in results if r.is_final), results


@pytest.mark.slow
def test_english_only_engine_refuses_another_language_at_start(
        tiny_en_engine: WhisperEngine) -> None:
    """A live session asking tiny.en for French fails before any audio is sent."""
    with pytest.raises(LanguageError):
        LiveTranscriber(tiny_en_engine, language="fr")


# -- fast tests with a fake engine and a fake clock ----------------------------------------------

class FakeClock:
    """Compute time that only the fake engine advances."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class FakeEngine:
    """A SpeechToText that 'costs' ``cost_s`` of compute per call and says one word per second."""

    model_id = "fake"

    def __init__(self, clock: FakeClock, cost_s: float) -> None:
        self.clock, self.cost_s = clock, cost_s
        self.calls: list[tuple[float, int]] = []  # (audio seconds, beam size)

    def transcribe(self, audio: np.ndarray, *, language: str | None = None,
                   task: str = "transcribe", prompt: str | None = None,
                   temperature: float = 0.0, word_timestamps: bool = False,
                   cancel: threading.Event | None = None, vad_filter: bool = True,
                   beam_size: int = 5, temperature_fallback: bool = True,
                   encoder_pad_s: float | None = None, batched: bool = False
                   ) -> tuple[Iterator[Segment], TranscriptionInfo]:
        duration_s = len(audio) / SAMPLE_RATE_HZ
        self.clock.now += self.cost_s
        self.calls.append((duration_s, beam_size))
        n = max(1, int(duration_s))
        words = tuple(WordTiming("la", i * duration_s / n, (i + 0.8) * duration_s / n)
                      for i in range(n))
        segment = Segment(0, 0.0, duration_s, " ".join(w.word for w in words), words)
        return iter([segment]), TranscriptionInfo("en", 1.0, duration_s, self.model_id)


def bursts(count: int, on_s: float = 1.0, off_s: float = 0.8) -> np.ndarray:
    """``count`` loud harmonic tones separated by silence (speech for the energy VAD)."""
    t = np.arange(int(on_s * SAMPLE_RATE_HZ)) / SAMPLE_RATE_HZ
    tone = 0.2 * np.sin(2 * np.pi * 220 * t) + 0.1 * np.sin(2 * np.pi * 660 * t)
    tone = tone.astype(np.float32)
    return np.concatenate([part for _ in range(count) for part in (tone, silence(off_s))])


def test_fast_engine_keeps_up_without_dropping() -> None:
    """With compute well under real time every burst becomes a final and nothing is dropped."""
    clock = FakeClock()
    engine = FakeEngine(clock, cost_s=0.05)
    live = LiveTranscriber(engine, vad="energy", max_lag_s=2.0, clock=clock)
    results = stream(live, bursts(15))
    assert [f.segment_id for f in finals(results)] == list(range(15))
    assert live.warnings == [] and live.lag_s == 0.0
    assert any(beam == 1 for _, beam in engine.calls)  # partials are greedy
    assert all(beam == 5 for _, beam in engine.calls[-1:])  # finals use the beam


def test_slow_engine_skips_partials_then_drops_audio_with_a_warning() -> None:
    """Compute slower than real time: the backlog stays bounded and dropped audio is reported."""
    clock = FakeClock()
    engine = FakeEngine(clock, cost_s=2.5)  # every call costs more than a 1.8 s burst cycle
    audio = bursts(30)
    live = LiveTranscriber(engine, vad="energy", max_lag_s=2.0, clock=clock)
    results = stream(live, audio)

    done = finals(results)
    assert 1 <= len(done) < 30
    assert [f.segment_id for f in done] == list(range(len(done)))
    assert live.max_debt_s <= 2.0 + 2 * 2.5  # the bound plus at most one push's calls
    warnings = live.pop_warnings()
    assert warnings and all(w.code == "stt.behind" for w in warnings)
    # Each drop is announced when it starts (nothing skipped yet) and summed up when it ends.
    starts, ends = warnings[0::2], warnings[1::2]
    assert len(starts) == len(ends)
    assert all(w.dropped_s == 0.0 and w.end_s == w.start_s for w in starts)
    assert all(e.dropped_s > 0 and e.start_s == s.start_s for s, e in zip(starts, ends))
    assert sum(w.dropped_s for w in warnings) <= len(audio) / SAMPLE_RATE_HZ
    assert all(a.end_s <= b.start_s for a, b in zip(warnings, warnings[1:]))
    # Partials go first: once behind, only finals are computed.
    partial_calls = [i for i, (_, beam) in enumerate(engine.calls) if beam == 1]
    assert len(partial_calls) <= 2
    assert live.duration_s == pytest.approx(len(audio) / SAMPLE_RATE_HZ)
    times = [r.start_s for _, r in results if r.is_final]
    assert times == sorted(times)


def test_falling_behind_is_reported_when_the_dropping_starts() -> None:
    """A game can show "lagging" at once: the first warning comes from the push where audio
    starts to be skipped, while the end of the drop (with its length) comes only later."""
    clock = FakeClock()
    engine = FakeEngine(clock, cost_s=2.5)
    audio = bursts(30)
    live = LiveTranscriber(engine, vad="energy", max_lag_s=2.0, clock=clock)
    frame = SAMPLE_RATE_HZ // 10
    first: list[tuple[int, float]] = []
    for i in range(0, len(audio), frame):
        live.push(audio[i:i + frame])
        first = [(i, w.dropped_s) for w in live.pop_warnings()]
        if first:
            break
    assert first, "the transcriber never fell behind"
    (at, dropped_s), = first
    assert dropped_s == 0.0 and live.lag_s > 1.0  # still behind: dropping has only begun
    later = []
    for i in range(at + frame, len(audio), frame):
        live.push(audio[i:i + frame])
        later += live.pop_warnings()
        if later:
            break
    assert later and later[0].dropped_s > 0  # the end of that drop, with what was skipped


def test_long_speech_is_cut_at_a_quiet_point() -> None:
    """Speech longer than max_utterance_s is finalized in pieces, each cut where it is quiet."""
    clock = FakeClock()
    engine = FakeEngine(clock, cost_s=0.0)
    audio = bursts(12, on_s=1.0, off_s=0.3)  # pauses shorter than min_silence: one 15 s "utterance"
    live = LiveTranscriber(engine, vad="energy", partials=False, max_utterance_s=5.0,
                           speculate_silence_s=0.6, endpoint_silence_s=0.6, clock=clock)
    done = finals(stream(live, audio))
    assert len(done) >= 3 and [f.segment_id for f in done] == list(range(len(done)))
    lengths_s = [seconds for seconds, _ in engine.calls]
    assert max(lengths_s) <= 5.0 + 1e-6
    assert sum(lengths_s) == pytest.approx(len(audio) / SAMPLE_RATE_HZ, abs=0.5)
    for cut_s in np.cumsum(lengths_s)[:-1]:  # each piece ends inside a 0.3 s pause
        assert 1.0 - 0.04 <= cut_s % 1.3 <= 1.3, cut_s


def test_push_validation_and_finish() -> None:
    """Bad frames are AudioErrors; pushing after finish is refused; finish is idempotent."""
    clock = FakeClock()
    live = LiveTranscriber(FakeEngine(clock, 0.0), vad="energy", clock=clock)
    with pytest.raises(AudioError):
        live.push(np.zeros((2, 100), np.float32))
    with pytest.raises(AudioError):
        live.push(np.array([np.inf], np.float32))
    assert live.push(np.zeros(0, np.float32)) == []
    assert live.finish() == [] and live.finish() == []
    with pytest.raises(RequestError):
        live.push(np.zeros(100, np.float32))
    with pytest.raises(RequestError):
        LiveTranscriber(FakeEngine(clock, 0.0), vad="webrtc")  # type: ignore[arg-type]


def test_silero_streaming_matches_whole_clip(clips: dict[str, Clip]) -> None:
    """Silero probabilities computed frame by frame equal those of one batch over the clip."""
    audio = clips["goforward"].audio
    windows = audio[:len(audio) // 512 * 512].reshape(-1, 512)
    whole = SileroVad()(windows)
    streaming = SileroVad()
    pieces = np.concatenate([streaming(windows[i:i + 3]) for i in range(0, len(windows), 3)])
    np.testing.assert_allclose(pieces, whole, atol=1e-5)
    assert whole.max() > 0.9 and whole[:5].max() < 0.5  # speech found, leading silence not


def test_silero_comes_from_the_registry_once(clips: dict[str, Clip], tmp_path) -> None:
    """``registry.part(SILERO_VAD)`` is one model for every stream of a registry; streams on
    it detect speech exactly as the standalone detector does."""
    from atelico.config import load_settings
    from atelico.engines.stt.live import SILERO_VAD
    from atelico.models.registry import ModelRegistry

    registry = ModelRegistry(load_settings({"models": {"cache_dir": tmp_path}}, env={}))
    model = registry.part(SILERO_VAD)
    assert registry.part(SILERO_VAD) is model and registry.loaded_parts() == [SILERO_VAD.id]
    audio = clips["goforward"].audio
    windows = audio[:len(audio) // 512 * 512].reshape(-1, 512)
    np.testing.assert_allclose(SileroVad(model)(windows), SileroVad()(windows), atol=1e-6)
    live = LiveTranscriber(FakeEngine(FakeClock(), 0.0), vad="silero", vad_model=model)
    assert finals(stream(live, audio))
    registry.close()
    assert registry.loaded_parts() == []


def test_energy_vad_follows_the_noise_floor() -> None:
    """Once it has heard 5 s of a -40 dBFS hiss, the hiss is silence and a tone over it speech."""
    rng = np.random.default_rng(5)
    audio = (0.01 * rng.standard_normal(9 * SAMPLE_RATE_HZ)).astype(np.float32)
    audio[6 * SAMPLE_RATE_HZ:7 * SAMPLE_RATE_HZ] += bursts(1)[:SAMPLE_RATE_HZ]
    probs = EnergyVad()(audio[:len(audio) // 512 * 512].reshape(-1, 512))
    per_s = SAMPLE_RATE_HZ / 512
    at = lambda seconds: int(seconds * per_s)  # noqa: E731
    assert probs[at(5.2):at(6.0) - 1].max() < 0.1
    assert probs[at(6.0) + 1:at(7.0) - 1].min() > 0.9
    assert probs[at(7.0) + 1:].max() < 0.1


@pytest.mark.slow
def test_44k_stereo_frames_are_resampled(tiny_en_engine: WhisperEngine,
                                         clips: dict[str, Clip]) -> None:
    """A 44.1 kHz stereo stream (as a game's mixer gives it) transcribes like the 16 kHz one."""
    from scipy.signal import resample_poly

    clip = clips["arctic_a0007"]
    mono_44k = resample_poly(np.concatenate([clip.audio, silence(1.0)]), 441, 160)
    stereo = np.stack([mono_44k, 0.5 * mono_44k], axis=1).astype(np.float32)
    live = LiveTranscriber(tiny_en_engine, sample_rate_hz=44_100, partials=False,
                           clock=audio_time)
    results: list[LiveResult] = []
    for i in range(0, len(stereo), 882):  # 20 ms frames
        results += live.push(stereo[i:i + 882])
    results += live.finish()
    assert [r.segment_id for r in results] == [0]
    assert word_error_rate(clip.transcript, results[0].text) <= 0.1
    assert results[0].end_s <= clip.duration_s
    assert live.duration_s == pytest.approx(clip.duration_s + 1.0, abs=0.01)


# -- endpointing: speculative finals and speech events (fake engine, fake clock) ---------------

class SentenceEngine(FakeEngine):
    """A FakeEngine whose text ends a sentence (or not) and that records every call's options;
    ``doubtful_calls`` first calls come out with near-zero word confidence (or, with
    ``confidences``, call ``i``'s words with ``confidences[i]``, 1.0 past the list)."""

    def __init__(self, clock: FakeClock, cost_s: float, *, period: bool = True,
                 doubtful_calls: int = 0, confidences: tuple[float, ...] = ()) -> None:
        super().__init__(clock, cost_s)
        self.period = period
        self.confidences = confidences or (0.01,) * doubtful_calls
        self.options: list[dict] = []

    def transcribe(self, audio: np.ndarray, **kwargs) -> tuple[Iterator[Segment], TranscriptionInfo]:
        self.options.append(kwargs)
        segments, info = super().transcribe(audio, beam_size=kwargs.get("beam_size", 5))
        seg = next(segments)
        call = len(self.options) - 1
        probability = self.confidences[call] if call < len(self.confidences) else 1.0
        words = tuple(WordTiming(w.word, w.start_s, w.end_s, probability) for w in seg.words)
        text = seg.text + ("." if self.period else "")
        return iter([Segment(0, seg.start_s, seg.end_s, text, words)]), info


def feed_windows(live: LiveTranscriber, audio: np.ndarray) -> list[tuple[float, object]]:
    """Push one 32 ms VAD window per call; each output with the stream time it came out."""
    out: list[tuple[float, object]] = []
    for at in range(0, len(audio), 512):
        out += [((at + 512) / SAMPLE_RATE_HZ, r) for r in live.push(audio[at:at + 512])]
    return out + [(len(audio) / SAMPLE_RATE_HZ, r) for r in live.finish()]


def kinds(results: list[tuple[float, object]]) -> list[str]:
    return [getattr(r, "kind", None) or ("final" if r.is_final else "partial") for _, r in results]


def test_final_is_committed_from_the_speculative_decode_after_a_short_silence() -> None:
    """A burst then silence: the final is decoded once at 0.2 s of silence and committed at
    0.3 s (its text ends a sentence), with no second decode, long before 0.6 s."""
    clock = FakeClock()
    engine = SentenceEngine(clock, cost_s=0.05)
    live = LiveTranscriber(engine, vad="energy", partials=False, clock=clock)
    results = feed_windows(live, np.concatenate([bursts(1, off_s=0.0), silence(1.5)]))
    done = [(at, r) for at, r in results if getattr(r, "is_final", False)]
    assert len(done) == 1
    emitted_at, final = done[0]
    assert emitted_at <= 1.03 + 0.3 + 0.04  # speech ends at ~1.02 s (the last tone window)
    beam_calls = [o for o in engine.options if o.get("beam_size") == 5]
    assert len(beam_calls) == 1 and live.speculations == 1 and live.speculations_discarded == 0
    assert final.text == "la." and final.words


def test_one_push_with_the_endpoint_silence_commits_the_final_in_that_push() -> None:
    """Speech plus 0.45 s of silence in a single push: the speculative decode made after the
    push's windows is confirmed at once (a sentence end, >= 0.3 s of silence), before the
    0.6 s that would end the utterance without it."""
    clock = FakeClock()
    engine = SentenceEngine(clock, cost_s=0.05)
    live = LiveTranscriber(engine, vad="energy", partials=False, clock=clock)
    out = live.push(np.concatenate([bursts(1, off_s=0.0), silence(0.45)]))
    done = [r for r in out if getattr(r, "is_final", False)]
    assert len(done) == 1 and done[0].text == "la." and live.speculations == 1
    assert live.finish() == []


def test_a_final_that_does_not_end_a_sentence_waits_for_the_full_silence() -> None:
    """Without a sentence end the speculative text is kept but committed only at 0.6 s."""
    clock = FakeClock()
    engine = SentenceEngine(clock, cost_s=0.05, period=False)
    live = LiveTranscriber(engine, vad="energy", partials=False, clock=clock)
    results = feed_windows(live, np.concatenate([bursts(1, off_s=0.0), silence(1.5)]))
    emitted_at = next(at for at, r in results if getattr(r, "is_final", False))
    assert 1.0 + 0.6 <= emitted_at <= 1.03 + 0.6 + 0.04
    assert len([o for o in engine.options if o.get("beam_size") == 5]) == 1  # decoded once


def test_speech_resuming_after_the_speculation_discards_it() -> None:
    """A 0.3 s pause starts a speculative final; the speech that follows drops it, and the
    one final covers both bursts."""
    clock = FakeClock()
    engine = SentenceEngine(clock, cost_s=0.05, period=False)
    live = LiveTranscriber(engine, vad="energy", partials=True, events=True, clock=clock)
    results = feed_windows(live, np.concatenate([bursts(2, off_s=0.3), silence(1.0)]))
    assert live.speculations == 2 and live.speculations_discarded == 1
    done = [r for _, r in results if getattr(r, "is_final", False)]
    assert len(done) == 1 and done[0].end_s > 2.2 and done[0].start_s < 0.1
    # the discarded speculation was shown as a partial; partials never start while the VAD falls
    # (a partial at 1 s of audio, each speculation's text as a partial, one in between)
    assert kinds(results) == ["speech_started"] + ["partial"] * 4 + ["speech_stopped", "final"]


def test_speech_events_bracket_each_utterance_at_its_onset_and_end() -> None:
    """speech_started comes out of the push holding the onset window, with the onset time;
    speech_stopped carries the end of speech and comes right before the final."""
    clock = FakeClock()
    engine = SentenceEngine(clock, cost_s=0.0)
    audio = np.concatenate([silence(0.5), bursts(2, off_s=1.0)])
    live = LiveTranscriber(engine, vad="energy", partials=True, events=True, clock=clock)
    results = feed_windows(live, audio)
    # (per utterance: a partial at 1 s of audio, then the speculative final's text)
    assert kinds(results) == ["speech_started", "partial", "partial", "speech_stopped",
                              "final"] * 2
    events = [(at, r) for at, r in results if getattr(r, "kind", None)]
    for onset_s, (at, started), (_, stopped) in zip((0.5, 2.5), events[0::2], events[1::2]):
        assert started.kind == "speech_started" and stopped.kind == "speech_stopped"
        assert abs(started.start_s - onset_s) <= 0.032 and at - started.start_s <= 0.064
        assert stopped.start_s == started.start_s
        assert abs(stopped.end_s - (onset_s + 1.0)) <= 0.04
    assert [r.segment_id for _, r in events] == [0, 0, 1, 1]
    # without events=True the same stream gives only partials and finals
    plain = LiveTranscriber(SentenceEngine(FakeClock(), 0.0), vad="energy", clock=FakeClock())
    assert set(kinds(feed_windows(plain, audio))) == {"partial", "final"}


def test_doubtful_short_window_final_is_decoded_again_on_the_full_window() -> None:
    """Words with near-zero confidence from a short encoder window trigger one full-window
    decode (encoder_pad_s=None), whose text is the final."""
    clock = FakeClock()
    engine = SentenceEngine(clock, cost_s=0.0, doubtful_calls=1)
    live = LiveTranscriber(engine, vad="energy", partials=False, clock=clock)
    done = finals(feed_windows(live, np.concatenate([bursts(1, off_s=0.0), silence(1.0)])))
    assert len(done) == 1 and all(w.probability == 1.0 for w in done[0].words)
    assert [o["encoder_pad_s"] for o in engine.options] == [5.0, None]
    # the retry runs once, without the temperature fallback that can take seconds on 30 s
    assert [o["temperature_fallback"] for o in engine.options] == [True, False]
    assert live.full_window_retries == 1


def test_a_retry_less_confident_than_the_first_decode_is_dropped() -> None:
    """The short-window decode is doubtful (0.3) and the full-window retry worse (0.01):
    the short-window decode's words stand."""
    clock = FakeClock()
    engine = SentenceEngine(clock, cost_s=0.0, confidences=(0.3, 0.01))
    live = LiveTranscriber(engine, vad="energy", partials=False, clock=clock)
    done = finals(feed_windows(live, np.concatenate([bursts(1, off_s=0.0), silence(1.0)])))
    assert len(done) == 1 and live.full_window_retries == 1
    assert [o["encoder_pad_s"] for o in engine.options] == [5.0, None]
    assert all(w.probability == 0.3 for w in done[0].words)
