"""Any server that speaks OpenAI's chat completions API: Ollama, vLLM, LM Studio,
llama.cpp's server, proxies. ``PERSONACAST_LLM_BASE_URL`` (default: Ollama on this
machine), ``PERSONACAST_LLM_MODEL`` (required) and an optional ``PERSONACAST_LLM_API_KEY``.
"""

from __future__ import annotations

from typing import Any

from ...errors import ConfigError
from ...settings import Settings
from ..voice.paid_api import Provider
from .chat import MAX_OUTPUT_TOKENS, Completion, Message
from .openai_chat import OpenAIWriter

COMPATIBLE = Provider(
    name="OpenAI-compatible", backend="openai_compatible", module="openai", key_variable="PERSONACAST_LLM_API_KEY",
    extra="llm", refused_error=ConfigError,
    refused_hint="check the model (--model or PERSONACAST_LLM_MODEL) and PERSONACAST_LLM_BASE_URL",
)
# The client insists on a key; without one it would read OPENAI_API_KEY and send the
# user's OpenAI key to this server.
_NO_KEY = "no-key"


class OpenAICompatibleWriter(OpenAIWriter):
    name = "openai_compatible"
    provider = COMPATIBLE

    def __init__(self, settings: Settings, model: str | None = None) -> None:
        super().__init__(settings, model)
        self._json_mode = True

    def default_model(self, settings: Settings) -> str:
        if not settings.llm_model:
            raise ConfigError(
                "no model is set for the OpenAI-compatible endpoint",
                hint="set PERSONACAST_LLM_MODEL (e.g. llama3.1 for Ollama) or give --model",
            )
        return settings.llm_model

    def api_key(self) -> str:
        key = self._settings.llm_api_key
        return key.get_secret_value().strip() if key is not None and key.get_secret_value().strip() else _NO_KEY

    @property
    def base_url(self) -> str:
        return self._settings.llm_base_url

    def request_options(self) -> dict[str, Any]:
        # Older servers know max_tokens only; JSON mode is dropped once a server refuses it.
        json_mode = {"response_format": {"type": "json_object"}} if self._json_mode else {}
        return {"max_tokens": MAX_OUTPUT_TOKENS, **json_mode}

    def complete(self, system: str, messages: list[Message]) -> Completion:
        try:
            return super().complete(system, messages)
        except ConfigError as refused:
            # Some servers (LM Studio) accept only a JSON schema there; repair copes with prose.
            if not self._json_mode or "response_format" not in refused.message:
                raise
        self._json_mode = False
        return super().complete(system, messages)
