"""The Audio2Face-3D seam refuses clearly: its weights cannot be had offline."""

from __future__ import annotations

from pathlib import Path

import pytest

from atelico.config import load_settings
from atelico.engines.face.neural import load
from atelico.errors import ModelNotInstalled
from atelico.models.catalog import ModelSpec


def test_load_raises_model_not_installed(tmp_path: Path) -> None:
    """load() raises model.not_installed naming the hub repository."""
    spec = ModelSpec(id="audio2face-3d", kind="face", loader="atelico.engines.face.neural:load")
    with pytest.raises(ModelNotInstalled) as err:
        load(spec, {}, load_settings({"models": {"cache_dir": tmp_path}}, env={}))
    assert err.value.code == "model.not_installed"
    assert "Audio2Face-3D" in err.value.message and err.value.details["repo"]
