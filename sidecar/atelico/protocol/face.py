"""Audio-to-face messages: ``face.run`` and the ``face.stream.*`` stream of ``face.frames``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from atelico.protocol.audio_desc import AudioDescription
from atelico.protocol.envelope import Message
from atelico.protocol.fields import Fields

RUN = "face.run"
STREAM_START = "face.stream.start"
STREAM_AUDIO = "face.stream.audio"
STREAM_STOP = "face.stream.stop"
FRAMES = "face.frames"

FPS = 30
CHANNELS = 52


@dataclass(frozen=True)
class FaceRequest:
    """A face request for a clip (``face.run``) or a stream (``face.stream.start``)."""

    audio: AudioDescription
    character: str = "claire"
    text: str | None = None
    model: str = "face"

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> "FaceRequest":
        f = Fields(data)
        return cls(audio=AudioDescription.from_data(data),
                   character=f.str("character", "claire", max_len=64) or "claire",
                   text=f.str("text", None, max_len=20_000), model=f.str("model", "face", max_len=128) or "face")


def weights_to_bytes(weights: np.ndarray) -> bytes:
    """[N, 52] weights -> float32 little-endian row-major bytes."""
    return np.ascontiguousarray(weights, dtype="<f4").tobytes()


def weights_from_bytes(data: bytes) -> np.ndarray:
    arr = np.frombuffer(data, dtype="<f4")
    return arr.reshape(-1, CHANNELS)


def face_block(start_frame: int, weights: np.ndarray) -> dict[str, Any]:
    """The ``face`` map attached to a ``tts.chunk`` of ``speak``."""
    return {"fps": FPS, "start_frame": start_frame, "frame_count": int(weights.shape[0]),
            "channels": CHANNELS, "weights": weights_to_bytes(weights)}


def frames(request_id: str, *, start_frame: int, weights: np.ndarray, offset_samples: int) -> Message:
    return Message(FRAMES, {"start_frame": start_frame, "frame_count": int(weights.shape[0]),
                            "fps": FPS, "channels": CHANNELS, "offset_samples": offset_samples},
                   id=request_id, payload=weights_to_bytes(weights))
