"""Anthropic's messages API. It has no JSON mode: the system prompt asks for JSON and
``repair`` takes it out of whatever surrounds it."""

from __future__ import annotations

from functools import cached_property
from typing import Any

from ...errors import ConfigError
from ...settings import Settings
from ..voice.paid_api import ApiFailure, Provider
from .chat import MAX_OUTPUT_TOKENS, ChatWriter, Completion, Message

ANTHROPIC = Provider(
    name="Anthropic", backend="anthropic", module="anthropic", key_variable="ANTHROPIC_API_KEY", extra="llm",
    refused_error=ConfigError, refused_hint="check the model (--model or PERSONACAST_ANTHROPIC_MODEL)",
)


class AnthropicWriter(ChatWriter):
    name = "anthropic"
    provider = ANTHROPIC

    def default_model(self, settings: Settings) -> str:
        return settings.anthropic_model

    @cached_property
    def _client(self) -> Any:
        return ANTHROPIC.import_client().Anthropic(
            api_key=ANTHROPIC.api_key(self._settings.anthropic_api_key), base_url=self._settings.anthropic_base_url,
            timeout=self._settings.api_timeout_s, max_retries=0,  # Provider.call retries
        )

    def complete(self, system: str, messages: list[Message]) -> Completion:
        client = self._client
        library = ANTHROPIC.import_client()

        def attempt() -> Any:
            try:
                return client.messages.create(
                    model=self.model, max_tokens=MAX_OUTPUT_TOKENS, system=system, messages=messages
                )
            except library.APIStatusError as exc:
                raise anthropic_failure(exc.status_code, exc.body) from exc
            except library.APIConnectionError as exc:  # timeouts included
                raise ApiFailure(None, f"{exc.message} ({self._settings.anthropic_base_url})") from exc

        response = ANTHROPIC.call(attempt, self._settings.api_max_retries)
        text = "".join(block.text for block in response.content if getattr(block, "type", "") == "text")
        usage = response.usage
        return Completion(
            text=text,
            input_tokens=getattr(usage, "input_tokens", 0) or 0,
            output_tokens=getattr(usage, "output_tokens", 0) or 0,
        )


def anthropic_failure(status: int, body: object) -> ApiFailure:
    """The body is {"type": "error", "error": {"type", "message"}}. A spent balance comes
    as billing_error, HTTP 402, or (older API versions) a 400 about the credit balance."""
    error = body.get("error") if isinstance(body, dict) else None
    kind = str(error.get("type") or "") if isinstance(error, dict) else ""
    message = str(error.get("message") or error) if isinstance(error, dict) else str(body or "")
    spent = kind == "billing_error" or status == 402 or "credit balance" in message.lower()
    return ApiFailure(status, message, quota_exhausted=spent)
