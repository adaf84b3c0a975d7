"""One config tree: CLI flags > ``ATELICO_*`` environment variables > defaults.

Nested sections read ``ATELICO_<SECTION>__<FIELD>`` (e.g. ``ATELICO_SERVER__PORT``); the
reference's flat names (``ATELICO_KOKORO_QUANT``, ``ATELICO_TTS_DTYPE``,
``ATELICO_POCKET_TTS_MAX_TOKENS``, ``ATELICO_CACHE_DIR``, ``ATELICO_TOKEN``) work too, and
``ATELICO_LOG_FILE`` (docs/launch.md).
Build it once with :func:`load_settings` in ``main`` and pass it down; it reads only the
environment it is given (``env={}``: none at all).
"""

from __future__ import annotations

import os
import sys
from contextvars import ContextVar
from pathlib import Path
from typing import Any, Literal, Mapping

from pydantic import BaseModel, Field
from pydantic_settings import (BaseSettings, EnvSettingsSource, PydanticBaseSettingsSource,
                               SettingsConfigDict)

from atelico.protocol.request import DEFAULT_MAX_INPUT_CHARS

Device = Literal["auto", "cpu", "cuda"]

#: The environment the settings being built read (``None``: ``os.environ``); set by
#: :func:`load_settings` for the one construction it makes.
_ENVIRON: ContextVar[Mapping[str, str] | None] = ContextVar("atelico_environ", default=None)


def _environ() -> Mapping[str, str]:
    given = _ENVIRON.get()
    return os.environ if given is None else given


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
    base = _environ().get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
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
    max_input_chars: int = Field(DEFAULT_MAX_INPUT_CHARS, ge=1, description="Longest TTS input, characters.")
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
                                  "int8_float16, float16, float32 or auto). Also picks "
                                  "whisper-base's weights: the shipped int8 ones for auto, "
                                  "int8 and int8_float32, float16 ones for the other "
                                  "CTranslate2 types (catalog variants).")


#: The reference's flat names and the nested variable each one stands for.
FLAT_ENV: dict[str, str] = {
    "ATELICO_KOKORO_QUANT": "ATELICO_MODELS__KOKORO_QUANT",
    "ATELICO_TTS_DTYPE": "ATELICO_MODELS__TTS_DTYPE",
    "ATELICO_POCKET_TTS_MAX_TOKENS": "ATELICO_MODELS__POCKET_TTS_MAX_TOKENS",
    "ATELICO_CACHE_DIR": "ATELICO_MODELS__CACHE_DIR",
    "ATELICO_DEVICE": "ATELICO_MODELS__DEVICE",
    "ATELICO_OFFLINE": "ATELICO_MODELS__OFFLINE",
    "ATELICO_TOKEN": "ATELICO_SERVER__TOKEN",
    "ATELICO_LOG_FILE": "ATELICO_SERVER__LOG_FILE",
    "ATELICO_API_KEY": "ATELICO_SERVER__API_KEY",
    "ATELICO_HOST": "ATELICO_SERVER__HOST",
    "ATELICO_PORT": "ATELICO_SERVER__PORT",
}


class EnvironSource(EnvSettingsSource):
    """pydantic-settings' environment source over a given mapping, the flat names read as
    their nested ones (a nested name given too wins)."""

    def __init__(self, settings_cls: type[BaseSettings], environ: Mapping[str, str]) -> None:
        names = {FLAT_ENV.get(k, k): v for k, v in environ.items() if k in FLAT_ENV}
        names.update((k, v) for k, v in environ.items() if k not in FLAT_ENV)
        self._given = names
        super().__init__(settings_cls)

    def _load_env_vars(self) -> Mapping[str, str | None]:
        return {k.lower(): v for k, v in self._given.items() if v != ""}

    def decode_complex_value(self, field_name: str, field: Any, value: Any) -> Any:
        """Lists as JSON (``["tts","whisper"]``) or comma-separated (``tts,whisper``)."""
        try:
            return super().decode_complex_value(field_name, field, value)
        except ValueError:
            if isinstance(value, str) and not value.lstrip().startswith(("[", "{")):
                return [part.strip() for part in value.split(",") if part.strip()]
            raise


class Settings(BaseSettings):
    """The whole configuration tree."""

    model_config = SettingsConfigDict(env_prefix="ATELICO_", env_nested_delimiter="__",
                                      env_ignore_empty=True, extra="ignore")

    server: ServerSettings = Field(default_factory=lambda: ServerSettings.model_validate({}))
    limits: LimitSettings = Field(default_factory=lambda: LimitSettings.model_validate({}))
    models: ModelSettings = Field(default_factory=lambda: ModelSettings.model_validate({}))

    @classmethod
    def settings_customise_sources(cls, settings_cls: type[BaseSettings],
                                   init_settings: PydanticBaseSettingsSource,
                                   env_settings: PydanticBaseSettingsSource,
                                   dotenv_settings: PydanticBaseSettingsSource,
                                   file_secret_settings: PydanticBaseSettingsSource
                                   ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Arguments, then the environment being built from (no .env file, no secrets dir)."""
        return init_settings, EnvironSource(settings_cls, _environ())

    @property
    def models_dir(self) -> Path:
        return self.models.bundle_models_dir or self.models.cache_dir / "models"

    @property
    def voices_dir(self) -> Path:
        return self.models.cache_dir / "voices"


def load_settings(overrides: dict[str, dict[str, Any]] | None = None,
                  env: Mapping[str, str] | None = None) -> Settings:
    """Build the settings: ``overrides`` (CLI flags) win over env vars, which win over defaults.

    Args:
        overrides: ``{"server": {"port": 0}, ...}``; ``None`` values are ignored.
        env: the environment to read (``None``: ``os.environ``; ``{}``: none). Lists are JSON
            (``ATELICO_MODELS__PRELOAD='["tts","whisper"]'``).
    """
    given = {section: {k: v for k, v in values.items() if v is not None}
             for section, values in (overrides or {}).items()}
    token = _ENVIRON.set(os.environ if env is None else dict(env))
    try:
        return Settings.model_validate(given)
    finally:
        _ENVIRON.reset(token)
