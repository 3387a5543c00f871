"""Settings, read from ``PERSONACAST_*`` environment variables.

Entry points (CLI, service, tests) create one ``Settings`` and pass it down; nothing
in the package reads the environment on import.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
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
    max_script_chars: int = 5000
    min_face_width_px: int = 48

    @property
    def resolved_cache_dir(self) -> Path:
        return self.cache_dir or (self.data_dir / "cache")
