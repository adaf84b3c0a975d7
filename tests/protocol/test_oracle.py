"""The golden vectors checked by an oracle that shares no code with the sidecar: the
``msgpack`` package alone reads every committed frame, and the envelope rules of
docs/protocol.md are restated here. Neither atelico's encoder nor the vector generator is
used, so a bug in either cannot confirm itself."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import msgpack
import pytest

VECTORS = Path(__file__).resolve().parents[1] / "data" / "protocol"
INDEX = json.loads((VECTORS / "index.json").read_text())
VALID = [v["name"] for v in INDEX if "error_code" not in v]
INVALID = [v["name"] for v in INDEX if "error_code" in v]
ENVELOPE_ORDER = ("type", "id", "data", "payload")


def as_json(value: Any) -> Any:
    """A msgpack value as the vectors' JSON meaning (bin as ``{"$bin": base64}``)."""
    if isinstance(value, bytes):
        return {"$bin": base64.b64encode(value).decode("ascii")}
    if isinstance(value, dict):
        return {key: as_json(item) for key, item in value.items()}
    if isinstance(value, list):
        return [as_json(item) for item in value]
    return value


def from_json(value: Any) -> Any:
    """The inverse of :func:`as_json`."""
    if isinstance(value, dict):
        if set(value) == {"$bin"}:
            return base64.b64decode(value["$bin"])
        return {key: from_json(item) for key, item in value.items()}
    if isinstance(value, list):
        return [from_json(item) for item in value]
    return value


def envelope_violation(frame: bytes) -> str | None:
    """Why ``frame`` is not a valid envelope, per the spec; None when it is one."""
    try:
        env = msgpack.unpackb(frame, raw=False, strict_map_key=True)
    except Exception as exc:  # not msgpack at all, truncated, trailing bytes
        return f"not msgpack: {type(exc).__name__}"
    if not isinstance(env, dict):
        return "not a map"
    if not isinstance(env.get("type"), str) or not 0 < len(env["type"]) <= 64:
        return "type"
    if "id" in env and (not isinstance(env["id"], str) or not 0 < len(env["id"].encode()) <= 64):
        return "id"
    if not isinstance(env.get("data", {}), dict):
        return "data"
    if "payload" in env and not isinstance(env["payload"], bytes):
        return "payload"
    return None


def contains_nil(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, dict):
        return any(contains_nil(v) for v in value.values())
    return False  # nil inside a list is a value (a list keeps its length)


@pytest.mark.parametrize("name", VALID)
def test_msgpack_reads_each_vector_as_its_json_meaning(name: str):
    frame = (VECTORS / f"{name}.msgpack").read_bytes()
    expected = json.loads((VECTORS / f"{name}.json").read_text())
    pairs = msgpack.unpackb(frame, raw=False, strict_map_key=True, object_pairs_hook=list)
    keys = [key for key, _ in pairs]
    assert keys == [k for k in ENVELOPE_ORDER if k in keys], f"envelope key order {keys}"
    env = msgpack.unpackb(frame, raw=False, strict_map_key=True)
    assert as_json(env) == expected
    assert envelope_violation(frame) is None
    assert not contains_nil(env), "nil map values are omitted on the wire"


@pytest.mark.parametrize("name", VALID)
def test_the_meaning_packs_back_to_the_same_bytes(name: str):
    """Canonical form: the JSON meaning, packed by msgpack with bin types, is the frame."""
    expected = json.loads((VECTORS / f"{name}.json").read_text())
    frame = (VECTORS / f"{name}.msgpack").read_bytes()
    assert msgpack.packb(from_json(expected), use_bin_type=True) == frame


@pytest.mark.parametrize("name", INVALID)
def test_each_invalid_vector_breaks_a_rule_of_the_spec(name: str):
    assert envelope_violation((VECTORS / f"{name}.msgpack").read_bytes()) is not None


def test_the_oracle_is_not_blind():
    """The rules above refuse what they should (a frame with a str payload, a long id)."""
    assert envelope_violation(msgpack.packb({"type": "x", "payload": "text"})) == "payload"
    assert envelope_violation(msgpack.packb({"type": "x", "id": "i" * 65})) == "id"
    assert envelope_violation(msgpack.packb({"type": "ping", "data": {}}, use_bin_type=True)) is None
