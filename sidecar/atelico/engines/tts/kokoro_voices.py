"""Kokoro voice tensors: the 54 built-in voices, cloned ones, blends like ``af_bella(2)+af_sky``."""

from __future__ import annotations

import logging
import math
import re
import threading
from pathlib import Path

import numpy as np

from atelico.engines.base import VoiceInfo
from atelico.errors import VoiceError
from atelico.models.assets.atomic import write_bytes_atomic

from .g2p import LANGUAGES

log = logging.getLogger(__name__)

#: Rows of a voice tensor: one 256-d style per phoneme-sequence length (1..510).
VOICE_ROWS = 510
STYLE_DIM = 256
DEFAULT_VOICE = "af_heart"
#: A voice id: letters, digits, ``_`` and ``-`` (so never a path). ``\Z``, not ``$``, which
#: would let ``"nl\n"`` through.
VOICE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_\-]{0,63}\Z")
_PART = re.compile(r"^\s*([^()\s]+)\s*(?:\(\s*([0-9]*\.?[0-9]+)\s*\))?\s*$")
_GENDERS = {"f": "female", "m": "male"}
#: Blend weights outside this range are refused (only their ratios matter; beyond it they
#: overflow or underflow float32 into a NaN or all-zero style that Kokoro renders as silence).
MIN_WEIGHT, MAX_WEIGHT = 1e-3, 1e3
#: OpenAI's voice names -> the Kokoro voice they mean: the ``af_``/``am_``/``bm_`` voice of the
#: same name where Kokoro has one, otherwise the default voice (``af_heart``) for OpenAI's
#: female voices and ``am_michael`` for its male ones. A Kokoro voice of the same name (a
#: custom one) wins; the table is in docs/protocol.md.
OPENAI_VOICES: dict[str, str] = {
    "alloy": "af_alloy", "nova": "af_nova", "echo": "am_echo", "onyx": "am_onyx",
    "fable": "bm_fable", "shimmer": DEFAULT_VOICE, "coral": DEFAULT_VOICE,
    "sage": DEFAULT_VOICE, "marin": DEFAULT_VOICE, "ash": "am_michael",
    "ballad": "am_michael", "verse": "am_michael", "cedar": "am_michael",
}


def load_voice_file(path: Path) -> np.ndarray:
    """Read a voice as float32 ``[510, 256]`` from ``.bin`` (raw float32), ``.npy``, ``.safetensors``.

    Raises:
        ValueError: the file does not hold 510 x 256 floats.
    """
    suffix = path.suffix.lower()
    if suffix == ".bin":
        data = np.fromfile(path, dtype="<f4")
    elif suffix == ".npy":
        data = np.load(path, allow_pickle=False)
    elif suffix == ".safetensors":
        from safetensors.numpy import load_file

        tensors = load_file(str(path))
        if not tensors:
            raise ValueError(f"{path} holds no tensor")
        data = tensors.get("voice", next(iter(tensors.values())))
    else:
        raise ValueError(f"unsupported voice file type: {path.name}")
    data = np.asarray(data, dtype=np.float32)
    if data.size != VOICE_ROWS * STYLE_DIM:
        raise ValueError(f"{path} has {data.size} values, expected {VOICE_ROWS}x{STYLE_DIM}")
    return data.reshape(VOICE_ROWS, STYLE_DIM)


def save_voice_file(path: Path, voice: np.ndarray) -> Path:
    """Write a voice as raw float32 ``[510, 1, 256]`` atomically (temp file + ``os.replace``)."""
    data = np.ascontiguousarray(np.asarray(voice, dtype="<f4").reshape(VOICE_ROWS, 1, STYLE_DIM))
    return write_bytes_atomic(path, data.tobytes())


def voice_info(voice_id: str, custom: bool = False) -> VoiceInfo:
    """Describe a voice from its id ``<lang><gender>_<name>`` (unknown prefix: en-US)."""
    prefix, _, name = voice_id.partition("_")
    if len(prefix) == 2 and prefix[0] in LANGUAGES and prefix[1] in _GENDERS and name:
        return VoiceInfo(id=voice_id, language=LANGUAGES[prefix[0]],
                         gender=_GENDERS[prefix[1]], name=name, custom=custom)
    return VoiceInfo(id=voice_id, language="en-US", gender=None, name=voice_id, custom=custom)


def builtin_voice_files(builtin_dir: Path) -> list[Path]:
    """The built-in ``<id>.bin`` files (in ``builtin_dir`` or its ``voices/`` folder).

    Raises:
        FileNotFoundError: there are none.
    """
    folder = builtin_dir / "voices" if (builtin_dir / "voices").is_dir() else builtin_dir
    files = sorted(folder.glob("*.bin"))
    if not files:
        raise FileNotFoundError(f"no Kokoro voices (*.bin) in {folder}")
    return files


def custom_voices(custom_dir: Path | None, builtin: set[str]) -> dict[str, np.ndarray]:
    """The valid custom voices of ``custom_dir`` by id (bad names and files are skipped)."""
    found: dict[str, np.ndarray] = {}
    if custom_dir is None or not custom_dir.is_dir():
        return found
    for path in sorted(custom_dir.iterdir()):
        if path.suffix.lower() not in (".bin", ".npy", ".safetensors"):
            continue
        voice_id = path.stem
        if not VOICE_ID.match(voice_id) or voice_id in builtin:
            log.warning("ignoring custom Kokoro voice %s (invalid or built-in name)", path)
            continue
        try:
            found[voice_id] = load_voice_file(path)
        except (OSError, ValueError) as exc:
            log.warning("ignoring custom Kokoro voice %s: %s", path, exc)
    return found


