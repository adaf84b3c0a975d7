"""Stream an NPC line from a running sidecar and save each clause as it arrives.

    make serve            # in another terminal
    .venv/bin/python examples/python/stream_speech.py "Welcome, traveller. The forge is hot today."
"""

from __future__ import annotations

import os
import sys
import time

import numpy as np

from atelico import Client
from atelico.audio.wav import encode_wav

URL = os.environ.get("ATELICO_URL", "ws://127.0.0.1:11434/v1/ws")


def main(text: str) -> None:
    with Client(URL, token=os.environ.get("ATELICO_TOKEN")) as client:
        start = time.perf_counter()
        pieces = []
        for chunk in client.synthesize_stream(text, voice="am_adam", character="james"):
            if not pieces:
                print(f"first audio after {time.perf_counter() - start:.2f} s")
            print(f"  #{chunk.sequence} {chunk.audio.size / chunk.sample_rate_hz:.2f} s  "
                  f"{chunk.text!r}  face frames: {0 if chunk.face is None else len(chunk.face)}")
            pieces.append(chunk.audio)
        audio = np.concatenate(pieces)
        with open("npc_line.wav", "wb") as fh:
            fh.write(encode_wav(audio, 24000))
        print(f"wrote npc_line.wav ({audio.size / 24000:.2f} s)")


if __name__ == "__main__":
    main(" ".join(sys.argv[1:]) or "Welcome, traveller. The forge is hot today, so mind your sleeves.")
