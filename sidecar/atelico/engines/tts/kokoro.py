"""Kokoro-82M text-to-speech: int8 ONNX (onnxruntime) or fp32 torch, streamed with timings."""

from __future__ import annotations

import logging
import math
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator, Protocol, Sequence

import numpy as np

from atelico.audio.pcm import EDGE_FADE_S, fade_edges
from atelico.engines.base import PhonemeTiming, SpeechChunk, VoiceInfo, WordTiming
from atelico.errors import (EngineError, ModelLoadFailed, ModelNotInstalled, RequestError)

from .g2p import G2P, LANGUAGES, Phonemized, language_code
from . import kokoro_voices
from .kokoro_voices import DEFAULT_VOICE, STYLE_DIM, VoiceBank
from .kokoro_windows import (Pacer, SpeedMeter, SplitSessions, Stitcher, cut_points, split_model,
                             windows)
from .text import Boundary, TextChunk, chunk_text, has_speakable, split_sentences

if TYPE_CHECKING:
    from atelico.config import Settings
    from atelico.models.catalog import ModelSpec

log = logging.getLogger(__name__)

SAMPLE_RATE_HZ = 24_000
#: One duration frame of the model: 600 samples = 25 ms at 24 kHz.
FRAME_SAMPLES = 600
FRAME_S = FRAME_SAMPLES / SAMPLE_RATE_HZ
#: Most phoneme tokens one inference takes (the context is 512 with the two pad tokens).
MAX_PHONEME_TOKENS = 510
MIN_SPEED, MAX_SPEED = 0.25, 4.0
ONNX_FILE = "kokoro-v1.0.int8.onnx"
TORCH_FILES = ("kokoro-v1_0.pth", "config.json")
#: The graph tensor holding per-token durations (frames), exposed as output ``duration``.
DURATION_TENSOR = "/encoder/Gather_output_0"

# Timing corrections measured against forced alignment (see the models notes): the audio
# runs ~50 ms ahead of the duration boundaries; the last phoneme absorbs the trailing
# silence, so its duration is capped; a space token carries the next word's onset.
AUDIO_LEAD_S = 0.05
LAST_PHONEME_CAP_S = 0.2
#: Silence kept after a chunk's speech, by what follows it.
PAUSE_AFTER_S: dict[str, float] = {"sentence": 0.3, "clause": 0.15, "word": 0.04, "end": 0.15}
_FADE_S = 0.008

# Kokoro v1.0's phoneme vocabulary (config.json "vocab"): symbol -> token id.
_VOCAB_SYMBOLS = (';:,.!?—…"()“” \u0303ʣʥʦʨᵝꭧAIOQSTWYᵊabcdefhijklmnopqrstuvwxyz'
                  'ɑɐɒæβɔɕçɖðʤəɚɛɜɟɡɥɨɪʝɯɰŋɳɲɴøɸθœɹɾɻʁɽʂʃʈʧʊʋʌɣɤχʎʒʔˈˌːʰʲ↓→↗↘ᵻ')
_VOCAB_IDS = (
    1, 2, 3, 4, 5, 6, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 31,
    33, 35, 36, 39, 41, 42, 43, 44, 45, 46, 47, 48, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59,
    60, 61, 62, 63, 64, 65, 66, 67, 68, 69, 70, 71, 72, 75, 76, 77, 78, 80, 81, 82, 83, 85,
    86, 87, 90, 92, 99, 101, 102, 103, 110, 111, 112, 113, 114, 115, 116, 118, 119, 120, 123,
    125, 126, 128, 129, 130, 131, 132, 133, 135, 136, 138, 139, 140, 142, 143, 147, 148, 156,
    157, 158, 162, 164, 169, 171, 172, 173, 177,
)
VOCAB: dict[str, int] = dict(zip(_VOCAB_SYMBOLS, _VOCAB_IDS, strict=True))

