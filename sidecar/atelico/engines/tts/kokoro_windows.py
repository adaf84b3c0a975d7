"""Kokoro int8 in two halves: the whole sentence planned at once, the vocoder run in windows.

The int8 ONNX graph is cut where the decoder begins. The *plan* half (text encoder, duration,
F0 and energy predictors, and the harmonic source's running phase) runs over the whole
sentence, so prosody is the sentence's; it is cheap (~10% of the time). The *decode* half
(decoder + iSTFTNet vocoder, ~90%) runs over any span of the planned frames. A sentence is
then rendered as a few windows cut between words: each window decodes its frames plus
:data:`CONTEXT_FRAMES` on each side (the convolutions' receptive field), and the next window's
first :data:`CROSSFADE_S` are cross-faded from the previous window's overhang. The harmonic
source's phase is computed once over the whole sentence and sliced, so the voiced excitation
is continuous across every join.

:class:`Pacer` sizes the windows: the first one short (first sound after the plan plus one
short window), then each as long as the audio already handed out allows, from the measured
decode speed of this machine under its current load (:class:`SpeedMeter`), so synthesis of the
next window ends before the listener has played what came before.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any, Callable, Iterator, Sequence

import numpy as np

from atelico.errors import ModelLoadFailed

SAMPLE_RATE_HZ = 24_000
#: One duration frame of the model: 600 samples = 25 ms at 24 kHz.
FRAME_SAMPLES = 600
#: Tensors where the graph is cut: the decoder's inputs (aligned text features, F0, energy)
#: and the harmonic source's phase (a cumulative sum over the whole utterance).
ASR_TENSOR = "/encoder/MatMul_1_output_0"
F0_TENSOR = "/encoder/Reshape_output_0"
N_TENSOR = "/encoder/Reshape_1_output_0"
PHASE_TENSOR = "/decoder/decoder/generator/m_source/l_sin_gen/Mul_4_output_0"
DURATION_TENSOR = "/encoder/Gather_output_0"
DECODE_INPUTS = (ASR_TENSOR, F0_TENSOR, N_TENSOR, "style", PHASE_TENSOR)
PLAN_OUTPUTS = (DURATION_TENSOR, ASR_TENSOR, F0_TENSOR, N_TENSOR, PHASE_TENSOR)
#: Frames (25 ms) decoded on each side of a window beyond what it keeps.
CONTEXT_FRAMES = 3
#: Length of the cross-fade at the start of every window after the first.
CROSSFADE_S = 0.02
#: How far past its target a stream's first window may run to end between two words; a
#: longer first word is cut inside (first audio waits for no long word).
FIRST_SLACK_S = 0.08
#: A sentence's last stretch shorter than this joins the window before (not worth its context).
MIN_TAIL_S = 0.1
#: The end of a sentence's last word is not cut off into a window of its own (with the pause
#: after it, such a window is near-silence).
LAST_WORD_TAIL_S = 0.25
#: The longest first window the pacer asks for to keep up on a slow machine; where keeping
#: up needs more (near real time) the first window stays short: a quick start and a gap.
FIRST_MAX_S = 1.0
#: The first window lasts this many times the second one's decode at the measured speed
#: (the margin covers each decode's fixed cost, ~0.035 s, which the speed leaves out).
FIRST_COVER = 1.2


def split_model(model: Any) -> tuple[Any, Any]:
    """Cut the Kokoro v1.0 int8 graph into ``(plan, decode)`` models (in memory).

    ``plan``: inputs ``tokens, style, speed`` -> :data:`PLAN_OUTPUTS`. ``decode``: inputs
    :data:`DECODE_INPUTS` -> ``audio``. Chained over the same frames they compute exactly what
    the whole graph does.

    Raises:
        ModelLoadFailed: a cut tensor is missing (not the Kokoro v1.0 export).
    """
    from onnx import TensorProto, helper

    graph = model.graph
    producer = {out: node for node in graph.node for out in node.output}
    missing = [t for t in PLAN_OUTPUTS if t not in producer]
    if missing:
        raise ModelLoadFailed(f"the ONNX graph has no {missing[0]}: not Kokoro v1.0?")
    initializers = {init.name for init in graph.initializer}

    def nodes_for(outputs: Sequence[str], stops: set[str]) -> list[Any]:
        wanted: set[int] = set()
        stack, seen = list(outputs), set()
        while stack:
            name = stack.pop()
            if not name or name in seen or name in stops or name in initializers:
                continue
            seen.add(name)
            node = producer.get(name)
            if node is not None and id(node) not in wanted:
                wanted.add(id(node))
                stack.extend(node.input)
        return [node for node in graph.node if id(node) in wanted]  # keeps topological order

    def build(nodes: list[Any], inputs: Sequence[tuple[str, int]],
              outputs: Sequence[tuple[str, int]], renames: dict[str, str]) -> Any:
        used = {name for node in nodes for name in node.input}
        inits = [init for init in graph.initializer if init.name in used]
        extra = [helper.make_node("Identity", [src], [dst], name=f"atelico_{dst}")
                 for src, dst in renames.items()]
        part = helper.make_graph(
            nodes + extra, "kokoro_part",
            [helper.make_tensor_value_info(name, kind, None) for name, kind in inputs],
            [helper.make_tensor_value_info(renames.get(name, name), kind, None)
             for name, kind in outputs], inits)
        return helper.make_model(part, opset_imports=model.opset_import,
                                 ir_version=model.ir_version)

    f32, i64 = TensorProto.FLOAT, TensorProto.INT64
    plan_nodes = nodes_for(PLAN_OUTPUTS, set())
    plan = build(plan_nodes, [("tokens", i64), ("style", f32), ("speed", f32)],
                 [(DURATION_TENSOR, i64)] + [(t, f32) for t in PLAN_OUTPUTS[1:]],
                 {DURATION_TENSOR: "duration"})
    decode_nodes = nodes_for(["audio"], set(DECODE_INPUTS))
    decode = build(decode_nodes, [(t, f32) for t in DECODE_INPUTS], [("audio", f32)], {})
    return plan, decode


@dataclass(frozen=True)
class Plan:
    """One sentence planned: frames per token (pads included) and the decoder's inputs."""

    durations: np.ndarray
    asr: np.ndarray  # [1, 512, frames]
    f0: np.ndarray  # [1, 2 * frames]
    energy: np.ndarray  # [1, 2 * frames]
    phase: np.ndarray  # [1, harmonics, 2 * frames]
    style: np.ndarray  # [1, 256]

    @property
    def frames(self) -> int:
        return int(self.asr.shape[-1])


