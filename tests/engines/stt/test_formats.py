"""OpenAI-compatible response bodies (json, text, srt, vtt, verbose_json) from real transcripts."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from atelico.engines.base import Segment, TranscriptionInfo, WordTiming
from atelico.protocol.transcripts import (
    check_response_format,
    format_transcription,
    needs_word_timestamps,
    timestamp,
)
from atelico.engines.stt.whisper import WhisperEngine
from atelico.errors import RequestError
from tests.engines.stt.conftest import SAMPLE_RATE_HZ, Clip
from tests.helpers.wer import word_error_rate

_TIME = r"(\d{2}):(\d{2}):(\d{2})[.,](\d{3})"
_CUE_TIMING = re.compile(rf"^{_TIME} --> {_TIME}$")


def _seconds(h: str, m: str, s: str, ms: str) -> float:
    return int(h) * 3600 + int(m) * 60 + int(s) + int(ms) / 1000


def parse_cues(body: str, *, vtt: bool) -> list[tuple[float, float, str]]:
    """A strict little SRT/WebVTT reader: (start_s, end_s, text) per cue, in order."""
    if vtt:
        assert body.startswith("WEBVTT\n\n")
        body = body[len("WEBVTT\n\n"):]
    cues = []
    for number, block in enumerate(b for b in body.strip().split("\n\n") if b.strip()):
        lines = block.split("\n")
        if not vtt:
            assert lines[0] == str(number + 1), block
            lines = lines[1:]
        match = _CUE_TIMING.match(lines[0])
        assert match, lines[0]
        assert ("," in lines[0]) != vtt  # SRT uses a comma, VTT a dot
        groups = match.groups()
        cues.append((_seconds(*groups[:4]), _seconds(*groups[4:]), "\n".join(lines[1:])))
    return cues


@pytest.fixture(scope="module")
def transcript(tiny_en_engine: WhisperEngine, clips: dict[str, Clip]
               ) -> tuple[list[Segment], TranscriptionInfo, str]:
    """Three clips 1 s apart transcribed with word times: (segments, info, reference text)."""
    chosen = [clips[n] for n in ("arctic_a0007", "goforward",
                                 "sense_and_sensibility_01_austen_64kb-0870")]
    gap = np.zeros(SAMPLE_RATE_HZ, np.float32)
    audio = np.concatenate([part for clip in chosen for part in (clip.audio, gap)])
    segments, info = tiny_en_engine.transcribe(audio, word_timestamps=True)
    return list(segments), info, " ".join(c.transcript for c in chosen)


@pytest.mark.slow
@pytest.mark.parametrize("fmt", ["srt", "vtt"])
def test_subtitles_parse_with_one_cue_per_segment(fmt: str, transcript: tuple) -> None:
    """Every segment becomes a well-formed cue with increasing times inside the audio."""
    segments, info, reference = transcript
    body, media_type = format_transcription(segments, info, fmt)
    assert isinstance(body, str) and media_type.startswith("text/vtt" if fmt == "vtt"
                                                            else "application/x-subrip")
    cues = parse_cues(body, vtt=fmt == "vtt")
    assert len(cues) == len(segments) >= 2
    previous_start = -1.0
    for (start_s, end_s, text), segment in zip(cues, segments):
        assert previous_start < start_s < end_s <= info.duration_s + 0.05
        assert start_s == pytest.approx(segment.start_s, abs=0.001) and text == segment.text
        previous_start = start_s
    assert word_error_rate(reference, " ".join(c[2] for c in cues)) <= 0.1


@pytest.mark.slow
def test_json_and_text_bodies(transcript: tuple) -> None:
    """json has text, language and duration (as the reference); text is the plain transcript."""
    segments, info, reference = transcript
    body, media_type = format_transcription(segments, info, "json")
    assert media_type == "application/json" and set(body) == {"text", "language", "duration"}
    assert body["language"] == "en"
    assert body["duration"] == pytest.approx(info.duration_s, abs=0.001)
    assert word_error_rate(reference, body["text"]) <= 0.1
    json.dumps(body)
    text, text_type = format_transcription(segments, info, "text")
    assert text == body["text"] + "\n" and text_type.startswith("text/plain")


@pytest.mark.slow
def test_verbose_json_segments_and_words(transcript: tuple) -> None:
    """verbose_json carries OpenAI's segment fields and, when asked, the words with times."""
    segments, info, _ = transcript
    body, _ = format_transcription(segments, info, "verbose_json", ["segment", "word"])
    json.dumps(body)
    assert (body["task"], body["language"]) == ("transcribe", "en")
    assert [s["id"] for s in body["segments"]] == list(range(len(segments)))
    for seg in body["segments"]:
        assert {"id", "seek", "start", "end", "text", "tokens", "temperature", "avg_logprob",
                "compression_ratio", "no_speech_prob"} <= set(seg)
        assert seg["tokens"] and all(isinstance(t, int) for t in seg["tokens"])
        assert 0.0 <= seg["no_speech_prob"] <= 1.0 and seg["avg_logprob"] < 0.0
    words = body["words"]
    assert len(words) == sum(len(s.words) for s in segments) > 20
    assert all(w["start"] <= w["end"] for w in words)
    assert [w["start"] for w in words] == sorted(w["start"] for w in words)
    only_words, _ = format_transcription(segments, info, "verbose_json", ["word"])
    assert "segments" not in only_words and only_words["words"] == words
    only_segments, _ = format_transcription(segments, info, "verbose_json")
    assert "words" not in only_segments and only_segments["segments"] == body["segments"]


