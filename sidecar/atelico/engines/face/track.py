"""One utterance's face, block by block: smoothing, level tracking, blinks and gaze carried
from block to block so frames stay continuous across TTS chunks and streamed audio."""

from __future__ import annotations

from typing import Sequence

import numpy as np

from atelico.engines.base import ARKIT_BLENDSHAPES, FACE_FPS, FACE_SAMPLE_RATE_HZ, FaceFrames, PhonemeTiming
from atelico.engines.face import articulation, features, rig
from atelico.engines.face.articulation import P, PARAMS
from atelico.engines.face.character import Character
from atelico.engines.face.phones import PhoneSet, VisemeSegment, to_viseme_segments
from atelico.errors import AudioError, RequestError

_MIN_RATE_HZ, _MAX_RATE_HZ = 4_000, 384_000
_GATE_HOLD_FRAMES = 6  # phone paths: the mouth may move up to 0.2 s away from audible sound


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