class SplitSessions:
    """The two halves on onnxruntime: :meth:`plan` a sentence, :meth:`decode` frame spans."""

    def __init__(self, plan_session: Any, decode_session: Any) -> None:
        self._plan = plan_session
        self._decode = decode_session

    def plan(self, token_ids: Sequence[int], style: np.ndarray, speed: float) -> Plan:
        style = np.asarray(style, dtype=np.float32).reshape(1, -1)
        durations, asr, f0, energy, phase = self._plan.run(
            ["duration", *PLAN_OUTPUTS[1:]],
            {"tokens": np.array([[0, *token_ids, 0]], dtype=np.int64), "style": style,
             "speed": np.array([speed], dtype=np.float32)})
        return Plan(np.asarray(durations, np.int64).reshape(-1), asr, f0, energy, phase, style)

    def decode(self, plan: Plan, lo: int, hi: int) -> np.ndarray:
        """Audio of frames ``[lo, hi)`` (600 samples each), decoded with no outside context."""
        audio, = self._decode.run(["audio"], {
            ASR_TENSOR: np.ascontiguousarray(plan.asr[:, :, lo:hi]),
            F0_TENSOR: np.ascontiguousarray(plan.f0[:, 2 * lo:2 * hi]),
            N_TENSOR: np.ascontiguousarray(plan.energy[:, 2 * lo:2 * hi]),
            "style": plan.style,
            PHASE_TENSOR: np.ascontiguousarray(plan.phase[:, :, 2 * lo:2 * hi])})
        return np.asarray(audio, dtype=np.float32).reshape(-1)


class SpeedMeter:
    """Decode seconds per second of audio on this machine, as measured lately (thread-safe).

    Wall-clock time is measured, so other work on the machine (other streams, other
    processes) shows up as a slower speed, and windows shrink accordingly.
    """

    def __init__(self, initial_rtf: float = 0.5, weight: float = 0.3) -> None:
        self._rtf = initial_rtf
        self._weight = weight
        self._lock = threading.Lock()
        self.samples = 0

    @property
    def rtf(self) -> float:
        with self._lock:
            return self._rtf

    def add(self, seconds: float, audio_s: float) -> None:
        if audio_s <= 0:
            return
        with self._lock:
            value = seconds / audio_s
            self._rtf = value if self.samples == 0 else \
                (1 - self._weight) * self._rtf + self._weight * value
            self.samples += 1


