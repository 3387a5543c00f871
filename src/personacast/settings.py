"""Settings, read from ``PERSONACAST_*`` environment variables.

Entry points (CLI, service, tests) create one ``Settings`` and pass it down; nothing
in the package reads the environment on import.
"""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict, YamlConfigSettingsSource


def _default_data_dir() -> Path:
    return Path.home() / ".local" / "share" / "personacast"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PERSONACAST_", extra="ignore", populate_by_name=True)

    @classmethod
    def settings_customise_sources(cls, settings_cls, init_settings, env_settings, dotenv_settings, file_secret_settings):
        """Arguments, then PERSONACAST_* variables, then the YAML file named by
        PERSONACAST_CONFIG_FILE (same field names, lower case), then defaults."""
        sources = [init_settings, env_settings, dotenv_settings, file_secret_settings]
        config_file = os.environ.get("PERSONACAST_CONFIG_FILE")
        if config_file:
            if not Path(config_file).is_file():
                from .errors import ConfigError

                raise ConfigError(f"PERSONACAST_CONFIG_FILE names a missing file: {config_file}")
            sources.append(YamlConfigSettingsSource(settings_cls, yaml_file=config_file))
        return tuple(sources)

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

    # Script writers (`write`, `plan`; extra "llm"). The openai writer uses the OpenAI key
    # and base URL above; openai_compatible talks to any server with OpenAI's chat API
    # (Ollama, vLLM, LM Studio), where a key is optional and the model has no default.
    anthropic_api_key: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("PERSONACAST_ANTHROPIC_API_KEY", "ANTHROPIC_API_KEY")
    )
    anthropic_base_url: str = "https://api.anthropic.com"
    openai_chat_model: str = "gpt-4.1-mini"
    anthropic_model: str = "claude-haiku-4-5"
    llm_base_url: str = "http://localhost:11434/v1"  # Ollama's default address
    llm_model: str | None = None
    llm_api_key: SecretStr | None = None

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

    # GPU backends (extra "gpu"; see devices.py and weights/). "auto" picks cuda, then
    # mps, then cpu; half precision is used only on a GPU. Weights are looked up in
    # MODELS_DIR/<model id>/ first, then in the Hugging Face cache (never downloaded).
    device: str = "auto"  # auto | cpu | cuda | cuda:N | mps
    precision: str = "auto"  # auto | fp32 | fp16 | bf16
    gpu_memory_mode: str = "auto"  # auto | full | offload | sequential_offload
    torch_compile: bool = False
    models_dir: Path | None = Field(default=None, description="model weights; defaults to DATA_DIR/models")
    hf_cache_dir: Path | None = Field(
        default=None, validation_alias=AliasChoices("PERSONACAST_HF_CACHE_DIR", "HF_HUB_CACHE")
    )
    lipsync_backend: str = "musetalk"  # musetalk (MIT weights) | wav2lip (non-commercial weights)
    # Image-to-video under the neural animator: none keeps the portrait still (head
    # motion only); svd | animatediff make natural motion. motion_model picks the
    # checkpoint: svd | svd-xt, or animatediff | animatelcm; auto: svd-xt or animatediff.
    motion_backend: str = "none"
    motion_model: str = "auto"

    # Service (extra "service"; see service/). Unset URLs derive from data_dir when read
    # (resolved_* below), so one machine needs no configuration. URLs are secrets because
    # they may carry passwords.
    database_url: SecretStr | None = Field(
        default=None, description="SQLAlchemy URL; defaults to sqlite:///DATA_DIR/personacast.db"
    )
    redis_url: SecretStr = SecretStr("redis://127.0.0.1:6379/0")
    storage_url: str | None = Field(
        default=None, description="file:///DIR or s3://BUCKET/PREFIX; defaults to DATA_DIR/artefacts"
    )
    # S3 credentials come from boto3's usual chain (environment, profile, instance role);
    # the endpoint points at an S3-compatible store (MinIO, R2) or, in tests, moto.
    s3_region: str | None = None
    s3_endpoint_url: str | None = None
    presign_expiry_s: int = Field(3600, gt=0, le=7 * 24 * 3600)  # S3 caps presigned URLs at 7 days
    # Signed CloudFront URLs instead of presigned S3 ones when all three are set.
    cloudfront_domain: str | None = None
    cloudfront_key_id: str | None = None
    cloudfront_private_key_path: Path | None = None
    # A worker holds a job for this long after each heartbeat; then the reconciler may
    # hand it to another worker.
    job_lease_s: float = Field(120.0, gt=0)
    # Workers (service/worker). Past the soft limit a render is stopped; the hard limit
    # kills one that does not stop. A job gets job_max_attempts tries in all (transient
    # errors, dead workers) before it fails.
    render_soft_time_limit_s: float = Field(1800.0, gt=0)
    render_time_limit_s: float = Field(1900.0, gt=0)
    job_max_attempts: int = Field(3, ge=1, le=20)
    # The reconciler runs every reconcile_interval_s and sends a job that has waited in the
    # queue longer than requeue_queued_after_s to the broker again (it may have lost it).
    reconcile_interval_s: float = Field(30.0, gt=0)
    requeue_queued_after_s: float = Field(600.0, gt=0)
    # API (service/api). Uploads are refused past these sizes (pictures also past
    # media/image.py's pixel limit); each API key gets rate_limit_per_minute requests,
    # in bursts of up to rate_limit_burst.
    max_upload_bytes: int = Field(20 * 1024 * 1024, gt=0)
    max_audio_upload_bytes: int = Field(50 * 1024 * 1024, gt=0)
    rate_limit_per_minute: float = Field(120.0, gt=0)
    rate_limit_burst: int = Field(30, ge=1)
    # Webhooks: each tenant's signing secret derives from this one (default: a random one
    # kept in DATA_DIR/webhook-secret; machines that share a queue must share the setting).
    # Private and loopback addresses are refused unless allowed (a test or on-premise setup).
    webhook_secret: SecretStr | None = None
    webhook_timeout_s: float = Field(5.0, gt=0, le=60)
    webhook_attempts: int = Field(3, ge=1, le=10)
    webhook_allow_private: bool = False

    @property
    def resolved_models_dir(self) -> Path:
        return self.models_dir or (self.data_dir / "models")

    @property
    def resolved_hf_cache_dir(self) -> Path:
        if self.hf_cache_dir is not None:
            return self.hf_cache_dir
        hf_home = os.environ.get("HF_HOME")
        return Path(hf_home) / "hub" if hf_home else Path.home() / ".cache" / "huggingface" / "hub"

    @property
    def resolved_cache_dir(self) -> Path:
        return self.cache_dir or (self.data_dir / "cache")

    @property
    def resolved_database_url(self) -> str:
        if self.database_url is not None:
            return self.database_url.get_secret_value()
        return f"sqlite:///{self.data_dir / 'personacast.db'}"

    @property
    def resolved_storage_url(self) -> str:
        return self.storage_url or (self.data_dir / "artefacts").absolute().as_uri()
