"""Constants every layer shares: the face matrix, the working sample rates, the names of the
formats requests may ask for and the kinds of live speech events. Plain values, no imports."""

from __future__ import annotations

#: ARKit's 52 blendshapes in canonical order (the column order of every face matrix).
ARKIT_BLENDSHAPES: tuple[str, ...] = (
    "eyeBlinkLeft", "eyeLookDownLeft", "eyeLookInLeft", "eyeLookOutLeft", "eyeLookUpLeft",
    "eyeSquintLeft", "eyeWideLeft", "eyeBlinkRight", "eyeLookDownRight", "eyeLookInRight",
    "eyeLookOutRight", "eyeLookUpRight", "eyeSquintRight", "eyeWideRight", "jawForward",
    "jawLeft", "jawRight", "jawOpen", "mouthClose", "mouthFunnel", "mouthPucker", "mouthLeft",
    "mouthRight", "mouthSmileLeft", "mouthSmileRight", "mouthFrownLeft", "mouthFrownRight",
    "mouthDimpleLeft", "mouthDimpleRight", "mouthStretchLeft", "mouthStretchRight",
    "mouthRollLower", "mouthRollUpper", "mouthShrugLower", "mouthShrugUpper", "mouthPressLeft",
    "mouthPressRight", "mouthLowerDownLeft", "mouthLowerDownRight", "mouthUpperUpLeft",
    "mouthUpperUpRight", "browDownLeft", "browDownRight", "browInnerUp", "browOuterUpLeft",
    "browOuterUpRight", "cheekPuff", "cheekSquintLeft", "cheekSquintRight", "noseSneerLeft",
    "noseSneerRight", "tongueOut",
)
FACE_FPS = 30
FACE_CHANNELS = len(ARKIT_BLENDSHAPES)
FACE_SAMPLE_RATE_HZ = 16_000
STT_SAMPLE_RATE_HZ = 16_000

#: ``LiveEvent.kind`` of an onset / end of speech on a live transcription.
SPEECH_STARTED = "speech_started"
SPEECH_STOPPED = "speech_stopped"

#: Speech synthesis speed bounds (1.0 is the voice's own pace).
MIN_SPEED, MAX_SPEED = 0.25, 4.0

#: ``response_format`` of ``POST /v1/audio/speech`` (the encoder's formats) and those of
#: them that can be sent as they are synthesized.
SPEECH_FORMATS = ("wav", "pcm", "mp3", "opus", "aac", "flac")
STREAMABLE_FORMATS = ("pcm", "wav", "mp3", "opus", "aac")
#: ``encoding`` of a compressed audio payload (anything else is raw ``pcm``).
FILE_ENCODINGS = ("wav", "mp3", "flac", "ogg", "webm", "m4a", "opus", "aac")
#: ``sample_format`` of raw PCM, and the ``encoding`` of synthesized WebSocket audio.
SAMPLE_FORMATS = ("s16le", "f32le")
#: Bounds of a raw PCM description (and of any rate the audio side converts from).
MIN_SAMPLE_RATE_HZ = 1_000
MAX_SAMPLE_RATE_HZ = 384_000
MAX_CHANNELS = 8
WS_SPEECH_ENCODINGS = ("pcm", "wav")

#: Transcription response bodies and ``timestamp_granularities``.
TRANSCRIPTION_FORMATS = ("json", "text", "srt", "vtt", "verbose_json")
GRANULARITIES = ("segment", "word")
TASKS = ("transcribe", "translate")
FACE_FORMATS = ("json", "f32")
