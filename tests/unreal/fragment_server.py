"""A scripted Atelico WebSocket server that sends every reply as a FRAGMENTED message.

Used by the UE-layer tests (ue/test_connection.cpp) to prove the plugin reassembles messages
split over several WebSocket frames, as any server or proxy may send them. It answers `hello`
with the golden `welcome`; `tts.synthesize` with one `tts.chunk` of N samples and a `done`;
`ping` with `pong`. Each message goes out as FRAMES frames (websockets sends an iterable as one
fragmented message). Prints `PORT <n>` once listening; exits when stdin closes.

Run: python fragment_server.py [--frames 3] [--samples 48000]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

import msgpack
from websockets.asyncio.server import serve

WELCOME = Path(__file__).resolve().parents[1] / "data" / "protocol" / "welcome.msgpack"


def fragments(message: dict, count: int) -> list[bytes]:
    blob = msgpack.packb(message, use_bin_type=True)
    step = max(1, -(-len(blob) // count))
    return [blob[i:i + step] for i in range(0, len(blob), step)]


async def handle(ws, frames: int, samples: int) -> None:
    async for raw in ws:
        msg = msgpack.unpackb(raw, raw=False)
        kind, rid = msg.get("type"), msg.get("id")
        if kind == "hello":
            welcome = msgpack.unpackb(WELCOME.read_bytes(), raw=False)
            await ws.send(fragments(welcome, frames))
        elif kind == "ping":
            await ws.send(fragments({"type": "pong", "id": rid, "data": msg.get("data", {})}, frames))
        elif kind == "tts.synthesize":
            pcm = bytes((i * 7) & 0xFF for i in range(samples * 2))
            chunk = {"type": "tts.chunk", "id": rid, "data": {
                "sequence": 0, "text": msg["data"].get("input", ""), "offset_samples": 0,
                "duration_s": samples / 24000, "sample_rate_hz": 24000, "sample_format": "s16le",
                "channels": 1, "encoding": "pcm"}, "payload": pcm}
            await ws.send(fragments(chunk, frames))
            done = {"type": "done", "id": rid, "data": {"chunks": 1, "duration_s": samples / 24000,
                                                        "sample_rate_hz": 24000}}
            await ws.send(fragments(done, frames))


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--frames", type=int, default=3)
    parser.add_argument("--samples", type=int, default=48000)
    args = parser.parse_args()
    async with serve(lambda ws: handle(ws, args.frames, args.samples), "127.0.0.1", 0,
                     max_size=None) as server:
        port = server.sockets[0].getsockname()[1]
        print(f"PORT {port}", flush=True)
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, sys.stdin.read)  # until the launcher closes our stdin


if __name__ == "__main__":
    asyncio.run(main())
