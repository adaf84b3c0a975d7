"""The golden protocol vectors: every message type, written to tests/data/protocol/.

Run ``python tests/protocol/vectors.py`` to regenerate; ``test_golden.py`` fails when the
committed files drift from this list. The ``.json`` beside each ``.msgpack`` is its meaning,
with bytes written as ``{"$bin": "<base64>"}``.
"""

from __future__ import annotations

import base64
import json
import struct
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "sidecar"))

from atelico.protocol.constants import ARKIT_BLENDSHAPES  # noqa: E402
from atelico.protocol.envelope import Message, encode  # noqa: E402

OUT = Path(__file__).resolve().parents[1] / "data" / "protocol"

PCM4 = struct.pack("<4h", 0, 16384, -16384, 32767)  # 4 s16le samples
WEIGHTS2 = struct.pack("<104f", *([0.0] * 17 + [0.5] + [0.0] * 34 + [0.25] * 52))  # 2 frames


def _model(mid: str, kind: str, aliases: list[str], default: bool) -> dict:
    return {"id": mid, "kind": kind, "installed": True, "loaded": False, "aliases": aliases,
            "default": default}


VECTORS: list[tuple[str, str, Message]] = [
    ("hello", "client handshake", Message("hello", {"protocol": 1, "client": "godot",
                                                    "client_version": "0.1.0"})),
    ("hello_token", "handshake with a launch token",
     Message("hello", {"protocol": 1, "client": "unity", "client_version": "0.1.0",
                       "token": "s3cr3t-t0ken"})),
    ("welcome", "server handshake reply",
     Message("welcome", {"protocol": 1, "server": "atelico", "server_version": "0.1.0",
                         "session": "a1b2c3", "models": [_model("kokoro-82m", "tts", ["tts", "kokoro"], True),
                                                         _model("whisper-base", "stt", ["whisper"], True)],
                         "capabilities": ["tts.synthesize", "speak", "stt.transcribe", "stt.live",
                                          "face.run", "face.stream", "models.list", "voices.list",
                                          "ping", "cancel", "formats.wav", "formats.mp3"],
                         "limits": {"max_frame_bytes": 8388608, "max_in_flight": 16,
                                    "max_input_chars": 20000, "max_audio_s": 1800.0}})),
    ("ping", "keep-alive with an echoed number", Message("ping", {"t": 1234567}, id="p1")),
    ("pong", "reply to ping", Message("pong", {"t": 1234567}, id="p1")),
    ("cancel", "cancel request r7", Message("cancel", {}, id="r7")),
    ("cancelled", "terminal: r7 was cancelled", Message("cancelled", {}, id="r7")),
    ("error_request", "terminal error for a request",
     Message("error", {"code": "voice.unknown", "message": "unknown voice 'zz_nobody'",
                       "details": {"known": ["af_heart", "am_adam"]}}, id="r2")),
    ("error_connection", "connection-level error (no id)",
     Message("error", {"code": "protocol.malformed", "message": "frame must be a msgpack map"})),
    ("models_list", "list models", Message("models.list", {}, id="m1")),
    ("models_done", "models.list result",
     Message("done", {"models": [_model("face", "face", ["a2f"], True)]}, id="m1")),
    ("voices_list", "list voices of a model", Message("voices.list", {"model": "kokoro"}, id="v1")),
    ("voices_done", "voices.list result",
     Message("done", {"voices": [{"id": "af_heart", "model": "kokoro-82m", "language": "en-US",
                                  "gender": "female", "name": "heart", "custom": False}]}, id="v1")),
    ("tts_synthesize", "streamed synthesis request",
     Message("tts.synthesize", {"model": "in-memory::tts", "input": "Hello there. Ça va? 日本語",
                                "voice": "af_heart", "speed": 1.25, "stream": True,
                                "sample_format": "s16le", "encoding": "pcm", "words": True}, id="r1")),
    ("tts_chunk", "one streamed chunk with 4 PCM samples",
     Message("tts.chunk", {"sequence": 0, "text": "Hello there.", "offset_samples": 0,
                           "duration_s": 0.5, "sample_rate_hz": 24000, "sample_format": "s16le",
                           "channels": 1, "encoding": "pcm",
                           "words": [{"word": "Hello", "start_s": 0.05, "end_s": 0.3},
                                     {"word": "there", "start_s": 0.3, "end_s": 0.5}]},
             id="r1", payload=PCM4)),
    ("tts_done_stream", "end of a streamed synthesis",
     Message("done", {"chunks": 3, "duration_s": 2.75, "sample_rate_hz": 24000,
                      "model": "kokoro-82m", "voice": "af_heart"}, id="r1")),
    ("tts_done_blocking", "blocking synthesis result with its audio",
     Message("done", {"duration_s": 0.000166666, "sample_rate_hz": 24000, "sample_format": "s16le",
                      "channels": 1, "encoding": "pcm", "words": [], "model": "kokoro-82m",
                      "voice": "af_heart"}, id="r3", payload=PCM4)),
    ("speak", "speak: streamed TTS with face frames",
     Message("speak", {"model": "tts", "input": "Hi!", "voice": "am_adam", "character": "james"},
             id="s1")),
    ("speak_chunk", "a speak chunk carrying 2 face frames",
     Message("tts.chunk", {"sequence": 0, "text": "Hi!", "offset_samples": 0, "duration_s": 0.066,
                           "sample_rate_hz": 24000, "sample_format": "s16le", "channels": 1,
                           "encoding": "pcm", "words": [],
                           "face": {"fps": 30, "start_frame": 0, "frame_count": 2, "channels": 52,
                                    "weights": WEIGHTS2}}, id="s1", payload=PCM4)),
    ("speak_input_stream", "speak whose text comes in pieces (a language model writing it)",
     Message("speak", {"model": "tts", "input": "", "voice": "af_heart", "character": "claire",
                       "input_stream": True}, id="s2")),
    ("tts_text", "a piece of streamed input text", Message("tts.text", {"text": " the fire,"}, id="s2")),
    ("tts_text_end", "no more input text", Message("tts.text.end", {}, id="s2")),
    ("cancel_barge_in", "barge-in: stop s2 after 12000 samples were played",
     Message("cancel", {"played_samples": 12000}, id="s2")),
    ("cancelled_heard", "terminal of a barge-in: what was heard",
     Message("cancelled", {"played_samples": 12000, "played_s": 0.5, "text": "Stay",
                           "words": [{"word": "Stay", "start_s": 0.1, "end_s": 0.3}]}, id="s2")),
    ("stt_transcribe", "transcribe raw PCM",
     Message("stt.transcribe", {"model": "whisper", "sample_rate_hz": 16000, "sample_format": "s16le",
                                "channels": 1, "language": "en", "words": True}, id="t1",
             payload=PCM4)),
    ("stt_transcribe_file", "transcribe an encoded file",
     Message("stt.transcribe", {"model": "whisper-base", "encoding": "wav", "task": "translate",
                                "temperature": 0.0}, id="t2", payload=b"RIFF....WAVEfmt ")),
    ("stt_done", "transcription result",
     Message("done", {"text": "Hello world.", "language": "en", "duration": 1.5, "model": "whisper-base",
                      "segments": [{"id": 0, "start": 0.0, "end": 1.5, "text": "Hello world.",
                                    "words": [{"word": "Hello", "start": 0.1, "end": 0.6, "probability": 0.98},
                                              {"word": "world.", "start": 0.7, "end": 1.2, "probability": 0.9}]}]},
             id="t1")),
    ("stt_live_start", "open live transcription",
     Message("stt.live.start", {"model": "whisper", "sample_rate_hz": 48000, "sample_format": "f32le",
                                "channels": 2, "vad": "silero", "partials": True}, id="L1")),
    ("stt_live_audio", "a live audio frame", Message("stt.live.audio", {}, id="L1", payload=PCM4)),
    ("stt_live_stop", "close live transcription", Message("stt.live.stop", {}, id="L1")),
    ("stt_partial", "partial result", Message("stt.partial", {"segment_id": 0, "text": "hello wor",
                                                             "start_time": 0.32, "end_time": 1.0,
                                                             "is_final": False}, id="L1")),
    ("stt_final", "final result",
     Message("stt.final", {"segment_id": 0, "text": "Hello world.", "start_time": 0.32, "end_time": 1.4,
                           "is_final": True, "words": [{"word": "Hello", "start": 0.32, "end": 0.8}]},
             id="L1")),
    ("stt_speech_started", "live: speech began (onset time)",
     Message("stt.speech.started", {"segment_id": 0, "start_time": 0.416}, id="L1")),
    ("stt_speech_stopped", "live: speech ended (onset and end times)",
     Message("stt.speech.stopped", {"segment_id": 0, "start_time": 0.416, "end_time": 1.38},
             id="L1")),
    ("stt_warning", "live transcription fell behind",
     Message("stt.warning", {"code": "stt.behind", "message": "dropped 1.5 s to catch up",
                             "dropped_s": 1.5}, id="L1")),
    ("stt_live_done", "end of live transcription", Message("done", {"segments": 1, "duration": 12.5},
                                                          id="L1")),
    ("face_run", "audio-to-face on a clip",
     Message("face.run", {"character": "claire", "sample_rate_hz": 16000, "sample_format": "s16le",
                          "channels": 1, "text": "hello"}, id="f1", payload=PCM4)),
    ("face_done", "face result: 2 frames",
     Message("done", {"fps": 30, "frame_count": 2, "channels": 52, "names": list(ARKIT_BLENDSHAPES),
                      "duration": 0.066}, id="f1", payload=WEIGHTS2)),
    ("face_stream_start", "open a face stream",
     Message("face.stream.start", {"character": "mark", "sample_rate_hz": 16000, "sample_format": "s16le",
                                   "channels": 1}, id="f2")),
    ("face_stream_audio", "face stream audio", Message("face.stream.audio", {}, id="f2", payload=PCM4)),
    ("face_stream_stop", "close a face stream", Message("face.stream.stop", {}, id="f2")),
    ("face_frames", "streamed face frames",
     Message("face.frames", {"start_frame": 30, "frame_count": 2, "fps": 30, "channels": 52,
                             "offset_samples": 16000}, id="f2", payload=WEIGHTS2)),
    ("numbers", "msgpack number forms every codec must handle",
     Message("ping", {"t": -1, "neg8": -100, "neg16": -1000, "neg32": -100000, "neg64": -10000000000,
                      "u8": 200, "u16": 60000, "u32": 4000000000, "u64": 10000000000000,
                      "f": -0.5, "big": 1e300, "arr": [1, [2, [3]], {}], "nil_in_list": [None, True, False],
                      "long_str": "x" * 40, "str16": "y" * 300}, id="n1")),
]

