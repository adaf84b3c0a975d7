"""Kokoro streamed in windows of a whole-sentence plan: the graph's two halves, the window
sizer, the stitching, and windowed speech against the same sentence rendered whole."""

from __future__ import annotations

import numpy as np
import pytest

from atelico.engines.tts import kokoro_windows as kw
from atelico.engines.tts.kokoro import FRAME_SAMPLES, KokoroEngine, _token_ids
from bench.joins import join_jumps, log_mel_distance_db, playback

RATE = kw.SAMPLE_RATE_HZ
SENTENCE = ("Stay close to the fire, traveler, because the wolves come down from the hills "
            "when the moon is high.")


class FixedPacer(kw.Pacer):
    """Windows of the given lengths (the last one repeated), whatever the clock says."""

    def __init__(self, schedule: list[float]) -> None:
        super().__init__(kw.SpeedMeter())
        self.schedule = list(schedule)

    def next_s(self, extra_cost_s: float = 0.0) -> float:
        return self.schedule.pop(0) if len(self.schedule) > 1 else self.schedule[0]


def windows_at(bounds: list[tuple[float, float]], length: int, budget_s: float
               ) -> tuple[list[tuple[int, int]], list[kw.Window]]:
    """The cuts of a sentence of words ``bounds`` and its windows at a fixed budget."""
    cuts = kw.cut_points(bounds, length)
    pacer = FixedPacer([budget_s])
    got = []
    for window in kw.windows(cuts, length, len(bounds), pacer,
                             speech_end=int(bounds[-1][1] * RATE)):
        got.append(window)
        pacer.handed((window.end - window.start) / RATE)
    return cuts, got


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


# ---------------------------------------------------------------- no model needed

def test_windows_end_between_words_and_hold_every_word_once() -> None:
    bounds = [(0.1 * i, 0.1 * i + 0.08) for i in range(30)]  # 30 words, 20 ms gaps
    length = int(3.2 * RATE)
    cuts = kw.cut_points(bounds, length)
    assert [word for _cut, word in cuts] == list(range(1, 30))
    pacer = FixedPacer([0.35, 0.8, 1.5])
    got = []
    for window in kw.windows(cuts, length, len(bounds), pacer):
        got.append(window)
        pacer.handed((window.end - window.start) / RATE)
    assert got[0].start == 0 and got[-1].end == length
    assert all(a.end == b.start and a.end_word == b.first_word for a, b in zip(got, got[1:]))
    assert got[-1].end_word == 30 and all(w.end_word > w.first_word for w in got)
    cut_samples = {cut for cut, _word in cuts}
    assert all(w.end in cut_samples for w in got[:-1])
    assert (got[0].end - got[0].start) / RATE >= 0.35
    assert (got[0].end - got[0].start) / RATE < 0.35 + 0.1 + 1e-9  # the next cut after 0.35 s


def test_windows_stay_within_their_budget_and_cut_long_words_but_never_hold_no_word() -> None:
    """Windows end at or before what the pacer can afford (inside a word if need be), except
    where that would leave a window holding no word's start."""
    bounds = [(0.0, 0.25), (0.3, 1.5), (1.55, 1.8), (1.85, 3.0), (3.05, 3.3)]  # 2 long words
    length = int(3.4 * RATE)
    cuts, got = windows_at(bounds, length, 0.4)
    assert all(w.end_word > w.first_word for w in got)
    assert got[-1].end == length and got[-1].end_word == len(bounds)
    over = [(w.end - w.start) / RATE for w in got[1:-1] if w.end not in {c for c, _ in cuts}]
    assert over and all(s <= 0.4 + 1e-9 for s in over)  # cut inside a long word, on budget


