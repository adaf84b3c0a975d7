"""The in-process API of the reference: ``Engine().audio_synthesize(json)`` and friends.

The JSON methods take and return JSON strings with the reference's shapes; the typed methods
under them (``synthesize``, ``stream``, ``transcribe``, ``face``) take and return Python
objects. No server, no socket: models load lazily in this process through the registry.
"""

from __future__ import annotations

import base64
import json
import threading
from typing import Any, Iterator

import numpy as np

from atelico.audio import codecs
from atelico.audio.pcm import to_float32
from atelico.audio.wav import encode_wav
from atelico.config import Settings, load_settings
from atelico.protocol.constants import FACE_SAMPLE_RATE_HZ
from atelico.errors import RequestError
from atelico.models.registry import ModelRegistry
from atelico.protocol.fields import Fields
from atelico.protocol.stt import EncodedTranscribeRequest
from atelico.protocol.tts import SpeechRequest, read_input
from atelico.service import Service
from atelico.speech import FaceBlock, SpeechDone, TtsPiece, TtsResult
from atelico.transcripts import Transcript


class Engine:
    """Speech models in this process.

    Args:
        settings: the configuration tree (default: from ``ATELICO_*`` environment variables).
    """

    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or load_settings()
        self.registry = ModelRegistry(self.settings)
        self.service = Service(self.settings, self.registry)

    def close(self) -> None:
        self.service.close()
        self.registry.close()

    def __enter__(self) -> "Engine":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # ------------------------------------------------------------------ typed API
    def synthesize(self, text: str, *, model: str = "tts", voice: str | None = None,
                   speed: float = 1.0, language: str | None = None) -> TtsResult:
        """Synthesize the whole text; ``result.audio`` is float32 mono at ``sample_rate_hz``."""
        self._check_text(text)
        return self.service.synthesize(model=model, text=text, voice=voice, speed=speed, language=language)

    def stream(self, text: str, *, model: str = "tts", voice: str | None = None, speed: float = 1.0,
               language: str | None = None, character: str | None = None,
               cancel: threading.Event | None = None) -> Iterator[TtsPiece | FaceBlock]:
        """Yield pieces (clauses/sentences) as soon as each is synthesized; the first is short.

        With a face ``character``, each piece carries its face frames and a last
        :class:`~atelico.speech.FaceBlock` holds the frames that outlast the audio (if any).
        """
        self._check_text(text)
        for event in self.service.speech_events(model=model, text=text, voice=voice, speed=speed,
                                                language=language, character=character,
                                                cancel=cancel or threading.Event()):
            if not isinstance(event, SpeechDone):
                yield event

    def transcribe(self, audio: np.ndarray, sample_rate_hz: int = 16_000, *, model: str = "whisper",
                   language: str | None = None, task: str = "transcribe", words: bool = False,
                   prompt: str | None = None, temperature: float = 0.0) -> Transcript:
        """Transcribe mono audio (float32 in [-1, 1] or int16) at any sample rate."""
        return self.service.transcribe(to_float32(audio), sample_rate_hz, model=model, language=language,
                                       task=task, words=words, prompt=prompt, temperature=temperature)

    def face(self, audio: np.ndarray, sample_rate_hz: int = FACE_SAMPLE_RATE_HZ, *,
             character: str = "claire", text: str | None = None) -> np.ndarray:
        """ARKit-52 weights, float32 ``[ceil(duration * 30), 52]`` in [0, 1]."""
        return self.service.face(to_float32(audio), sample_rate_hz, character=character, text=text)

    def _check_text(self, text: str) -> None:
        """The input rule of every transport (``protocol.tts.read_input``)."""
        read_input(Fields({"input": text}), max_input_chars=self.settings.limits.max_input_chars)

    def _speech(self, request_json: str) -> SpeechRequest:
        return SpeechRequest.parse(_parse(request_json), max_input_chars=self.settings.limits.max_input_chars)

    # ------------------------------------------------------------------ the reference's JSON API
    def audio_synthesize(self, request_json: str) -> str:
        """``{model, input, voice, speed, response_format}`` → ``{audio_b64, duration_seconds, format, sample_rate}``."""
        r = self._speech(request_json)
        fmt = r.response_format
        result = self.synthesize(r.input, model=r.model, voice=r.voice, speed=r.speed)
        data = codecs.encode(result.audio, result.sample_rate_hz, fmt)
        return json.dumps({"audio_b64": base64.b64encode(data).decode(),
                           "duration_seconds": round(result.duration_s, 4), "format": fmt,
                           "sample_rate": result.sample_rate_hz})

    def audio_synthesize_stream(self, request_json: str) -> Iterator[str]:
        """Yield ``{sequence, audio (base64 WAV), duration_seconds, text}`` per clause/sentence."""
        r = self._speech(request_json)
        for piece in self.service.tts_pieces(model=r.model, text=r.input, voice=r.voice, speed=r.speed,
                                             language=None, cancel=threading.Event()):
            yield json.dumps({"sequence": piece.sequence, "audio": base64.b64encode(
                encode_wav(piece.audio, piece.sample_rate_hz)).decode(),
                "duration_seconds": round(piece.duration_s, 4), "text": piece.text})

    def audio_transcribe(self, request_json: str) -> str:
        """``{model, audio_b64 (a WAV/MP3/… file), language?}`` → ``{text, language, duration}``."""
        r = EncodedTranscribeRequest.parse(_parse(request_json))
        audio, rate = codecs.decode_file(r.audio, max_duration_s=self.settings.limits.max_audio_s)
        t = self.transcribe(audio, rate, model=r.model, language=r.language, task=r.task)
        return json.dumps({"text": t.text, "language": t.info.language, "duration": round(t.info.duration_s, 3)})

    def audio_to_face(self, pcm: np.ndarray, character: str = "claire", *,
                      sample_rate: int = FACE_SAMPLE_RATE_HZ, text: str | None = None) -> np.ndarray:
        """Mono PCM (float32 in [-1, 1] or int16; 16 kHz unless ``sample_rate`` says) → ``[N, 52]``."""
        return self.face(np.asarray(pcm).reshape(-1), sample_rate, character=character, text=text)


def _parse(request_json: str) -> dict[str, Any]:
    try:
        req = json.loads(request_json)
    except (TypeError, ValueError) as exc:
        raise RequestError(f"request is not valid JSON: {exc}", code="request.invalid_json") from exc
    if not isinstance(req, dict):
        raise RequestError("request must be a JSON object", code="request.invalid_json")
    return req