# Frames every decoder must reject, with the error code the server answers.
INVALID: list[tuple[str, str, bytes]] = [
    ("not_a_map", "protocol.malformed", bytes([0x93, 0x01, 0x02, 0x03])),
    ("truncated", "protocol.malformed", encode(Message("ping", {"t": 1}, id="x"))[:-3]),
    ("garbage", "protocol.malformed", bytes([0xc1, 0xff, 0x00])),
    ("missing_type", "protocol.malformed", bytes([0x81, 0xa4]) + b"data" + bytes([0x80])),
    ("type_not_str", "protocol.malformed", bytes([0x82, 0xa4]) + b"type" + bytes([0x07, 0xa4]) + b"data" + bytes([0x80])),
    ("data_not_map", "protocol.malformed", bytes([0x82, 0xa4]) + b"type" + bytes([0xa4]) + b"ping" + bytes([0xa4]) + b"data" + bytes([0x01])),
    ("id_not_str", "protocol.malformed", bytes([0x83, 0xa4]) + b"type" + bytes([0xa4]) + b"ping" + bytes([0xa2]) + b"id" + bytes([0x05, 0xa4]) + b"data" + bytes([0x80])),
    ("payload_not_bin", "protocol.malformed", bytes([0x83, 0xa4]) + b"type" + bytes([0xa4]) + b"ping" + bytes([0xa4]) + b"data" + bytes([0x80, 0xa7]) + b"payload" + bytes([0xa1]) + b"x"),
]


