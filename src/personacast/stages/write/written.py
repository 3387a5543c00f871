"""What a writer produces, what it was asked for, and what writing cost."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ...models import Character, Persona, Scene, Script, VoiceProfile
from ..compose.formats import get_preset

_TAG_CHARS = re.compile(r"\W+")
MAX_HASHTAGS = 8
_TITLE_WORDS = 8


class WrittenScene(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, str_strip_whitespace=True)

    text: str = Field(min_length=1, description="spoken")
    on_screen_text: str = ""  # a short overlay; kept in plans, not rendered yet

    @field_validator("text", "on_screen_text")
    @classmethod
    def _strip(cls, value: str) -> str:
        return " ".join(value.split())


class WrittenScript(BaseModel):
    """A post: the spoken hook, body scenes and call to action, and the text around it."""

    model_config = ConfigDict(extra="ignore", frozen=True, str_strip_whitespace=True)

    title: str = ""
    hook: str = Field(min_length=1)
    scenes: list[WrittenScene] = Field(min_length=1)
    call_to_action: str = ""
    caption: str = ""
    hashtags: list[str] = []

    @field_validator("title", "hook", "call_to_action", "caption")
    @classmethod
    def _single_spaced(cls, value: str) -> str:
        return " ".join(value.split())

    @field_validator("hashtags")
    @classmethod
    def _tags(cls, values: list[str]) -> list[str]:
        """Words only ("#self care" -> "selfcare"), once each, at most MAX_HASHTAGS."""
        unique: dict[str, str] = {}
        for value in values:
            tag = _TAG_CHARS.sub("", value)
            if tag and not tag.isdigit():
                unique.setdefault(tag.casefold(), tag)
        return list(unique.values())[:MAX_HASHTAGS]

    @model_validator(mode="before")
    @classmethod
    def _titled(cls, data: object) -> object:
        """No title: the hook's first words."""
        if isinstance(data, dict) and not str(data.get("title") or "").strip() and isinstance(data.get("hook"), str):
            return {**data, "title": " ".join(data["hook"].split()[:_TITLE_WORDS]).rstrip(".,;:!?…")}
        return data

    @property
    def spoken_scenes(self) -> list[WrittenScene]:
        """Hook, body scenes and call to action: what is said, in order."""
        closing = [WrittenScene(text=self.call_to_action)] if self.call_to_action else []
        return [WrittenScene(text=self.hook), *self.scenes, *closing]

    @property
    def spoken_parts(self) -> list[str]:
        return [scene.text for scene in self.spoken_scenes]

    @property
    def text(self) -> str:
        return " ".join(self.spoken_parts)

    def to_script(self) -> Script:
        """One scene per spoken part, so each gets its own breath."""
        return Script(
            title=self.title, caption=self.caption, hashtags=self.hashtags,
            scenes=[Scene(text=part) for part in self.spoken_parts],
        )


@dataclass(frozen=True)
class WritingBrief:
    topic: str
    character_name: str
    persona: Persona
    voice: VoiceProfile  # decides how many words fit the duration
    target_s: float
    max_s: float  # the platform's limit
    format: str = "tiktok"
    seed: int = 0
    # Earlier posts on this topic in the same plan: writers take another angle.
    variant: int = 0

    @classmethod
    def for_character(
        cls, character: Character, topic: str, target_s: float, format: str, seed: int | None = None, variant: int = 0
    ) -> "WritingBrief":
        preset = get_preset(format)
        return cls(
            topic=" ".join(topic.split()), character_name=character.name, persona=character.persona,
            voice=character.voice, target_s=min(target_s, preset.max_duration_s), max_s=preset.max_duration_s,
            format=preset.name, seed=character.seed if seed is None else seed, variant=variant,
        )


class Usage(BaseModel):
    """Requests and tokens a writer used; cost in USD from an approximate price table
    (costs.py), None when the model's price is unknown."""

    requests: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float | None = 0.0

    def __add__(self, other: "Usage") -> "Usage":
        cost = None if self.cost_usd is None or other.cost_usd is None else self.cost_usd + other.cost_usd
        return Usage(
            requests=self.requests + other.requests, input_tokens=self.input_tokens + other.input_tokens,
            output_tokens=self.output_tokens + other.output_tokens, cost_usd=cost,
        )


@dataclass(frozen=True)
class WriteResult:
    written: WrittenScript
    estimated_s: float
    writer: str
    model: str | None = None
    usage: Usage = field(default_factory=Usage)
    warnings: list[str] = field(default_factory=list)
