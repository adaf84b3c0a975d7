"""WhisperEngine: accurate offline transcription, language rules, hallucination guards, cancel."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from atelico.engines.base import SpeechToText
from atelico.engines.stt.whisper import WhisperEngine, normalize_language, resolve_compute_type
from atelico.engines.stt.whisper_segments import (WhisperSegment, collapse_repeats,
                                                 is_hallucination, unrepeated)
from atelico.errors import AudioError, LanguageError, RequestError
from tests.engines.stt.conftest import SAMPLE_RATE_HZ, Clip
from tests.helpers.wer import word_error_rate


def transcribe_text(engine: WhisperEngine, audio: np.ndarray, **kwargs: object) -> str:
    segments, _ = engine.transcribe(audio, **kwargs)  # type: ignore[arg-type]
    return " ".join(s.text for s in segments)


def corpus_wer(engine: WhisperEngine, clips: dict[str, Clip]) -> float:
    """WER over all clips read one after another (0.5 s apart), transcribed in one call."""
    gap = np.zeros(SAMPLE_RATE_HZ // 2, np.float32)
    audio = np.concatenate([part for clip in clips.values() for part in (clip.audio, gap)])
    reference = " ".join(clip.transcript for clip in clips.values())
    return word_error_rate(reference, transcribe_text(engine, audio))


@pytest.mark.slow
def test_base_transcribes_recorded_speech_accurately(base_engine: WhisperEngine,
                                                     clips: dict[str, Clip]) -> None:
    """whisper-base gets 32 s of recorded speech (LibriVox, ARCTIC, pocketsphinx) nearly right."""
    assert corpus_wer(base_engine, clips) <= 0.06


@pytest.mark.slow
def test_tiny_en_transcribes_recorded_speech_accurately(tiny_en_engine: WhisperEngine,
                                                        clips: dict[str, Clip]) -> None:
    """whisper-tiny.en gets the same recorded speech with a low word error rate too."""
    assert corpus_wer(tiny_en_engine, clips) <= 0.10


@pytest.mark.slow
def test_engines_satisfy_the_protocol_and_report_their_model(base_engine: WhisperEngine,
                                                             tiny_en_engine: WhisperEngine) -> None:
    """Loaded through the catalog, each engine names the concrete model that serves it."""
    assert isinstance(base_engine, SpeechToText) and isinstance(tiny_en_engine, SpeechToText)
    assert (base_engine.model_id, base_engine.multilingual) == ("whisper-base", True)
    assert (tiny_en_engine.model_id, tiny_en_engine.english_only) == ("whisper-tiny.en", True)
    assert base_engine.compute_type == tiny_en_engine.compute_type == "int8"
    assert base_engine.cpu_threads == 2


@pytest.mark.slow
def test_word_timestamps_are_monotonic_and_inside_the_audio(base_engine: WhisperEngine,
                                                            clips: dict[str, Clip]) -> None:
    """Word times never go backwards, stay within the clip and match the segment's words."""
    clip = clips["sense_and_sensibility_01_austen_64kb-0870"]
    segments, info = base_engine.transcribe(clip.audio, word_timestamps=True)
    segments = list(segments)
    words = [w for s in segments for w in s.words]
    assert info.duration_s == pytest.approx(clip.duration_s)
    assert word_error_rate(clip.transcript, " ".join(w.word for w in words)) <= 0.1
    previous_end = 0.0
    for word in words:
        assert 0.0 <= word.start_s <= word.end_s <= clip.duration_s + 0.05
        assert word.start_s >= previous_end - 0.01
        previous_end = word.end_s
    assert words[-1].end_s - words[0].start_s > 0.7 * clip.duration_s  # spread over the clip
    for segment in segments:
        assert isinstance(segment, WhisperSegment) and segment.tokens
        assert segment.start_s <= segment.words[0].start_s + 0.05
        assert segment.words[-1].end_s <= segment.end_s + 0.05


@pytest.mark.slow
def test_language_override_is_used_and_reported(base_engine: WhisperEngine,
                                                clips: dict[str, Clip]) -> None:
    """A multilingual model auto-detects English and honours an explicit (BCP-47) language."""
    clip = clips["arctic_a0007"]
    _, detected = base_engine.transcribe(clip.audio)
    assert detected.language == "en" and detected.language_probability > 0.5
    segments, forced = base_engine.transcribe(clip.audio, language="de-DE")
    list(segments)
    assert forced.language == "de" and forced.model_id == "whisper-base"


