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

from atelico.engines.base import (ARKIT_BLENDSHAPES, FACE_FPS, FACE_SAMPLE_RATE_HZ, FaceFrames,
                                  PhonemeTiming, SpeechChunk)
from atelico.engines.face import articulation, features, rig
from atelico.engines.face.articulation import P, PARAMS
from atelico.engines.face.character import BUILTIN_DIR, Character, load_characters
from atelico.engines.face.phones import PhoneSet, VisemeSegment, to_viseme_segments
from atelico.errors import AudioError, EngineError, RequestError

if TYPE_CHECKING:
    from atelico.config import Settings
    from atelico.engines.face.sphinx import PhoneDecoder
    from atelico.models.catalog import ModelSpec

logger = logging.getLogger(__name__)

Mode = Literal["auto", "phonemes", "align", "recognize", "audio"]
MODES: tuple[str, ...] = ("auto", "phonemes", "align", "recognize", "audio")
_MIN_RATE_HZ, _MAX_RATE_HZ = 4_000, 384_000
_GATE_HOLD_FRAMES = 6  # phone paths: the mouth may move up to 0.2 s away from audible sound
_RECOGNIZED_WEIGHT = 0.65  # recognised phones vs audio cues when no transcript is known


def frame_count(n_samples: int, sample_rate_hz: int, fps: int = FACE_FPS) -> int:
    """``ceil(n_samples / sample_rate_hz * fps)``, exactly (integer arithmetic)."""
    return -(-n_samples * fps // sample_rate_hz)


def as_mono_float(audio: np.ndarray) -> np.ndarray:
    """Mono float32 in [-1, 1]-ish from float or integer PCM, 1-D or [samples, channels].

    Raises:
        AudioError: ``audio.invalid`` for NaN/inf samples or more than two dimensions.
    """
    x = np.asarray(audio)
    if x.ndim == 2:
        x = x.mean(axis=1 if x.shape[1] <= x.shape[0] else 0)
    elif x.ndim != 1:
        raise AudioError(f"audio must be 1-D or [samples, channels], got shape {x.shape}")
    if np.issubdtype(x.dtype, np.integer):
        x = x.astype(np.float64) / float(np.iinfo(x.dtype).max + 1)
    x = x.astype(np.float32, copy=False)
    if not np.all(np.isfinite(x)):
        raise AudioError("audio contains NaN or infinite samples", details={"field": "audio"})
    return x


def _check_rate(sample_rate_hz: int) -> int:
    if isinstance(sample_rate_hz, bool) or not isinstance(sample_rate_hz, (int, np.integer)) \
            or not _MIN_RATE_HZ <= int(sample_rate_hz) <= _MAX_RATE_HZ:
        raise RequestError(f"sample_rate_hz must be an integer in [{_MIN_RATE_HZ}, "
                           f"{_MAX_RATE_HZ}], got {sample_rate_hz!r}",
                           details={"field": "sample_rate_hz"})
    return int(sample_rate_hz)


def resample_to_16k(audio: np.ndarray, sample_rate_hz: int) -> np.ndarray:
    """Polyphase resampling to 16 kHz (for pocketsphinx)."""
    from atelico.audio.resample import resample

    return resample(audio, sample_rate_hz, FACE_SAMPLE_RATE_HZ)


class _Smoother:
    """One-pole attack/release filter per channel; state carried between blocks."""

    def __init__(self, n: int, attack_s: np.ndarray | float, release_s: np.ndarray | float,
                 fps: int = FACE_FPS) -> None:
        dt = 1.0 / fps
        self._up = 1.0 - np.exp(-dt / np.maximum(np.broadcast_to(attack_s, (n,)), 1e-4))
        self._down = 1.0 - np.exp(-dt / np.maximum(np.broadcast_to(release_s, (n,)), 1e-4))
        self.state = np.zeros(n)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        out = np.empty_like(x)
        y = self.state
        for i in range(len(x)):
            rate = np.where(x[i] > y, self._up, self._down)
            y = y + rate * (x[i] - y)
            out[i] = y
        self.state = y.copy()
        return out


class FaceTrack:
    """The face of one utterance, rendered block by block (TTS chunks or streamed audio).

    Holds everything that must be continuous across blocks: the curve smoothers, the loudness
    and pitch trackers, the blink and gaze schedules and the next frame to emit. Frame ``k``
    always shows time ``k / fps`` seconds of the utterance.
    """

    def __init__(self, character: Character, fps: int = FACE_FPS) -> None:
        self.character = character
        self.fps = fps
        self.next_frame = 0
        self._started = False
        attack = np.full(len(PARAMS), character.smoothing.attack_s)
        release = np.full(len(PARAMS), character.smoothing.release_s)
        for sharp in ("close", "lowlip", "puff"):  # seals form and break quickly
            attack[P[sharp]] *= 0.5
            release[P[sharp]] *= 0.6
        self._params = _Smoother(len(PARAMS), attack, release, fps)
        # sound-derived curves are noisier than phone-derived ones: one more gentle pass
        self._cue_params = _Smoother(len(PARAMS), 0.045, 0.07, fps)
        self._brows = _Smoother(2, np.array([0.08, 0.12]), np.array([0.35, 0.3]), fps)
        self._cues = features.CueState()
        self._blinks = rig.EventSchedule(character.seed, 60.0 / character.blink.per_minute
                                         if character.blink.per_minute > 0 else float("inf"),
                                         double_chance=character.blink.double_chance)
        self._gaze = rig.EventSchedule(character.seed + 7919, character.gaze.interval_s,
                                       first_after_s=0.3, min_interval_s=0.4)

    def frames_for_chunk(self, audio: np.ndarray, sample_rate_hz: int,
                         phonemes: Sequence[PhonemeTiming] | None, start_s: float,
                         phone_set: PhoneSet = "auto") -> FaceFrames:
        """Frames for one TTS chunk that starts ``start_s`` seconds into the utterance.

        Args:
            audio: the chunk's mono PCM (float or int) at ``sample_rate_hz``.
            phonemes: the chunk's phones, times relative to the chunk start (as in
                ``SpeechChunk.phonemes``); ``None`` or empty: audio cues only.
            start_s: where the chunk starts in the utterance, seconds.

        Returns:
            The frames whose instants fall inside the chunk (``start_frame`` in utterance
            frames). After the first chunk, frames continue from the previous chunk's last
            frame, so a gap or overlap between chunks never leaves a hole or a repeat.
        """
        rate = _check_rate(sample_rate_hz)
        x = as_mono_float(audio)
        offset_samples = int(round(float(start_s) * rate))
        first = frame_count(offset_samples, rate, self.fps) if not self._started \
            else self.next_frame
        end = frame_count(offset_samples + len(x), rate, self.fps)
        segments = None
        if phonemes:
            segments = to_viseme_segments(phonemes, phone_set, offset_s=offset_samples / rate)
        return self.render(x, rate, offset_samples, first, max(0, end - first), segments)

    def render(self, audio: np.ndarray, sample_rate_hz: int, offset_samples: int,
               first_frame: int, count: int, segments: Sequence[VisemeSegment] | None,
               audio_weight: float = 0.0) -> FaceFrames:
        """Render ``count`` frames from ``first_frame`` (utterance frames).

        ``audio`` starts at utterance sample ``offset_samples``; windows reaching outside it
        read silence. With ``segments`` the mouth follows the phones (mixed with
        ``audio_weight`` of the audio-cue mouth); without, the audio cues alone.
        """
        self._started = True
        self.next_frame = first_frame + count
        ch = self.character
        if count <= 0:
            return FaceFrames(first_frame, np.zeros((0, len(ARKIT_BLENDSHAPES)), np.float32),
                              self.fps)
        times_s = np.arange(first_frame, first_frame + count) / self.fps
        centers = features.frame_centers(first_frame, count, sample_rate_hz, self.fps,
                                         offset_samples)
        feats = features.extract(audio, sample_rate_hz, centers)
        cues = features.track_cues(feats, self._cues, self.fps)
        floors = None
        if segments is not None:
            params = articulation.blend(segments, times_s, ch.articulation)
            params[:, P["jaw"]] *= 0.7 + 0.4 * cues.activity
            if audio_weight > 0:
                guessed = features.audio_params(feats, cues, len(PARAMS), P)
                params = (1.0 - audio_weight) * params + audio_weight * guessed
            audible = features.smoothstep(feats.rms_db, -62.0, -48.0)
            hold = np.lib.stride_tricks.sliding_window_view(
                np.pad(audible, _GATE_HOLD_FRAMES), 2 * _GATE_HOLD_FRAMES + 1).max(axis=1)
            params *= hold[:, None]
            floors = articulation.closure_floors(segments, times_s) * hold[:, None]
        else:
            params = self._cue_params(features.audio_params(feats, cues, len(PARAMS), P))
        amp = ch.amplitude
        gains = np.ones(len(PARAMS))
        gains[P["jaw"]] = amp.jaw
        gains[P["pucker"]] = gains[P["funnel"]] = amp.rounding
        gains[P["spread"]] = amp.spread
        params = np.clip(params * gains, 0.0, 1.0)
        params = self._params(params)
        if floors is not None:
            params = np.maximum(params, floors)
        weights = rig.mouth_weights(params, ch)
        brow_drive = ch.brows.activity * np.stack(
            [np.clip(0.6 * cues.emphasis + 0.7 * cues.pitch_rise, 0.0, 1.0),
             0.35 * cues.emphasis * (1.0 - np.clip(2.0 * cues.pitch_rise, 0.0, 1.0))], axis=1)
        brows = self._brows(brow_drive)
        blink = rig.blink_curve(times_s, self._blinks, ch.blink.duration_s)
        gaze_x, gaze_y = rig.gaze_curves(times_s, self._gaze, ch.gaze.amount)
        rig.add_upper_face(weights, blink, gaze_x, gaze_y, brows[:, 0], brows[:, 1],
                           params[:, P["spread"]], ch)
        out = np.clip(np.nan_to_num(weights, nan=0.0), 0.0, 1.0).astype(np.float32)
        return FaceFrames(first_frame, out, self.fps)


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
        audio_weight = 0.0
        timed: list[PhonemeTiming]
        if mode == "align":
            if not text or not text.strip():
                raise RequestError("mode 'align' needs text", details={"field": "text"})
            try:
                timed = self.phones(x, rate, text)
            except EngineError as exc:
                logger.warning("face: %s; falling back to phone recognition", exc.message)
                timed, audio_weight = self.phones(x, rate), 1.0 - _RECOGNIZED_WEIGHT
        else:
            timed, audio_weight = self.phones(x, rate), 1.0 - _RECOGNIZED_WEIGHT
        segments = to_viseme_segments(timed, "arpabet")
        return track.render(x, rate, 0, 0, n, segments, audio_weight).weights


def load(spec: ModelSpec, assets: dict[str, Path], settings: Settings) -> FaceEngine:
    """Catalog loader: built-in characters plus ``<cache_dir>/face/characters/*.json``."""
    user_dir = Path(settings.models.cache_dir) / "face" / "characters"
    return FaceEngine((BUILTIN_DIR, user_dir))
