"""Atelico: an on-device audio runtime for games (TTS, STT, audio-to-face)."""

from __future__ import annotations

__version__ = "0.1.0"
PROTOCOL_VERSION = 1

__all__ = ["__version__", "PROTOCOL_VERSION"]
