"""One config tree: CLI flags > ``ATELICO_*`` environment variables > defaults.

Nested sections read ``ATELICO_<SECTION>__<FIELD>`` (e.g. ``ATELICO_SERVER__PORT``); the
reference's flat names (``ATELICO_KOKORO_QUANT``, ``ATELICO_TTS_DTYPE``,
``ATELICO_POCKET_TTS_MAX_TOKENS``, ``ATELICO_CACHE_DIR``, ``ATELICO_TOKEN``) work too, and
``ATELICO_LOG_FILE`` (docs/launch.md).
Build it once with :func:`load_settings` in ``main`` and pass it down.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

Device = Literal["auto", "cpu", "cuda"]


def bundle_root() -> Path | None:
    """The folder of a frozen ``atelico bundle`` build (docs/bundle.md), else ``None``."""
    if getattr(sys, "frozen", False):
        return Path(sys.executable).resolve().parent
    return None


def bundle_models_dir() -> Path | None:
    """``<bundle>/models`` when running from a bundle that ships models (may be read-only)."""
    root = bundle_root()
    return root / "models" if root is not None and (root / "models").is_dir() else None


def default_cache_dir() -> Path:
    if bundle_root() is not None:  # a player's machine: cache, voices in the user data folder
        from atelico.lifecycle import user_data_dir

        return user_data_dir() / "atelico"
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "atelico"


class ServerSettings(BaseModel):
    """Where the sidecar listens and who may talk to it."""

    host: str = Field("127.0.0.1", description="Bind address. Non-loopback needs an API key.")
    port: int = Field(11434, ge=0, le=65535, description="TCP port; 0 picks a free one.")
    token: str | None = Field(None, description="Per-launch token clients must present "
                              "(Authorization: Bearer, X-Atelico-Token or the hello message).")
    api_key: str | None = Field(None, description="Key required for a non-loopback bind.")
    allowed_origins: list[str] = Field(default_factory=list, description="Extra browser "
                                       "Origins allowed besides the sidecar's own pages.")
    log_level: str = Field("info", description="Python logging level name.")
    log_file: Path | None = Field(None, description="Rotating log file of `serve` (default "
                                  "<user data dir>/atelico/logs/sidecar.log; docs/launch.md).")


class LimitSettings(BaseModel):
    """Bounds on what one client can make the sidecar hold."""

    max_frame_bytes: int = Field(8 * 2**20, ge=1024, description="Largest WebSocket frame, bytes.")
    max_upload_bytes: int = Field(100 * 2**20, ge=1024, description="Largest HTTP upload, bytes.")
    max_audio_s: float = Field(1800.0, gt=0, description="Longest audio accepted, seconds.")
    max_input_chars: int = Field(20_000, ge=1, description="Longest TTS input, characters.")
    max_in_flight: int = Field(16, ge=1, description="Concurrent requests per connection.")
    max_queue: int = Field(64, ge=1, description="Jobs waiting for a worker, whole server.")
    max_queue_per_client: int = Field(12, ge=1, description="Jobs one WebSocket connection or "
                                      "HTTP connection may hold queued or running.")
    max_connections: int = Field(64, ge=1, description="Open authenticated WebSocket connections.")
    max_pending_connections: int = Field(256, ge=1, description="WebSocket connections still "
                                         "waiting for their hello (counted apart, so idle sockets "
                                         "never lock an authenticated client out).")
    hello_timeout_s: float = Field(5.0, gt=0, description="A WebSocket that sends no hello this "
                                   "long is closed (protocol.hello_timeout), seconds.")
    header_timeout_s: float = Field(5.0, gt=0, description="An HTTP connection whose request "
                                    "headers are not complete this long is dropped, seconds.")
    live_max_lag_s: float = Field(4.0, gt=0, description="Live STT backlog before audio is "
                                  "dropped/merged instead of falling further behind, seconds.")


class ModelSettings(BaseModel):
    """Model cache, devices and lifecycle."""

    cache_dir: Path = Field(default_factory=default_cache_dir, description="Root of the asset "
                            "cache; models live under <cache_dir>/models/<asset>/.")
    device: Device = Field("auto", description="cpu, cuda or auto (cuda when available).")
    threads: int = Field(0, ge=0, description="Intra-op threads per model; 0 = all cores.")
    workers: int = Field(2, ge=1, description="Concurrent model jobs (executor threads).")
    idle_unload_s: float = Field(600.0, ge=0, description="Unload a model unused this long; "
                                 "0 = never.")
    preload: list[str] = Field(default_factory=lambda: ["tts"], description="Model ids loaded "
                               "at start so the first request is fast.")
    unload_preloaded: bool = Field(False, description="Let idle_unload_s unload preloaded models "
                                   "too (by default they stay loaded).")
    offline: bool = Field(default_factory=lambda: bundle_root() is not None,
                          description="Never try the Hugging Face hub (default on in a bundle).")
    bundle_models_dir: Path | None = Field(default_factory=bundle_models_dir, description="A "
                                           "bundle's read-only models folder (set when frozen).")
    kokoro_quant: str = Field("int8", description="Kokoro variant: int8 (offline default, ONNX) "
                              "or fp32 (hub weights). Reference values q8_0/q4_0 map to int8.")
    tts_dtype: Literal["auto", "f32", "bf16", "f16"] = Field("auto", description="Pocket TTS dtype.")
    pocket_tts_max_tokens: int = Field(50, ge=8, le=1000, description="Pocket TTS chunk size in "
                                       "SentencePiece tokens (>50 degrades audio).")
    pocket_random_weights: bool = Field(False, description="Run Pocket TTS on random weights when "
                                        "its hub weights are missing (plumbing tests only: "
                                        "noise-like audio, no speech).")
    stt_compute_type: str = Field("auto", description="CTranslate2 compute type (int8, "
                                  "int8_float16, float16, float32 or auto).")


class Settings(BaseSettings):
    """The whole configuration tree."""

    model_config = SettingsConfigDict(env_prefix="ATELICO_", env_nested_delimiter="__",
                                      extra="ignore")

    server: ServerSettings = Field(default_factory=ServerSettings)
    limits: LimitSettings = Field(default_factory=LimitSettings)
    models: ModelSettings = Field(default_factory=ModelSettings)

    @property
    def models_dir(self) -> Path:
        return self.models.bundle_models_dir or self.models.cache_dir / "models"

    @property
    def voices_dir(self) -> Path:
        return self.models.cache_dir / "voices"


_FLAT_ENV: dict[str, tuple[str, str]] = {
    "ATELICO_KOKORO_QUANT": ("models", "kokoro_quant"),
    "ATELICO_TTS_DTYPE": ("models", "tts_dtype"),
    "ATELICO_POCKET_TTS_MAX_TOKENS": ("models", "pocket_tts_max_tokens"),
    "ATELICO_CACHE_DIR": ("models", "cache_dir"),
    "ATELICO_DEVICE": ("models", "device"),
    "ATELICO_TOKEN": ("server", "token"),
    "ATELICO_LOG_FILE": ("server", "log_file"),
    "ATELICO_API_KEY": ("server", "api_key"),
    "ATELICO_HOST": ("server", "host"),
    "ATELICO_PORT": ("server", "port"),
    "ATELICO_OFFLINE": ("models", "offline"),
}


def load_settings(overrides: dict[str, dict[str, Any]] | None = None,
                  env: dict[str, str] | None = None) -> Settings:
    """Build the settings: ``overrides`` (CLI flags) win over env vars, which win over defaults.

    Args:
        overrides: ``{"server": {"port": 0}, ...}``; ``None`` values are ignored.
        env: environment to read (defaults to ``os.environ``).
    """
    env = dict(os.environ if env is None else env)
    data: dict[str, dict[str, Any]] = {"server": {}, "limits": {}, "models": {}}
    for name, value in env.items():
        if not name.startswith("ATELICO_") or value == "":
            continue
        if name in _FLAT_ENV:
            section, field = _FLAT_ENV[name]
            data[section][field] = value
        elif "__" in name:
            section, _, field = name[len("ATELICO_"):].lower().partition("__")
            if section in data:
                data[section][field] = _parse_env_value(value)
    for section, values in (overrides or {}).items():
        for key, value in values.items():
            if value is not None:
                data[section][key] = value
    return Settings.model_validate(data)


def _parse_env_value(value: str) -> Any:
    """Lists may be given as JSON (``["tts","whisper"]``) or comma-separated."""
    text = value.strip()
    if text.startswith("["):
        import json

        return json.loads(text)
    return value
