"""Settings, read from ``PERSONACAST_*`` environment variables.

Entry points (CLI, service, tests) create one ``Settings`` and pass it down; nothing
in the package reads the environment on import.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


def _default_data_dir() -> Path:
    return Path.home() / ".local" / "share" / "personacast"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PERSONACAST_", extra="ignore")

    data_dir: Path = Field(default_factory=_default_data_dir)
    cache_dir: Path | None = Field(
        default=None, description="stage cache; defaults to DATA_DIR/cache"
    )
    use_cache: bool = True

    performer_backend: str = "default"
    animator_backend: str = "landmark_warp"
    composer_backend: str = "standard"

    # Threads for the TTS model; 0 = one per core (speech is made before encoding starts).
    # Set 1 when several renders share a machine.
    tts_threads: int = 0
    encoder_threads: int = 0  # 0 lets x264 choose
    # About 10 minutes of speech; long scripts are synthesised sentence by sentence.
    max_script_chars: int = 12000
    min_face_width_px: int = 48

    # Paid voice engines. Keys also come from the providers' usual variables; base URLs
    # point at a proxy or, in tests, at a local server speaking the provider's contract.
    elevenlabs_api_key: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("PERSONACAST_ELEVENLABS_API_KEY", "ELEVENLABS_API_KEY")
    )
    elevenlabs_base_url: str = "https://api.elevenlabs.io"
    openai_api_key: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("PERSONACAST_OPENAI_API_KEY", "OPENAI_API_KEY")
    )
    openai_base_url: str = "https://api.openai.com/v1"
    api_timeout_s: float = Field(60.0, gt=0)
    api_max_retries: int = Field(4, ge=0, le=10)

    # Kokoro (optional ONNX engine): model and voices files the user downloaded, and
    # Kokoro-82M's config.json for its phoneme vocabulary (see stages/voice/kokoro.py).
    kokoro_model_path: Path | None = None
    kokoro_voices_path: Path | None = None
    kokoro_config_path: Path | None = None

    # C2PA Content Credentials (extra "c2pa"): a PEM certificate chain and its private
    # key sign every video; an RFC 3161 timestamp authority keeps the signature valid
    # after the certificate expires. See stages/compose/c2pa_manifest.py.
    c2pa_cert_path: Path | None = None
    c2pa_key_path: Path | None = None
    c2pa_tsa_url: str | None = None

    @property
    def resolved_cache_dir(self) -> Path:
        return self.cache_dir or (self.data_dir / "cache")
