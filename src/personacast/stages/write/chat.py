"""The conversation every language-model writer has, whatever the provider:

1. reject a banned or risky topic before paying for a request;
2. ask for the script as JSON (persona and rules in the system prompt);
3. repair the answer; if it still is not a valid script, send the reason back once;
4. if the script runs too long, ask once for a shorter one (an unusable answer to that
   keeps the first script); ``finish`` then trims what is still too long, notes a short
   script and runs the safety pass.

Backends implement ``complete``: one request, the provider's errors turned into
``ApiFailure`` and retried by ``Provider.call``.
"""

from __future__ import annotations

from dataclasses import dataclass

from ...errors import BackendError
from ...settings import Settings
from ..voice.paid_api import Provider
from .costs import cost_usd
from .finish import finish
from .fitting import length_limit, script_seconds, words_for
from .prompts import reask_prompt, shorten_prompt, system_prompt, user_prompt
from .repair import UnusableOutput, parse_written
from .safety import check_topic
from .written import Usage, WriteResult, WritingBrief, WrittenScript

Message = dict[str, str]  # {"role": "user" | "assistant", "content": ...}

# Enough for a few minutes of script in JSON; a cap keeps a runaway answer cheap.
MAX_OUTPUT_TOKENS = 2000


@dataclass(frozen=True)
class Completion:
    text: str
    input_tokens: int = 0
    output_tokens: int = 0


class ChatWriter:
    name: str
    provider: Provider

    def __init__(self, settings: Settings, model: str | None = None) -> None:
        self._settings = settings
        self.model = model or self.default_model(settings)

    def default_model(self, settings: Settings) -> str:
        raise NotImplementedError

    def complete(self, system: str, messages: list[Message]) -> Completion:
        """One request: the model's answer text and the tokens it was billed for."""
        raise NotImplementedError

    def write(self, brief: WritingBrief) -> WriteResult:
        check_topic(brief.topic, brief.persona)
        system = system_prompt(brief)
        words = words_for(brief.target_s, brief.voice)
        request = [_user(user_prompt(brief, words))]
        spent: list[Completion] = []
        written, answer = self._ask(system, request, spent)
        warnings = []
        limit = length_limit(brief.target_s, brief.max_s)
        seconds = script_seconds(written, brief.voice)
        if seconds > limit:
            fewer = max(5, round(len(written.text.split()) * limit / seconds))
            follow_up = [*request, _assistant(answer), _user(shorten_prompt(seconds, limit, fewer))]
            reply = self._complete(system, follow_up, spent)
            try:
                written = parse_written(reply)
            except UnusableOutput as unusable:
                warnings.append(f"the model's shorter version was unusable ({unusable.reason}); the first was trimmed")
        return finish(written, brief, self.name, model=self.model, usage=self._usage(spent), warnings=warnings)

    def _ask(self, system: str, messages: list[Message], spent: list[Completion]) -> tuple[WrittenScript, str]:
        answer = self._complete(system, messages, spent)
        try:
            return parse_written(answer), answer
        except UnusableOutput as first:
            retry = [*messages, _assistant(answer), _user(reask_prompt(first.reason))]
        answer = self._complete(system, retry, spent)
        try:
            return parse_written(answer), answer
        except UnusableOutput as second:
            raise BackendError(
                f"the {self.provider.name} model ({self.model}) did not answer with a usable script twice: {second.reason}",
                hint="try again, pick another model with --model, or use --writer template",
            ) from None

    def _complete(self, system: str, messages: list[Message], spent: list[Completion]) -> str:
        completion = self.complete(system, messages)
        spent.append(completion)
        return completion.text

    def _usage(self, spent: list[Completion]) -> Usage:
        input_tokens = sum(c.input_tokens for c in spent)
        output_tokens = sum(c.output_tokens for c in spent)
        return Usage(
            requests=len(spent), input_tokens=input_tokens, output_tokens=output_tokens,
            cost_usd=cost_usd(self.model, input_tokens, output_tokens),
        )


def _user(text: str) -> Message:
    return {"role": "user", "content": text}


def _assistant(text: str) -> Message:
    return {"role": "assistant", "content": text}
