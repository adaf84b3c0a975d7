"""Audio-to-face messages: ``face.run`` and the ``face.stream.*`` stream of ``face.frames``."""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
from pydantic import Field

from atelico.protocol.audio_desc import AudioDescription
from atelico.protocol.constants import FACE_CHANNELS, FACE_FORMATS, FACE_FPS
from atelico.protocol.envelope import Message
from atelico.protocol.fields import Fields
from atelico.protocol.request import RequestModel
from atelico.protocol.stt import require_file

RUN = "face.run"
STREAM_START = "face.stream.start"
STREAM_AUDIO = "face.stream.audio"
STREAM_STOP = "face.stream.stop"
FRAMES = "face.frames"

FPS = FACE_FPS
CHANNELS = FACE_CHANNELS


def _face_fields(f: Fields) -> dict[str, Any]:
    """``character``, ``text`` and ``model``, read in that order by every face request."""
    return {"character": f.str("character", "claire", max_len=64) or "claire",
            "text": f.str("text", None, max_len=20_000),
            "model": f.str("model", "face", max_len=128) or "face"}


class FaceRequest(RequestModel):
    """A WebSocket face request for a clip (``face.run``) or a stream (``face.stream.start``)."""

    audio: AudioDescription
    character: str = Field("claire", max_length=64)
    text: str | None = Field(None, max_length=20_000, description="transcript (improves timing)")
    model: str = Field("face", max_length=128)

    @classmethod
    def read(cls, f: Fields, ctx: dict[str, Any]) -> dict[str, Any]:
        return {"audio": AudioDescription.from_data(f.data), **_face_fields(f)}

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> "FaceRequest":
        return cls.parse(data)


class FaceFileRequest(RequestModel):
    """``POST /v1/audio/face`` (multipart form; the file beside it, context ``has_file``)."""

    character: str = Field("claire", max_length=64)
    text: str | None = Field(None, max_length=20_000, description="transcript (improves timing)")
    model: str = Field("face", max_length=128)
    response_format: Literal["json", "f32"] = "json"

    @classmethod
    def read(cls, f: Fields, ctx: dict[str, Any]) -> dict[str, Any]:
        require_file(bool(ctx.get("has_file", True)))
        return {**_face_fields(f),
                "response_format": f.str("response_format", "json", choices=FACE_FORMATS) or "json"}


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
