"""Loading Pocket TTS weights: clear ModelNotInstalled offline, fast failure, real-weights path.

The hub weights cannot be had here, so the real-weights path is exercised with an asset
directory made from random weights in the hub layout (``model.safetensors``, a tokenizer,
``embeddings/<voice>.safetensors``), loaded exactly as downloaded weights would be.
"""

from __future__ import annotations

import socket
import time
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("pocket_tts")

from atelico.config import Settings, load_settings  # noqa: E402
from atelico.engines.tts import pocket_model  # noqa: E402
from atelico.engines.tts.pocket import PocketEngine, load  # noqa: E402
from atelico.errors import ModelLoadFailed, ModelNotInstalled  # noqa: E402

pytestmark = pytest.mark.slow


def settings_for(cache: Path, offline: bool) -> Settings:
    return load_settings({"models": {"cache_dir": cache, "offline": offline}}, env={})


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def assert_says_how_to_get_weights(exc: ModelNotInstalled, settings: Settings) -> None:
    root = settings.models_dir / "pocket-tts-english"
    assert exc.code == "model.not_installed" and exc.http_status == 424
    for needle in ("kyutai/pocket-tts-without-voice-cloning", "huggingface-cli download",
                   "model.safetensors", "tokenizer.json", str(root), "kyutai/pocket-tts:",
                   "accept its terms", "huggingface-cli login",
                   str(settings.models_dir / "pocket-tts-cloning")):
        assert needle in exc.message, needle
    assert exc.details["dir"] == str(root)


def test_offline_without_weights_says_how_to_get_them(tmp_path: Path) -> None:
    """models.offline + empty cache: ModelNotInstalled at once, naming repos, files and dirs."""
    settings = settings_for(tmp_path, offline=True)
    started = time.perf_counter()
    with pytest.raises(ModelNotInstalled) as info:
        load(None, {}, settings)
    assert time.perf_counter() - started < 5.0
    assert_says_how_to_get_weights(info.value, settings)
    assert "offline" in info.value.message


def test_hf_hub_offline_env_is_honoured(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """HF_HUB_OFFLINE=1 means no network attempt even with models.offline false."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    settings = settings_for(tmp_path, offline=False)
    with pytest.raises(ModelNotInstalled) as info:
        load(None, {}, settings)
    assert "offline" in info.value.message


def test_unreachable_hub_fails_fast(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Online mode with the hub unreachable (a closed local port): fails in seconds, not minutes."""
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{closed_port()}")
    settings = settings_for(tmp_path, offline=False)
    started = time.perf_counter()
    with pytest.raises(ModelNotInstalled) as info:
        load(None, {}, settings)
    assert time.perf_counter() - started < 10.0
    assert_says_how_to_get_weights(info.value, settings)
    assert "unreachable" in info.value.message


def test_asset_dir_without_files_is_not_installed(tmp_path: Path) -> None:
    """An asset directory handed over without the weights names the missing files."""
    settings = settings_for(tmp_path, offline=True)
    root = tmp_path / "empty-asset"
    root.mkdir()
    with pytest.raises(ModelNotInstalled) as info:
        load(None, {"pocket-tts-english": root}, settings)
    assert "model.safetensors" in info.value.details["reason"]


def test_corrupt_weights_are_a_load_failure(tmp_path: Path) -> None:
    """Files present but not loadable: ModelLoadFailed naming the file, not a crash."""
    root = tmp_path / "asset"
    root.mkdir()
    (root / "model.safetensors").write_bytes(b"\x00" * 64)
    (root / "tokenizer.json").write_text("{}")
    with pytest.raises(ModelLoadFailed) as info:
        load(None, {"pocket-tts-english": root}, settings_for(tmp_path, offline=True))
    assert "model.safetensors" in info.value.message


def test_pinned_revisions_match_the_installed_package() -> None:
    """Our instructions name the same hub revisions the pocket-tts package pins."""
    import yaml
    from pocket_tts.utils.config import CONFIGS_DIR

    config = yaml.safe_load((CONFIGS_DIR / "english.yaml").read_text())
    assert config["weights_path_without_voice_cloning"].endswith(
        f"{pocket_model.HUB_PREFIX}model.safetensors@{pocket_model.HUB_WEIGHTS_REVISION}")
    assert pocket_model.HUB_REPO in config["weights_path_without_voice_cloning"]
    assert config["weights_path"].endswith(f"@{pocket_model.HUB_CLONING_REVISION}")
    assert f"hf://{pocket_model.HUB_CLONING_REPO}/" in config["weights_path"]
    assert config["flow_lm"]["lookup_table"]["tokenizer_path"].endswith(
        f"tokenizer.json@{pocket_model.HUB_TOKENIZER_REVISION}")


def test_weights_from_an_asset_dir_load_and_speak(tmp_path: Path) -> None:
    """The downloaded-weights path: model, tokenizer and voice embeddings from the asset dir."""
    import safetensors.torch

    from atelico.engines.tts.pocket_voices import save_state_atomic

    source = PocketEngine.from_random_weights(seed=3, settings=settings_for(tmp_path, True))
    root = tmp_path / "models" / "pocket-tts-english"
    (root / "embeddings").mkdir(parents=True)
    safetensors.torch.save_file(
        {k: v.contiguous() for k, v in source._model.state_dict().items()},
        root / "model.safetensors")
    kind, proto = source._tokenizer.serialize()
    assert kind == "sentencepiece"
    (root / "tokenizer.model").write_bytes(proto)
    save_state_atomic(source._voice_state("alba"), root / "embeddings" / "alba.safetensors", {})

    engine = load(None, {"pocket-tts-english": root}, settings_for(tmp_path, True))
    assert not engine.random_weights and engine.voice_cloning
    assert engine.weights.startswith("sha256-8m:")
    assert engine.count_tokens("Hello world.") == source.count_tokens("Hello world.")
    chunks = list(engine.synthesize("Hello from the asset directory.", voice="alba"))
    assert chunks and all(np.isfinite(c.audio).all() and c.audio.size for c in chunks)
    with pytest.raises(ModelNotInstalled) as info:
        engine.synthesize("Hi.", voice="ian")  # a built-in whose embedding is missing
    assert "ian.safetensors" in info.value.message
    assert pocket_model.HUB_REPO in info.value.message
