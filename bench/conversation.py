"""The spoken conversation loop (issue 19), the live part alone: each recorded utterance fed
live at real-time pace in 100 ms frames, then the NPC answering on its final with a reply
available at once. Per utterance: ``stt.speech.started`` delay, final after the end of
speech, and turn latency (end of the player's speech → the NPC's first audio), with the
load average before, during and after (the 2 cores are shared)."""

from __future__ import annotations

from typing import Any

from bench.common import Clip, load_avg, speech_clips
from bench.context import Ctx, connect
from bench.stt import REPLY, _live_summary, first_reply_audio, live_latency

MODEL = "whisper"


async def run(ctx: Ctx) -> dict[str, Any]:
    clips = [c for c in speech_clips() if c.seconds >= 2.5]
    clips = ctx.pick(clips, clips[:3], clips[:1])
    reps = ctx.pick(2, 1)
    loads = [load_avg()]
    runs: list[dict[str, Any]] = []
    fed: list[Clip] = []
    async with connect(ctx.sidecar.ws) as client:
        ctx.log("conversation: warm-up (one reply, one live utterance)")
        await first_reply_audio(client, REPLY)
        await live_latency(client, clips[0], MODEL)
        for r in range(reps):
            ctx.log(f"conversation: round {r + 1}/{reps}, {len(clips)} utterances")
            for clip in clips if r % 2 == 0 else clips[::-1]:
                runs.append(await live_latency(client, clip, MODEL, REPLY))
                fed.append(clip)
                loads.append(load_avg())
    one_minute = [la[0] for la in loads]
    return {"model": f"{MODEL} (the live default)", "reply": REPLY, "rounds": reps,
            "load_avg": {"start": loads[0], "end": loads[-1], "min_1min": min(one_minute),
                         "max_1min": max(one_minute), "after_each": loads[1:]},
            **_live_summary(runs, fed)}