class Pacer:
    """Sizes a stream's windows so each is ready before the listener runs out of audio.

    The listener is assumed to start playing when the first window is handed out and to play
    continuously. ``ahead_s`` is the audio handed out but not yet played; the next window may
    take ``safety * ahead_s`` seconds of decoding, which at the measured speed ``rtf`` is
    ``safety * ahead_s / rtf`` seconds of audio (less the context it also decodes).

    Every window also decodes :func:`context_s` it does not keep, so a window gains on
    playback only when it is longer than :meth:`sustained_s`; no window (the first one
    included, unless that floor is over :data:`FIRST_MAX_S`) is made shorter than that, else
    the stream would shrink window by window into a gap. Slower than real time
    (``rtf >= 1``) no size avoids gaps: windows are then as long as allowed, so there are as
    few gaps as possible.
    """

    def __init__(self, meter: SpeedMeter, *, first_s: float = 0.2, min_s: float = 0.3,
                 max_s: float = 8.0, safety: float = 0.6,
                 clock: Callable[[], float] = time.perf_counter) -> None:
        self.meter = meter
        self.first_s, self.min_s, self.max_s, self.safety = first_s, min_s, max_s, safety
        self.clock = clock
        self.started: float | None = None
        self.handed_s = 0.0
        #: this stream's own seconds per audio second between hand-outs (queueing for a
        #: worker behind other streams included), once known
        self.own_rtf: float | None = None
        self._last: float | None = None
        self._last_s = 0.0  # audio of the last window handed out

    def ahead_s(self) -> float:
        if self.started is None:
            return 0.0
        return max(0.0, self.handed_s - (float(self.clock()) - self.started))

    def rtf(self) -> float:
        """The slower of the machine's decode speed and this stream's own pace, both per
        second of audio decoded (the stream's own pace counts the context it decoded)."""
        own = 0.0
        if self.own_rtf is not None and self._last_s > 0:
            own = self.own_rtf * self._last_s / (self._last_s + context_s())
        return max(self.meter.rtf, own, 1e-3)

    def sustained_s(self, rtf: float) -> float:
        """The shortest window that, decoded at ``rtf``, adds audio ahead of the listener
        (with a margin of one half): it plays longer than it and its context take."""
        return 1.5 * rtf * context_s() / (1.0 - rtf)

    def floor_s(self) -> float:
        """The shortest window worth decoding once the stream plays: one that gains on
        playback (none before the first window, nor slower than real time)."""
        rtf = self.rtf()
        if self.started is None or rtf >= 1.0:
            return 0.0
        return float(min(self.max_s, self._gaining_s(rtf)))

    def _gaining_s(self, rtf: float) -> float:
        """The shortest window the pacer hands out at ``rtf`` (< 1) once the stream plays."""
        return max(self.min_s, self.sustained_s(rtf))

    def next_s(self, extra_cost_s: float = 0.0) -> float:
        """Seconds of audio the next window should hold."""
        rtf = self.rtf()
        if self.started is None:
            floor = self.sustained_s(rtf) if rtf < 1.0 else 0.0
            if floor > FIRST_MAX_S:  # keeping up would cost seconds of silence up front
                floor = 0.0
            # it should also last while the second window, the shortest that gains on
            # playback, decodes (a 0.2 s first window ran dry before a 0.3 s second one)
            cover = FIRST_COVER * rtf * (self._gaining_s(rtf) + context_s())
            if floor and cover <= FIRST_MAX_S:
                floor = max(floor, cover)
            return float(min(self.max_s, max(self.first_s, floor)))
        if rtf >= 1.0:
            return self.max_s
        budget = self.safety * self.ahead_s() - extra_cost_s
        size = max(self._gaining_s(rtf), budget / rtf - context_s())
        return float(min(self.max_s, size))

    def handed(self, audio_s: float) -> None:
        now = float(self.clock())
        if self.started is None:
            self.started = now
        elif self._last is not None and audio_s > 0:
            value = (now - self._last) / audio_s
            self.own_rtf = value if self.own_rtf is None else 0.5 * (self.own_rtf + value)
        self._last = now
        self._last_s = audio_s
        self.handed_s += audio_s


