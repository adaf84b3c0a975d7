"""Seam for a neural audio-to-face backend (NVIDIA Audio2Face-3D); its weights are not available offline."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Sequence

import numpy as np

from atelico.engines.base import FACE_SAMPLE_RATE_HZ, PhonemeTiming
from atelico.errors import ModelNotInstalled

if TYPE_CHECKING:
    from atelico.config import Settings
    from atelico.models.catalog import ModelSpec

HUB_REPO = "nvidia/Audio2Face-3D-v3.0"


class Audio2Face3D:
    """Where an Audio2Face-3D network would plug in, behind the same ``AudioToFace`` contract.

    A port needs the network weights (HuBERT-style encoder + diffusion decoder emitting
    ARKit-52 at 30 fps) from the Hugging Face hub; no package on any registry reachable here
    ships them, so :func:`load` refuses with ``model.not_installed``. The phone-driven
    ``face`` model (:mod:`atelico.engines.face.model`) is the offline engine.
    """

    model_id = "audio2face-3d"

    def __init__(self, weights_dir: Path) -> None:
        self.weights_dir = weights_dir

    def characters(self) -> list[str]:
        return ["claire", "james", "mark"]

    def run(self, audio: np.ndarray, *, sample_rate_hz: int = FACE_SAMPLE_RATE_HZ,
            character: str = "claire", text: str | None = None,
            phonemes: Sequence[PhonemeTiming] | None = None) -> np.ndarray:
        raise ModelNotInstalled(_MESSAGE, details={"model": self.model_id, "repo": HUB_REPO})


_MESSAGE = (f"audio2face-3d needs NVIDIA's Audio2Face-3D network weights from the Hugging Face "
            f"hub ({HUB_REPO}); they are not shipped by any package and cannot be downloaded "
            f"offline. Use the offline 'face' model instead.")


def load(spec: ModelSpec, assets: dict[str, Path], settings: Settings) -> Audio2Face3D:
    """Always raises ``ModelNotInstalled``: there is no offline source for these weights."""
    raise ModelNotInstalled(_MESSAGE, details={"model": spec.id, "repo": HUB_REPO})