def test_a_long_last_word_and_the_pause_after_it_are_cut_on_budget_too() -> None:
    """The sentence's last word has no cut after it: its tail (and the trailing pause) is cut
    at what the pacer can afford, not handed out in one piece that arrives after a gap
    ("Stay close to the fire, | traveler." took 0.81 s for 1.26 s with 0.40 s ahead); a
    first window ends inside it too ("Look out!" came as one 0.95 s chunk)."""
    bounds = [(0.0, 0.3), (0.35, 0.6), (0.65, 1.6)]  # the last word is long
    length = int(2.1 * RATE)  # and 0.5 s of pause follows it
    _cuts, got = windows_at(bounds, length, 0.4)
    sizes = [(w.end - w.start) / RATE for w in got]
    assert len(got) >= 4 and all(size <= 0.4 + kw.MIN_TAIL_S + 1e-9 for size in sizes[:-1]), sizes
    # the end of the word is not cut off into a window of near-silence with the pause
    speech_end = 1.6 * RATE
    assert got[-1].start <= speech_end - kw.LAST_WORD_TAIL_S * RATE
    assert sizes[-1] <= 0.4 + kw.LAST_WORD_TAIL_S + 0.5 + 1e-9
    assert got[-1].end == length and [w.start for w in got[1:]] == [w.end for w in got[:-1]]
    starts_of_words = [w for w in got if w.end_word > w.first_word]
    assert [w.end_word for w in starts_of_words][-1] == 3  # every word in exactly one window
    assert sum(w.end_word - w.first_word for w in got) == 3
    # a stream's first window inside a one-word line ("Halt!")
    one_word = kw.cut_points([(0.05, 0.7)], int(0.9 * RATE))
    assert kw.next_window(one_word, 0, int(0.9 * RATE), 0.2, slack_s=kw.FIRST_SLACK_S) == \
        (int(0.2 * RATE), None)


def test_pacer_starts_short_then_grows_with_the_audio_ahead() -> None:
    clock = FakeClock()
    meter = kw.SpeedMeter(initial_rtf=0.25)
    pacer = kw.Pacer(meter, first_s=0.35, min_s=0.3, max_s=8.0, safety=0.6, clock=clock)
    assert pacer.next_s() == 0.35  # nothing handed out yet: a short first window
    pacer.handed(0.4)
    clock.now = 0.1  # 0.3 s of audio left to play
    small = pacer.next_s()
    pacer.handed(small)
    clock.now = 0.1 + 0.25 * small  # the window took what the meter says
    bigger = pacer.next_s()
    assert 0.3 <= small < bigger <= 8.0
    # each window takes at most `safety` of the audio ahead at the measured speed
    assert meter.rtf * (small + 2 * kw.CONTEXT_FRAMES * FRAME_SAMPLES / RATE) <= 0.6 * 0.3 + 1e-9


def test_pacer_uses_the_slower_of_the_machine_and_the_stream_itself() -> None:
    clock = FakeClock()
    meter = kw.SpeedMeter(initial_rtf=0.2)
    pacer = kw.Pacer(meter, clock=clock)
    pacer.handed(1.0)
    clock.now = 0.5
    pacer.handed(1.0)  # this stream got 1 s of audio per 0.5 s (it waits for a worker)
    assert pacer.own_rtf == pytest.approx(0.5)
    clock.now = 0.6
    # per second of audio decoded: the 1 s window also decoded its context
    own = 0.5 * 1.0 / (1.0 + kw.context_s())
    assert kw.context_s() == pytest.approx(2 * kw.CONTEXT_FRAMES * 0.025)
    assert pacer.next_s() == pytest.approx(0.6 * 1.4 / own - kw.context_s())
    meter.add(3.0, 2.0)  # the machine got slower than real time: no size avoids a gap
    assert pacer.next_s() == pacer.max_s


def _simulated_stream(rtf: float, sentences: int = 2, words: int = 20,
                      plan_s: float = 0.05, fixed_s: float = 0.0) -> tuple[list[float], list[float]]:
    """Arrivals and durations of the windows of ``sentences`` sentences of ``words`` words
    (0.3 s each) when decoding costs ``rtf`` seconds per second decoded, context included,
    and each sentence's plan ``plan_s``; the meter knows the machine's speed."""
    clock = FakeClock()
    meter = kw.SpeedMeter(initial_rtf=rtf)
    pacer = kw.Pacer(meter, clock=clock)
    bounds = [(0.3 * i + 0.02, 0.3 * i + 0.28) for i in range(words)]
    length = int(0.3 * words * RATE)
    arrivals: list[float] = []
    durations: list[float] = []
    for _sentence in range(sentences):
        clock.now += plan_s
        for window in kw.windows(kw.cut_points(bounds, length), length, words, pacer, plan_s):
            audio_s = (window.end - window.start) / RATE
            cost = fixed_s + rtf * (audio_s + kw.context_s())
            clock.now += cost
            meter.add(cost, audio_s + kw.context_s())
            arrivals.append(clock.now)
            durations.append(audio_s)
            pacer.handed(audio_s)
    return arrivals, durations