def context_s() -> float:
    """Audio a window decodes beyond what it keeps: the context on both sides (its
    cross-fade overhang aside)."""
    return 2 * CONTEXT_FRAMES * FRAME_SAMPLES / SAMPLE_RATE_HZ


@dataclass(frozen=True)
class Window:
    """A span ``[start, end)`` of a sentence's kept audio (samples) and its word indices."""

    start: int
    end: int
    first_word: int
    end_word: int


def cut_points(word_bounds: Sequence[tuple[float, float]], length: int) -> list[tuple[int, int]]:
    """Where a window may end: ``(sample, next_word)`` mid-way between consecutive words
    (``next_word`` is the index of the word after the cut)."""
    cuts: list[tuple[int, int]] = []
    for index, ((_s0, e0), (s1, _e1)) in enumerate(zip(word_bounds, word_bounds[1:])):
        cut = int(round((e0 + s1) / 2 * SAMPLE_RATE_HZ))
        if 0 < cut < length and (not cuts or cut > cuts[-1][0]):
            cuts.append((cut, index + 1))
    return cuts


def _in_last_word_tail(goal: int, speech_end: int | None) -> bool:
    return speech_end is not None and speech_end - goal < LAST_WORD_TAIL_S * SAMPLE_RATE_HZ


def _candidates(cuts: Sequence[tuple[int, int]], lowest: int | None, goal: int,
                ahead: list[tuple[int, int | None]]) -> list[tuple[int, int | None]]:
    """Where a window may end, best first: the last cut between words in ``[lowest, goal]``
    (when ``lowest`` is given), then inside the word at ``goal``, then the cuts after it."""
    out: list[tuple[int, int | None]] = []
    if lowest is not None:
        out += [(cut, word) for cut, word in cuts if lowest <= cut <= goal][::-1]
    return out + [(goal, ahead[0][1]), *ahead]


