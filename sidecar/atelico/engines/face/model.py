"""The offline audio-to-face engine: phones or audio cues to ARKit-52 weights at 30 fps.

Three ways to time the mouth, best first:

* ``phonemes`` given (our own TTS): the synthesizer's exact phone timing, IPA or ARPAbet.
* ``text`` given: pocketsphinx forced alignment of the transcript to the audio.
* neither: pocketsphinx phone recognition, blended with audio cues; or ``mode="audio"``,
  audio cues alone (loudness, formant-ish bands, pitch), which works for any language and is
  what :class:`FaceStream` uses on live audio.

Every path goes through the same per-utterance :class:`FaceTrack`, which carries smoothing,
level tracking and the blink schedule from block to block, so frames stay continuous across
TTS chunks and streamed audio.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Literal, Sequence

import numpy as np

from atelico.engines.base import FACE_FPS, FACE_SAMPLE_RATE_HZ, FaceFrames, PhonemeTiming, SpeechChunk
from atelico.engines.face import features
from atelico.engines.face.character import BUILTIN_DIR, Character, load_characters
from atelico.engines.face.phones import PhoneSet, to_viseme_segments
from atelico.engines.face.track import (FaceTrack, _check_rate, as_mono_float, frame_count,
                                        resample_to_16k)
from atelico.errors import EngineError, RequestError

if TYPE_CHECKING:
    from atelico.config import Settings
    from atelico.engines.face.sphinx import PhoneDecoder
    from atelico.models.catalog import ModelSpec

logger = logging.getLogger(__name__)

__all__ = ["MODES", "FaceEngine", "FaceStream", "FaceTrack", "Mode", "TtsFace", "as_mono_float",
           "frame_count", "load", "resample_to_16k"]

Mode = Literal["auto", "phonemes", "align", "recognize", "audio"]
MODES: tuple[str, ...] = ("auto", "phonemes", "align", "recognize", "audio")
_RECOGNIZED_WEIGHT = 0.65  # recognised phones vs audio cues when no transcript is known


class FaceStream:
    """Face frames for live audio (audio cues only), emitted as soon as their window is in.

    ``push`` returns the frames that became computable (or ``None``), ``finish`` the rest up to
    ``ceil(duration * fps)``. Concatenated, they equal ``FaceEngine.run(..., mode="audio")``
    over the same audio. A frame is ready once 50 ms of audio past its instant has arrived
    (half the analysis window plus the look-ahead that offsets the smoothing lag).
    """

    def __init__(self, character: Character, sample_rate_hz: int, fps: int = FACE_FPS) -> None:
        self.sample_rate_hz = _check_rate(sample_rate_hz)
        self.fps = fps
        self._track = FaceTrack(character, fps)
        self._buffer = np.zeros(0, np.float32)
        self._buffer_start = 0  # stream sample index of _buffer[0]
        self._received = 0
        self._finished = False

    @property
    def samples_received(self) -> int:
        return self._received

    def push(self, audio: np.ndarray) -> FaceFrames | None:
        """Add audio; return the frames it completed, if any."""
        if self._finished:
            raise RequestError("face stream already finished")
        x = as_mono_float(audio)
        self._buffer = np.concatenate([self._buffer, x])
        self._received += len(x)
        k = self._track.next_frame
        candidates = np.arange(k, frame_count(self._received, self.sample_rate_hz, self.fps))
        needed = features.samples_needed(candidates, self.sample_rate_hz, self.fps)
        return self._emit(int(np.count_nonzero(needed <= self._received)))

    def finish(self) -> FaceFrames | None:
        """Flush: the remaining frames up to ``ceil(duration * fps)``."""
        if self._finished:
            return None
        self._finished = True
        total = frame_count(self._received, self.sample_rate_hz, self.fps)
        return self._emit(total - self._track.next_frame)

    def _emit(self, count: int) -> FaceFrames | None:
        if count <= 0:
            return None
        frames = self._track.render(self._buffer, self.sample_rate_hz, self._buffer_start,
                                    self._track.next_frame, count, None)
        keep_from = int(features.frame_centers(self._track.next_frame, 1, self.sample_rate_hz,
                                               self.fps)[0]) \
            - features.window_samples(self.sample_rate_hz) // 2 - 1
        drop = max(0, keep_from - self._buffer_start)
        if drop:
            self._buffer = self._buffer[drop:]
            self._buffer_start += drop
        return frames


class TtsFace:
    """Face frames for the chunks of one synthesized utterance, in the order they are made.

    ``push(chunk)`` returns ``(start_frame, weights)`` for a :class:`SpeechChunk` (its
    phonemes drive the mouth); chunks are laid end to end, so frame ``k`` shows time
    ``k / fps`` of the whole utterance and the frames of all chunks tile it exactly.
    """

    def __init__(self, track: FaceTrack, sample_rate_hz: int) -> None:
        self.track = track
        self.sample_rate_hz = _check_rate(sample_rate_hz)
        self._offset_samples = 0

    def push(self, chunk: SpeechChunk) -> tuple[int, np.ndarray]:
        start_s = self._offset_samples / chunk.sample_rate_hz
        frames = self.track.frames_for_chunk(chunk.audio, chunk.sample_rate_hz,
                                             chunk.phonemes, start_s)
        self._offset_samples += len(chunk.audio)
        return frames.start_frame, frames.weights

    def finish(self) -> tuple[int, np.ndarray] | None:
        """Nothing is left over (chunks tile the frames); kept for symmetry with streams."""
        return None


class FaceEngine:
    """Audio to ARKit-52 weights at 30 fps with named character styles (``AudioToFace``).

    Responsibilities: validating input, resolving characters (built-in JSON files plus user
    files, rescanned when their folder changes), choosing the phone timing source, and
    handing out :class:`FaceTrack` (TTS chunks) and :class:`FaceStream` (live audio) objects.
    Thread-safe: concurrent calls share only the locked pocketsphinx decoders.
    """

    model_id = "face"

    def __init__(self, character_dirs: Sequence[Path] = (BUILTIN_DIR,), *,
                 default_character: str = "claire") -> None:
        self._dirs = tuple(Path(d) for d in character_dirs)
        self._default = default_character
        self._lock = threading.Lock()
        self._dir_stamp: tuple[float, ...] | None = None
        self._characters: dict[str, Character] = {}
        self._decoder: PhoneDecoder | None = None
        self._scan()

    # characters -------------------------------------------------------------------------
    def _stamp(self) -> tuple[float, ...]:
        stamps: list[float] = []
        for d in self._dirs:
            try:
                stamps.append(d.stat().st_mtime_ns)
                stamps.extend(p.stat().st_mtime_ns for p in sorted(d.glob("*.json")))
            except OSError:
                stamps.append(-1)
        return tuple(stamps)

    def _scan(self) -> dict[str, Character]:
        stamp = self._stamp()
        with self._lock:
            if stamp != self._dir_stamp:
                self._characters = load_characters(self._dirs)
                self._dir_stamp = stamp
            return self._characters

    def characters(self) -> list[str]:
        """Names of every character available now, sorted."""
        return sorted(self._scan())

    def character(self, name: str | None) -> Character:
        """The character called ``name`` (``None``: the default).

        Raises:
            RequestError: ``face.unknown_character`` with ``details.known``.
        """
        known = self._scan()
        key = (name or self._default).strip().lower()
        if key not in known:
            raise RequestError(f"unknown face character {name!r}; known: {sorted(known)}",
                               code="face.unknown_character",
                               details={"character": name, "known": sorted(known)})
        return known[key]

    # phone timing -----------------------------------------------------------------------
    @property
    def decoder(self) -> PhoneDecoder:
        with self._lock:
            if self._decoder is None:
                from atelico.engines.face.sphinx import PhoneDecoder

                self._decoder = PhoneDecoder()
            return self._decoder

    def phones(self, audio: np.ndarray, sample_rate_hz: int = FACE_SAMPLE_RATE_HZ,
               text: str | None = None) -> list[PhonemeTiming]:
        """ARPAbet phones timed from audio: aligned to ``text`` when given, else recognised."""
        x16 = resample_to_16k(as_mono_float(audio), _check_rate(sample_rate_hz))
        if text and text.strip():
            return self.decoder.align(x16, text)
        return self.decoder.recognize(x16)

    # rendering --------------------------------------------------------------------------
    def track(self, character: str | None = None) -> FaceTrack:
        """A new utterance track (pass every TTS chunk of one utterance through it)."""
        return FaceTrack(self.character(character))

    def stream(self, character: str | None = None,
               sample_rate_hz: int = FACE_SAMPLE_RATE_HZ) -> FaceStream:
        """A live face stream over audio arriving in pieces (audio cues only)."""
        return FaceStream(self.character(character), sample_rate_hz)

    def tts_face(self, character: str | None = None,
                 sample_rate_hz: int = 24_000) -> TtsFace:
        """A :class:`TtsFace` for one utterance of TTS chunks."""
        return TtsFace(self.track(character), sample_rate_hz)

    def frames_for_chunk(self, audio: np.ndarray, sample_rate_hz: int,
                         phonemes: Sequence[PhonemeTiming] | None, start_s: float,
                         character: str | None = None, *,
                         track: FaceTrack | None = None) -> FaceFrames:
        """Frames for one TTS chunk; pass the same ``track`` for every chunk of an utterance.

        Without ``track`` a fresh one is used, which is right for a single chunk but restarts
        smoothing at the chunk's first frame.
        """
        if track is None:
            track = self.track(character)
        elif character is not None and self.character(character) != track.character:
            raise RequestError("character differs from the track's character",
                               details={"field": "character"})
        return track.frames_for_chunk(audio, sample_rate_hz, phonemes, start_s)

    def run(self, audio: np.ndarray, *, sample_rate_hz: int = FACE_SAMPLE_RATE_HZ,
            character: str = "claire", text: str | None = None,
            phonemes: Sequence[PhonemeTiming] | None = None, mode: Mode = "auto",
            phone_set: PhoneSet = "auto") -> np.ndarray:
        """Face weights for a whole clip.

        Args:
            audio: mono PCM (float in [-1, 1] or integer), any sample rate.
            sample_rate_hz: rate of ``audio``.
            character: style name (see :meth:`characters`).
            text: transcript: forced alignment instead of phone recognition.
            phonemes: phone timing (IPA or ARPAbet), seconds from the clip start; wins over
                ``text``.
            mode: ``auto`` (phonemes > text > recognition), or force ``phonemes``,
                ``align``, ``recognize`` or ``audio`` (cues only, any language).
            phone_set: ``auto``, ``ipa`` or ``arpabet`` for ``phonemes``.

        Returns:
            float32 ``[ceil(duration * 30), 52]`` in [0, 1], ARKit canonical order.

        Raises:
            RequestError: bad rate, mode or character (``face.unknown_character``).
            AudioError: non-finite samples.
        """
        if mode not in MODES:
            raise RequestError(f"mode must be one of {MODES}, got {mode!r}",
                               details={"field": "mode"})
        rate = _check_rate(sample_rate_hz)
        x = as_mono_float(audio)
        track = FaceTrack(self.character(character))
        n = frame_count(len(x), rate)
        if mode == "auto":
            mode = "phonemes" if phonemes else "align" if text and text.strip() else "recognize"
        if mode == "phonemes" and not phonemes:
            raise RequestError("mode 'phonemes' needs phonemes", details={"field": "phonemes"})
        if mode == "audio" or n == 0:
            return track.render(x, rate, 0, 0, n, None).weights
        if mode == "phonemes":
            segments = to_viseme_segments(phonemes or (), phone_set)
            return track.render(x, rate, 0, 0, n, segments).weights
        timed, audio_weight = self._heard_phones(x, rate, text if mode == "align" else None,
                                                 align=mode == "align")
        segments = to_viseme_segments(timed, "arpabet")
        return track.render(x, rate, 0, 0, n, segments, audio_weight).weights

    def _heard_phones(self, x: np.ndarray, rate: int, text: str | None, *, align: bool
                      ) -> tuple[list[PhonemeTiming], float]:
        """Phones aligned to ``text`` (``align``), else recognised, and how much the audio
        cues count beside them."""
        if align:
            if not text or not text.strip():
                raise RequestError("mode 'align' needs text", details={"field": "text"})
            try:
                return self.phones(x, rate, text), 0.0
            except EngineError as exc:
                logger.warning("face: %s; falling back to phone recognition", exc.message)
        return self.phones(x, rate), 1.0 - _RECOGNIZED_WEIGHT


def load(spec: ModelSpec, assets: dict[str, Path], settings: Settings) -> FaceEngine:
    """Catalog loader: built-in characters plus ``<cache_dir>/face/characters/*.json``."""
    user_dir = Path(settings.models.cache_dir) / "face" / "characters"
    return FaceEngine((BUILTIN_DIR, user_dir))