@pytest.mark.slow
def test_translate_gives_english(base_engine: WhisperEngine, clips: dict[str, Clip]) -> None:
    """task=translate on a multilingual model yields English text (here from English speech)."""
    clip = clips["goforward"]
    assert word_error_rate(clip.transcript,
                           transcribe_text(base_engine, clip.audio, task="translate")) <= 0.25


@pytest.mark.slow
def test_english_only_model_refuses_other_languages(tiny_en_engine: WhisperEngine,
                                                    clips: dict[str, Clip]) -> None:
    """tiny.en refuses French and translation clearly, before decoding anything."""
    audio = clips["goforward"].audio
    with pytest.raises(LanguageError) as refused:
        tiny_en_engine.transcribe(audio, language="fr")
    assert refused.value.code == "language.unsupported"
    assert "English-only" in refused.value.message and refused.value.details["language"] == "fr"
    with pytest.raises(RequestError) as translate:
        tiny_en_engine.transcribe(audio, task="translate")
    assert translate.value.details["field"] == "task"
    segments, info = tiny_en_engine.transcribe(audio, language="en-GB")
    assert info.language == "en" and list(segments)


@pytest.mark.slow
def test_unknown_language_and_task_are_rejected(base_engine: WhisperEngine) -> None:
    """A made-up language code or task is a client error with a machine-readable code."""
    audio = np.zeros(SAMPLE_RATE_HZ, np.float32)
    with pytest.raises(LanguageError) as unknown:
        base_engine.transcribe(audio, language="xx")
    assert unknown.value.code == "language.unsupported"
    assert "fr" in unknown.value.details["supported"]
    with pytest.raises(RequestError):
        base_engine.transcribe(audio, task="summarize")
    with pytest.raises(RequestError):
        base_engine.transcribe(audio, temperature=1.5)


@pytest.mark.slow
def test_bad_audio_is_refused(tiny_en_engine: WhisperEngine) -> None:
    """Empty, multi-channel and NaN audio raise AudioError with distinct codes."""
    with pytest.raises(AudioError) as empty:
        tiny_en_engine.transcribe(np.zeros(0, np.float32))
    assert empty.value.code == "audio.empty"
    with pytest.raises(AudioError):
        tiny_en_engine.transcribe(np.zeros((2, 16000), np.float32))
    with pytest.raises(AudioError):
        tiny_en_engine.transcribe(np.full(16000, np.nan, np.float32))


@pytest.mark.slow
@pytest.mark.parametrize("engine_name", ["base_engine", "tiny_en_engine"])
def test_silence_and_white_noise_give_empty_text(engine_name: str,
                                                 request: pytest.FixtureRequest) -> None:
    """Digital silence and 4 s of white noise produce no words, not invented ones."""
    engine: WhisperEngine = request.getfixturevalue(engine_name)
    rng = np.random.default_rng(7)
    silence = np.zeros(4 * SAMPLE_RATE_HZ, np.float32)
    noise = (0.1 * rng.standard_normal(4 * SAMPLE_RATE_HZ)).astype(np.float32)
    for audio in (silence, noise):
        for kwargs in ({}, {"language": "en"}, {"language": "en", "batched": True}):
            segments, info = engine.transcribe(audio, **kwargs)
            assert list(segments) == [], kwargs
            assert info.duration_s == pytest.approx(4.0)
        if engine.multilingual:  # no language detected on noise (a whole clip keeps looking)
            assert engine.transcribe(audio)[1].language_probability == 0.0


