"""``ct2_int8``: CTranslate2 files quantized to int8 the way CTranslate2 does it at load."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import numpy as np
import pytest

from atelico.config import Settings
from atelico.models import ct2_int8 as q
from atelico.models.assets import asset_dir, asset_obtainable_locally, asset_present, \
    ensure_asset

from .conftest import make_settings


def _var(name: str, values: np.ndarray) -> q.Variable:
    dtype = q.DTYPES.index(str(values.dtype))
    return q.Variable(name, tuple(values.shape), dtype, values.tobytes())


def _model(variables: list[q.Variable], aliases: list[tuple[str, str]]) -> bytes:
    header = q.Header(version=6, spec="WhisperSpec", revision=3, count=len(variables))
    return (q.pack_header(header) + b"".join(q.pack_variable(v) for v in variables)
            + q.pack_aliases(aliases))


def _read(data: bytes) -> tuple[q.Header, dict[str, q.Variable], list[tuple[str, str]]]:
    fh = io.BytesIO(data)
    header = q.read_header(fh)
    variables = {v.name: v for v in (q.read_variable(fh) for _ in range(header.count))}
    return header, variables, q.read_aliases(fh)


def test_rows_round_half_to_even_and_zero_rows_get_scale_one() -> None:
    rows = np.array([[127.0, 2.5, 3.5, -2.5, -0.5], [0.0] * 5], dtype=np.float16)
    values, scale = q.quantize_rows(rows)
    assert values.dtype == np.int8 and scale.dtype == np.float32
    assert values.tolist() == [[127, 2, 4, -2, 0], [0] * 5]  # rint, not round-half-away
    assert scale.tolist() == [1.0, 1.0]


def test_rows_match_ctranslate2s_own_converter() -> None:
    """The converter's int8 path (``LayerSpec._quantize``) gives the same bytes and scales."""
    from ctranslate2.specs import common_spec

    weight = (np.random.default_rng(7).standard_normal((64, 96)) * 0.05).astype(np.float16)
    spec = common_spec.LinearSpec()
    spec.weight, spec.bias = weight, np.zeros(64, np.float16)
    spec.validate()
    spec._quantize("int8")
    values, scale = q.quantize_rows(weight)
    assert np.array_equal(values, spec.weight.numpy())
    assert np.array_equal(scale, spec.weight_scale.numpy())


def test_file_quantizes_linear_and_embedding_weights_only() -> None:
    rng = np.random.default_rng(3)
    linear = rng.standard_normal((8, 4)).astype(np.float16)
    embeddings = rng.standard_normal((10, 4)).astype(np.float16)
    conv = rng.standard_normal((8, 4, 3)).astype(np.float16)
    bias = rng.standard_normal(8).astype(np.float16)
    flag = np.array([1], dtype=np.int8)
    norm = rng.standard_normal(4).astype(np.float16)
    src = _model([_var("decoder/layer_norm/weight", norm),
                  _var("decoder/layer_0/ffn/linear_0/weight", linear),
                  _var("decoder/layer_0/ffn/linear_0/bias", bias),
                  _var("decoder/embeddings/weight", embeddings),
                  _var("encoder/conv1/weight", conv), _var("decoder/flag", flag)],
                 [("decoder/projection/weight", "decoder/embeddings/weight")])
    out = io.BytesIO()
    size = q.quantize_file(io.BytesIO(src), out.write)
    header, variables, aliases = _read(out.getvalue())
    assert size == len(out.getvalue()) and header.count == 8
    assert aliases == [("decoder/projection/weight", "decoder/embeddings/weight")]
    for name, values in (("decoder/layer_0/ffn/linear_0/weight", linear),
                         ("decoder/embeddings/weight", embeddings)):
        expected, scale = q.quantize_rows(values)
        assert variables[name].dtype == q.INT8
        assert np.array_equal(q.array(variables[name]), expected)
        assert np.array_equal(q.array(variables[f"{name}_scale"]), scale)
    for name, values in (("encoder/conv1/weight", conv), ("decoder/layer_0/ffn/linear_0/bias",
                                                          bias), ("decoder/flag", flag),
                         ("decoder/layer_norm/weight", norm)):
        assert np.array_equal(q.array(variables[name]), values)  # left for the loader
        assert f"{name}_scale" not in variables


@pytest.mark.parametrize("damage", ["version", "truncated", "trailing"])
def test_damaged_files_are_refused(damage: str) -> None:
    data = _model([_var("a/weight", np.ones((2, 2), np.float16))], [])
    if damage == "version":
        data = (99).to_bytes(4, "little") + data[4:]
    elif damage == "truncated":
        data = data[:-10]
    else:
        data += b"x"
    with pytest.raises(q.Ct2FormatError):
        q.quantize_file(io.BytesIO(data), lambda _: None)


@pytest.mark.slow
def test_derived_asset_is_quantized_offline_and_drops_its_base(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "cache", offline=True)
    assert asset_obtainable_locally("whisper-base-int8-ct2", settings)
    root = ensure_asset("whisper-base-int8-ct2", settings, progress=False)
    assert (root / "model.bin").stat().st_size == 75_104_236  # pinned sha256 checked on write
    assert not asset_dir("whisper-base-ct2", settings).exists()  # assembled only to derive
    with open(root / "model.bin", "rb") as fh:
        assert q.read_header(fh).spec == "WhisperSpec"


@pytest.mark.slow
def test_a_base_already_cached_is_kept(tmp_path: Path) -> None:
    settings: Settings = make_settings(tmp_path / "cache", offline=True)
    ensure_asset("whisper-base-ct2", settings, progress=False)
    ensure_asset("whisper-base-int8-ct2", settings, progress=False)
    assert asset_present("whisper-base-ct2", settings)
    shutil.rmtree(asset_dir("whisper-base-int8-ct2", settings))
    assert asset_obtainable_locally("whisper-base-int8-ct2", settings)
