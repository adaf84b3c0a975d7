"""The reference's in-process API: no server, models load in this process.

    .venv/bin/python examples/python/in_process.py
"""

from __future__ import annotations

import base64
import json

from atelico import Engine

with Engine() as engine:
    speech = json.loads(engine.audio_synthesize(json.dumps({
        "model": "in-memory::tts", "input": "Hello from Atelico.", "voice": "af_heart"})))
    wav = base64.b64decode(speech["audio_b64"])
    print(f"synthesized {speech['duration_seconds']} s at {speech['sample_rate']} Hz")

    heard = json.loads(engine.audio_transcribe(json.dumps({
        "model": "in-memory::whisper", "audio_b64": speech["audio_b64"]})))
    print(f"transcribed back: {heard['text']!r} ({heard['language']}, {heard['duration']} s)")

    result = engine.synthesize("Open wide!", voice="af_bella")
    weights = engine.audio_to_face(result.audio, character="claire", sample_rate=result.sample_rate_hz)
    print(f"face: {weights.shape[0]} frames x {weights.shape[1]} ARKit weights, "
          f"max jawOpen {weights[:, 17].max():.2f}")
