"""ElevenLabs voices through the text-to-speech *with-timestamps* endpoint.

The endpoint times every character of the request text, which gives the words their
times directly. It says nothing about sounds, so each word's espeak phones are laid
over its letters: a phone lasts as long as the share of letters it stands for.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from functools import cached_property
from typing import Any

import numpy as np

from ...errors import BackendError, ConfigError
from ...models import Phone, VoiceProfile, Word
from ...settings import Settings
from .paid_api import PCM_RATE_HZ, ApiFailure, Provider
from .phonemes import ipa_symbols
from .timeline import spoken_words
from .utterance import SpeechRequest, Utterance

ELEVENLABS = Provider(name="ElevenLabs", backend="elevenlabs", module="elevenlabs", key_variable="ELEVENLABS_API_KEY")
DEFAULT_MODEL = "eleven_multilingual_v2"
OUTPUT_FORMAT = f"pcm_{PCM_RATE_HZ}"
SPEED_RANGE = (0.7, 1.2)


class ElevenLabsVoiceEngine:
    name = "elevenlabs"
    # The models accept 5,000-10,000 characters, but shorter requests keep a failure
    # cheap to retry and the character timings tight.
    max_chunk_chars = 2500

    def __init__(self, settings: Settings) -> None:
        self._settings = settings

    def cache_identity(self, profile: VoiceProfile) -> str:
        # The client library's version is left out: it does not change the audio, and
        # upgrading it should not pay for every cached line again.
        return f"elevenlabs:{profile.model or DEFAULT_MODEL}:{_voice_id(profile)}:{OUTPUT_FORMAT}"

    @cached_property
    def _client(self) -> Any:
        # Built on first use, so a render served from the cache needs no key. Two
        # threads racing here build two clients and keep one, which is harmless.
        key = ELEVENLABS.api_key(self._settings.elevenlabs_api_key)
        return ELEVENLABS.import_client().ElevenLabs(
            api_key=key, base_url=self._settings.elevenlabs_base_url.rstrip("/"), timeout=self._settings.api_timeout_s
        )

    def speak(self, request: SpeechRequest, profile: VoiceProfile) -> Utterance:
        voice_id = _voice_id(profile)
        client = self._client
        library = ELEVENLABS.import_client()
        import httpx  # the client's transport, whose errors reach us unwrapped

        speed, notes = ELEVENLABS.clamp_speed(profile.speaking_rate, *SPEED_RANGE)
        options: dict[str, Any] = {"model_id": profile.model or DEFAULT_MODEL}
        if speed != 1.0:
            # voice_settings replaces the voice's stored settings for this request, so
            # it is sent only when there is something to change.
            options["voice_settings"] = library.VoiceSettings(speed=speed)
        if request.previous_text:
            options["previous_text"] = request.previous_text
        if request.next_text:
            options["next_text"] = request.next_text

        def attempt() -> Any:
            try:
                return client.text_to_speech.with_raw_response.convert_with_timestamps(
                    voice_id,
                    text=request.text,
                    output_format=OUTPUT_FORMAT,
                    request_options={"max_retries": 0},
                    **options,
                )
            except library.core.ApiError as exc:
                raise _failure(exc.status_code, exc.body) from exc
            except httpx.RequestError as exc:
                raise ApiFailure(None, f"{type(exc).__name__}: {exc}") from exc

        response = ELEVENLABS.call(attempt, self._settings.api_max_retries)
        result = response.data
        try:
            samples = ELEVENLABS.pcm16_samples(base64.b64decode(result.audio_base_64 or "", validate=True))
        except binascii.Error:
            raise BackendError("the ElevenLabs API returned audio that is not valid base64") from None
        # The client does not validate the answer: check the three parallel lists here.
        timing = [
            getattr(result.alignment, name, None)
            for name in ("characters", "character_start_times_seconds", "character_end_times_seconds")
        ]
        if not all(isinstance(values, list) for values in timing) or len({len(values) for values in timing}) != 1:
            raise BackendError("the ElevenLabs API returned no usable character timings")
        words, phones = timed_words(spoken_words(request.text), *timing, samples.size / PCM_RATE_HZ)
        return Utterance(
            samples=samples,
            sample_rate_hz=PCM_RATE_HZ,
            words=words,
            phones=phones,
            billed_characters=_billed_characters(response.headers, request.text),
            notes=notes,
        )


def _voice_id(profile: VoiceProfile) -> str:
    if not profile.voice:
        raise ConfigError(
            "the ElevenLabs engine needs a voice id",
            hint="set voice: in the voice profile to a voice id from your ElevenLabs voice library",
        )
    return profile.voice


def _billed_characters(headers: dict[str, str], text: str) -> int:
    """ElevenLabs reports what it charged in the ``character-cost`` header (it can
    differ from the text length by model and plan); the text length stands in without it."""
    cost = {k.lower(): v for k, v in headers.items()}.get("character-cost", "")
    return int(cost) if cost.strip().isdigit() else len(text)


def _failure(status: int | None, body: object) -> ApiFailure:
    # Errors come as {"detail": {"status": "quota_exceeded", "message": "..."}} or,
    # from request validation, {"detail": [{"msg": "...", ...}, ...]}.
    detail = body.get("detail", body) if isinstance(body, dict) else body
    if isinstance(detail, dict):
        code = str(detail.get("status") or detail.get("code") or "")
        message = str(detail.get("message") or code or detail)
    elif isinstance(detail, list):
        code = ""
        message = "; ".join(str(item.get("msg", item)) if isinstance(item, dict) else str(item) for item in detail)
    else:
        code, message = "", str(detail or "")
    return ApiFailure(status, message, quota_exhausted=code == "quota_exceeded")


def timed_words(
    words: Sequence[str],
    characters: Sequence[str],
    starts_s: Sequence[float],
    ends_s: Sequence[float],
    duration_s: float,
) -> tuple[list[Word], list[Phone]]:
    """Words and phones from character times.

    Words are found in the aligned characters in order; one that is not there (the
    service rewrote it) shares the gap between its found neighbours.
    """
    text = "".join(characters)
    # An entry can be longer than one code point; map text positions back to entries.
    owner = [i for i, chunk in enumerate(characters) for _ in chunk]
    starts = np.clip(np.asarray(starts_s, dtype=float), 0.0, duration_s)
    ends = np.clip(np.asarray(ends_s, dtype=float), 0.0, duration_s)

    spans: list[tuple[int, int] | None] = []
    cursor = 0
    for word in words:
        found = text.find(word, cursor)
        if found < 0:
            spans.append(None)
            continue
        cursor = found + len(word)
        spans.append((owner[found], owner[cursor - 1]))

    result_words: list[Word] = []
    result_phones: list[Phone] = []
    previous_end = 0.0
    for index, word in enumerate(words):
        span = spans[index]
        if span is None:
            following = next((s for s in spans[index + 1 :] if s is not None), None)
            gap_end = starts[following[0]] if following else (ends[-1] if ends.size else previous_end)
            bounds = np.array([previous_end, max(previous_end, gap_end)])
        else:
            first, last = span
            # Letter boundaries: each letter starts where the service says, the last ends.
            bounds = np.append(starts[first : last + 1], ends[last])
        bounds = np.maximum.accumulate(np.maximum(bounds, previous_end))
        result_words.append(Word(text=word, start_s=round(bounds[0], 4), end_s=round(bounds[-1], 4)))
        result_phones.extend(_spread(ipa_symbols(word), bounds))
        previous_end = float(bounds[-1])
    return result_words, result_phones


def _spread(symbols: Sequence[str], bounds: np.ndarray) -> list[Phone]:
    """Phones over letters: phone k of n covers letters k/n to (k+1)/n of the word."""
    if not symbols:
        return []
    letters = bounds.size - 1
    edges = np.interp(np.linspace(0, letters, len(symbols) + 1), np.arange(letters + 1), bounds)
    return [Phone(symbol=s, start_s=round(edges[k], 4), end_s=round(edges[k + 1], 4)) for k, s in enumerate(symbols)]