def to_json(value):
    if isinstance(value, (bytes, bytearray)):
        return {"$bin": base64.b64encode(bytes(value)).decode()}
    if isinstance(value, dict):
        return {k: to_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_json(v) for v in value]
    return value


def meaning(msg: Message) -> dict:
    env: dict = {"type": msg.type}
    if msg.id is not None:
        env["id"] = msg.id
    env["data"] = msg.data
    if msg.payload is not None:
        env["payload"] = msg.payload
    return to_json(env)


def build() -> dict[str, bytes]:
    """Return every file name -> content of the vector directory."""
    files: dict[str, bytes] = {}
    index = []
    for name, description, msg in VECTORS:
        files[f"{name}.msgpack"] = encode(msg)
        files[f"{name}.json"] = (json.dumps(meaning(msg), indent=1, ensure_ascii=False) + "\n").encode()
        index.append({"name": name, "description": description})
    for name, code, frame in INVALID:
        files[f"invalid/{name}.msgpack"] = frame
        index.append({"name": f"invalid/{name}", "description": "must be rejected", "error_code": code})
    files["index.json"] = (json.dumps(index, indent=1) + "\n").encode()
    return files


if __name__ == "__main__":
    for rel, content in build().items():
        path = OUT / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    print(f"wrote {len(build())} files to {OUT}")
