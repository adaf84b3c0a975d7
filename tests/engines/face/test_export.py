"""Face weights as JSON, and the plot of the main curves over the waveform."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from atelico.engines.base import ARKIT_BLENDSHAPES
from atelico.engines.face.export import face_to_json, plot_face_curves


def test_face_to_json_shape_and_rounding() -> None:
    """{fps, names, frames} with 52 floats per frame rounded to 4 decimals."""
    w = np.full((3, 52), 0.123456, np.float32)
    doc = face_to_json(w, 30)
    assert doc["fps"] == 30 and doc["names"] == list(ARKIT_BLENDSHAPES)
    assert len(doc["frames"]) == 3 and len(doc["frames"][0]) == 52
    assert doc["frames"][0][0] == 0.1235
    with pytest.raises(ValueError):
        face_to_json(np.zeros((3, 51)), 30)


def test_plot_writes_a_png(tmp_path: Path) -> None:
    """The plot is a real PNG; unknown curve names are refused."""
    w = np.random.default_rng(0).uniform(0, 1, (60, 52)).astype(np.float32)
    audio = np.sin(np.arange(32_000) / 10.0).astype(np.float32)
    out = plot_face_curves(w, audio, 16_000, tmp_path / "face.png")
    data = out.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000
    with pytest.raises(ValueError):
        plot_face_curves(w, audio, 16_000, tmp_path / "x.png", names=["notAShape"])
