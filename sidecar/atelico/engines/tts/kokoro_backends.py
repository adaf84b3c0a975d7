"""Kokoro's acoustic-model backends: the int8 ONNX export on onnxruntime, or fp32 torch."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any, Callable, Protocol, Sequence

import numpy as np

from atelico.errors import ModelLoadFailed, ModelNotInstalled

from .kokoro_voices import STYLE_DIM
from .kokoro_windows import SplitSessions, split_model

log = logging.getLogger(__name__)

ONNX_FILE = "kokoro-v1.0.int8.onnx"
TORCH_FILES = ("kokoro-v1_0.pth", "config.json")


class KokoroBackend(Protocol):
    """Runs the acoustic model: token ids (without pads) + one style row -> audio, durations."""

    variant: str

    @property
    def split(self) -> SplitSessions | None:
        """The graph's plan and decode halves where the backend has them (windowed streaming)."""
        ...

    def infer(self, token_ids: Sequence[int], style: np.ndarray,
              speed: float) -> tuple[np.ndarray, np.ndarray]:
        """Return mono float32 audio at 24 kHz and int64 frames per token (pads included)."""
        ...


class OnnxBackend:
    """The int8 ONNX export on onnxruntime, cut at load into its plan and decode halves
    (:mod:`.kokoro_windows`); :meth:`infer` chains them over the whole utterance."""

    variant = "int8"

    def __init__(self, model_path: Path, threads: int = 0, parts_dir: Path | None = None) -> None:
        """``parts_dir``: where the cut halves are kept as files (:mod:`.kokoro_parts`; the
        sessions then open files, ~90 MB less RSS); ``None`` cuts in memory every load."""
        if not model_path.is_file():
            raise ModelNotInstalled(f"Kokoro ONNX model not found at {model_path}",
                                    details={"path": str(model_path)})
        try:
            import onnxruntime as ort
        except ImportError as exc:
            raise ModelNotInstalled(f"Kokoro int8 needs onnx and onnxruntime: {exc}") from exc
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads if threads > 0 else (os.cpu_count() or 1)
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        # No spin-waiting between ops: on a 2-core machine shared with a game (and other
        # streams) a spinning thread only steals the core the work needs; measured under
        # load ~10 on 2 cores: a 16-frame decode 0.67 -> 0.35 s, a sentence plan 0.27 -> 0.13 s
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        # No arena: it keeps the largest activation set ever seen (+200 MB after a 120-token
        # sentence, more after longer ones) for the life of the process; without it the
        # activations go back to the C heap (returned to the OS by the pool's trim after each
        # job; measured 663 -> 287 MB idle after three sentences)
        options.enable_cpu_mem_arena = False

        def session(part: Any) -> Any:
            return ort.InferenceSession(part, options, providers=["CPUExecutionProvider"])

        try:
            halves = _open_halves(model_path, parts_dir, session)
        except (ModelLoadFailed, ModelNotInstalled):
            raise
        except Exception as exc:  # onnxruntime raises its own exception types
            raise ModelLoadFailed(f"onnxruntime could not load {model_path}: {exc}") from exc
        #: the graph's two halves: plan a whole sentence, decode any span of its frames
        self.split = SplitSessions(*halves)
        self.threads = options.intra_op_num_threads

    def infer(self, token_ids: Sequence[int], style: np.ndarray,
              speed: float) -> tuple[np.ndarray, np.ndarray]:
        plan = self.split.plan(token_ids, style, speed)
        return self.split.decode(plan, 0, plan.frames), plan.durations


def _open_halves(model_path: Path, parts_dir: Path | None,
                 session: Callable[[Any], Any]) -> list[Any]:
    """Sessions of the plan and decode halves: opened from the cached files when
    ``parts_dir`` is given and writable, else from halves cut in memory (cut once)."""
    from atelico.engines.tts import kokoro_parts

    if parts_dir is None:
        return [session(part) for part in kokoro_parts.serialized(_cut(model_path))]
    sources, from_files = kokoro_parts.session_sources(model_path, parts_dir, _cut)
    if from_files:
        try:
            return [session(source) for source in sources]
        except Exception as exc:  # noqa: BLE001 - a damaged cached half: cut again
            log.warning("cached Kokoro halves unreadable (%s): cutting again", exc)
            kokoro_parts.discard(kokoro_parts.parts_folder(model_path, parts_dir))
            sources = kokoro_parts.serialized(_cut(model_path))
    return [session(source) for source in sources]


def _cut(model_path: Path) -> tuple[Any, Any]:
    """The plan and decode halves of the graph, in memory (needs the onnx package)."""
    try:
        import onnx
    except ImportError as exc:
        raise ModelNotInstalled(f"Kokoro int8 needs onnx and onnxruntime: {exc}") from exc
    return split_model(onnx.load(str(model_path)))


class TorchBackend:
    """The official fp32 weights through the ``kokoro`` package's ``KModel`` (CUDA if any)."""

    variant = "fp32"
    split = None

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
