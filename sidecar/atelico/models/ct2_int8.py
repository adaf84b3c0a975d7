"""Pre-quantize a CTranslate2 ``model.bin`` to int8 weights, exactly as CTranslate2 does at load.

CTranslate2 converts a float16 model to int8 when it is loaded with ``compute_type="int8"``
(``Model::set_compute_type`` in ``src/models/model.cc``): every variable whose name ends in
``weight`` is quantized per row (``scale = 127 / amax``, 1 when the row is all zeros; values
multiplied in float32 and rounded half to even for binary version >= 5) and gets a float32
``<name>_scale`` of one value per row. Only 2-D weights are quantized here; convolution
weights (names with ``conv``: int8 or float depending on the build), biases and norms are
written unchanged, so the loader treats them exactly as it treats the float16 file. The int8
file therefore loads into the same tensors as the float16 one.

File layout (``python/ctranslate2/specs/model_spec.py``, little-endian): binary version (u32),
spec name (u16 length incl. NUL, bytes), spec revision (u32), variable count (u32); per
variable: name, rank (u8), dims (u32 each), dtype id (u8), byte count (u32), bytes; then the
alias count (u32) and (alias, target) name pairs.
"""

from __future__ import annotations

import io
import struct
from dataclasses import dataclass
from typing import IO, Callable, Iterator

import numpy as np

#: dtype ids of ``include/ctranslate2/types.h``, in enum order
DTYPES = ("float32", "int8", "int16", "int32", "float16", "bfloat16")
FLOAT32, INT8, FLOAT16 = DTYPES.index("float32"), DTYPES.index("int8"), DTYPES.index("float16")
#: binary versions this module reads (rounding before the cast starts at 5)
SUPPORTED_VERSIONS = (5, 6)


class Ct2FormatError(ValueError):
    """The file is not a CTranslate2 model this module can quantize."""


@dataclass(frozen=True)
class Header:
    version: int
    spec: str
    revision: int
    count: int


@dataclass(frozen=True)
class Variable:
    """One named tensor of a model file: shape, dtype id and raw little-endian bytes."""

    name: str
    shape: tuple[int, ...]
    dtype: int
    data: bytes


# --------------------------------------------------------------------------- reading


def _exact(fh: IO[bytes], n: int) -> bytes:
    data = fh.read(n)
    if len(data) != n:
        raise Ct2FormatError(f"truncated model file: wanted {n} bytes, got {len(data)}")
    return data


def _u(fh: IO[bytes], fmt: str) -> int:
    value: int = struct.unpack("<" + fmt, _exact(fh, struct.calcsize(fmt)))[0]
    return value


def _string(fh: IO[bytes]) -> str:
    raw = _exact(fh, _u(fh, "H"))
    if not raw.endswith(b"\0"):
        raise Ct2FormatError("a string in the model file is not NUL-terminated")
    return raw[:-1].decode("utf-8")


def read_header(fh: IO[bytes]) -> Header:
    version = _u(fh, "I")
    if version not in SUPPORTED_VERSIONS:
        raise Ct2FormatError(f"CTranslate2 binary version {version} is not supported "
                             f"(known: {SUPPORTED_VERSIONS})")
    spec = _string(fh)
    revision = _u(fh, "I")
    return Header(version, spec, revision, _u(fh, "I"))


def _read_meta(fh: IO[bytes]) -> tuple[Variable, int]:
    """A variable's name, shape and dtype (its ``data`` still empty) and its payload size;
    ``fh`` is left at the payload."""
    name = _string(fh)
    rank = _u(fh, "B")
    shape = tuple(_u(fh, "I") for _ in range(rank))
    dtype = _u(fh, "B")
    if dtype >= len(DTYPES):
        raise Ct2FormatError(f"variable {name!r}: unknown dtype id {dtype}")
    size = _u(fh, "I")
    if size != int(np.prod(shape, dtype=np.int64)) * np.dtype(_np_dtype(dtype)).itemsize:
        raise Ct2FormatError(f"variable {name!r}: payload size does not match its shape")
    return Variable(name, shape, dtype, b""), size


def read_variable(fh: IO[bytes]) -> Variable:
    meta, size = _read_meta(fh)
    return Variable(meta.name, meta.shape, meta.dtype, _exact(fh, size))


