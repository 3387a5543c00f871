"""ElevenLabs and OpenAI engines against a local server that speaks each provider's
contract; nothing here reaches the network."""

from __future__ import annotations

import base64
import importlib
import json
import socket
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
import pytest

from fake_http_api import FakeApi, Received, Reply, serving

from personacast.errors import (
    BackendError,
    ConfigError,
    MissingDependencyError,
    TransientBackendError,
    VoiceError,
)
from personacast.models import VoiceProfile
from personacast.settings import Settings
from personacast.stages.voice import paid_api
from personacast.stages.voice.elevenlabs import ElevenLabsVoiceEngine, timed_words
from personacast.stages.voice.openai_tts import OpenAIVoiceEngine
from personacast.stages.voice.phonemes import ipa_symbols
from personacast.stages.voice.timeline import spoken_words
from personacast.stages.voice.utterance import SpeechRequest

pytestmark = pytest.mark.timeout(30)

RATE = 24000
LEAD_S = 0.1  # silence before the first character
CHAR_S = 0.05  # every served character lasts this long


@pytest.fixture
def api() -> Iterator[FakeApi]:
    with serving() as fake:
        yield fake


@pytest.fixture(autouse=True)
def no_keys_from_the_environment(monkeypatch) -> None:
    for variable in ("ELEVENLABS_API_KEY", "OPENAI_API_KEY"):
        monkeypatch.delenv(variable, raising=False)
        monkeypatch.delenv(f"PERSONACAST_{variable}", raising=False)


@pytest.fixture(autouse=True)
def waits(monkeypatch) -> list[float]:
    """Backoff delays asked for; none is waited."""
    waits: list[float] = []
    monkeypatch.setattr(paid_api, "_sleep", waits.append)
    return waits


def make_settings(api: FakeApi, tmp_path, **overrides) -> Settings:
    values = dict(
        data_dir=tmp_path,
        elevenlabs_api_key="el-key",
        elevenlabs_base_url=api.url,
        openai_api_key="sk-test",
        openai_base_url=f"{api.url}/v1",
        api_timeout_s=5.0,
        api_max_retries=2,
    )
    return Settings(**{**values, **overrides})


def tone(seconds: float, hz: float = 220.0) -> np.ndarray:
    t = np.arange(round(seconds * RATE)) / RATE
    return 0.3 * np.sin(2 * np.pi * hz * t)


