"""What the paid-API voice engines (ElevenLabs, OpenAI) share: the key, the client
import, retries with backoff, PCM decoding, and one mapping from API failures to
personacast errors. The script writers (stages/write/) use the same ``Provider``.

Each engine turns its client library's exceptions into ``ApiFailure``; ``Provider.call``
decides what is worth another try. The clients' own retries are switched off because
neither fits: OpenAI's retries every 429, an exhausted quota included, and ElevenLabs'
ignores timeouts and refused connections and has a fixed delay.
"""

from __future__ import annotations

import importlib
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import TypeVar

import numpy as np
from pydantic import SecretStr

from ...errors import (
    BackendError,
    ConfigError,
    MissingDependencyError,
    PersonacastError,
    TransientBackendError,
    VoiceError,
)

T = TypeVar("T")

# Both engines ask for raw 16-bit little-endian mono PCM at this rate: no decoder needed.
PCM_RATE_HZ = 24000

_FIRST_DELAY_S = 1.0
_MAX_DELAY_S = 30.0
_RETRY_STATUSES = frozenset({408, 409, 429})
_MAX_MESSAGE_CHARS = 300

# Backoff waits go through this name so tests can make them instant.
_sleep: Callable[[float], None] = time.sleep


class ApiFailure(Exception):
    """An API call that failed; ``status`` is None when no HTTP answer came (timeout,
    refused connection)."""

    def __init__(self, status: int | None, message: str, *, quota_exhausted: bool = False) -> None:
        super().__init__(message)
        self.status = status
        self.message = " ".join(message.split())[:_MAX_MESSAGE_CHARS] or "no details given"
        self.quota_exhausted = quota_exhausted

    @property
    def retryable(self) -> bool:
        if self.quota_exhausted:
            return False
        return self.status is None or self.status in _RETRY_STATUSES or self.status >= 500


@dataclass(frozen=True)
class Provider:
    name: str  # as users know it: "ElevenLabs"
    backend: str  # the registry's backend name
    module: str  # the client library to import
    # The provider's usual environment variable, also read with the PERSONACAST_ prefix;
    # a name that already has the prefix is the only one.
    key_variable: str
    extra: str = "voices-api"  # the pip extra that installs ``module``
    # What a request the API refuses (4xx other than key, quota and rate) says is wrong.
    refused_error: type[PersonacastError] = VoiceError
    refused_hint: str = "check the voice and model of the voice profile"

    @property
    def key_variables(self) -> str:
        if self.key_variable.startswith("PERSONACAST_"):
            return self.key_variable
        return f"{self.key_variable} or PERSONACAST_{self.key_variable}"

    def api_key(self, secret: SecretStr | None) -> str:
        if secret is None or not secret.get_secret_value().strip():
            raise ConfigError(
                f"no {self.name} API key is set", hint=f"set {self.key_variables} to your {self.name} API key"
            )
        return secret.get_secret_value().strip()

    def import_client(self) -> ModuleType:
        try:
            return importlib.import_module(self.module)
        except ModuleNotFoundError as exc:
            raise MissingDependencyError(self.backend, self.extra, exc.name or self.module) from None

    def call(self, attempt: Callable[[], T], max_retries: int) -> T:
        """``attempt()`` until it succeeds, retrying failures that may pass with
        exponential, jittered backoff (jitter keeps parallel renders from retrying in step)."""
        retry = 0
        while True:
            try:
                return attempt()
            except ApiFailure as failure:
                if not failure.retryable or retry >= max_retries:
                    raise self._error(failure, attempts=retry + 1) from failure
            _sleep(min(_MAX_DELAY_S, _FIRST_DELAY_S * 2**retry) * random.uniform(0.5, 1.0))
            retry += 1

    def _error(self, failure: ApiFailure, attempts: int) -> PersonacastError:
        status, message = failure.status, failure.message
        if failure.quota_exhausted:
            return BackendError(
                f"the {self.name} quota is used up: {message}",
                hint=f"add credits or upgrade the {self.name} plan, or choose another provider",
            )
        if status in (401, 403):
            return ConfigError(
                f"the {self.name} API key was rejected: {message}",
                hint=f"check {self.key_variables}, and the key's permissions",
            )
        if failure.retryable:
            answer = "no answer" if status is None else f"HTTP {status}"
            return TransientBackendError(
                f"the {self.name} API failed {attempts} time(s), last with {answer}: {message}",
                hint="try again later; PERSONACAST_API_MAX_RETRIES and PERSONACAST_API_TIMEOUT_S set the patience",
            )
        if status is not None and 400 <= status < 500:
            return self.refused_error(
                f"the {self.name} API refused the request (HTTP {status}): {message}", hint=self.refused_hint
            )
        return BackendError(f"unexpected answer from the {self.name} API (HTTP {status}): {message}")

    def pcm16_samples(self, data: bytes) -> np.ndarray:
        if not data or len(data) % 2:
            raise BackendError(f"the {self.name} API returned {len(data)} bytes, which is not 16-bit PCM audio")
        return np.frombuffer(data, dtype="<i2").astype(np.float32) / 32768.0

    def clamp_speed(self, rate: float, low: float, high: float) -> tuple[float, list[str]]:
        """The API's nearest speed to the profile's rate, and a note when they differ."""
        speed = min(high, max(low, rate))
        if speed == rate:
            return speed, []
        return speed, [f"{self.name} speaks at {low}-{high}x; speaking_rate {rate} was sent as {speed}"]
