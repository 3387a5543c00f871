"""OpenAI voices through the speech endpoint (``audio.speech.create``).

The endpoint returns audio only, no timings: the utterance leaves words and phones
empty and the narrator force-aligns it.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

from ...models import VoiceProfile
from ...settings import Settings
from .paid_api import PCM_RATE_HZ, ApiFailure, Provider
from .utterance import SpeechRequest, Utterance

OPENAI = Provider(name="OpenAI", backend="openai", module="openai", key_variable="OPENAI_API_KEY")
DEFAULT_MODEL = "gpt-4o-mini-tts"
DEFAULT_VOICE = "alloy"
SPEED_RANGE = (0.25, 4.0)


class OpenAIVoiceEngine:
    name = "openai"
    # The endpoint takes up to 4,096 characters; half of that keeps a failed request
    # cheap to retry and the forced alignment of each piece short.
    max_chunk_chars = 2000

    def __init__(self, settings: Settings) -> None:
        self._settings = settings

    def cache_identity(self, profile: VoiceProfile) -> str:
        # The client library's version is left out: it does not change the audio.
        return f"openai:{profile.model or DEFAULT_MODEL}:{profile.voice or DEFAULT_VOICE}:pcm{PCM_RATE_HZ}"

    @cached_property
    def _client(self) -> Any:
        # Built on first use, so a render served from the cache needs no key. Two
        # threads racing here build two clients and keep one, which is harmless.
        key = OPENAI.api_key(self._settings.openai_api_key)
        return OPENAI.import_client().OpenAI(
            api_key=key,
            base_url=self._settings.openai_base_url,
            timeout=self._settings.api_timeout_s,
            max_retries=0,  # Provider.call retries (the client would retry a spent quota too)
        )

    def speak(self, request: SpeechRequest, profile: VoiceProfile) -> Utterance:
        client = self._client
        library = OPENAI.import_client()
        speed, notes = OPENAI.clamp_speed(profile.speaking_rate, *SPEED_RANGE)

        def attempt() -> bytes:
            try:
                return client.audio.speech.create(
                    model=profile.model or DEFAULT_MODEL,
                    voice=profile.voice or DEFAULT_VOICE,
                    input=request.text,
                    response_format="pcm",  # 24 kHz, 16-bit little-endian, mono
                    speed=speed,
                ).content
            except library.APIStatusError as exc:
                raise openai_failure(exc.status_code, exc.body, exc.code) from exc
            except library.APIConnectionError as exc:  # timeouts included
                raise ApiFailure(None, exc.message) from exc

        samples = OPENAI.pcm16_samples(OPENAI.call(attempt, self._settings.api_max_retries))
        return Utterance(
            samples=samples, sample_rate_hz=PCM_RATE_HZ, billed_characters=len(request.text), notes=notes
        )


def openai_failure(status: int, body: object, code: str | None) -> ApiFailure:
    # The client unwraps {"error": {"message", "type", "code"}} into ``body``.
    message = str(body.get("message") or body) if isinstance(body, dict) else str(body or "")
    return ApiFailure(status, message, quota_exhausted=code == "insufficient_quota")
