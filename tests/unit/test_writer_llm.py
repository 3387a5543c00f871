"""The language-model writers against a local server that speaks OpenAI's chat
completions and Anthropic's messages contracts; nothing here reaches the network."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from fake_http_api import FakeApi, Received, Reply, serving

from personacast.errors import BackendError, ConfigError, ContentError, MissingDependencyError, TransientBackendError
from personacast.models import Character, Persona, VoiceProfile
from personacast.registry import load_backend
from personacast.settings import Settings
from personacast.stages.voice import paid_api
from personacast.stages.write.anthropic_messages import AnthropicWriter
from personacast.stages.write.costs import cost_usd, price
from personacast.stages.write.openai_chat import OpenAIWriter
from personacast.stages.write.openai_compatible import OpenAICompatibleWriter
from personacast.stages.write.written import WritingBrief

pytestmark = pytest.mark.timeout(30)

SCRIPT = {
    "title": "Cold brew, simply",
    "hook": "Your cold brew is bitter for one reason.",
    "scenes": [
        {"text": "Use a coarse grind, like rough sea salt.", "on_screen_text": "Coarse grind"},
        {"text": "Steep it in the fridge overnight, then strain it twice.", "on_screen_text": "Strain twice"},
    ],
    "call_to_action": "Save this for your next batch.",
    "caption": "Better cold brew tonight ☕",
    "hashtags": ["coldbrew", "#coffee"],
}
# About 40 s spoken: well over the 15 s the briefs below ask for.
LONG_SCRIPT = {**SCRIPT, "scenes": [{"text": "Use a coarse grind, like rough sea salt, because fine coffee turns muddy and bitter. " * 2}] * 4}


@pytest.fixture
def api() -> Iterator[FakeApi]:
    with serving() as fake:
        yield fake


@pytest.fixture(autouse=True)
def no_keys_from_the_environment(monkeypatch) -> None:
    for variable in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "LLM_API_KEY", "LLM_MODEL", "LLM_BASE_URL"):
        monkeypatch.delenv(variable, raising=False)
        monkeypatch.delenv(f"PERSONACAST_{variable}", raising=False)


@pytest.fixture(autouse=True)
def waits(monkeypatch) -> list[float]:
    waits: list[float] = []
    monkeypatch.setattr(paid_api, "_sleep", waits.append)
    return waits


def make_settings(api: FakeApi, tmp_path: Path, **overrides) -> Settings:
    values = dict(
        data_dir=tmp_path, openai_api_key="sk-test", openai_base_url=f"{api.url}/v1", anthropic_api_key="ant-key",
        anthropic_base_url=api.url, llm_base_url=f"{api.url}/v1", llm_model="llama3.1", api_timeout_s=5.0, api_max_retries=2,
    )
    return Settings(**{**values, **overrides})


def brief(seconds: float = 15.0, persona: Persona | None = None, variant: int = 0) -> WritingBrief:
    character = Character(
        name="Sofia", images=[Path("face.png")], voice=VoiceProfile(engine="espeak", voice="en-us+f3"),
        persona=persona or Persona(personality="a former barista", tone="warm", banned_words=["hack"], brand_rules=["Say 'coffee', never 'java'"]),
    )
    return WritingBrief.for_character(character, "cold brew at home", seconds, "tiktok", variant=variant)


def json_reply(status: int, body: object) -> Callable[[Received], Reply]:
    return lambda _request: (status, {"content-type": "application/json"}, json.dumps(body).encode())


def chat_reply(content: str, prompt_tokens: int = 300, completion_tokens: int = 120) -> Callable[[Received], Reply]:
    return json_reply(200, {
        "id": "chatcmpl-1", "object": "chat.completion", "created": 0, "model": "gpt-4.1-mini",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens, "total_tokens": prompt_tokens + completion_tokens},
    })


def message_reply(text: str, input_tokens: int = 400, output_tokens: int = 150) -> Callable[[Received], Reply]:
    return json_reply(200, {
        "id": "msg_1", "type": "message", "role": "assistant", "model": "claude-haiku-4-5",
        "content": [{"type": "text", "text": text}], "stop_reason": "end_turn", "stop_sequence": None,
        "usage": {"input_tokens": input_tokens, "output_tokens": output_tokens},
    })


def openai_error(status: int, message: str, code: str | None = None) -> Callable[[Received], Reply]:
    return json_reply(status, {"error": {"message": message, "type": code or "error", "code": code}})


def anthropic_error(status: int, kind: str, message: str) -> Callable[[Received], Reply]:
    return json_reply(status, {"type": "error", "error": {"type": kind, "message": message}})


# --- OpenAI ----------------------------------------------------------------------


def test_openai_request_persona_json_mode_and_cost(api, tmp_path):
    api.replies = [chat_reply(json.dumps(SCRIPT))]
    result = OpenAIWriter(make_settings(api, tmp_path)).write(brief())

    (sent,) = api.received
    assert sent.path == "/v1/chat/completions"
    assert sent.headers["authorization"] == "Bearer sk-test"
    assert sent.body["model"] == "gpt-4.1-mini"
    assert sent.body["response_format"] == {"type": "json_object"}
    assert sent.body["max_completion_tokens"] > 0 and "temperature" not in sent.body
    system, user = sent.body["messages"]
    assert system["role"] == "system" and user["role"] == "user"
    for persona_part in ("Sofia", "a former barista", "warm", "hack", "Say 'coffee', never 'java'", "JSON"):
        assert persona_part in system["content"]
    assert "cold brew at home" in user["content"] and "words" in user["content"]

    written = result.written
    assert written.hook == SCRIPT["hook"] and [s.on_screen_text for s in written.scenes] == ["Coarse grind", "Strain twice"]
    assert written.hashtags == ["coldbrew", "coffee"]
    assert (result.writer, result.model) == ("openai", "gpt-4.1-mini")
    assert (result.usage.requests, result.usage.input_tokens, result.usage.output_tokens) == (1, 300, 120)
    assert result.usage.cost_usd == pytest.approx((300 * 0.40 + 120 * 1.60) / 1e6)
    assert result.warnings == [] and 0 < result.estimated_s < 15 * 1.15


def test_malformed_answer_is_repaired_without_asking_again(api, tmp_path):
    prose = "Sure! Here's your script:\n```json\n" + json.dumps(SCRIPT)[:-1] + ",}\n```\nHope it helps!"
    api.replies = [chat_reply(prose)]
    result = OpenAIWriter(make_settings(api, tmp_path)).write(brief())
    assert len(api.received) == 1 and result.written.title == SCRIPT["title"]


def test_unusable_answer_is_asked_again_once_with_the_reason(api, tmp_path):
    api.replies = [chat_reply('{"title": "No hook here"}'), chat_reply(json.dumps(SCRIPT))]
    result = OpenAIWriter(make_settings(api, tmp_path)).write(brief())

    first, second = api.received
    messages = second.body["messages"]
    assert [m["role"] for m in messages] == ["system", "user", "assistant", "user"]
    assert messages[2]["content"] == '{"title": "No hook here"}'
    assert "hook" in messages[3]["content"] and "scenes" in messages[3]["content"] and "Field required" in messages[3]["content"]
    assert result.usage.requests == 2 and result.usage.input_tokens == 600
    assert result.written.hook == SCRIPT["hook"]


def test_two_unusable_answers_fail_clearly(api, tmp_path):
    api.replies = [chat_reply("I'd rather not.")]
    with pytest.raises(BackendError, match="did not answer with a usable script twice: no JSON object") as caught:
        OpenAIWriter(make_settings(api, tmp_path)).write(brief())
    assert "--writer template" in caught.value.hint and len(api.received) == 2


def test_too_long_script_is_shortened_once_by_the_model(api, tmp_path):
    api.replies = [chat_reply(json.dumps(LONG_SCRIPT)), chat_reply(json.dumps(SCRIPT))]
    result = OpenAIWriter(make_settings(api, tmp_path)).write(brief())
    follow_up = api.received[1].body["messages"]
    assert [m["role"] for m in follow_up] == ["system", "user", "assistant", "user"]
    assert "Shorten it to at most" in follow_up[3]["content"] and "must fit in 17" in follow_up[3]["content"]
    assert result.written.scenes == result.written.scenes[:2] and result.warnings == []
    assert result.usage.requests == 2


def test_still_too_long_after_asking_is_trimmed_at_sentences(api, tmp_path):
    api.replies = [chat_reply(json.dumps(LONG_SCRIPT))]
    result = OpenAIWriter(make_settings(api, tmp_path)).write(brief())
    assert len(api.received) == 2  # the first answer and the one request to shorten
    assert result.estimated_s <= 15 * 1.15
    assert any("sentences were cut" in warning for warning in result.warnings)
    assert result.written.hook == SCRIPT["hook"] and result.written.call_to_action == SCRIPT["call_to_action"]
    assert all(scene.text.endswith(".") for scene in result.written.scenes)


def test_rate_limits_and_server_errors_are_retried_with_backoff(api, tmp_path, waits):
    api.replies = [openai_error(429, "slow down"), openai_error(503, "overloaded"), chat_reply(json.dumps(SCRIPT))]
    result = OpenAIWriter(make_settings(api, tmp_path)).write(brief())
    assert len(api.received) == 3 and len(waits) == 2 and waits[1] > waits[0] * 0.5
    assert result.usage.requests == 1  # only answered requests are billed


def test_persistent_server_errors_become_transient_errors(api, tmp_path):
    api.replies = [openai_error(500, "boom")]
    with pytest.raises(TransientBackendError, match="failed 3 time"):
        OpenAIWriter(make_settings(api, tmp_path)).write(brief())


def test_rejected_key_and_spent_quota_stop_at_once(api, tmp_path):
    api.replies = [openai_error(401, "Incorrect API key provided")]
    with pytest.raises(ConfigError, match="key was rejected") as caught:
        OpenAIWriter(make_settings(api, tmp_path)).write(brief())
    assert "OPENAI_API_KEY" in caught.value.hint and len(api.received) == 1

    api.received.clear()
    api.replies = [openai_error(429, "You exceeded your current quota", code="insufficient_quota")]
    with pytest.raises(BackendError, match="quota is used up"):
        OpenAIWriter(make_settings(api, tmp_path)).write(brief())
    assert len(api.received) == 1


def test_unknown_model_is_a_config_error(api, tmp_path):
    api.replies = [openai_error(404, "The model `gpt-nope` does not exist", code="model_not_found")]
    with pytest.raises(ConfigError, match="refused the request") as caught:
        OpenAIWriter(make_settings(api, tmp_path), model="gpt-nope").write(brief())
    assert "--model" in caught.value.hint


def test_timeouts_are_retried_then_reported(api, tmp_path):
    def slow(_request: Received) -> Reply:
        time.sleep(1.0)
        return chat_reply(json.dumps(SCRIPT))(_request)

    api.replies = [slow]
    settings = make_settings(api, tmp_path, api_timeout_s=0.2, api_max_retries=1)
    with pytest.raises(TransientBackendError, match="no answer"):
        OpenAIWriter(settings).write(brief())
    assert len(api.received) == 2


def test_missing_key_fails_before_any_request(api, tmp_path):
    with pytest.raises(ConfigError, match="no OpenAI API key") as caught:
        OpenAIWriter(make_settings(api, tmp_path, openai_api_key=None)).write(brief())
    assert "PERSONACAST_OPENAI_API_KEY" in caught.value.hint and not api.received


def test_banned_topic_is_rejected_before_any_request(api, tmp_path):
    persona = Persona(banned_topics=["cold brew"])
    with pytest.raises(ContentError, match="banned topic 'cold brew'"):
        OpenAIWriter(make_settings(api, tmp_path)).write(brief(persona=persona))
    assert not api.received


def test_risky_model_output_is_rejected_naming_the_rule(api, tmp_path):
    risky = {**SCRIPT, "call_to_action": "This brew cures headaches, guaranteed returns on your sleep!"}
    api.replies = [chat_reply(json.dumps(risky))]
    with pytest.raises(ContentError) as caught:
        OpenAIWriter(make_settings(api, tmp_path)).write(brief())
    assert caught.value.violations == [
        "medical claim: 'cures' (call to action)",
        "financial guarantee: 'guaranteed returns' (call to action)",
    ]


def test_series_posts_ask_for_another_angle(api, tmp_path):
    api.replies = [chat_reply(json.dumps(SCRIPT))]
    OpenAIWriter(make_settings(api, tmp_path)).write(brief(variant=2))
    assert "post 3 on this topic" in api.received[0].body["messages"][1]["content"]


# --- OpenAI-compatible -------------------------------------------------------------


def test_compatible_endpoint_without_key_does_not_leak_the_openai_key(api, tmp_path, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-real-openai-key")
    api.replies = [chat_reply(json.dumps(SCRIPT))]
    result = OpenAICompatibleWriter(make_settings(api, tmp_path)).write(brief())
    (sent,) = api.received
    assert sent.path == "/v1/chat/completions" and sent.body["model"] == "llama3.1"
    assert "sk-real-openai-key" not in sent.headers["authorization"] and "sk-test" not in sent.headers["authorization"]
    assert sent.body["max_tokens"] > 0 and sent.body["response_format"] == {"type": "json_object"}
    assert result.usage.cost_usd is None  # a local model has no price


def test_compatible_endpoint_sends_its_key_when_set(api, tmp_path):
    api.replies = [chat_reply(json.dumps(SCRIPT))]
    OpenAICompatibleWriter(make_settings(api, tmp_path, llm_api_key="vllm-token"), model="qwen2.5").write(brief())
    assert api.received[0].headers["authorization"] == "Bearer vllm-token"
    assert api.received[0].body["model"] == "qwen2.5"


def test_compatible_endpoint_that_refuses_json_mode_is_asked_without_it(api, tmp_path):
    api.replies = [
        openai_error(400, "'response_format.type' must be 'json_schema' or 'text'"),
        chat_reply("Here you go: " + json.dumps(SCRIPT)),
    ]
    result = OpenAICompatibleWriter(make_settings(api, tmp_path)).write(brief())
    assert "response_format" in api.received[0].body and "response_format" not in api.received[1].body
    assert result.written.title == SCRIPT["title"]


def test_compatible_endpoint_needs_a_model(api, tmp_path):
    with pytest.raises(ConfigError, match="no model is set") as caught:
        OpenAICompatibleWriter(make_settings(api, tmp_path, llm_model=None))
    assert "PERSONACAST_LLM_MODEL" in caught.value.hint


def test_compatible_endpoint_that_is_down_names_its_address(tmp_path):
    settings = Settings(data_dir=tmp_path, llm_base_url="http://127.0.0.1:9/v1", llm_model="m", api_max_retries=1)
    with pytest.raises(TransientBackendError, match=r"127\.0\.0\.1:9"):
        OpenAICompatibleWriter(settings).write(brief())


# --- Anthropic -----------------------------------------------------------------------


@pytest.fixture
def anthropic_installed() -> None:
    import anthropic  # noqa: F401  (the dev extra installs it: these tests must not skip)


def test_anthropic_request_and_usage(api, tmp_path, anthropic_installed):
    api.replies = [message_reply("Here is the script.\n\n" + json.dumps(SCRIPT, indent=2))]
    result = AnthropicWriter(make_settings(api, tmp_path)).write(brief())

    (sent,) = api.received
    assert sent.path == "/v1/messages"
    # Older clients send the key as x-api-key, newer ones as a bearer token.
    assert "ant-key" in (sent.headers.get("x-api-key"), sent.headers.get("authorization", "").removeprefix("Bearer "))
    assert "anthropic-version" in sent.headers
    assert sent.body["model"] == "claude-haiku-4-5" and sent.body["max_tokens"] > 0
    assert "a former barista" in sent.body["system"] and "JSON" in sent.body["system"]
    assert [m["role"] for m in sent.body["messages"]] == ["user"]
    assert result.written.caption == SCRIPT["caption"]
    assert (result.usage.input_tokens, result.usage.output_tokens) == (400, 150)
    assert result.usage.cost_usd == pytest.approx((400 * 1.0 + 150 * 5.0) / 1e6)


def test_anthropic_reask_keeps_the_conversation(api, tmp_path, anthropic_installed):
    api.replies = [message_reply('{"hook": "Hi", "scenes": [], }'), message_reply(json.dumps(SCRIPT))]
    AnthropicWriter(make_settings(api, tmp_path)).write(brief())
    retry = api.received[1].body["messages"]
    assert [m["role"] for m in retry] == ["user", "assistant", "user"]
    assert "scenes" in retry[2]["content"]


def test_anthropic_overload_is_retried_and_errors_are_mapped(api, tmp_path, waits, anthropic_installed):
    api.replies = [anthropic_error(529, "overloaded_error", "Overloaded"), message_reply(json.dumps(SCRIPT))]
    AnthropicWriter(make_settings(api, tmp_path)).write(brief())
    assert len(api.received) == 2 and len(waits) == 1

    api.received.clear()
    api.replies = [anthropic_error(401, "authentication_error", "invalid x-api-key")]
    with pytest.raises(ConfigError, match="Anthropic API key was rejected") as caught:
        AnthropicWriter(make_settings(api, tmp_path)).write(brief())
    assert "ANTHROPIC_API_KEY" in caught.value.hint

    api.received.clear()
    api.replies = [anthropic_error(400, "invalid_request_error", "Your credit balance is too low to access the Anthropic API.")]
    with pytest.raises(BackendError, match="quota is used up"):
        AnthropicWriter(make_settings(api, tmp_path)).write(brief())
    assert len(api.received) == 1


def test_anthropic_key_from_its_usual_variable(monkeypatch, tmp_path):
    monkeypatch.setenv("ANTHROPIC_API_KEY", "from-env")
    assert Settings(data_dir=tmp_path).anthropic_api_key.get_secret_value() == "from-env"


# --- registry, prices ----------------------------------------------------------------


def test_writers_are_registered(monkeypatch):
    assert load_backend("writer", "template").name == "template"
    assert load_backend("writer", "openai") is OpenAIWriter
    assert load_backend("writer", "openai_compatible") is OpenAICompatibleWriter
    with pytest.raises(ConfigError, match="unknown writer backend"):
        load_backend("writer", "gpt")


def test_missing_client_library_names_the_llm_extra(api, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "anthropic", None)  # makes importing it fail
    with pytest.raises(MissingDependencyError) as caught:
        AnthropicWriter(make_settings(api, tmp_path)).write(brief())
    assert "personacast[llm]" in caught.value.hint


def test_prices_match_the_longest_model_prefix():
    assert price("gpt-4o-mini-2024-07-18") == (0.15, 0.60)
    assert price("gpt-4o-2024-08-06") == (2.50, 10.00)
    assert price("claude-opus-4-5-20251101") == (5.00, 25.00)
    assert price("claude-opus-4-1") == (15.00, 75.00)
    assert price("llama3.1") is None and cost_usd("llama3.1", 10, 10) is None
    assert cost_usd("gpt-4.1-mini", 1_000_000, 1_000_000) == pytest.approx(2.0)
