"""Asset cache: verify files by size and sha256, fill gaps from installed packages, npm or the hub.

An asset is a directory ``<settings.models_dir>/<asset_id>/``. :func:`ensure_asset` returns it
once every catalog file is present and matches its pinned sha256, trying in order:

1. the cache itself (:mod:`.cache`, :mod:`.integrity`). A file is hashed before its first
   load; afterwards a stamp keyed on size and mtime lets it load at once, and the file is
   re-hashed on a background thread (once per process): on a mismatch it is logged, its stamp
   entry is dropped and every later load refuses it with :class:`ModelIntegrity` (a loaded
   engine keeps running);
2. the catalog's sources (:mod:`.sources`), in order: weights shipped inside installed Python
   packages (found with ``importlib.metadata``), concatenated into place atomically, or voices
   from the ``kokoro-js`` npm tarball;
3. the network, unless ``settings.models.offline`` or ``HF_HUB_OFFLINE`` is set: the Hugging
   Face hub (``huggingface_hub``) or a plain URL. An unreachable hub is detected in seconds.

A file whose bytes differ from the catalog is refused with :class:`ModelIntegrity`; nothing
ever renames a file into the cache before it has been hashed (:mod:`.atomic`).
"""

from __future__ import annotations

from atelico.models.assets.atomic import AtomicFile, write_atomic, write_json_atomic
from atelico.models.assets.cache import (MANIFEST_NAME, STAMP_NAME, FileCheck, FileStatus,
                                         VerifyingWriter, asset_dir, asset_present,
                                         expected_files, read_stamp, save_stamp, sha256_file,
                                         stamp_file)
from atelico.models.assets.ensure import asset_obtainable_locally, ensure_asset, remove_asset
from atelico.models.assets.integrity import BACKGROUND, BackgroundVerifier, verify_asset

# The names the single module had before it was split (tests and tools use them).
_VerifyingWriter = VerifyingWriter
_read_stamp = read_stamp
_save_stamp = save_stamp
_stamp_file = stamp_file
_write_json_atomic = write_json_atomic

__all__ = [
    "BACKGROUND", "MANIFEST_NAME", "STAMP_NAME", "AtomicFile", "BackgroundVerifier", "FileCheck",
    "FileStatus", "VerifyingWriter", "asset_dir", "asset_obtainable_locally",
    "asset_present", "ensure_asset", "expected_files", "read_stamp", "remove_asset",
    "save_stamp", "sha256_file", "stamp_file", "verify_asset", "write_atomic",
    "write_json_atomic",
]