@pytest.mark.slow
def test_the_vad_runs_once_per_decode_when_the_language_is_known(
        base_engine: WhisperEngine, clips: dict[str, Clip], monkeypatch) -> None:
    """The decode's own VAD filter finds no speech as well as a check before it; only with no
    language (faster-whisper would detect one on noise) does the check run first."""
    import faster_whisper.transcribe as fw_transcribe
    import faster_whisper.vad as fw_vad

    calls: list[int] = []
    real = fw_vad.get_speech_timestamps

    def counted(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(fw_vad, "get_speech_timestamps", counted)
    monkeypatch.setattr(fw_transcribe, "get_speech_timestamps", counted)
    audio = clips["goforward"].audio
    for kwargs, passes in (({"language": "en"}, 1), ({"language": "en", "batched": True}, 1),
                           ({}, 2)):
        calls.clear()
        segments, _ = base_engine.transcribe(audio, **kwargs)
        assert "forward" in " ".join(s.text for s in segments).lower()
        assert len(calls) == passes, kwargs


@pytest.mark.slow
def test_segment_guard_drops_silence_hallucination_without_vad(
        tiny_en_engine: WhisperEngine) -> None:
    """Without VAD, Whisper decodes silence as 'You' (no_speech_prob ~0.95); the guard drops it."""
    segments, _ = tiny_en_engine.transcribe(np.zeros(3 * SAMPLE_RATE_HZ, np.float32),
                                            vad_filter=False)
    assert list(segments) == []


@pytest.mark.slow
def test_cancel_stops_between_segments(tiny_en_engine: WhisperEngine,
                                       clips: dict[str, Clip]) -> None:
    """Setting cancel after the first segment ends the iterator; uncancelled, more follow."""
    gap = np.zeros(SAMPLE_RATE_HZ, np.float32)
    chosen = list(clips.values())[:3]
    audio = np.concatenate([part for clip in chosen for part in (clip.audio, gap)])
    full, _ = tiny_en_engine.transcribe(audio)
    assert len(list(full)) >= 2
    cancel = threading.Event()
    segments, _ = tiny_en_engine.transcribe(audio, cancel=cancel)
    received = []
    for segment in segments:
        received.append(segment)
        cancel.set()
    assert len(received) == 1


def test_collapse_repeats_cuts_decoding_loops_only() -> None:
    """Five or more repeats of a phrase become one; ordinary repetition is kept."""
    assert collapse_repeats("the the the the the the end") == "the end"
    looping = "I am here I am here I am here I am here I am here ok"
    assert collapse_repeats(looping) == "I am here ok"
    assert collapse_repeats("no no no, not that one") == "no no no, not that one"
    assert collapse_repeats("go forward ten meters") == "go forward ten meters"


def test_a_whole_sentence_decoded_twice_in_a_row_is_kept_once() -> None:
    """A decoder loop on a short live utterance; short or different sentences stay."""
    def kept(text: str) -> str:
        tokens = text.split()
        return " ".join(tokens[i] for i in unrepeated(tokens))

    assert kept("Go forward 10 meters. Go forward 10 meters.") == "Go forward 10 meters."
    assert kept("go forward 10 meters. Go forward 10 meters! Then stop.") == \
        "go forward 10 meters. Then stop."
    assert kept("No, no. No, no. Stop it.") == "No, no. No, no. Stop it."  # two words
    assert kept("Go left now. Go right now.") == "Go left now. Go right now."
    assert kept("Go forward 10 meters go forward 10 meters") == \
        "Go forward 10 meters go forward 10 meters"  # one sentence


def test_is_hallucination() -> None:
    """Likely-silence segments decoded with low confidence and looping text are hallucinations."""
    assert is_hallucination(no_speech_prob=0.95, avg_logprob=-0.98, compression_ratio=0.3)
    assert is_hallucination(no_speech_prob=0.01, avg_logprob=-0.2, compression_ratio=3.1)
    assert not is_hallucination(no_speech_prob=0.7, avg_logprob=-0.2, compression_ratio=1.2)
    assert not is_hallucination(no_speech_prob=0.02, avg_logprob=-0.9, compression_ratio=1.4)


def test_normalize_language() -> None:
    """BCP-47 tags and case are reduced to ISO 639-1; 'auto' and empty mean auto-detect."""
    assert normalize_language("en-US") == "en"
    assert normalize_language("PT_br") == "pt"
    assert normalize_language("auto") is None and normalize_language("") is None


def test_compute_type_defaults_and_fallbacks() -> None:
    """auto is int8 on CPU; int8_float16 falls back to int8 on CPU; nonsense is refused."""
    assert resolve_compute_type("auto", "cpu") == "int8"
    assert resolve_compute_type("int8_float16", "cpu") == "int8"
    assert resolve_compute_type("float32", "cpu") == "float32"
    with pytest.raises(RequestError):
        resolve_compute_type("int3", "cpu")


@pytest.mark.slow
def test_short_encoder_window_keeps_the_words_of_each_utterance(base_engine: WhisperEngine,
                                                               clips: dict[str, Clip]) -> None:
    """Encoding each utterance plus 5 s (live decoding) gives the full window's WER on every
    clip, with word times inside the audio."""
    for clip in clips.values():
        audio = np.concatenate([clip.audio, np.zeros(SAMPLE_RATE_HZ // 5, np.float32)])
        full = transcribe_text(base_engine, audio, language="en", word_timestamps=True)
        segments, _ = base_engine.transcribe(audio, language="en", word_timestamps=True,
                                             encoder_pad_s=5.0)
        segments = list(segments)
        short = " ".join(s.text for s in segments)
        assert word_error_rate(clip.transcript, short) <= word_error_rate(clip.transcript, full)
        assert all(0 <= w.start_s <= w.end_s <= len(audio) / SAMPLE_RATE_HZ + 0.05
                   for s in segments for w in s.words)


def test_short_encoder_window_applies_only_while_its_segments_decode() -> None:
    """faster-whisper's window padding is shortened while (and only while) a short-window
    iterator runs, on its own thread; the default stays Whisper's 30 s window."""
    import faster_whisper.transcribe as fwt

    from atelico.engines.stt import whisper_segments

    assert whisper_segments._install_short_windows()
    seen: list[int] = []

    class FakeSegment:
        text, words, no_speech_prob, avg_logprob, compression_ratio = "hi", (), 0.0, -0.1, 1.0
        start = end = temperature = 0.0
        seek, tokens = 0, ()

    def decode():
        for _ in range(2):
            seen.append(fwt.pad_or_trim(np.zeros((80, 250), np.float32)).shape[-1])
            yield FakeSegment()

    assert len(list(whisper_segments._guarded(decode(), None, pad_frames=500))) == 2
    assert len(list(whisper_segments._guarded(decode(), None))) == 2
    assert seen == [750, 750, 3000, 3000]
    assert fwt.pad_or_trim(np.zeros((80, 250), np.float32)).shape[-1] == 3000


@pytest.mark.slow
def test_batched_decoding_is_as_accurate_with_sentence_sized_segments(
        base_engine: WhisperEngine, clips: dict[str, Clip]) -> None:
    """VAD + batched decoding of the 32 s corpus: the sequential decoder's WER within one
    word (measured: one word more, 'separative' for 'superlative'), segments cut back to
    sentences (not one per 30 s chunk), word times in order."""
    gap = np.zeros(SAMPLE_RATE_HZ // 2, np.float32)
    audio = np.concatenate([part for clip in clips.values() for part in (clip.audio, gap)])
    reference = " ".join(clip.transcript for clip in clips.values())
    sequential = transcribe_text(base_engine, audio, language="en")
    segments, info = base_engine.transcribe(audio, language="en", word_timestamps=True,
                                            batched=True)
    segments = list(segments)
    batched_text = " ".join(s.text for s in segments)
    one_word = 1 / len(reference.split())
    assert (word_error_rate(reference, batched_text)
            <= word_error_rate(reference, sequential) + one_word + 1e-9)
    assert len(segments) >= len(clips) - 1 and [s.id for s in segments] == list(range(len(segments)))
    words = [w for s in segments for w in s.words]
    assert all(a.start_s <= b.start_s for a, b in zip(words, words[1:]))
    assert all(s.start_s <= s.end_s <= info.duration_s + 0.05 for s in segments)
    plain, _ = base_engine.transcribe(audio, language="en", batched=True)
    assert all(s.words == () for s in plain)


@pytest.mark.slow
def test_batched_chunk_failing_the_thresholds_is_decoded_sequentially(
        base_engine: WhisperEngine, clips: dict[str, Clip], monkeypatch: pytest.MonkeyPatch) -> None:
    """A batched result with a looping text (compression ratio over 2.4) is not served: the
    window is decoded again the sequential way, with temperature fallback."""
    from types import SimpleNamespace

    clip = clips["goforward"]
    looping = SimpleNamespace(text="la la la la la la la la", compression_ratio=3.0, avg_logprob=-0.2,
                              no_speech_prob=0.0)

    class LoopingPipeline:
        def transcribe(self, *_args: object, **_kwargs: object):
            return iter([looping]), SimpleNamespace(language="en", language_probability=1.0)

    monkeypatch.setattr(base_engine, "_batched", LoopingPipeline())
    text = transcribe_text(base_engine, clip.audio, language="en", batched=True)
    assert word_error_rate(clip.transcript, text) <= 0.25 and "la la" not in text