_PUNCT = frozenset(';:,.!?—…"()“”')
_STRESS = frozenset("ˈˌ")
_MODIFIERS = frozenset("ːʰʲ\u0303")  # belong to the phoneme before them
_TONES = frozenset("↓→↗↘")
#: misaki's one-letter symbols spelled out in IPA.
_IPA = {"A": "eɪ", "I": "aɪ", "W": "aʊ", "Y": "ɔɪ", "O": "oʊ", "Q": "əʊ", "T": "ɾ", "ᵊ": "ə",
        "ʤ": "dʒ", "ʧ": "tʃ", "ʣ": "dz", "ʦ": "ts", "ʥ": "dʑ", "ʨ": "tɕ", "ᵻ": "ɪ", "S": "s",
        "ᵝ": "β", "ꭧ": "ɚ"}


class KokoroBackend(Protocol):
    """Runs the acoustic model: token ids (without pads) + one style row -> audio, durations."""

    variant: str

    def infer(self, token_ids: Sequence[int], style: np.ndarray,
              speed: float) -> tuple[np.ndarray, np.ndarray]:
        """Return mono float32 audio at 24 kHz and int64 frames per token (pads included)."""
        ...


class OnnxBackend:
    """The int8 ONNX export on onnxruntime, cut at load into its plan and decode halves
    (:mod:`.kokoro_windows`); :meth:`infer` chains them over the whole utterance."""

    variant = "int8"

    def __init__(self, model_path: Path, threads: int = 0) -> None:
        if not model_path.is_file():
            raise ModelNotInstalled(f"Kokoro ONNX model not found at {model_path}",
                                    details={"path": str(model_path)})
        try:
            import onnx
            import onnxruntime as ort
        except ImportError as exc:
            raise ModelNotInstalled(f"Kokoro int8 needs onnx and onnxruntime: {exc}") from exc
        model = onnx.load(str(model_path))
        plan, decode = split_model(model)
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads if threads > 0 else (os.cpu_count() or 1)
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        # No arena: it keeps the largest activation set ever seen (+200 MB after a 120-token
        # sentence, more after longer ones) for the life of the process; without it the
        # activations go back to the C heap (returned to the OS once glibc's mmap threshold
        # is pinned; measured 663 -> 287 MB idle after three sentences)
        options.enable_cpu_mem_arena = False
        try:
            sessions = [ort.InferenceSession(part.SerializeToString(), options,
                                             providers=["CPUExecutionProvider"])
                        for part in (plan, decode)]
        except Exception as exc:  # onnxruntime raises its own exception types
            raise ModelLoadFailed(f"onnxruntime could not load {model_path}: {exc}") from exc
        #: the graph's two halves: plan a whole sentence, decode any span of its frames
        self.split = SplitSessions(*sessions)
        self.threads = options.intra_op_num_threads

    def infer(self, token_ids: Sequence[int], style: np.ndarray,
              speed: float) -> tuple[np.ndarray, np.ndarray]:
        plan = self.split.plan(token_ids, style, speed)
        return self.split.decode(plan, 0, plan.frames), plan.durations


def add_duration_output(model: Any) -> None:
    """Expose :data:`DURATION_TENSOR` as graph output ``duration`` (in memory, idempotent).

    Raises:
        ModelLoadFailed: the graph has no such tensor (not the Kokoro v1.0 export).
    """
    from onnx import TensorProto, helper

    graph = model.graph
    if any(out.name == "duration" for out in graph.output):
        return
    if not any(DURATION_TENSOR in node.output for node in graph.node):
        raise ModelLoadFailed(f"the ONNX graph has no {DURATION_TENSOR}: not Kokoro v1.0?")
    graph.node.append(helper.make_node("Identity", [DURATION_TENSOR], ["duration"],
                                       name="atelico_duration"))
    graph.output.append(helper.make_tensor_value_info("duration", TensorProto.INT64,
                                                      ["n_tokens"]))


