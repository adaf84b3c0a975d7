"""Writes Godot 4.6 ``.pck`` packs (format 3) without the editor, with the class cache."""

from __future__ import annotations

import hashlib
import re
import struct
from pathlib import Path

PACK_MAGIC = 0x43504447  # "GDPC"
PACK_FORMAT_VERSION = 3
PACK_REL_FILEBASE = 1 << 1
GODOT_VERSION = (4, 6, 0)
HEADER_BYTES = 4 * 6 + 8 * 2 + 4 * 16  # magic..flags, file_base + dir_offset, reserved
ALIGN_BYTES = 16

_CLASS_NAME = re.compile(r"^class_name\s+(\w+)", re.MULTILINE)
_EXTENDS = re.compile(r"^extends\s+(\S+)", re.MULTILINE)
_TOOL = re.compile(r"^@tool\b", re.MULTILINE)


def _pad(n: int, to: int) -> int:
    return (n + to - 1) // to * to


def write_pck(files: dict[str, bytes], out: Path) -> None:
    """Pack ``files`` ({"res://-relative path": bytes}) into ``out``.

    Layout (core/io/file_access_pack.cpp, format 3): header, file data from
    ``file_base`` (each aligned to 16 bytes), then the directory at ``dir_offset``.
    Paths are stored relative to res:// (flag PACK_REL_FILEBASE), zero-padded to 4 bytes.
    """
    file_base = HEADER_BYTES
    blob = bytearray()
    entries = []
    for path, content in sorted(files.items()):
        offset = len(blob)
        blob += content
        blob += b"\0" * (_pad(len(blob), ALIGN_BYTES) - len(blob))
        entries.append((path, offset, len(content), hashlib.md5(content).digest()))
    directory = bytearray(struct.pack("<I", len(entries)))
    for path, offset, size, md5 in entries:
        raw = path.encode()
        padded = raw + b"\0" * (_pad(len(raw), 4) - len(raw))
        directory += struct.pack("<I", len(padded)) + padded
        directory += struct.pack("<QQ", offset, size) + md5 + struct.pack("<I", 0)
    dir_offset = file_base + len(blob)
    header = struct.pack("<IIIIII", PACK_MAGIC, PACK_FORMAT_VERSION, *GODOT_VERSION,
                         PACK_REL_FILEBASE)
    header += struct.pack("<QQ", file_base, dir_offset) + b"\0" * (4 * 16)
    assert len(header) == HEADER_BYTES
    out.write_bytes(bytes(header) + bytes(blob) + bytes(directory))


def class_cache(scripts: dict[str, str]) -> bytes:
    """``.godot/global_script_class_cache.cfg`` for ``{"res://path.gd": source}``.

    Without it, ``class_name`` globals do not resolve in an exported (packed) project.
    """
    items = []
    for path, source in sorted(scripts.items()):
        name = _CLASS_NAME.search(source)
        if not name:
            continue
        base = _EXTENDS.search(source)
        items.append(
            "{\n"
            f'"base": &"{base.group(1) if base else "RefCounted"}",\n'
            f'"class": &"{name.group(1)}",\n'
            '"icon": "",\n'
            '"is_abstract": false,\n'
            f'"is_tool": {"true" if _TOOL.search(source) else "false"},\n'
            '"language": &"GDScript",\n'
            f'"path": "{path}"\n'
            "}"
        )
    return ("list=[" + ", ".join(items) + "]\n").encode()
