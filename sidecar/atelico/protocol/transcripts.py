"""OpenAI-compatible transcription response bodies: json, text, srt, vtt and verbose_json.

Pure shaping of a transcription's segments (any frozen dataclasses with the fields below,
such as the engines' ``Segment``/``WordTiming``) into the body a route or the CLI answers.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, ClassVar, Iterable, Protocol, Sequence, TypeVar

from atelico.errors import RequestError
from atelico.protocol.constants import GRANULARITIES


class Word(Protocol):
    """A timed word (``engines.base.WordTiming``)."""

    __dataclass_fields__: ClassVar[dict[str, Any]]

    @property
    def word(self) -> str: ...
    @property
    def start_s(self) -> float: ...
    @property
    def end_s(self) -> float: ...


class SegmentLike(Protocol):
    """A transcribed segment (``engines.base.Segment``)."""

    __dataclass_fields__: ClassVar[dict[str, Any]]

    @property
    def id(self) -> int: ...
    @property
    def start_s(self) -> float: ...
    @property
    def end_s(self) -> float: ...
    @property
    def text(self) -> str: ...
    @property
    def words(self) -> Sequence[Word]: ...
    @property
    def avg_logprob(self) -> float | None: ...
    @property
    def no_speech_prob(self) -> float | None: ...
    @property
    def temperature(self) -> float | None: ...


class InfoLike(Protocol):
    """What is known of a transcription besides its segments (``TranscriptionInfo``)."""

    @property
    def language(self) -> str: ...
    @property
    def duration_s(self) -> float: ...


S = TypeVar("S", bound=SegmentLike)

RESPONSE_FORMATS = ("json", "text", "srt", "verbose_json", "vtt")

MEDIA_TYPES = {
    "json": "application/json",
    "verbose_json": "application/json",
    "text": "text/plain; charset=utf-8",
    "srt": "application/x-subrip; charset=utf-8",
    "vtt": "text/vtt; charset=utf-8",
}


def check_response_format(response_format: str | None, granularities: Iterable[str] | None = None
                          ) -> tuple[str, tuple[str, ...]]:
    """Validate and normalise ``response_format`` and ``timestamp_granularities``.

    Returns:
        ``(format, granularities)``; ``None`` format means ``json``; no granularities means
        ``("segment",)``.

    Raises:
        RequestError: an unknown format or granularity (``details.field`` names it).
    """
    fmt = (response_format or "json").strip().lower()
    if fmt not in RESPONSE_FORMATS:
        raise RequestError(f"response_format must be one of {list(RESPONSE_FORMATS)}, "
                           f"not {response_format!r}", details={"field": "response_format"})
    grans = tuple(dict.fromkeys(g.strip().lower() for g in (granularities or ()) if g.strip()))
    unknown = [g for g in grans if g not in GRANULARITIES]
    if unknown:
        raise RequestError(f"timestamp_granularities must be among {list(GRANULARITIES)}, "
                           f"not {unknown}", details={"field": "timestamp_granularities"})
    return fmt, grans or ("segment",)


def needs_word_timestamps(response_format: str | None,
                          granularities: Iterable[str] | None = None) -> bool:
    """Whether the engine must compute word times for this response (verbose_json + word)."""
    fmt, grans = check_response_format(response_format, granularities)
    return fmt == "verbose_json" and "word" in grans


def joined_text(segments: Sequence[SegmentLike]) -> str:
    """The transcript: segment texts stripped and joined by single spaces."""
    return " ".join(t for t in (s.text.strip() for s in segments) if t)


def format_transcription(segments: Sequence[SegmentLike], info: InfoLike,
                         response_format: str | None = "json",
                         granularities: Iterable[str] | None = None, *,
                         task: str = "transcribe") -> tuple[str | dict[str, Any], str]:
    """Build the response body for ``POST /v1/audio/transcriptions`` (or ``translations``).

    Args:
        segments: the consumed segments of one transcription.
        info: its :class:`TranscriptionInfo` (language, duration).
        response_format: ``json`` | ``text`` | ``srt`` | ``vtt`` | ``verbose_json``.
        granularities: ``timestamp_granularities``: ``segment`` and/or ``word``
            (verbose_json only; default ``segment``).
        task: ``transcribe`` or ``translate`` (reported by verbose_json).

    Returns:
        ``(body, media_type)``: a dict for the JSON formats, a str otherwise.

    Raises:
        RequestError: unknown format or granularity.
    """
    fmt, grans = check_response_format(response_format, granularities)
    segments = clip_to_duration(segments, info.duration_s)
    text = joined_text(segments)
    media_type = MEDIA_TYPES[fmt]
    if fmt == "json":
        return {"text": text, "language": info.language,
                "duration": round(info.duration_s, 3)}, media_type
    if fmt == "text":
        return text + "\n" if text else "", media_type
    if fmt == "srt":
        return to_srt(segments), media_type
    if fmt == "vtt":
        return to_vtt(segments), media_type
    body: dict[str, Any] = {"task": task, "language": info.language,
                            "duration": round(info.duration_s, 3), "text": text}
    if "segment" in grans:
        body["segments"] = [_segment_dict(s) for s in segments]
    if "word" in grans:
        body["words"] = [{"word": w.word, "start": round(w.start_s, 3), "end": round(w.end_s, 3)}
                         for s in segments for w in s.words]
    return body, media_type


def clip_to_duration(segments: Sequence[S], duration_s: float) -> list[S]:
    """Segments (and their words) with no time past the end of the audio.

    Whisper times end on its 20 ms grid and may run past the audio (a 3.1 s clip's last
    segment ending at 4.0 s); a subtitle cue must not outlast the clip. A ``duration_s`` of 0
    or less (unknown) leaves the times as they are.
    """
    if not duration_s > 0:
        return list(segments)

    def cap(t: float) -> float:
        return min(t, duration_s)

    out = []
    for seg in segments:
        if seg.end_s <= duration_s and all(w.end_s <= duration_s for w in seg.words):
            out.append(seg)
            continue
        words = tuple(replace(w, start_s=cap(w.start_s), end_s=cap(w.end_s)) for w in seg.words)
        out.append(replace(seg, start_s=cap(seg.start_s), end_s=cap(seg.end_s), words=words))
    return out


def _segment_dict(segment: SegmentLike) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": segment.id,
        "seek": int(getattr(segment, "seek", 0)),
        "start": round(segment.start_s, 3),
        "end": round(segment.end_s, 3),
        "text": segment.text.strip(),
    }
    tokens = getattr(segment, "tokens", None)
    if tokens is not None:
        out["tokens"] = list(tokens)
    out["temperature"] = segment.temperature if segment.temperature is not None else 0.0
    out["avg_logprob"] = segment.avg_logprob
    out["compression_ratio"] = getattr(segment, "compression_ratio", None)
    out["no_speech_prob"] = segment.no_speech_prob
    return out


def timestamp(seconds: float, *, decimal_marker: str = ".") -> str:
    """``3725.5`` -> ``01:02:05.500`` (``,`` for SRT)."""
    millis = max(0, int(round(seconds * 1000)))
    hours, millis = divmod(millis, 3_600_000)
    minutes, millis = divmod(millis, 60_000)
    secs, millis = divmod(millis, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{decimal_marker}{millis:03d}"


def to_srt(segments: Sequence[SegmentLike]) -> str:
    """SubRip cues, numbered from 1, one per non-empty segment."""
    cues = []
    for number, seg in enumerate((s for s in segments if s.text.strip()), start=1):
        cues.append(f"{number}\n{timestamp(seg.start_s, decimal_marker=',')} --> "
                    f"{timestamp(seg.end_s, decimal_marker=',')}\n{_cue_text(seg.text)}\n")
    return "\n".join(cues)


def to_vtt(segments: Sequence[SegmentLike]) -> str:
    """WebVTT: the header then one cue per non-empty segment."""
    cues = [f"{timestamp(s.start_s)} --> {timestamp(s.end_s)}\n{_cue_text(s.text)}\n"
            for s in segments if s.text.strip()]
    return "WEBVTT\n\n" + "\n".join(cues)


def _cue_text(text: str) -> str:
    # A blank line or "-->" inside a cue would end it or be read as timing.
    return " ".join(text.split()).replace("-->", "->")