def pcm16(samples: np.ndarray) -> bytes:
    return (np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes()


def json_reply(status: int, body: object, headers: dict[str, str] | None = None) -> Callable[[Received], Reply]:
    return lambda _request: (status, {"content-type": "application/json", **(headers or {})}, json.dumps(body).encode())


def elevenlabs_speech(request: Received) -> Reply:
    """Audio with a tone under every non-space character, and the characters' times."""
    text = request.body["text"]
    starts = [LEAD_S + i * CHAR_S for i in range(len(text))]
    audio = np.concatenate(
        [np.zeros(round(LEAD_S * RATE))]
        + [np.zeros(round(CHAR_S * RATE)) if ch == " " else tone(CHAR_S) for ch in text]
        + [np.zeros(round(LEAD_S * RATE))]
    )
    body = {
        "audio_base64": base64.b64encode(pcm16(audio)).decode(),
        "alignment": {
            "characters": list(text),
            "character_start_times_seconds": starts,
            "character_end_times_seconds": [s + CHAR_S for s in starts],
        },
        "normalized_alignment": None,
    }
    return json_reply(200, body, {"character-cost": "17"})(request)


def openai_speech(request: Received) -> Reply:
    return 200, {"content-type": "application/octet-stream"}, pcm16(tone(0.5))


# --- ElevenLabs -------------------------------------------------------------------


def test_elevenlabs_request_and_timed_utterance(api, tmp_path):
    api.replies = [elevenlabs_speech]
    engine = ElevenLabsVoiceEngine(make_settings(api, tmp_path))
    profile = VoiceProfile(engine="elevenlabs", voice="voice123", speaking_rate=1.1)
    request = SpeechRequest("Hi there, Lee.", previous_text="Before.", next_text="After.")

    utterance = engine.speak(request, profile)

    (sent,) = api.received
    assert (sent.method, sent.path) == ("POST", "/v1/text-to-speech/voice123/with-timestamps")
    assert sent.query["output_format"] == ["pcm_24000"]
    assert sent.headers["xi-api-key"] == "el-key"
    assert sent.body["text"] == "Hi there, Lee."
    assert sent.body["model_id"] == "eleven_multilingual_v2"
    assert sent.body["voice_settings"]["speed"] == pytest.approx(1.1)
    assert (sent.body["previous_text"], sent.body["next_text"]) == ("Before.", "After.")

    assert utterance.sample_rate_hz == RATE
    assert utterance.duration_s == pytest.approx(2 * LEAD_S + len(request.text) * CHAR_S)
    assert np.abs(utterance.samples).max() == pytest.approx(0.3, abs=0.01)
    assert [w.text for w in utterance.words] == spoken_words(request.text)
    # "Hi" is characters 0-1, "there" 3-7, "Lee" 10-12 of the served alignment.
    edges = [t for w in utterance.words for t in (w.start_s, w.end_s)]
    assert edges == pytest.approx([0.10, 0.20, 0.25, 0.50, 0.60, 0.75])
    assert utterance.billed_characters == 17  # the character-cost header
    assert utterance.notes == []

    phones = utterance.phones
    assert [p.symbol for p in phones] == [s for w in spoken_words(request.text) for s in ipa_symbols(w)]
    edges = [t for p in phones for t in (p.start_s, p.end_s)]
    assert edges == sorted(edges) and 0 <= edges[0] and edges[-1] <= utterance.duration_s
    for word in utterance.words:
        inside = [p for p in phones if word.start_s <= p.start_s and p.end_s <= word.end_s]
        assert len(inside) == len(ipa_symbols(word.text))


def test_elevenlabs_defaults_and_limits(api, tmp_path):
    api.replies = [elevenlabs_speech]
    engine = ElevenLabsVoiceEngine(make_settings(api, tmp_path))
    profile = VoiceProfile(voice="v", model="eleven_turbo_v2_5", speaking_rate=1.5)

    utterance = engine.speak(SpeechRequest("Hello."), profile)

    sent = api.received[0].body
    assert sent["model_id"] == "eleven_turbo_v2_5"
    assert sent["voice_settings"]["speed"] == pytest.approx(1.2)  # the API's maximum
    assert "previous_text" not in sent and "next_text" not in sent
    assert "1.2" in utterance.notes[0]

    engine.speak(SpeechRequest("Hello."), profile.model_copy(update={"speaking_rate": 1.0}))
    assert "voice_settings" not in api.received[1].body  # keeps the voice's stored settings


def test_elevenlabs_bills_text_length_without_cost_header(api, tmp_path):
    def without_header(request: Received) -> Reply:
        status, headers, body = elevenlabs_speech(request)
        return status, {"content-type": "application/json"}, body

    api.replies = [without_header]
    engine = ElevenLabsVoiceEngine(make_settings(api, tmp_path))
    utterance = engine.speak(SpeechRequest("Hi there."), VoiceProfile(voice="v"))
    assert utterance.billed_characters == len("Hi there.")


def test_elevenlabs_needs_a_voice_id(api, tmp_path):
    engine = ElevenLabsVoiceEngine(make_settings(api, tmp_path))
    with pytest.raises(ConfigError) as caught:
        engine.speak(SpeechRequest("Hi."), VoiceProfile(engine="elevenlabs"))
    assert caught.value.hint and "voice" in caught.value.hint
    assert api.received == []


def test_elevenlabs_answer_without_timings_is_a_backend_error(api, tmp_path):
    api.replies = [json_reply(200, {"audio_base64": base64.b64encode(pcm16(tone(0.1))).decode(), "alignment": None})]
    engine = ElevenLabsVoiceEngine(make_settings(api, tmp_path))
    with pytest.raises(BackendError, match="character timings"):
        engine.speak(SpeechRequest("Hi."), VoiceProfile(voice="v"))


def test_timed_words_fill_words_the_service_did_not_time():
    characters = list("Hi Lee.")
    starts = [0.1 + 0.1 * i for i in range(len(characters))]
    words, phones = timed_words(["Hi", "there", "Lee"], characters, starts, [s + 0.1 for s in starts], 1.0)
    assert [(w.text, w.start_s, w.end_s) for w in words] == [
        ("Hi", 0.1, 0.3),
        ("there", 0.3, 0.4),  # between "Hi" and "Lee"
        ("Lee", 0.4, 0.7),
    ]
    edges = [t for p in phones for t in (p.start_s, p.end_s)]
    assert edges == sorted(edges)


# --- OpenAI -----------------------------------------------------------------------


def test_openai_request_and_untimed_utterance(api, tmp_path):
    api.replies = [openai_speech]
    engine = OpenAIVoiceEngine(make_settings(api, tmp_path))
    request = SpeechRequest("Hi there, Lee.")

    utterance = engine.speak(request, VoiceProfile(engine="openai", speaking_rate=1.25))

    (sent,) = api.received
    assert (sent.method, sent.path) == ("POST", "/v1/audio/speech")
    assert sent.headers["authorization"] == "Bearer sk-test"
    assert sent.body == {
        "model": "gpt-4o-mini-tts",
        "voice": "alloy",
        "input": "Hi there, Lee.",
        "response_format": "pcm",
        "speed": 1.25,
    }
    assert utterance.sample_rate_hz == RATE
    assert utterance.duration_s == pytest.approx(0.5)
    assert np.abs(utterance.samples).max() == pytest.approx(0.3, abs=0.01)
    assert utterance.words is None and utterance.phones is None
    assert utterance.billed_characters == len(request.text)


def test_openai_uses_profile_model_and_voice(api, tmp_path):
    api.replies = [openai_speech]
    OpenAIVoiceEngine(make_settings(api, tmp_path)).speak(
        SpeechRequest("Hi."), VoiceProfile(voice="nova", model="tts-1-hd")
    )
    assert (api.received[0].body["model"], api.received[0].body["voice"]) == ("tts-1-hd", "nova")


# --- Failures, both providers -----------------------------------------------------


@dataclass(frozen=True)
class Case:
    engine: type
    profile: VoiceProfile
    success: Callable[[Received], Reply]
    key_setting: str
    key_variable: str

    def error(self, status: int, code: str, message: str) -> Callable[[Received], Reply]:
        if self.engine is ElevenLabsVoiceEngine:
            return json_reply(status, {"detail": {"status": code, "message": message}})
        return json_reply(status, {"error": {"message": message, "type": code, "param": None, "code": code}})


ELEVENLABS_CASE = Case(
    ElevenLabsVoiceEngine, VoiceProfile(voice="v"), elevenlabs_speech, "elevenlabs_api_key", "ELEVENLABS_API_KEY"
)
OPENAI_CASE = Case(OpenAIVoiceEngine, VoiceProfile(), openai_speech, "openai_api_key", "OPENAI_API_KEY")
CASES = pytest.mark.parametrize("case", [ELEVENLABS_CASE, OPENAI_CASE], ids=["elevenlabs", "openai"])


def speak(case: Case, api: FakeApi, tmp_path, **settings):
    engine = case.engine(make_settings(api, tmp_path, **settings))
    return engine.speak(SpeechRequest("Hi there."), case.profile)


@CASES
def test_missing_key_names_the_variable(case, api, tmp_path):
    with pytest.raises(ConfigError) as caught:
        speak(case, api, tmp_path, **{case.key_setting: None})
    assert case.key_variable in caught.value.hint
    assert api.received == []


@CASES
def test_rejected_key(case, api, tmp_path):
    api.replies = [case.error(401, "invalid_api_key", "Invalid API key")]
    with pytest.raises(ConfigError, match="API key was rejected"):
        speak(case, api, tmp_path)
    assert len(api.received) == 1


@pytest.mark.parametrize(
    ("case", "status", "code"),
    [(ELEVENLABS_CASE, 401, "quota_exceeded"), (OPENAI_CASE, 429, "insufficient_quota")],
    ids=["elevenlabs", "openai"],
)
def test_spent_quota_is_permanent(case, status, code, api, tmp_path, waits):
    api.replies = [case.error(status, code, "You exceeded your current quota")]
    with pytest.raises(BackendError, match="quota is used up") as caught:
        speak(case, api, tmp_path)
    assert not isinstance(caught.value, TransientBackendError) and caught.value.permanent
    assert len(api.received) == 1 and waits == []


@CASES
def test_rate_limit_is_retried(case, api, tmp_path, waits):
    api.replies = [case.error(429, "rate_limit_exceeded", "Slow down"), case.success]
    utterance = speak(case, api, tmp_path)
    assert utterance.duration_s > 0
    assert len(api.received) == 2 and len(waits) == 1


@CASES
def test_persistent_server_error_gives_up_after_the_retries(case, api, tmp_path, waits):
    api.replies = [case.error(503, "service_unavailable", "Busy")]
    with pytest.raises(TransientBackendError, match="failed 4 time") as caught:
        speak(case, api, tmp_path, api_max_retries=3)
    assert not caught.value.permanent
    assert len(api.received) == 4
    # Exponential backoff, jittered to 50-100 % of 1, 2, 4 s.
    assert len(waits) == 3
    assert all(0.5 * 2**i <= w <= 2**i for i, w in enumerate(waits))


@pytest.mark.parametrize(
    ("case", "status", "reply"),
    [
        (ELEVENLABS_CASE, 422, json_reply(422, {"detail": [{"loc": ["body", "text"], "msg": "text is too long"}]})),
        (ELEVENLABS_CASE, 404, ELEVENLABS_CASE.error(404, "voice_not_found", "text is too long for voice v")),
        (OPENAI_CASE, 400, OPENAI_CASE.error(400, "invalid_value", "text is too long")),
    ],
    ids=["elevenlabs-422", "elevenlabs-404", "openai-400"],
)
def test_bad_request_is_a_voice_error(case, status, reply, api, tmp_path):
    api.replies = [reply]
    with pytest.raises(VoiceError, match=f"HTTP {status}.*text is too long"):
        speak(case, api, tmp_path)
    assert len(api.received) == 1


@CASES
def test_unreachable_server_is_transient(case, api, tmp_path):
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    closed = f"http://127.0.0.1:{port}"
    with pytest.raises(TransientBackendError, match="no answer"):
        speak(case, api, tmp_path, api_max_retries=1, elevenlabs_base_url=closed, openai_base_url=f"{closed}/v1")


@CASES
def test_timeout_is_retried(case, api, tmp_path):
    def slow(request: Received) -> Reply:
        time.sleep(0.3)
        return case.success(request)

    api.replies = [slow, case.success]
    utterance = speak(case, api, tmp_path, api_timeout_s=0.1)
    assert utterance.duration_s > 0
    assert len(api.received) == 2


# --- Packaging --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("module", "engine", "library"),
    [("elevenlabs", "ElevenLabsVoiceEngine", "elevenlabs"), ("openai_tts", "OpenAIVoiceEngine", "openai")],
)
def test_client_library_is_needed_only_to_speak(module, engine, library, monkeypatch, api, tmp_path):
    import personacast.stages.voice as voice_package

    monkeypatch.setitem(sys.modules, library, None)  # "import <library>" now fails
    # Import the engine module afresh, as in a process without the library.
    monkeypatch.delitem(sys.modules, f"personacast.stages.voice.{module}")
    monkeypatch.delattr(voice_package, module)
    fresh = importlib.import_module(f"personacast.stages.voice.{module}")

    instance = getattr(fresh, engine)(make_settings(api, tmp_path))
    assert instance.cache_identity(VoiceProfile(voice="v"))
    with pytest.raises(MissingDependencyError) as caught:
        instance.speak(SpeechRequest("Hi."), VoiceProfile(voice="v"))
    assert caught.value.extra == "voices-api"
    assert api.received == []


def test_cache_identity_names_provider_model_and_voice(api, tmp_path):
    settings = make_settings(api, tmp_path)
    assert ElevenLabsVoiceEngine(settings).cache_identity(VoiceProfile(voice="v")).startswith(
        "elevenlabs:eleven_multilingual_v2:v"
    )
    assert OpenAIVoiceEngine(settings).cache_identity(VoiceProfile(model="tts-1", voice="nova")).startswith(
        "openai:tts-1:nova"
    )
