"""Face weights as JSON and as a PNG plot of the main curves over the waveform."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

import numpy as np

from atelico.engines.base import ARKIT_BLENDSHAPES, FACE_FPS

#: Curves :func:`plot_face_curves` draws when no names are given.
DEFAULT_PLOT_NAMES: tuple[str, ...] = ("jawOpen", "mouthClose", "mouthPressLeft", "mouthFunnel",
                                       "mouthPucker", "mouthStretchLeft", "eyeBlinkLeft",
                                       "browInnerUp")


def face_to_json(weights: np.ndarray, fps: int = FACE_FPS) -> dict[str, Any]:
    """``{fps, names, frames}`` with every weight rounded to 4 decimals.

    Raises:
        ValueError: ``weights`` is not ``[N, 52]``.
    """
    w = np.asarray(weights, dtype=np.float64)
    if w.ndim != 2 or w.shape[1] != len(ARKIT_BLENDSHAPES):
        raise ValueError(f"face weights must be [N, {len(ARKIT_BLENDSHAPES)}], got {w.shape}")
    return {"fps": int(fps), "names": list(ARKIT_BLENDSHAPES),
            "frames": np.round(w, 4).tolist()}


def plot_face_curves(weights: np.ndarray, audio: np.ndarray | None, sample_rate_hz: int,
                     path_png: str | Path, names: Sequence[str] = DEFAULT_PLOT_NAMES, *,
                     fps: int = FACE_FPS, title: str | None = None) -> Path:
    """Draw the named curves (top) over the waveform (bottom) into ``path_png``.

    matplotlib (the ``plot`` extra) is imported here, with the Agg backend.

    Raises:
        ValueError: an unknown blendshape name or malformed weights.
    """
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    w = np.asarray(weights)
    if w.ndim != 2 or w.shape[1] != len(ARKIT_BLENDSHAPES):
        raise ValueError(f"face weights must be [N, {len(ARKIT_BLENDSHAPES)}], got {w.shape}")
    unknown = [n for n in names if n not in ARKIT_BLENDSHAPES]
    if unknown:
        raise ValueError(f"unknown blendshape names: {unknown}")
    t_frames = np.arange(len(w)) / fps
    fig, (ax_w, ax_a) = plt.subplots(2, 1, figsize=(12, 6), sharex=True,
                                     gridspec_kw={"height_ratios": [3, 1]})
    try:
        for name in names:
            ax_w.plot(t_frames, w[:, ARKIT_BLENDSHAPES.index(name)], label=name, linewidth=1.3)
        ax_w.set_ylim(-0.02, 1.02)
        ax_w.set_ylabel("weight")
        ax_w.legend(loc="upper right", fontsize=8, ncol=4)
        ax_w.grid(alpha=0.3)
        if title:
            ax_w.set_title(title)
        if audio is not None and len(audio):
            a = np.asarray(audio, dtype=np.float32).reshape(-1)
            ax_a.plot(np.arange(len(a)) / sample_rate_hz, a, color="0.35", linewidth=0.4)
        ax_a.set_xlabel("time (s)")
        ax_a.set_ylabel("audio")
        fig.tight_layout()
        out = Path(path_png)
        fig.savefig(out, dpi=110)
    finally:
        plt.close(fig)
    return out
