"""Names of new (cloned) voices: one strict pattern, and the files a name would collide with.

Checked before any cloning work starts (the HTTP job, the CLI) and again by the engines just
before they write, so a name is refused with a clear code instead of failing inside a job.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

from atelico.errors import RequestError

if TYPE_CHECKING:
    from atelico.config import Settings

#: Lowercase so that one name is one file on case-insensitive filesystems too; always used
#: with ``fullmatch`` (``re.match`` with ``$`` accepts a trailing newline: ``"nl\n"``).
NEW_VOICE_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
#: Custom voice files each engine reads from ``<voices_dir>/<engine>/``.
VOICE_SUFFIXES = {"kokoro": (".bin", ".npy", ".safetensors"), "pocket": (".safetensors",)}
KOKORO_VOICES_ASSET = "kokoro-82m-voices"


def check_new_voice_name(name: object) -> str:
    """Return ``name`` if it may name a new voice.

    Raises:
        RequestError: ``voice.invalid_name`` (400) unless it is 1–64 characters of ``a-z``,
            ``0-9``, ``_`` and ``-``, starting with a letter or digit.
    """
    if not isinstance(name, str) or not NEW_VOICE_NAME.fullmatch(name):
        shown = name[:80] if isinstance(name, str) else type(name).__name__
        raise RequestError(f"invalid voice name {shown!r}: use 1-64 lowercase letters, digits, "
                           "'_' or '-', starting with a letter or digit", code="voice.invalid_name",
                           details={"field": "name"})
    return name


def existing_custom_files(engine: str, name: str, voices_dir: Path) -> list[Path]:
    """The custom voice files of ``engine`` that already use ``name`` (any suffix it reads)."""
    folder = Path(voices_dir) / engine
    return [folder / f"{name}{suffix}" for suffix in VOICE_SUFFIXES[engine]
            if (folder / f"{name}{suffix}").is_file()]


def is_builtin(engine: str, name: str, settings: Settings) -> bool:
    """True if ``name`` is a voice the engine ships (read from files, no model is loaded)."""
    if engine == "pocket":
        from atelico.engines.tts.pocket_voices import BUILTIN_VOICES

        return name in BUILTIN_VOICES
    from atelico.models.assets import asset_dir

    root = asset_dir(KOKORO_VOICES_ASSET, settings)
    return (root / "voices" / f"{name}.bin").is_file() or (root / f"{name}.bin").is_file()


def check_voice_free(engine: str, name: str, settings: Settings, *, overwrite: bool) -> None:
    """Refuse a clone that would shadow a built-in voice or silently replace a custom one.

    Raises:
        RequestError: ``voice.invalid_name`` for a bad name; ``voice.exists`` (409) for a
            built-in name (always) or an existing custom voice unless ``overwrite``.
    """
    check_new_voice_name(name)
    if is_builtin(engine, name, settings):
        raise RequestError(f"{name!r} is a built-in {engine} voice; choose another name",
                           code="voice.exists", http_status=409,
                           details={"field": "name", "voice": name})
    if not overwrite and existing_custom_files(engine, name, settings.voices_dir):
        raise RequestError(f"a custom {engine} voice named {name!r} already exists; send "
                           "overwrite=true to replace it", code="voice.exists", http_status=409,
                           details={"field": "name", "voice": name})
