"""The content calendar: topics spread over days and posting times, each post written
by a script writer.

Topics are shuffled once by the seed and then taken in turn, ``per_day`` at a time, so
every topic comes up about equally often and never twice on one day (a day never holds
more posts than there are topics). A topic's later posts are written as new variants,
so the template writer takes another angle and the models are told to. Posting times
spread evenly over 08:00-21:00; the plan says nothing about time zones: post in yours.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import os
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from ..errors import BackendError, ConfigError, ContentError
from ..models import Character, Hashtag, Scene, Script
from ..stages.base import ScriptWriter
from ..stages.write.written import Usage, WritingBrief, WrittenScene

FIRST_POST_MIN = 8 * 60
LAST_POST_MIN = 21 * 60
TIME_STEP_MIN = 15


class PlannedPost(BaseModel):
    """One post of a plan. ``scenes`` are what is spoken (``text`` is them joined, for
    reading); a hand-written post may give ``text`` alone."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^[\w.-]+$")  # also the output file name
    date: dt.date
    time: str = Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")
    topic: str
    title: str = ""
    text: str = ""
    scenes: list[WrittenScene] = []
    caption: str = ""
    hashtags: list[Hashtag] = []
    format: str = "tiktok"
    character: str | None = None  # the character folder; relative paths are from the plan file
    writer: str = ""
    estimated_seconds: float | None = None
    warnings: list[str] = []

    @model_validator(mode="after")
    def _has_words(self) -> "PlannedPost":
        if not self.text.strip() and not self.scenes:
            raise ValueError("a post needs text or scenes")
        return self

    def script(self) -> Script:
        scenes = [Scene(text=scene.text) for scene in self.scenes] or [Scene(text=self.text)]
        return Script(title=self.title, caption=self.caption, hashtags=self.hashtags, scenes=scenes)


@dataclass(frozen=True)
class PlanFailure:
    id: str
    topic: str
    error: str


@dataclass
class PlanOutcome:
    posts: list[PlannedPost] = field(default_factory=list)
    failures: list[PlanFailure] = field(default_factory=list)
    usage: Usage = field(default_factory=Usage)


def read_topics(path: Path) -> list[str]:
    """One topic a line; blank lines and lines starting with "#" are skipped, repeats dropped."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read the topics file {path}: {exc.__class__.__name__}", hint="check the path") from None
    return unique_topics(lines)


def unique_topics(lines: list[str]) -> list[str]:
    topics: dict[str, str] = {}
    for line in lines:
        topic = " ".join(line.split())
        if topic and not topic.startswith("#"):
            topics.setdefault(topic.casefold(), topic)
    return list(topics.values())


def rotate_topics(topics: list[str], days: int, per_day: int, seed: int) -> list[list[str]]:
    """``per_day`` topics for each day, taken in turn from one seeded shuffle."""
    if not topics:
        raise ConfigError("there are no topics to plan", hint="give --topics FILE (one a line) or persona.topics")
    if per_day > len(topics):
        raise ConfigError(
            f"{per_day} posts a day need at least {per_day} different topics; there are {len(topics)}",
            hint="add topics or lower --per-day",
        )
    order = list(topics)
    random.Random(seed).shuffle(order)
    turn = itertools.cycle(order)
    return [[next(turn) for _ in range(per_day)] for _ in range(days)]


def posting_times(per_day: int) -> list[str]:
    """Slot centres spread over the posting window, on quarter hours."""
    span = LAST_POST_MIN - FIRST_POST_MIN
    times = []
    for slot in range(per_day):
        minute = FIRST_POST_MIN + (slot + 0.5) * span / per_day
        minute = round(minute / TIME_STEP_MIN) * TIME_STEP_MIN
        times.append(f"{minute // 60:02d}:{minute % 60:02d}")
    return times


def plan_posts(
    character: Character,
    writer: ScriptWriter,
    topics: list[str],
    start: dt.date,
    days: int,
    per_day: int,
    seconds: float,
    format: str,
    seed: int,
    character_ref: str | None = None,
    on_post: Callable[[str, str], None] | None = None,
) -> PlanOutcome:
    """Write every post of the calendar. A post that breaks a content rule or that the
    model fails on is recorded and the plan goes on; a setup error (no key, unknown
    model) stops it, since every other post would fail the same way."""
    outcome = PlanOutcome()
    written_before: dict[str, int] = {}
    times = posting_times(per_day)
    for day, day_topics in enumerate(rotate_topics(topics, days, per_day, seed)):
        date = start + dt.timedelta(days=day)
        for slot, topic in enumerate(day_topics):
            post_id = f"{date.isoformat()}-{slot + 1}"
            if on_post:
                on_post(post_id, topic)
            variant = written_before.get(topic, 0)
            written_before[topic] = variant + 1
            brief = WritingBrief.for_character(character, topic, seconds, format, seed=seed, variant=variant)
            try:
                result = writer.write(brief)
            except (ContentError, BackendError) as error:
                outcome.failures.append(PlanFailure(post_id, topic, error.message))
                continue
            outcome.usage = outcome.usage + result.usage
            written = result.written
            outcome.posts.append(PlannedPost(
                id=post_id, date=date, time=times[slot], topic=topic, title=written.title, text=written.text,
                scenes=written.spoken_scenes,
                caption=written.caption, hashtags=written.hashtags, format=brief.format, character=character_ref,
                writer=result.writer if result.model is None else f"{result.writer}:{result.model}",
                estimated_seconds=result.estimated_s, warnings=result.warnings,
            ))
    return outcome


def save_plan(posts: list[PlannedPost], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    partial.write_text(json.dumps([post.model_dump(mode="json") for post in posts], indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(partial, path)


def load_plan(path: Path) -> list[PlannedPost]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"plan not found: {path}", hint="write one with: personacast plan ...") from None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise ConfigError(f"{path} is not a JSON plan: {exc}".splitlines()[0]) from None
    if not isinstance(data, list):
        raise ConfigError(f"{path} must hold a JSON list of posts")
    posts = []
    for index, item in enumerate(data):
        try:
            posts.append(PlannedPost.model_validate(item))
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "(the post)"
            raise ConfigError(f"{path}: post {index + 1}: {where}: {first['msg']}") from None
    seen: set[str] = set()
    for post in posts:
        if post.id in seen:
            raise ConfigError(f"{path}: the id '{post.id}' is used twice", hint="ids name the output files; make them unique")
        seen.add(post.id)
    return posts