class TorchBackend:
    """The official fp32 weights through the ``kokoro`` package's ``KModel`` (CUDA if any)."""

    variant = "fp32"

    def __init__(self, weights_dir: Path, device: str = "auto") -> None:
        missing = [name for name in TORCH_FILES if not (weights_dir / name).is_file()]
        if missing:
            raise ModelNotInstalled(
                f"Kokoro fp32 needs {', '.join(missing)} from hexgrad/Kokoro-82M in "
                f"{weights_dir} (download them from the Hugging Face hub, or set "
                "ATELICO_KOKORO_QUANT=int8 to use the offline int8 model)",
                details={"missing": missing, "path": str(weights_dir)})
        try:
            import torch
            from kokoro.model import KModel
        except ImportError as exc:
            raise ModelNotInstalled(f"Kokoro fp32 needs torch and the kokoro package "
                                    f"(pip install kokoro): {exc}") from exc
        if device == "auto":
            device = "cuda" if torch.cuda.is_available() else "cpu"
        self._torch = torch
        self.device = device
        try:
            self._model = KModel(repo_id="hexgrad/Kokoro-82M",
                                 config=str(weights_dir / "config.json"),
                                 model=str(weights_dir / "kokoro-v1_0.pth")).to(device).eval()
        except Exception as exc:  # torch/KModel raise many types on bad weights
            raise ModelLoadFailed(f"Kokoro fp32 weights failed to load: {exc}") from exc

    def infer(self, token_ids: Sequence[int], style: np.ndarray,
              speed: float) -> tuple[np.ndarray, np.ndarray]:
        torch = self._torch
        ids = torch.tensor([[0, *token_ids, 0]], dtype=torch.long, device=self.device)
        ref = torch.from_numpy(np.asarray(style, dtype=np.float32).reshape(1, STYLE_DIM))
        with torch.no_grad():
            audio, durations = self._model.forward_with_tokens(ids, ref.to(self.device), speed)
        return (audio.float().cpu().numpy().reshape(-1),
                durations.cpu().numpy().astype(np.int64).reshape(-1))


@dataclass(frozen=True)
class _Rendered:
    audio: np.ndarray
    words: tuple[WordTiming, ...]
    phonemes: tuple[PhonemeTiming, ...]