def read_aliases(fh: IO[bytes]) -> list[tuple[str, str]]:
    pairs = [(_string(fh), _string(fh)) for _ in range(_u(fh, "I"))]
    if fh.read(1):
        raise Ct2FormatError("unexpected bytes after the alias table")
    return pairs


def _np_dtype(dtype: int) -> str:
    return "uint16" if DTYPES[dtype] == "bfloat16" else DTYPES[dtype]


def array(var: Variable) -> np.ndarray:
    """The variable's values as a numpy array (bfloat16 stays raw ``uint16``)."""
    return np.frombuffer(var.data, dtype="<" + np.dtype(_np_dtype(var.dtype)).str[1:]).reshape(
        var.shape)


# --------------------------------------------------------------------------- quantizing


def quantizable(var: Variable) -> bool:
    """True for the variables quantized here: 2-D float weights, as CTranslate2 does on load
    (anything left float is converted by the loader as before)."""
    return (var.name.endswith("weight") and "conv" not in var.name and len(var.shape) == 2
            and var.dtype in (FLOAT16, FLOAT32))


def quantize_rows(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """int8 values and float32 per-row scales, as ``cpu::quantize_s8`` computes them."""
    rows = values.astype(np.float32).reshape(values.shape[0], -1)
    amax = np.abs(rows).max(axis=1)
    safe = np.where(amax != 0, amax, np.float32(1))
    scale = np.where(amax != 0, np.float32(127) / safe, np.float32(1)).astype(np.float32)
    quantized = np.rint(rows * scale[:, None]).astype(np.int8)
    return quantized.reshape(values.shape), scale


def quantize_variable(var: Variable) -> list[Variable]:
    """``[var]`` unchanged, or its int8 version followed by ``<name>_scale``."""
    if not quantizable(var):
        return [var]
    values, scale = quantize_rows(array(var))
    return [Variable(var.name, var.shape, INT8, values.tobytes()),
            Variable(f"{var.name}_scale", (var.shape[0],), FLOAT32,
                     scale.astype("<f4").tobytes())]


# --------------------------------------------------------------------------- writing


def _pack_string(text: str) -> bytes:
    raw = text.encode("utf-8") + b"\0"
    return struct.pack("<H", len(raw)) + raw


def pack_header(header: Header) -> bytes:
    return (struct.pack("<I", header.version) + _pack_string(header.spec)
            + struct.pack("<II", header.revision, header.count))


def pack_variable(var: Variable) -> bytes:
    dims = struct.pack(f"<B{len(var.shape)}I", len(var.shape), *var.shape)
    return (_pack_string(var.name) + dims + struct.pack("<BI", var.dtype, len(var.data))
            + var.data)


def pack_aliases(pairs: list[tuple[str, str]]) -> bytes:
    return struct.pack("<I", len(pairs)) + b"".join(
        _pack_string(a) + _pack_string(b) for a, b in pairs)


def count_quantized(src: IO[bytes]) -> tuple[Header, int]:
    """The header and how many variables the int8 file gains (one scale per weight); reads
    only the variables' descriptions, seeking past their payloads."""
    header = read_header(src)
    extra = 0
    for _ in range(header.count):
        meta, size = _read_meta(src)
        extra += quantizable(meta)
        src.seek(size, io.SEEK_CUR)
    return header, extra


def quantized_chunks(src: IO[bytes]) -> Iterator[bytes]:
    """The int8 model file, one variable at a time (``src`` must be seekable)."""
    start = src.tell()
    header, extra = count_quantized(src)
    src.seek(start)
    read_header(src)
    yield pack_header(Header(header.version, header.spec, header.revision,
                             header.count + extra))
    for _ in range(header.count):
        for var in quantize_variable(read_variable(src)):
            yield pack_variable(var)
    yield pack_aliases(read_aliases(src))


def quantize_file(src: IO[bytes], write: Callable[[bytes], object]) -> int:
    """Write the int8 version of the model in ``src`` through ``write``; returns its size."""
    total = 0
    for chunk in quantized_chunks(src):
        write(chunk)
        total += len(chunk)
    return total