def test_empty_transcript_formats() -> None:
    """No speech gives empty text and subtitle files with no cues (VTT keeps its header)."""
    info = TranscriptionInfo("en", 0.0, 3.0, "whisper-base")
    assert format_transcription([], info, "json")[0] == {"text": "", "language": "en",
                                                         "duration": 3.0}
    assert format_transcription([], info, "text")[0] == ""
    assert format_transcription([], info, "srt")[0] == ""
    assert format_transcription([], info, "vtt")[0] == "WEBVTT\n\n"


def test_cue_text_cannot_break_the_subtitle_syntax() -> None:
    """Newlines and '-->' inside a segment's text stay inside one cue."""
    segs = [Segment(0, 0.0, 1.0, "a\n\nb --> c", (WordTiming("a", 0.0, 0.2),))]
    info = TranscriptionInfo("en", 1.0, 1.0, "whisper-base")
    cues = parse_cues(format_transcription(segs, info, "srt")[0], vtt=False)
    assert cues == [(0.0, 1.0, "a b -> c")]


@pytest.mark.parametrize("fmt", ["srt", "vtt", "verbose_json"])
def test_no_cue_outlasts_the_audio(fmt: str) -> None:
    """A 3.1 s clip whose last segment Whisper ends at 4.0 s gives a last cue (and words)
    ending at 3.1 s; times inside the audio are left alone."""
    segs = [Segment(0, 0.0, 1.5, "Hello there.",
                    (WordTiming("Hello", 0.0, 0.6), WordTiming("there.", 0.7, 1.5))),
            Segment(1, 1.5, 4.0, "General Kenobi.",
                    (WordTiming("General", 1.6, 2.4), WordTiming("Kenobi.", 2.5, 4.0)))]
    info = TranscriptionInfo("en", 1.0, 3.1, "whisper-base")
    body, _ = format_transcription(segs, info, fmt, ["segment", "word"])
    if fmt == "verbose_json":
        assert [(s["start"], s["end"]) for s in body["segments"]] == [(0.0, 1.5), (1.5, 3.1)]
        assert [w["end"] for w in body["words"]] == [0.6, 1.5, 2.4, 3.1]
    else:
        cues = parse_cues(body, vtt=fmt == "vtt")
        assert [(c[0], c[1]) for c in cues] == [(0.0, 1.5), (1.5, 3.1)]


def test_timestamps() -> None:
    """Hours, minutes, seconds and milliseconds, with SRT's comma."""
    assert timestamp(3725.5) == "01:02:05.500"
    assert timestamp(0.0004, decimal_marker=",") == "00:00:00,000"
    assert timestamp(59.9996) == "00:01:00.000"


def test_format_validation() -> None:
    """Unknown formats or granularities are request errors naming the field."""
    assert check_response_format(None) == ("json", ("segment",))
    assert check_response_format("VTT", ["word", "word"]) == ("vtt", ("word",))
    assert needs_word_timestamps("verbose_json", ["word"])
    assert not needs_word_timestamps("json", ["word"])
    with pytest.raises(RequestError) as bad_format:
        check_response_format("xml")
    assert bad_format.value.details["field"] == "response_format"
    with pytest.raises(RequestError) as bad_granularity:
        check_response_format("verbose_json", ["sentence"])
    assert bad_granularity.value.details["field"] == "timestamp_granularities"