def next_window(cuts: Sequence[tuple[int, int]], start: int, length: int,
                target_s: float, slack_s: float | None = None,
                floor_s: float = 0.0, speech_end: int | None = None) -> tuple[int, int | None]:
    """The end of the window that starts at ``start`` and the word after it, or
    ``(length, None)`` for the end of the sentence.

    ``target_s`` is what the pacer can afford, so a window ends at the last cut between
    words in the second half of it, or inside a word at ``target_s`` itself (the word stays
    with the window it starts in); a tail under :data:`MIN_TAIL_S` joins the window. A
    stream's first window (``slack_s`` given) ends at the first cut at least ``target_s``
    on, unless that lies more than ``slack_s`` further, then inside the word too. Inside
    the sentence's last word (and the pause after it) the sentence's end counts as that
    cut, and the windows that follow may hold no word's start: a long last word is decoded
    in windows the pacer can afford instead of in one piece that comes too late; but not
    within its last :data:`LAST_WORD_TAIL_S` before ``speech_end`` (where it ends) nor in
    the pause after it, which would make a chunk of near-silence. No cut before ``floor_s``
    is taken (a window shorter than the pacer's floor loses ground).
    """
    goal = start + int(target_s * SAMPLE_RATE_HZ)
    if length - goal < MIN_TAIL_S * SAMPLE_RATE_HZ:
        return length, None
    after: list[tuple[int, int | None]] = [(cut, word) for cut, word in cuts if cut >= goal]
    if not after and _in_last_word_tail(goal, speech_end):
        return length, None
    ahead = after or [(length, None)]
    if slack_s is not None and ahead[0][0] - goal <= slack_s * SAMPLE_RATE_HZ:
        return ahead[0]
    lowest = start + max((goal - start) // 2, int(floor_s * SAMPLE_RATE_HZ))
    for end, word in _candidates(cuts, lowest if slack_s is None else None, goal, ahead):
        # a window holds at least one word's start (the sentence's first one, or a cut's),
        # except in the last word, where no cut is left to wait for
        if start == 0 or not after or any(start <= cut < end for cut, _word in cuts):
            return end, word
    return length, None


class Stitcher:
    """Decodes windows of one planned sentence and joins them without a seam.

    ``offset`` is the sample of the whole-sentence audio where the kept audio begins and
    ``length`` how much is kept. :meth:`render` returns the kept samples ``[start, end)``; a
    window after the first cross-fades its first :data:`CROSSFADE_S` from the previous
    window's overhang, with a raised-cosine ramp: the two renders of those samples are the
    same signal (not independent ones), so their gains sum to one, not their powers.
    (Matching the windows' levels on the overlap was tried and moved the result further
    from the whole-sentence render.)
    """

    def __init__(self, sessions: SplitSessions, plan: Plan, offset: int, length: int,
                 meter: SpeedMeter | None = None) -> None:
        self.sessions, self.plan, self.offset, self.length = sessions, plan, offset, length
        self.meter = meter
        self.crossfade = int(CROSSFADE_S * SAMPLE_RATE_HZ)
        self._overhang: np.ndarray | None = None  # the previous window's samples past its end
        self._shift = 0  # how far the last window's end moved to a zero crossing
        #: where the last rendered window really starts (kept samples; see render)
        self.last_start = 0

    def render(self, start: int, end: int) -> np.ndarray:
        """The kept samples of the window ``[start, end)``; a join between two windows is
        moved (by at most half a cross-fade) to the quietest zero crossing after ``end``, so
        every window starts and ends at (near) zero; :attr:`last_start` says where this one
        really starts."""
        total = self.plan.frames * FRAME_SAMPLES
        if start > 0:
            start += self._shift
        self.last_start = start
        a, b = self.offset + start, self.offset + end  # in whole-sentence samples
        lo = max(0, a // FRAME_SAMPLES - CONTEXT_FRAMES)
        hi = min(self.plan.frames, -(-(b + self.crossfade) // FRAME_SAMPLES) + CONTEXT_FRAMES)
        started = time.perf_counter()
        audio = self.sessions.decode(self.plan, lo, hi) if hi > lo else np.zeros(0, np.float32)
        if self.meter is not None:
            self.meter.add(time.perf_counter() - started, (hi - lo) * FRAME_SAMPLES /
                           SAMPLE_RATE_HZ)
        base = lo * FRAME_SAMPLES
        padded = np.zeros(max(0, b + self.crossfade - base), np.float32)
        usable = audio[:len(padded)]
        padded[:len(usable)] = usable
        self._shift = 0
        if end < self.length:  # a join: end where the signal crosses zero
            moved = _zero_crossing(padded, b - base, self.crossfade // 2, self.offset + self.length - base)
            self._shift = moved - (b - base)
            b += self._shift
        out = padded[a - base:b - base].copy()
        overhang = self._overhang
        if overhang is not None and len(overhang) and len(out):
            n = min(len(overhang), len(out))
            ramp = np.sin(np.linspace(0.0, np.pi / 2, n, dtype=np.float32)) ** 2
            out[:n] = overhang[:n] * (1.0 - ramp) + out[:n] * ramp
        self._overhang = None if b >= total else padded[b - base:b - base + self.crossfade].copy()
        return out


def _zero_crossing(x: np.ndarray, at: int, reach: int, limit: int) -> int:
    """The index in ``[at, at + reach]`` (below ``limit`` and ``len(x) - 1``) where a window
    should end so that its last sample and the next one's first are both nearest zero."""
    hi = min(at + reach, limit - 1, len(x) - 1)
    if hi <= at:  # (a join is never at 0: ``at`` lies past the window's own start)
        return at
    seg = np.abs(x[at - 1:hi + 1])
    pair = np.maximum(seg[:-1], seg[1:])  # pair[k]: last = x[at - 1 + k], first = x[at + k]
    return at + int(np.argmin(pair))


def windows(cuts: Sequence[tuple[int, int]], length: int, words: int, pacer: Pacer,
            extra_cost_s: float = 0.0, speech_end: int | None = None) -> Iterator[Window]:
    """Windows over ``length`` kept samples of a sentence of ``words`` words, each sized by
    ``pacer`` when it is due (``extra_cost_s``: time already spent on the sentence's plan).
    Call :meth:`Pacer.handed` for each window before asking for the next one."""
    start, first_word = 0, 0
    while start < length:
        first = start == 0
        end, next_word = next_window(cuts, start, length,
                                     pacer.next_s(extra_cost_s if first else 0.0),
                                     FIRST_SLACK_S if first and pacer.started is None else None,
                                     pacer.floor_s(), speech_end)
        end_word = words if next_word is None else next_word
        yield Window(start, end, first_word, end_word)
        start, first_word = end, end_word