class KokoroEngine:
    """Kokoro-82M behind :class:`~atelico.engines.base.TextToSpeech`.

    Responsibilities: validate requests, resolve voices (blends, cloned voices), phonemize
    per language, chunk text (a short first chunk, then sentences within 510 phoneme tokens),
    run the backend, turn per-token durations into word and phoneme timings and trim each
    chunk's silence so the streamed chunks join naturally. Thread-safe.
    """

    sample_rate_hz: int = SAMPLE_RATE_HZ

    def __init__(self, backend: KokoroBackend, voices: VoiceBank, *, model_id: str = "kokoro",
                 g2p: G2P | None = None, default_voice: str = DEFAULT_VOICE,
                 first_chunk_words: int = 4, windowed: bool = True,
                 first_window_s: float = 0.35) -> None:
        self.model_id = model_id
        self.backend = backend
        self.default_voice = default_voice
        self.first_chunk_words = first_chunk_words
        #: with a backend that can plan and decode separately (:class:`OnnxBackend`), stream
        #: each sentence in windows of its whole-sentence plan instead of clause-first chunks
        self.windowed = windowed
        self.first_window_s = first_window_s
        #: decode speed of this machine (seconds per audio second), shared by all streams
        self.meter = SpeedMeter()
        self._voices = voices
        self._g2p = g2p or G2P()

    @classmethod
    def from_onnx(cls, model_path: Path, voices_dir: Path, *,
                  custom_voices_dir: Path | None = None, threads: int = 0,
                  model_id: str = "kokoro") -> KokoroEngine:
        """Load the int8 ONNX model file and the voices folder (``<id>.bin`` files)."""
        backend = OnnxBackend(Path(model_path), threads=threads)
        return cls(backend, _voice_bank(voices_dir, custom_voices_dir), model_id=model_id)

    @classmethod
    def from_torch(cls, weights_dir: Path, voices_dir: Path, *,
                   custom_voices_dir: Path | None = None, device: str = "auto",
                   model_id: str = "kokoro") -> KokoroEngine:
        """Load the fp32 hub weights (``kokoro-v1_0.pth`` + ``config.json`` in a folder)."""
        backend = TorchBackend(Path(weights_dir), device=device)
        return cls(backend, _voice_bank(voices_dir, custom_voices_dir), model_id=model_id)

    def warm_up(self) -> None:
        """Load the default voice's phonemizer and run one tiny inference, so that the first
        request does not pay for spaCy's load and onnxruntime's first-run allocations."""
        style, code = self._voices.resolve(self.default_voice)
        self._g2p.ensure(code)
        ids, _ = _token_ids(self._g2p("Hi.", code))
        self.backend.infer(ids, style[len(ids) - 1], 1.0)

    # -- voices --------------------------------------------------------------------------

    def voices(self) -> list[VoiceInfo]:
        return self._voices.infos()

    def rescan_voices(self) -> list[str]:
        """Pick up voices added to the custom voices folder; returns the custom ids."""
        return self._voices.rescan()

    def voice_language(self, voice: str) -> str:
        """The BCP-47 language a voice (or a blend: its first voice) speaks (raises VoiceError)."""
        return LANGUAGES[self._voices.resolve(voice)[1]]

    def voice_tensor(self, voice: str) -> np.ndarray:
        """The ``[510, 256]`` style tensor of a voice or blend (raises VoiceError)."""
        return self._voices.resolve(voice)[0]

    # -- synthesis -----------------------------------------------------------------------

    def synthesize(self, text: str, *, voice: str | None = None, speed: float = 1.0,
                   language: str | None = None,
                   cancel: threading.Event | None = None) -> Iterator[SpeechChunk]:
        """Stream speech for ``text``, one chunk per clause/sentence, the first one short.

        Args:
            text: what to say.
            voice: a voice id, a blend such as ``af_bella(2)+af_sky(1)``, or None (default).
            speed: 0.25 to 4.0 (1.0 is normal).
            language: BCP-47 tag overriding the voice's language (e.g. ``en-GB``).
            cancel: when set, the stream stops before the next chunk.

        Raises (before the first chunk):
            RequestError: empty text (``request.missing_input``) or bad speed
                (``request.invalid``, ``details.field == "speed"``). Text with letters or
                symbols the phonemizer still turns into no sound (only ``♪``) raises
                ``request.missing_input`` from the stream, before any chunk.
            VoiceError: unknown (``voice.unknown``) or malformed (``voice.invalid``) voice.
            LanguageError: unsupported language or its phonemizer is not installed.
        """
        sentences = split_sentences(text) if isinstance(text, str) else []
        if not sentences:
            raise RequestError("input text is empty", code="request.missing_input",
                               details={"field": "input"})
        if not has_speakable(text):
            raise _nothing_to_say()
        speed = _check_speed(speed)
        style, code = self._voices.resolve(voice or self.default_voice)
        if language:
            code = language_code(language)
        self._g2p.ensure(code)
        split = getattr(self.backend, "split", None) if self.windowed else None
        if split is not None:
            return self._stream_windowed(split, sentences, style, code, speed, cancel)
        return self._stream(sentences, style, code, speed, cancel)

    def synthesize_all(self, text: str, *, voice: str | None = None, speed: float = 1.0,
                       language: str | None = None,
                       cancel: threading.Event | None = None) -> SpeechChunk:
        """Blocking synthesis: all streamed chunks joined into one (times shifted to match)."""
        audio: list[np.ndarray] = []
        words: list[WordTiming] = []
        phonemes: list[PhonemeTiming] = []
        texts: list[str] = []
        offset_s = 0.0
        for chunk in self.synthesize(text, voice=voice, speed=speed, language=language,
                                     cancel=cancel):
            audio.append(chunk.audio)
            texts.append(chunk.text)
            words.extend(WordTiming(w.word, w.start_s + offset_s, w.end_s + offset_s)
                         for w in chunk.words)
            phonemes.extend(PhonemeTiming(p.phoneme, p.start_s + offset_s, p.end_s + offset_s)
                            for p in chunk.phonemes)
            offset_s += len(chunk.audio) / SAMPLE_RATE_HZ
        joined = np.concatenate(audio) if audio else np.zeros(0, np.float32)
        return SpeechChunk(0, " ".join(t for t in texts if t), joined, SAMPLE_RATE_HZ, tuple(words),
                           tuple(phonemes))

    def phonemize(self, text: str, language: str = "en-US") -> str:
        """Kokoro phonemes for ``text`` (raises LanguageError)."""
        return self._g2p(text, language_code(language)).phonemes

    def render(self, text: str, style: np.ndarray, *, language: str = "en-US",
               speed: float = 1.0) -> np.ndarray:
        """Audio for ``text`` spoken with a raw ``[510, 256]`` style tensor (used by cloning).

        ``text`` must fit one chunk (510 phoneme tokens); silence is trimmed as in a stream.
        """
        code = language_code(language)
        phonemized = self._g2p(text, code)
        return self._render(phonemized, np.asarray(style, np.float32), speed, "end").audio

    def _stream(self, sentences: list[str], style: np.ndarray, code: str, speed: float,
                cancel: threading.Event | None) -> Iterator[SpeechChunk]:
        sequence = 0
        for index, sentence in enumerate(sentences):
            chunks = chunk_text(sentence, max_units=MAX_PHONEME_TOKENS,
                                measure=lambda s: len(_token_ids(self._g2p(s, code))[0]),
                                first_max_words=self.first_chunk_words if index == 0 else None)
            for position, chunk in enumerate(chunks):
                if cancel is not None and cancel.is_set():
                    return
                last = index == len(sentences) - 1 and position == len(chunks) - 1
                rendered = self._render_chunk(chunk, style, code, speed, last)
                if rendered is None:
                    continue
                if cancel is not None and cancel.is_set():
                    return
                yield SpeechChunk(sequence, chunk.text, rendered.audio, SAMPLE_RATE_HZ,
                                  rendered.words, rendered.phonemes)
                sequence += 1
        if sequence == 0 and not (cancel is not None and cancel.is_set()):
            raise _nothing_to_say()  # no phoneme in the whole text: never a silent success

    def _stream_windowed(self, split: SplitSessions, sentences: list[str], style: np.ndarray,
                         code: str, speed: float,
                         cancel: threading.Event | None) -> Iterator[SpeechChunk]:
        """Plan each sentence whole, hand it out in windows sized by a :class:`Pacer`."""
        pacer = self.new_pacer()
        sequence = 0
        for index, sentence in enumerate(sentences):
            chunks = chunk_text(sentence, max_units=MAX_PHONEME_TOKENS,
                                measure=lambda s: len(_token_ids(self._g2p(s, code))[0]),
                                first_max_words=None)  # the whole sentence is planned at once
            for position, chunk in enumerate(chunks):
                if cancel is not None and cancel.is_set():
                    return
                last = index == len(sentences) - 1 and position == len(chunks) - 1
                for piece in self._windows(split, chunk, style, code, speed, last, pacer):
                    if cancel is not None and cancel.is_set():
                        return
                    yield SpeechChunk(sequence, *piece)
                    pacer.handed(len(piece[1]) / SAMPLE_RATE_HZ)
                    sequence += 1
        if sequence == 0 and not (cancel is not None and cancel.is_set()):
            raise _nothing_to_say()

    def new_pacer(self) -> Pacer:
        """The window sizer of one stream (a hook: benches and tests fix the schedule)."""
        return Pacer(self.meter, first_s=self.first_window_s)

    def _windows(self, split: SplitSessions, chunk: TextChunk, style: np.ndarray, code: str,
                 speed: float, last: bool, pacer: Pacer) -> Iterator[tuple[Any, ...]]:
        """``(text, audio, rate, words, phonemes)`` per window of one planned chunk."""
        phonemized = self._g2p(chunk.text, code)
        ids, positions = _chunk_tokens(phonemized)
        if not ids:
            return
        started = time.perf_counter()
        try:
            plan = split.plan(ids, style[len(ids) - 1], speed)
        except Exception as exc:  # backend runtime failures surface as engine errors
            raise EngineError(f"Kokoro inference failed: {exc}") from exc
        plan_s = time.perf_counter() - started
        if len(plan.durations) != len(ids) + 2:
            raise EngineError(f"Kokoro returned {len(plan.durations)} durations for "
                              f"{len(ids) + 2} tokens")
        boundary = "end" if last else chunk.boundary
        total = plan.frames * FRAME_SAMPLES
        # the timings and the kept span, from the durations alone (no audio decoded yet)
        timed = align(phonemized, positions, plan.durations, np.zeros(total, np.float32), speed,
                      PAUSE_AFTER_S.get(boundary, PAUSE_AFTER_S["sentence"]))
        length = len(timed.audio)
        offset = int(round(max(0.0, int(plan.durations[0]) * FRAME_S - AUDIO_LEAD_S)
                           * SAMPLE_RATE_HZ))
        words = timed.words
        tokens = chunk.text.split()
        texts = tokens if len(tokens) == len(words) else None
        cuts = cut_points([(w.start_s, w.end_s) for w in words], length)
        stitcher = Stitcher(split, plan, offset, length, self.meter)
        for window in windows(cuts, length, len(words), pacer, extra_cost_s=plan_s):
            try:
                audio = stitcher.render(window.start, window.end)
            except Exception as exc:
                raise EngineError(f"Kokoro inference failed: {exc}") from exc
            # the sentence's free edges start and end at zero (no click, no DC step); the
            # joins between its windows are one continuous signal and stay untouched
            audio = fade_edges(audio, SAMPLE_RATE_HZ,
                               head_s=EDGE_FADE_S if window.start == 0 else 0.0,
                               tail_s=_FADE_S if window.end == length else 0.0)
            t0, t1 = stitcher.last_start / SAMPLE_RATE_HZ, len(audio) / SAMPLE_RATE_HZ

            def rel(t: float) -> float:
                return float(min(t1, max(0.0, t - t0)))

            these = words[window.first_word:window.end_word]
            word_times = tuple(WordTiming(w.word, rel(w.start_s), rel(w.end_s)) for w in these)
            phones = tuple(PhonemeTiming(p.phoneme, rel(p.start_s), rel(p.end_s))
                           for p in timed.phonemes
                           if window.start <= p.start_s * SAMPLE_RATE_HZ < window.end
                           or (window.end == length and p.start_s * SAMPLE_RATE_HZ >= length))
            if texts is not None:
                text = " ".join(texts[window.first_word:window.end_word])
            else:
                text = chunk.text if window.start == 0 else ""
            yield text, audio, SAMPLE_RATE_HZ, word_times, phones

    def _render_chunk(self, chunk: TextChunk, style: np.ndarray, code: str, speed: float,
                      last: bool) -> _Rendered | None:
        phonemized = self._g2p(chunk.text, code)
        boundary: str = "end" if last else chunk.boundary
        return self._render(phonemized, style, speed, boundary)

    def _render(self, phonemized: Phonemized, style: np.ndarray, speed: float,
                boundary: Boundary | str) -> _Rendered | None:
        ids, positions = _chunk_tokens(phonemized)
        if not ids:
            return None
        started = time.perf_counter()
        try:
            audio, durations = self.backend.infer(ids, style[len(ids) - 1], speed)
        except Exception as exc:  # backend runtime failures surface as engine errors
            raise EngineError(f"Kokoro inference failed: {exc}") from exc
        log.debug("kokoro: %d tokens -> %.2f s audio in %.3f s", len(ids),
                  len(audio) / SAMPLE_RATE_HZ, time.perf_counter() - started)
        if len(durations) != len(ids) + 2:
            raise EngineError(f"Kokoro returned {len(durations)} durations for "
                              f"{len(ids) + 2} tokens")
        return align(phonemized, positions, durations, audio, speed,
                     PAUSE_AFTER_S.get(boundary, PAUSE_AFTER_S["sentence"]))


