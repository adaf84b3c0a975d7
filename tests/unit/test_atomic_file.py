"""Unit tests for the one atomic writer (atelico.models.assets.atomic): readers see the old
file or the new one, never a half file, and nothing is left behind."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from atelico.models.assets.atomic import (AtomicFile, write_atomic, write_bytes_atomic,
                                          write_json_atomic)


def _names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_commit_replaces_the_target_and_leaves_only_it(tmp_path: Path) -> None:
    target = tmp_path / "sub" / "voice.bin"
    write_bytes_atomic(target, b"old")
    with AtomicFile(target) as out:
        out.fh.write(b"new bytes")
        assert target.read_bytes() == b"old"  # not visible before the commit
        assert out.tmp.parent == target.parent and out.tmp.name.startswith(".voice.bin.")
        assert out.commit() == target
    assert target.read_bytes() == b"new bytes"
    assert _names(target.parent) == ["voice.bin"]
    assert stat.S_IMODE(target.stat().st_mode) == 0o644


def test_an_exception_keeps_the_old_file_and_removes_the_temp(tmp_path: Path) -> None:
    target = tmp_path / "stamp.json"
    write_json_atomic(target, {"a": 1})

    def fail(fh: object) -> None:
        raise OSError(28, "No space left on device")

    with pytest.raises(OSError):
        write_atomic(target, fail)
    assert json.loads(target.read_text()) == {"a": 1}
    assert _names(tmp_path) == ["stamp.json"]


def test_leaving_without_commit_discards_the_bytes(tmp_path: Path) -> None:
    target = tmp_path / "w.bin"
    with AtomicFile(target, suffix=".partial") as out:
        out.fh.write(b"refused")
        assert out.tmp.name.endswith(".partial")
    assert not target.exists() and _names(tmp_path) == []


def test_a_writer_that_needs_the_path_closes_the_handle_first(tmp_path: Path) -> None:
    """Libraries such as safetensors save by file name: the temp path is theirs to write."""
    target = tmp_path / "pack.safetensors"
    with AtomicFile(target) as out:
        out.fh.close()
        out.tmp.write_bytes(b"written by name")
        out.commit()
    assert target.read_bytes() == b"written by name" and _names(tmp_path) == [target.name]


def test_json_is_sorted_and_indented(tmp_path: Path) -> None:
    target = tmp_path / "m.json"
    write_json_atomic(target, {"b": 2, "a": [1]})
    assert target.read_text("utf-8") == '{\n "a": [\n  1\n ],\n "b": 2\n}'
