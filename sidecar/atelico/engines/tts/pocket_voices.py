"""Pocket TTS voices: the 24 built-in names, voice-id checks and voice-pack files.

A Pocket voice is the model's streaming state after it has "heard" a reference clip: the
per-layer attention caches of its FlowLM transformer (what ``pocket-tts export-voice``
writes and what the hub's ``languages/english/embeddings/<voice>.safetensors`` hold). A
voice pack is that state as safetensors, keys ``<module>/<tensor>``, float32, plus metadata
saying which weights made it: a state only makes sense with the weights that computed it.
Cloned packs live in ``<settings.voices_dir>/pocket/<voice_id>.safetensors``.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Mapping

from atelico.engines.base import VoiceInfo
from atelico.errors import VoiceError
from atelico.models.assets.atomic import AtomicFile

if TYPE_CHECKING:
    import torch

log = logging.getLogger(__name__)

DEFAULT_VOICE = "alba"
VOICE_LANGUAGE = "en"
PACK_FORMAT = "atelico.pocket.voice/1"
PACK_SUFFIX = ".safetensors"

#: The built-in voices with their speakers' genders (hub voice sources: VCTK speakers'
#: published genders, the Les Misérables character names, the donors' names).
BUILTIN_VOICES: Mapping[str, str] = {
    "alba": "female", "anna": "female", "azelma": "female", "bill_boerst": "male",
    "caro_davy": "female", "charles": "male", "cosette": "female", "eponine": "female",
    "eve": "female", "fantine": "female", "george": "male", "jane": "female",
    "javert": "male", "jean": "male", "kate": "female", "marius": "male", "mary": "female",
    "michael": "male", "morgan": "male", "paul": "male", "peter_yearsley": "male",
    "stuart_bell": "male", "vera": "female", "ian": "male",
}

_VOICE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}\Z")

State = dict[str, dict[str, "torch.Tensor"]]


def check_voice_id(voice_id: str) -> str:
    """Return ``voice_id`` if it is a safe file stem, else raise ``VoiceError`` ``voice.invalid``.

    Allowed: 1–64 ASCII letters, digits, ``_`` and ``-``, not starting with ``_``/``-``. That
    rules out paths (``/``, ``\\``, ``..``), hidden files and names with a suffix.
    """
    if not isinstance(voice_id, str) or not _VOICE_ID.match(voice_id):
        raise VoiceError(
            f"invalid voice id {voice_id!r}: use 1-64 letters, digits, '_' or '-' "
            "(no paths or file suffixes)", code="voice.invalid", http_status=400,
            details={"voice": str(voice_id)})
    return voice_id


def voice_info(voice_id: str, *, custom: bool) -> VoiceInfo:
    """The ``VoiceInfo`` of a built-in (gender known) or custom voice."""
    return VoiceInfo(id=voice_id, language=VOICE_LANGUAGE, gender=BUILTIN_VOICES.get(voice_id),
                     name=voice_id.replace("_", " ").title(), custom=custom)


def packs_dir(voices_dir: Path) -> Path:
    """Where cloned Pocket voices live: ``<voices_dir>/pocket``."""
    return voices_dir / "pocket"


@dataclass(frozen=True)
class PackInfo:
    """A voice pack found on disk and the weights it was made with."""

    voice_id: str
    path: Path
    weights: str


def scan_packs(directory: Path, weights: str) -> dict[str, PackInfo]:
    """The packs in ``directory`` usable with ``weights`` (others are skipped with a warning).

    Files that are not valid voice ids, that shadow a built-in voice, or whose header cannot
    be read are skipped too; this never raises for a bad file.
    """
    found: dict[str, PackInfo] = {}
    if not directory.is_dir():
        return found
    for path in sorted(directory.glob(f"*{PACK_SUFFIX}")):
        voice_id = path.name[: -len(PACK_SUFFIX)]
        if not _VOICE_ID.match(voice_id) or voice_id in BUILTIN_VOICES:
            log.warning("ignoring voice pack %s: not a usable custom voice id", path)
            continue
        try:
            meta = read_pack_metadata(path)
        except (OSError, ValueError) as exc:
            log.warning("ignoring unreadable voice pack %s: %s", path, exc)
            continue
        made_with = meta.get("weights", "")
        if made_with and made_with != weights:
            log.warning("ignoring voice pack %s: made with weights %r, these are %r",
                        path, made_with, weights)
            continue
        found[voice_id] = PackInfo(voice_id, path, made_with or weights)
    return found


def read_pack_metadata(path: Path) -> dict[str, str]:
    """The string metadata of a safetensors file (read from its JSON header only)."""
    with open(path, "rb") as fh:
        head = fh.read(8)
        if len(head) != 8:
            raise ValueError("not a safetensors file (too short)")
        size = int.from_bytes(head, "little")
        if size <= 0 or size > 100 * 2**20:
            raise ValueError("not a safetensors file (bad header size)")
        header = json.loads(fh.read(size))
    meta = header.get("__metadata__") or {}
    return {str(k): str(v) for k, v in meta.items()}


def load_state(path: Path, device: "torch.device", cache_dtype: "torch.dtype") -> State:
    """Read a voice state file; float tensors are cast to ``cache_dtype`` on ``device``.

    Accepts this module's packs, ``pocket-tts export-voice`` files and the hub embeddings
    (including their older ``current_end`` step counter).
    """
    import safetensors
    import torch

    state: State = {}
    with safetensors.safe_open(str(path), framework="pt") as fh:
        for key in fh.keys():
            module, _, name = key.rpartition("/")
            if not module:
                raise ValueError(f"{path} is not a Pocket voice state (key {key!r})")
            tensor = fh.get_tensor(key)
            if name == "current_end":
                state.setdefault(module, {})["offset"] = torch.full(
                    (1,), tensor.shape[0], dtype=torch.long, device=device)
                continue
            if tensor.is_floating_point():
                tensor = tensor.to(cache_dtype)
            state.setdefault(module, {})[name] = tensor.to(device)
    if not state:
        raise ValueError(f"{path} holds no tensors")
    return state


def save_state_atomic(state: State, path: Path, metadata: Mapping[str, str]) -> Path:
    """Write a voice state as float32 safetensors: temp file in the same dir, then replace.

    A reader never sees a half-written pack, and a failed write leaves no file behind.
    """
    import safetensors.torch
    import torch

    flat: dict[str, torch.Tensor] = {}
    for module, tensors in state.items():
        for name, tensor in tensors.items():
            value = tensor.detach().to("cpu")
            if value.is_floating_point():
                value = value.to(torch.float32)
            flat[f"{module}/{name}"] = value.contiguous()
    with AtomicFile(path) as out:
        out.fh.close()  # safetensors writes by file name
        safetensors.torch.save_file(flat, str(out.tmp), metadata=dict(metadata))
        return out.commit()