@pytest.mark.parametrize("rtf", [0.25, 0.5, 0.8])
def test_a_listener_from_the_first_window_never_runs_dry_below_real_time(rtf: float) -> None:
    """Up to RTF 0.8 every window is ready before the audio ahead of it has played (two
    sentences back to back, each planned when the last window of the one before is out)."""
    arrivals, durations = _simulated_stream(rtf)
    assert playback(arrivals, durations) == {"underruns": 0, "gap_s": 0.0}
    assert len(durations) >= 3  # streamed, not one window per sentence


@pytest.mark.parametrize("rtf", [0.3, 0.4, 0.5])
def test_the_first_window_lasts_while_the_second_decodes_with_a_fixed_cost_per_call(
        rtf: float) -> None:
    """Each real decode also costs ~0.035 s whatever its length: a 0.2 s first window ran
    dry before the 0.3 s second one was decoded (one short gap in most paragraphs), and
    windows cut back to a word before the pacer's floor lost ground window by window. (At
    0.6 one 0.05 s gap after the first window remains: the speed metered on that first short
    window, fixed cost included, asks for a longer second one.)"""
    arrivals, durations = _simulated_stream(rtf, fixed_s=0.035)
    assert playback(arrivals, durations) == {"underruns": 0, "gap_s": 0.0}
    first = kw.Pacer(kw.SpeedMeter(initial_rtf=rtf)).next_s()
    assert first >= kw.FIRST_COVER * rtf * (0.3 + kw.context_s()) - 1e-9


def test_the_first_window_is_short_on_a_fast_machine_and_long_enough_to_keep_up_on_a_slow_one(
        ) -> None:
    fast, _ = _simulated_stream(0.25)
    slow, _ = _simulated_stream(0.8)
    first_fast = kw.Pacer(kw.SpeedMeter(initial_rtf=0.25)).next_s()
    assert first_fast == kw.Pacer(kw.SpeedMeter()).first_s == 0.2
    assert fast[0] < 0.05 + 0.25 * (0.2 + 0.08 + kw.context_s()) + 1e-9
    assert 0.2 < kw.Pacer(kw.SpeedMeter(initial_rtf=0.8)).next_s() <= kw.FIRST_MAX_S
    assert slow[0] > fast[0]
    # near real time keeping up would need seconds of first window: start quickly instead
    assert kw.Pacer(kw.SpeedMeter(initial_rtf=0.95)).next_s() == 0.2


class RampSessions:
    """A stand-in decoder whose audio is a fixed signal of the absolute sample position, as if
    decoding were perfectly local: then stitched windows must equal the whole render."""

    def __init__(self, frames: int) -> None:
        t = np.arange(frames * FRAME_SAMPLES) / RATE
        self.signal = (0.5 * np.sin(2 * np.pi * 180 * t) + 0.1 * np.sin(2 * np.pi * 7 * t)
                       ).astype(np.float32)
        self.calls: list[tuple[int, int]] = []

    def decode(self, plan: kw.Plan, lo: int, hi: int) -> np.ndarray:
        self.calls.append((lo, hi))
        return self.signal[lo * FRAME_SAMPLES:hi * FRAME_SAMPLES].copy()


def test_stitched_windows_are_the_whole_render_when_decoding_is_local() -> None:
    frames = 120
    sessions = RampSessions(frames)
    plan = kw.Plan(np.zeros(3, np.int64), np.zeros((1, 512, frames), np.float32),
                   np.zeros((1, 2 * frames), np.float32), np.zeros((1, 2 * frames), np.float32),
                   np.zeros((1, 9, 2 * frames), np.float32), np.zeros((1, 256), np.float32))
    offset, length = 1234, frames * FRAME_SAMPLES - 1234 + 5000  # runs past the end: zeros
    stitcher = kw.Stitcher(sessions, plan, offset, length)  # type: ignore[arg-type]
    edges = [0, 9000, 20011, 47000, length]
    out = np.concatenate([stitcher.render(a, b) for a, b in zip(edges, edges[1:])])
    expected = np.zeros(length, np.float32)
    expected[:frames * FRAME_SAMPLES - offset] = sessions.signal[offset:]
    assert len(out) == length
    np.testing.assert_allclose(out, expected, atol=1e-6)
    # every window decoded its span plus context, and never the whole utterance
    assert all(hi - lo < frames for lo, hi in sessions.calls)
    assert all(lo <= (offset + a) // FRAME_SAMPLES - min(kw.CONTEXT_FRAMES, (offset + a) //
                                                          FRAME_SAMPLES)
               for (lo, _hi), a in zip(sessions.calls, edges))