def align(phonemized: Phonemized, positions: Sequence[int], durations: np.ndarray,
          audio: np.ndarray, speed: float, pause_s: float) -> _Rendered:
    """Trim a chunk's silence and time its words and phonemes from per-token durations.

    ``positions[i]`` is the character of ``phonemized.phonemes`` that token ``i`` came from;
    ``durations`` has one entry per token plus the two pads. The leading pad (silence) is cut,
    the speech is kept until the (capped) end of its last phoneme, then ``pause_s`` of the
    model's own trailing audio (zero-padded if it is shorter). Times are seconds relative to
    the returned audio.
    """
    frames = np.asarray(durations, dtype=np.int64)
    edges = np.concatenate([[0], np.cumsum(frames)])
    starts, ends = edges[1:-2].astype(np.float64), edges[2:-1].astype(np.float64)
    chars = [phonemized.phonemes[p] for p in positions]
    speech = [i for i, ch in enumerate(chars) if ch not in _PUNCT and ch != " "
              and ch not in _STRESS and ch not in _TONES]
    if speech:
        last = speech[-1]
        cap_frames = max(2.0, math.ceil(LAST_PHONEME_CAP_S / FRAME_S / speed))
        ends[last] = min(ends[last], starts[last] + cap_frames)
        speech_end_frames = ends[last]
    else:
        speech_end_frames = ends[-1] if len(ends) else edges[1]
    to_s = FRAME_S
    begin_s = max(0.0, edges[1] * to_s - AUDIO_LEAD_S)
    speech_end_s = speech_end_frames * to_s - AUDIO_LEAD_S
    begin = int(round(begin_s * SAMPLE_RATE_HZ))
    end = int(round((speech_end_s + pause_s) * SAMPLE_RATE_HZ))
    # free edges start and end at zero (the cut lands mid-waveform): no click, no DC step
    kept = fade_edges(audio[begin:min(end, len(audio))], SAMPLE_RATE_HZ, tail_s=_FADE_S)
    if len(kept) < end - begin:
        kept = np.concatenate([kept, np.zeros(end - begin - len(kept), np.float32)])
    duration_s = len(kept) / SAMPLE_RATE_HZ

    def rel(frame: float) -> float:
        return float(min(duration_s, max(0.0, frame * to_s - AUDIO_LEAD_S - begin_s)))

    token_at = {p: i for i, p in enumerate(positions)}
    words: list[WordTiming] = []
    for span in phonemized.words:
        inside = [token_at[c] for c in range(span.start, span.end) if c in token_at]
        if not inside:
            continue
        first, final = inside[0], inside[-1]
        onset = token_at.get(span.start - 1) if span.start > 0 and \
            phonemized.phonemes[span.start - 1] == " " else None
        start = starts[onset] if onset is not None else starts[first]
        start_s, end_s = rel(start), rel(ends[final])
        if words and start_s < words[-1].end_s:
            start_s = words[-1].end_s
        words.append(WordTiming(span.word, start_s, max(start_s, end_s)))

    phones: list[PhonemeTiming] = []
    pending: float | None = None
    for i, ch in enumerate(chars):
        if ch in _PUNCT:
            pending = None
        elif ch == " " or ch in _STRESS:
            pending = starts[i] if pending is None else pending
        elif ch in _MODIFIERS or ch in _TONES:
            if phones:
                prev = phones[-1]
                symbol = prev.phoneme + (ch if ch in _MODIFIERS else "")
                phones[-1] = PhonemeTiming(symbol, prev.start_s, max(prev.end_s, rel(ends[i])))
        else:
            start_s = rel(starts[i] if pending is None else pending)
            phones.append(PhonemeTiming(_IPA.get(ch, ch), start_s, max(start_s, rel(ends[i]))))
            pending = None
    return _Rendered(kept, tuple(words), tuple(phones))