def list_voices(builtin_dir: Path, custom_dir: Path | None = None) -> list[VoiceInfo]:
    """What :meth:`VoiceBank.infos` would say, without loading the built-in tensors (their
    file names are their ids) or any model: the voice catalog ``GET /v1/voices`` answers from."""
    builtin = sorted(path.stem for path in builtin_voice_files(builtin_dir))
    custom = sorted(custom_voices(custom_dir, set(builtin)))
    return [voice_info(v) for v in builtin] + [voice_info(v, custom=True) for v in custom]


class VoiceBank:
    """Holds voice tensors by id and resolves voice specs, blends included.

    Built-in voices come from ``builtin_dir`` (``<id>.bin``, or a ``voices/`` folder in it);
    custom voices from ``custom_dir`` (``<id>.bin|.npy|.safetensors``), rescanned on demand.
    A custom voice may not shadow a built-in one.
    """

    def __init__(self, builtin_dir: Path, custom_dir: Path | None = None) -> None:
        self._lock = threading.Lock()
        self._custom_dir = custom_dir
        self._builtin: dict[str, np.ndarray] = {
            path.stem: load_voice_file(path) for path in builtin_voice_files(builtin_dir)}
        self._custom: dict[str, np.ndarray] = {}
        self.rescan()

    @property
    def custom_dir(self) -> Path | None:
        """Where custom (cloned) voices are read from."""
        return self._custom_dir

    def rescan(self) -> list[str]:
        """Reload the custom voices folder; returns the custom voice ids found."""
        found = custom_voices(self._custom_dir, set(self._builtin))
        with self._lock:
            self._custom = found
        return sorted(found)

    def infos(self) -> list[VoiceInfo]:
        with self._lock:
            custom = sorted(self._custom)
        return ([voice_info(v) for v in sorted(self._builtin)]
                + [voice_info(v, custom=True) for v in custom])

    def ids(self) -> list[str]:
        with self._lock:
            return sorted(self._builtin) + sorted(self._custom)

    def get(self, voice_id: str) -> np.ndarray | None:
        with self._lock:
            return self._builtin.get(voice_id, self._custom.get(voice_id))

    def _canonical(self, name: str) -> str:
        """The voice id ``name`` means: itself, or the Kokoro voice of an OpenAI voice name."""
        if name not in OPENAI_VOICES or self.get(name) is not None:
            return name
        return OPENAI_VOICES[name]

    def resolve(self, spec: str) -> tuple[np.ndarray, str]:
        """Turn ``af_heart``, ``af_bella(2)+af_sky(1)`` or an OpenAI name (``alloy``, see
        :data:`OPENAI_VOICES`) into a ``[510, 256]`` tensor.

        Returns:
            The (weighted-average) tensor and the Kokoro language code of the first voice.

        Raises:
            VoiceError: ``voice.invalid`` for a malformed spec or a path-like name,
                ``voice.unknown`` (with ``details.known``) for a voice that does not exist.
        """
        if not isinstance(spec, str) or not spec.strip():
            raise VoiceError("voice must be a non-empty string", code="voice.invalid",
                             http_status=400, details={"voice": spec})
        parts: list[tuple[str, float]] = []
        for raw in spec.split("+"):
            match = _PART.match(raw)
            if not match or not VOICE_ID.match(match.group(1)):
                raise VoiceError(f"invalid voice name {raw.strip()!r}: use letters, digits, "
                                 "'_' and '-', optionally weighted like af_bella(2)+af_sky(1)",
                                 code="voice.invalid", http_status=400, details={"voice": spec})
            weight = float(match.group(2)) if match.group(2) else 1.0
            if not (math.isfinite(weight) and MIN_WEIGHT <= weight <= MAX_WEIGHT):
                raise VoiceError(f"voice weight in {raw.strip()[:80]!r} must be a number from "
                                 f"{MIN_WEIGHT:g} to {MAX_WEIGHT:g}", code="voice.invalid",
                                 http_status=400, details={"voice": spec[:256],
                                                           "min_weight": MIN_WEIGHT,
                                                           "max_weight": MAX_WEIGHT})
            parts.append((match.group(1), weight))
        parts = [(self._canonical(name), weight) for name, weight in parts]
        tensors = []
        for name, _ in parts:
            tensor = self.get(name)
            if tensor is None:
                raise VoiceError(f"unknown Kokoro voice {name!r}",
                                 details={"voice": name, "known": self.ids()})
            tensors.append(tensor)
        weights = np.array([w for _, w in parts], dtype=np.float64)
        blend = np.tensordot(weights / weights.sum(), np.stack(tensors).astype(np.float64), axes=1)
        if not np.isfinite(blend).all() or not np.any(blend):
            raise VoiceError(f"voice {spec[:80]!r} makes an unusable style (not finite, or the "
                             "voices cancel out to silence)", code="voice.invalid",
                             http_status=400, details={"voice": spec[:256]})
        return blend.astype(np.float32), _code_of(parts[0][0])


def _code_of(voice_id: str) -> str:
    first = voice_id[:1]
    return first if first in LANGUAGES and voice_id[2:3] == "_" else "a"
