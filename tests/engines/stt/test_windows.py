"""Long files are transcribed window by window (cut at pauses) with the right times and text."""

from __future__ import annotations

import numpy as np
import pytest

from atelico.service import WINDOW_S, speech_windows
from tests.helpers.wer import word_error_rate as wer

RATE = 16_000


def test_windows_are_short_cover_everything_and_end_in_pauses():
    """Windows never exceed WINDOW_S, concatenate back to the input exactly, and each cut lands
    in the quietest part of the window's last third (here: the pause, not the tone)."""
    rng = np.random.default_rng(5)
    loud = lambda s: (0.3 * rng.standard_normal(int(s * RATE))).astype(np.float32)  # noqa: E731
    pause = lambda s: (0.001 * rng.standard_normal(int(s * RATE))).astype(np.float32)  # noqa: E731
    audio = np.concatenate([loud(23.0), pause(0.5), loud(27.0), pause(0.4), loud(40.0)])
    blocks = (audio[i:i + 4000] for i in range(0, len(audio), 4000))  # as the decoder yields them
    windows = list(speech_windows(blocks, RATE))
    assert all(len(w) <= WINDOW_S * RATE for _, w in windows)
    assert np.array_equal(np.concatenate([w for _, w in windows]), audio)
    assert [off for off, _ in windows] == list(np.cumsum([0] + [len(w) for _, w in windows[:-1]]))
    first_cut, second_cut = windows[1][0] / RATE, windows[2][0] / RATE
    assert 23.0 <= first_cut <= 23.5  # inside the first pause
    assert 50.5 <= second_cut <= 50.9  # inside the second pause
    assert len(windows) == 4  # the pause-free 40 s is cut where it is quietest, at most 30 s on


@pytest.fixture(scope="module")
def service():
    from atelico.models.registry import ModelRegistry
    from atelico.service import Service
    from tests.conftest import real_settings

    settings = real_settings(threads=2)
    svc = Service(settings, ModelRegistry(settings))
    yield svc
    svc.close()


@pytest.mark.slow
def test_segments_and_words_keep_their_place_in_the_whole_file(service, clips):
    """Three utterances at 0 s, 40 s and 75 s (three windows): each is found where it was
    placed, words included, segment ids run on across windows, the duration is the file's."""
    a, b, c = clips["arctic_a0007"], clips["goforward"], clips["sense_and_sensibility_01_austen_64kb-0880"]
    audio = np.zeros(int(90 * RATE), np.float32)
    for clip, at in ((a, 0.5), (b, 40.0), (c, 75.0)):
        audio[int(at * RATE):int(at * RATE) + len(clip.audio)] = clip.audio
    t = service.transcribe(audio, RATE, model="whisper-tiny.en", words=True)
    assert t.info.duration_s == pytest.approx(90.0, abs=0.01)
    assert [s.id for s in t.segments] == list(range(len(t.segments)))
    for clip, at in ((a, 0.5), (b, 40.0), (c, 75.0)):
        mine = [s for s in t.segments if at - 1.0 <= s.start_s <= at + clip.duration_s]
        assert mine, (at, [(s.start_s, s.text) for s in t.segments])
        assert wer(clip.transcript, " ".join(s.text for s in mine)) <= 0.3  # tiny.en slips a word
        for w in (w for s in mine for w in s.words):
            assert at - 1.0 <= w.start_s <= w.end_s <= at + clip.duration_s + 1.0, (at, w)
    starts = [s.start_s for s in t.segments]
    assert starts == sorted(starts)


@pytest.mark.slow
def test_windowed_text_is_as_good_as_one_pass(service, clips):
    """70 s of joined speech: the windowed transcript is as accurate as faster-whisper on the
    whole clip at once (windows are cut in pauses, so no word is lost at a seam)."""
    order = list(clips.values())
    gap = np.zeros(int(0.6 * RATE), np.float32)
    parts, words = [], []
    while sum(len(p) for p in parts) < 70 * RATE:
        for clip in order:
            parts += [clip.audio, gap]
            words.append(clip.transcript)
    audio = np.concatenate(parts)
    reference = " ".join(words)
    windowed = service.transcribe(audio, RATE, model="whisper-tiny.en")
    with service.registry.acquire("whisper-tiny.en") as engine:
        segments, _ = engine.transcribe(audio)
        whole = " ".join(s.text for s in segments)
    assert len(list(speech_windows(iter([audio]), RATE))) >= 3
    assert wer(reference, windowed.text) <= wer(reference, whole) + 0.03, (windowed.text, whole)
    assert wer(reference, windowed.text) <= 0.15