def _token_ids(phonemized: Phonemized) -> tuple[list[int], list[int]]:
    """Token ids of the phoneme string and the character index each came from."""
    ids: list[int] = []
    positions: list[int] = []
    for index, ch in enumerate(phonemized.phonemes):
        token = VOCAB.get(ch)
        if token is not None:
            ids.append(token)
            positions.append(index)
    return ids, positions


def _chunk_tokens(phonemized: Phonemized) -> tuple[list[int], list[int]]:
    """:func:`_token_ids`, cut to the :data:`MAX_PHONEME_TOKENS` one inference takes."""
    ids, positions = _token_ids(phonemized)
    if len(ids) > MAX_PHONEME_TOKENS:
        log.warning("Kokoro chunk of %d phoneme tokens truncated to %d", len(ids),
                    MAX_PHONEME_TOKENS)
        ids, positions = ids[:MAX_PHONEME_TOKENS], positions[:MAX_PHONEME_TOKENS]
    return ids, positions


def _nothing_to_say() -> RequestError:
    return RequestError("input has nothing to speak: no letters, digits or symbols the "
                        "phonemizer can pronounce (only whitespace, punctuation, control or "
                        "zero-width characters?)", code="request.missing_input",
                        details={"field": "input"})


def _check_speed(speed: Any) -> float:
    if isinstance(speed, bool) or not isinstance(speed, (int, float)) \
            or not math.isfinite(speed) or not MIN_SPEED <= speed <= MAX_SPEED:
        raise RequestError(f"speed must be a number from {MIN_SPEED} to {MAX_SPEED}, "
                           f"got {speed!r}", details={"field": "speed", "value": repr(speed)})
    return float(speed)