def test_playback_counts_underruns_and_gaps() -> None:
    assert playback([0.2, 0.5, 1.0], [0.5, 0.5, 1.0]) == {"underruns": 0, "gap_s": 0.0}
    got = playback([0.2, 0.9, 1.4], [0.5, 0.5, 1.0])
    assert got["underruns"] == 1 and got["gap_s"] == pytest.approx(0.2)


# ---------------------------------------------------------------- the real model

@pytest.mark.slow
def test_the_two_halves_compute_exactly_the_whole_graph(kokoro: KokoroEngine,
                                                        kokoro_assets: dict) -> None:
    import onnx
    import onnxruntime as ort

    from atelico.engines.tts.kokoro import ONNX_FILE

    whole = ort.InferenceSession(
        onnx.load(str(kokoro_assets["kokoro-82m-onnx-int8"] / ONNX_FILE)).SerializeToString(),
        providers=["CPUExecutionProvider"])
    ids, _ = _token_ids(kokoro._g2p("The gate is open.", "a"))
    style = kokoro.voice_tensor("af_heart")[len(ids) - 1]
    expected, = whole.run(["audio"], {"tokens": np.array([[0, *ids, 0]], np.int64),
                                      "style": style.reshape(1, -1),
                                      "speed": np.array([1.0], np.float32)})
    audio, durations = kokoro.backend.infer(ids, style, 1.0)
    np.testing.assert_array_equal(audio, np.asarray(expected).reshape(-1))
    assert len(audio) == FRAME_SAMPLES * int(durations.sum())


@pytest.fixture(scope="module")
def windowed_and_whole(kokoro: KokoroEngine) -> tuple[list, np.ndarray]:
    """SENTENCE streamed in windows of 0.35, 0.8, 1.6 s... and rendered in one pass."""
    kokoro.new_pacer = lambda: FixedPacer([0.35, 0.8, 1.6])  # type: ignore[method-assign]
    try:
        chunks = list(kokoro.synthesize(SENTENCE, voice="af_heart"))
    finally:
        del kokoro.new_pacer
    whole = kokoro.render(SENTENCE, kokoro.voice_tensor("af_heart"))
    return chunks, whole


@pytest.mark.slow
def test_windows_join_without_a_click_and_stay_close_to_the_whole_render(
        windowed_and_whole: tuple[list, np.ndarray]) -> None:
    """Same length as the whole render; no step at a join larger than inside the speech; the
    spectrum within a few dB of the whole render (the model's own sensitivity, dropping one
    trailing frame, is ~1.4 dB; windows normalise over their own frames, ~3.5 dB here)."""
    chunks, whole = windowed_and_whole
    assert len(chunks) >= 3
    joined = np.concatenate([c.audio for c in chunks])
    assert len(joined) == len(whole)
    joins = np.cumsum([len(c.audio) for c in chunks])[:-1]
    jumps = join_jumps(joined, joins)
    assert jumps["join_max_step"] <= jumps["inside_max_step"], jumps
    assert log_mel_distance_db(joined, whole) < 5.0


@pytest.mark.slow
def test_windows_carry_their_own_words_and_phonemes(
        windowed_and_whole: tuple[list, np.ndarray]) -> None:
    chunks, _whole = windowed_and_whole
    assert " ".join(c.text for c in chunks) == SENTENCE
    assert [c.sequence for c in chunks] == list(range(len(chunks)))
    for chunk in chunks:
        assert chunk.words and [w.word for w in chunk.words] == \
            [t.strip(",.") for t in chunk.text.split()]
        for timings in (chunk.words, chunk.phonemes):
            assert all(0.0 <= t.start_s <= t.end_s <= chunk.duration_s + 1e-9 for t in timings)
        assert chunk.phonemes


@pytest.mark.slow
def test_whisper_hears_the_same_words_in_both(windowed_and_whole: tuple[list, np.ndarray],
                                              whisper: object) -> None:
    from tests.engines.tts.conftest import transcribe

    chunks, whole = windowed_and_whole
    def words(audio: np.ndarray) -> list[str]:
        return [w.strip(",.").lower() for w in transcribe(whisper, audio).split()]
    assert words(np.concatenate([c.audio for c in chunks])) == words(whole)
