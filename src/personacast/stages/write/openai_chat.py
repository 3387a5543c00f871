"""OpenAI's chat completions API in JSON mode (``response_format: json_object``)."""

from __future__ import annotations

from functools import cached_property
from typing import Any

from ...errors import ConfigError
from ...settings import Settings
from ..voice.openai_tts import openai_failure
from ..voice.paid_api import ApiFailure, Provider
from .chat import MAX_OUTPUT_TOKENS, ChatWriter, Completion, Message

OPENAI_CHAT = Provider(
    name="OpenAI", backend="openai", module="openai", key_variable="OPENAI_API_KEY", extra="llm",
    refused_error=ConfigError, refused_hint="check the model (--model or PERSONACAST_OPENAI_CHAT_MODEL)",
)


class OpenAIWriter(ChatWriter):
    name = "openai"
    provider = OPENAI_CHAT

    def default_model(self, settings: Settings) -> str:
        return settings.openai_chat_model

    def api_key(self) -> str:
        return self.provider.api_key(self._settings.openai_api_key)

    @property
    def base_url(self) -> str:
        return self._settings.openai_base_url

    def request_options(self) -> dict[str, Any]:
        # max_completion_tokens: the reasoning models refuse max_tokens. No temperature:
        # they refuse anything but the default, which suits writing anyway.
        return {"response_format": {"type": "json_object"}, "max_completion_tokens": MAX_OUTPUT_TOKENS}

    @cached_property
    def _client(self) -> Any:
        return self.provider.import_client().OpenAI(
            api_key=self.api_key(), base_url=self.base_url, timeout=self._settings.api_timeout_s,
            max_retries=0,  # Provider.call retries (the client would retry a spent quota too)
        )

    def complete(self, system: str, messages: list[Message]) -> Completion:
        client = self._client
        library = self.provider.import_client()
        options = self.request_options()

        def attempt() -> Any:
            try:
                return client.chat.completions.create(
                    model=self.model, messages=[{"role": "system", "content": system}, *messages], **options
                )
            except library.APIStatusError as exc:
                raise openai_failure(exc.status_code, exc.body, exc.code) from exc
            except library.APIConnectionError as exc:  # timeouts included
                raise ApiFailure(None, f"{exc.message} ({self.base_url})") from exc

        response = self.provider.call(attempt, self._settings.api_max_retries)
        text = (response.choices[0].message.content or "") if response.choices else ""
        usage = response.usage
        return Completion(
            text=text,
            input_tokens=getattr(usage, "prompt_tokens", 0) or 0,
            output_tokens=getattr(usage, "completion_tokens", 0) or 0,
        )
