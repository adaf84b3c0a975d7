"""Kokoro voice bank: ids, languages, blends, custom voices and refusals (synthetic tensors)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from atelico.engines.tts.kokoro_voices import (VoiceBank, load_voice_file, save_voice_file,
                                               voice_info)
from atelico.errors import VoiceError


def _write(folder: Path, name: str, value: float) -> np.ndarray:
    tensor = np.full((510, 1, 256), value, dtype=np.float32)
    tensor[:, 0, 0] = np.arange(510)
    folder.mkdir(parents=True, exist_ok=True)
    tensor.tofile(folder / f"{name}.bin")
    return tensor.reshape(510, 256)


@pytest.fixture
def bank_dirs(tmp_path: Path) -> tuple[Path, Path]:
    builtin, custom = tmp_path / "voices", tmp_path / "custom"
    _write(builtin, "af_heart", 1.0)
    _write(builtin, "af_sky", 4.0)
    _write(builtin, "bm_george", -2.0)
    return builtin, custom


def test_voice_info_decodes_language_and_gender() -> None:
    """Ids encode <lang><gender>_<name>; unknown prefixes default to en-US, no gender."""
    assert voice_info("bm_george").language == "en-GB"
    assert voice_info("bm_george").gender == "male"
    assert voice_info("pf_dora").language == "pt-BR"
    assert voice_info("jf_alpha").language == "ja"
    assert voice_info("zm_yunxi").language == "zh"
    assert voice_info("my_clone", custom=True).custom
    assert voice_info("my_clone").language == "en-US"
    assert voice_info("narrator").gender is None


def test_weighted_blend_is_the_weighted_average(bank_dirs: tuple[Path, Path]) -> None:
    """af_heart(2)+af_sky(1) averages the tensors 2:1; unweighted parts weigh 1."""
    bank = VoiceBank(*bank_dirs)
    blend, code = bank.resolve("af_heart(2)+af_sky(1)")
    assert code == "a"
    assert blend[0, 1] == pytest.approx((2 * 1.0 + 4.0) / 3)
    assert blend[37, 0] == pytest.approx(37.0)
    plain, _ = bank.resolve("af_heart+af_sky")
    assert plain[5, 5] == pytest.approx(2.5)
    _, code = bank.resolve("bm_george+af_sky")
    assert code == "b"


def test_unknown_voice_lists_known_ones(bank_dirs: tuple[Path, Path]) -> None:
    """An unknown voice is voice.unknown with details.known listing the valid ids."""
    bank = VoiceBank(*bank_dirs)
    with pytest.raises(VoiceError) as err:
        bank.resolve("af_nobody")
    assert err.value.code == "voice.unknown"
    assert err.value.details["known"] == ["af_heart", "af_sky", "bm_george"]


@pytest.mark.parametrize("spec", ["../../etc/passwd", "voices/af_heart", "af_heart(0)",
                                  "af_heart(-1)", "af_heart+", "", "af heart", "..\\x"])
def test_malformed_or_path_like_voice_is_invalid(bank_dirs: tuple[Path, Path], spec: str) -> None:
    """Path-like names, bad weights and empty parts are refused as voice.invalid (400)."""
    bank = VoiceBank(*bank_dirs)
    with pytest.raises(VoiceError) as err:
        bank.resolve(spec)
    assert err.value.code == "voice.invalid"
    assert err.value.http_status == 400


def test_custom_voices_are_found_in_all_formats(bank_dirs: tuple[Path, Path]) -> None:
    """Custom .bin, .npy and .safetensors voices load; bad files and shadowing are ignored."""
    from safetensors.numpy import save_file

    builtin, custom = bank_dirs
    bank = VoiceBank(builtin, custom)
    assert [v.id for v in bank.infos() if v.custom] == []
    _write(custom, "hero", 3.0)
    np.save(custom / "villain.npy", np.full((510, 256), 5.0, np.float32))
    save_file({"voice": np.full((510, 1, 256), 6.0, np.float32)}, str(custom / "sage.safetensors"))
    (custom / "broken.bin").write_bytes(b"\0" * 100)
    _write(custom, "af_heart", 9.0)  # may not shadow a built-in voice
    assert bank.rescan() == ["hero", "sage", "villain"]
    infos = {v.id: v for v in bank.infos()}
    assert infos["hero"].custom and not infos["af_heart"].custom
    assert bank.resolve("sage")[0][3, 3] == 6.0
    assert bank.resolve("af_heart")[0][3, 3] == 1.0
    assert bank.resolve("hero(1)+villain(1)")[0][2, 2] == pytest.approx(4.0)


def test_save_voice_file_is_atomic_and_round_trips(tmp_path: Path) -> None:
    """Saving writes the raw float32 layout via a temp file and leaves no temp behind."""
    tensor = np.random.default_rng(0).normal(size=(510, 256)).astype(np.float32)
    path = save_voice_file(tmp_path / "kokoro" / "clone.bin", tensor)
    assert path.stat().st_size == 510 * 256 * 4
    assert np.array_equal(load_voice_file(path), tensor)
    assert [p.name for p in path.parent.iterdir()] == ["clone.bin"]


def test_empty_voices_folder_is_refused(tmp_path: Path) -> None:
    """A voices folder without .bin files cannot make a bank."""
    with pytest.raises(FileNotFoundError):
        VoiceBank(tmp_path)


@pytest.mark.parametrize("spec", [
    "af_heart(" + "9" * 400 + ")",                    # overflows to inf
    "af_heart(0." + "0" * 50 + "1)",                  # 1e-51: underflows to 0
    "af_heart(" + "9" * 30 + ")+af_sky",              # finite but absurd
    "af_heart(0.0000001)+af_sky(0.0000001)",          # both below the smallest weight
    "af_heart(0)",
])
def test_out_of_range_blend_weight_is_invalid(bank_dirs: tuple[Path, Path], spec: str) -> None:
    """A weight that is not finite or outside 0.001–1000 is voice.invalid naming the range,
    never a NaN or all-zero style (which Kokoro would render as silence)."""
    bank = VoiceBank(*bank_dirs)
    with pytest.raises(VoiceError) as err:
        bank.resolve(spec)
    assert err.value.code == "voice.invalid" and err.value.http_status == 400
    assert "weight" in err.value.message


def test_blend_that_cancels_out_or_holds_nan_is_invalid(bank_dirs: tuple[Path, Path]) -> None:
    """Voices that sum to an all-zero style, or a custom voice file holding NaN, are refused."""
    builtin, custom = bank_dirs
    custom.mkdir()
    (custom / "anti.bin").write_bytes((-np.fromfile(builtin / "af_heart.bin", "<f4")).tobytes())
    bad = np.full((510, 256), 1.0, np.float32)
    bad[3, 3] = np.nan
    np.save(custom / "nanvoice.npy", bad)
    bank = VoiceBank(builtin, custom)
    for spec in ("af_heart+anti", "nanvoice", "nanvoice+af_sky"):
        with pytest.raises(VoiceError) as err:
            bank.resolve(spec)
        assert err.value.code == "voice.invalid", spec
    assert np.isfinite(bank.resolve("af_heart(1000)+af_sky(0.001)")[0]).all()
