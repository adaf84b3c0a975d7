"""What the client hands back: speech chunks, whole syntheses, barge-in reports, speech events."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from atelico.audio.pcm import bytes_to_float32
from atelico.protocol import face as face_proto
from atelico.protocol import stt as stt_proto
from atelico.protocol.envelope import Message


@dataclass
class SpeechChunkMsg:
    """A streamed chunk as received: float32 audio and its metadata."""

    sequence: int
    text: str
    audio: np.ndarray
    sample_rate_hz: int
    offset_samples: int
    words: list[dict[str, Any]]
    face: np.ndarray | None = None
    face_start_frame: int = 0


@dataclass
class Synthesis:
    """A whole synthesized utterance."""

    audio: np.ndarray
    sample_rate_hz: int
    words: list[dict[str, Any]] = field(default_factory=list)
    model: str = ""
    voice: str = ""

    @property
    def duration_s(self) -> float:
        return len(self.audio) / float(self.sample_rate_hz)


def chunk_from_message(msg: Message) -> SpeechChunkMsg:
    d = msg.data
    face = d.get("face")
    return SpeechChunkMsg(
        sequence=d["sequence"], text=d["text"],
        audio=bytes_to_float32(msg.payload or b"", d["sample_format"]),
        sample_rate_hz=d["sample_rate_hz"], offset_samples=d["offset_samples"], words=d["words"],
        face=face_proto.weights_from_bytes(face["weights"]) if face else None,
        face_start_frame=face["start_frame"] if face else 0)


@dataclass
class Heard:
    """What the player heard of a stopped speech stream (a barge-in)."""

    played_samples: int
    played_s: float
    text: str
    words: list[dict[str, Any]]

    @classmethod
    def from_data(cls, d: dict[str, Any]) -> "Heard":
        return cls(played_samples=int(d.get("played_samples", 0)), played_s=float(d.get("played_s", 0.0)),
                   text=str(d.get("text", "")), words=list(d.get("words", [])))


@dataclass(frozen=True)
class SpeechEvent:
    """An endpoint of the player's speech on a live stream (``stt.speech.started`` /
    ``stt.speech.stopped``): ``started`` is True at the onset; times are seconds since the
    stream began (``end_time`` only when stopped)."""

    started: bool
    segment_id: int
    start_time: float
    end_time: float | None = None

    @classmethod
    def from_message(cls, msg: Message) -> "SpeechEvent | None":
        """The event a live-stream message carries, or ``None`` for any other message."""
        if msg.type not in (stt_proto.SPEECH_STARTED, stt_proto.SPEECH_STOPPED):
            return None
        end = msg.data.get("end_time")
        return cls(started=msg.type == stt_proto.SPEECH_STARTED,
                   segment_id=int(msg.data.get("segment_id", 0)),
                   start_time=float(msg.data.get("start_time", 0.0)),
                   end_time=None if end is None else float(end))
