"""The golden protocol vectors round-trip in Python and match their generator."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from atelico.errors import ProtocolError
from atelico.protocol.envelope import decode, encode
from tests.protocol.vectors import OUT, build, meaning

INDEX = json.loads((OUT / "index.json").read_text())
VALID = [v["name"] for v in INDEX if "error_code" not in v]
INVALID = [(v["name"], v["error_code"]) for v in INDEX if "error_code" in v]


def test_committed_vectors_match_generator():
    """Every committed vector file is exactly what tests/protocol/vectors.py produces."""
    expected = build()
    on_disk = {str(p.relative_to(OUT)): p.read_bytes() for p in OUT.rglob("*") if p.is_file()}
    assert set(on_disk) == set(expected)
    for name, content in expected.items():
        assert on_disk[name] == content, f"{name} drifted: run python tests/protocol/vectors.py"


@pytest.mark.parametrize("name", VALID)
def test_vector_decodes_to_its_meaning_and_reencodes_identically(name: str):
    """Decoding a golden frame gives its JSON meaning; encoding it again gives the same bytes."""
    frame = (OUT / f"{name}.msgpack").read_bytes()
    msg = decode(frame)
    assert meaning(msg) == json.loads((OUT / f"{name}.json").read_text())
    assert encode(msg) == frame


@pytest.mark.parametrize("name,code", INVALID)
def test_invalid_vector_is_rejected_with_its_code(name: str, code: str):
    """Frames every decoder must reject raise ProtocolError with the documented code."""
    with pytest.raises(ProtocolError) as info:
        decode((OUT / f"{name}.msgpack").read_bytes())
    assert info.value.code == code


def test_every_protocol_message_type_has_a_vector():
    """Each message type named in the protocol modules appears in at least one vector."""
    from atelico.protocol import face, session, stt, tts

    types = {json.loads((OUT / f"{n}.json").read_text())["type"] for n in VALID}
    declared = {v for module in (session, tts, stt, face) for k, v in vars(module).items()
                if k.isupper() and isinstance(v, str)}
    missing = declared - types
    assert not missing, f"message types without a golden vector: {sorted(missing)}"


def test_oversized_frame_is_refused_before_parsing():
    """A frame over the limit is refused with protocol.frame_too_large."""
    with pytest.raises(ProtocolError) as info:
        decode(b"\x80" * 2048, max_frame_bytes=1024)
    assert info.value.code == "protocol.frame_too_large"