def _voice_bank(voices_dir: Path, custom_voices_dir: Path | None) -> VoiceBank:
    try:
        return VoiceBank(Path(voices_dir), custom_voices_dir)
    except FileNotFoundError as exc:
        raise ModelNotInstalled(str(exc), details={"path": str(voices_dir)}) from exc
    except ValueError as exc:
        raise ModelLoadFailed(f"bad Kokoro voice file: {exc}") from exc


_INT8_ALIASES = {"int8": None, "q8_0": "q8_0", "q4_0": "q4_0", "q8": "q8_0", "q4": "q4_0"}
_FP32_ALIASES = {"fp32", "f32", "float32"}


def load(spec: ModelSpec, assets: dict[str, Path], settings: Settings) -> KokoroEngine:
    """The catalog's loader: pick the variant from ``settings.models.kokoro_quant``.

    ``int8`` (default) runs ``kokoro-82m-onnx-int8`` on onnxruntime with
    ``settings.models.threads`` intra-op threads (0 = all cores); the reference's ``q8_0`` /
    ``q4_0`` map to it. ``fp32`` runs the hub's ``kokoro-82m-pth`` weights with torch.
    Cloned voices are read from ``settings.voices_dir / "kokoro"``. The engine is warmed up
    (phonemizer loaded, one tiny inference) before it is returned.

    Raises:
        ModelNotInstalled: an asset or a required package is missing.
        ModelLoadFailed: an unknown ``kokoro_quant`` or unreadable weights.
    """
    quant = settings.models.kokoro_quant.strip().lower()
    custom_dir = settings.voices_dir / "kokoro"
    voices_dir = _asset(assets, "kokoro-82m-voices")
    started = time.perf_counter()
    if quant in _INT8_ALIASES:
        if _INT8_ALIASES[quant]:
            log.info("kokoro_quant=%s: the offline Kokoro build is int8 ONNX; using int8", quant)
        engine = KokoroEngine.from_onnx(_asset(assets, "kokoro-82m-onnx-int8") / ONNX_FILE,
                                        voices_dir, custom_voices_dir=custom_dir,
                                        threads=settings.models.threads, model_id=spec.id)
    elif quant in _FP32_ALIASES:
        engine = KokoroEngine.from_torch(_asset(assets, "kokoro-82m-pth"), voices_dir,
                                         custom_voices_dir=custom_dir,
                                         device=settings.models.device, model_id=spec.id)
    else:
        raise ModelLoadFailed(f"unknown kokoro_quant {settings.models.kokoro_quant!r}: "
                              "use int8 (or q8_0/q4_0) or fp32",
                              details={"kokoro_quant": settings.models.kokoro_quant})
    engine.warm_up()
    log.info("Kokoro %s loaded in %.2f s", engine.backend.variant, time.perf_counter() - started)
    return engine


def list_voices(spec: ModelSpec, assets: dict[str, Path], settings: Settings) -> list[VoiceInfo]:
    """The catalog's voice lister: the voices :func:`load` would offer, read from the voice
    files alone (no ONNX session, no phonemizer), so listing voices never loads Kokoro."""
    try:
        return kokoro_voices.list_voices(_asset(assets, "kokoro-82m-voices"), settings.voices_dir / "kokoro")
    except FileNotFoundError as exc:
        raise ModelNotInstalled(str(exc), details={"model": spec.id}) from exc


def _asset(assets: dict[str, Path], asset_id: str) -> Path:
    try:
        return Path(assets[asset_id])
    except KeyError:
        raise ModelNotInstalled(f"Kokoro needs the asset {asset_id!r}",
                                details={"asset": asset_id}) from None
