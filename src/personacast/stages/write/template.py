"""The offline writer: no model, no network, the same script for the same seed.

It picks an angle for the topic (mistakes, habits, myths, a story, ...; the seed and
the post's variant rotate it, so repeated topics in a plan get different angles), a
tone from the persona's tone and personality words, and then the hook, connectors,
asides and call to action by a seeded random draw. The body grows beat by beat (then a
recap, then asides) until the estimate is closest to the target duration. Drafts that
use a persona's banned word, or that cannot be made short enough, are drawn again. It
writes English only; the persona's brand rules are for the language-model writers.
"""

from __future__ import annotations

import random
import re
import zlib
from collections.abc import Callable
from functools import partial

from ...errors import ContentError
from ...models import Persona
from ...settings import Settings
from .finish import finish
from .fitting import length_limit, script_seconds
from .safety import check_script, check_topic
from .template_bank import ANGLES, DEFAULT_TONE, TONES, Angle, Tone
from .written import WriteResult, WritingBrief, WrittenScene, WrittenScript

_DRAWS = 12
_STOPWORDS = frozenset(
    "a an and at for from how in into of on or the to with your my our you i is are be this that what why when".split()
)
_MAX_TOPIC_TAGS = 3
_WORD_RE = re.compile(r"[^\W_]+")


class TemplateWriter:
    name = "template"

    def __init__(self, settings: Settings, model: str | None = None) -> None:
        # Same constructor as the model writers; there is no model here.
        del settings, model

    def write(self, brief: WritingBrief) -> WriteResult:
        check_topic(brief.topic, brief.persona)
        tone = pick_tone(brief.persona)
        first_angle = zlib.crc32(brief.topic.casefold().encode()) + brief.seed + brief.variant
        limit = length_limit(brief.target_s, brief.max_s)
        drafts: list[WrittenScript] = []
        safe: list[WrittenScript] = []
        for draw in range(_DRAWS):
            rng = random.Random(f"{brief.seed}:{brief.topic.casefold()}:{brief.variant}:{draw}")
            drafts.append(_compose(brief, ANGLES[(first_angle + draw // 3) % len(ANGLES)], tone, rng))
            try:
                check_script(drafts[-1], brief.persona)
            except ContentError:
                continue  # finish() names the rule if every draw breaks one
            safe.append(drafts[-1])
            if script_seconds(drafts[-1], brief.voice) <= limit:
                break  # else another angle may say it in fewer words; finish() trims the first
        fitting = [draft for draft in safe[-1:] if script_seconds(draft, brief.voice) <= limit]
        written = (fitting or safe or drafts)[0]
        warnings = []
        if not brief.persona.language.strip().lower().startswith("en"):
            warnings.append(f"the template writer writes English; persona language '{brief.persona.language}' needs a model writer")
        return finish(written, brief, self.name, warnings=warnings)


def pick_tone(persona: Persona) -> Tone:
    """The tone whose keywords start most words of the persona's tone (counted twice)
    and personality; friendly when none does."""
    words = _WORD_RE.findall(persona.tone.lower()) * 2 + _WORD_RE.findall(persona.personality.lower())
    scores = {tone.name: sum(w.startswith(tone.keywords) for w in words) for tone in TONES}
    best = max(TONES, key=lambda tone: scores[tone.name])
    return best if scores[best.name] else next(t for t in TONES if t.name == DEFAULT_TONE)


def topic_words(topic: str) -> str:
    """The topic as it reads mid-sentence: "Morning routines" -> "morning routines";
    names in capitals or mixed case ("TikTok growth", "NASA") stay as written."""
    topic = topic.strip().rstrip(".!?;:")
    first = topic.split(" ", 1)[0]
    if len(first) > 1 and first[0].isupper() and first[1:].islower():
        return topic[0].lower() + topic[1:]
    return topic


def hashtags_for(topic: str, angle: Angle) -> list[str]:
    words = [w.lower() for w in _WORD_RE.findall(topic) if w.lower() not in _STOPWORDS]
    tags = ["".join(words[:2])] if words else []
    tags += [w for w in words if len(w) >= 5][:_MAX_TOPIC_TAGS]
    return [*tags, angle.tag]


def _compose(brief: WritingBrief, angle: Angle, tone: Tone, rng: random.Random) -> WrittenScript:
    topic = topic_words(brief.topic)

    def fill(template: str, count: int = 0) -> str:
        return template.format(topic=topic, Topic=topic[:1].upper() + topic[1:], N=count, name=brief.character_name)

    opener, bridge = rng.choice(tone.openers), rng.choice(tone.bridges)
    hook, title, call = rng.choice(angle.hooks), rng.choice(angle.titles), rng.choice(tone.calls)
    beats = list(angle.beats) if angle.ordered else rng.sample(angle.beats, len(angle.beats))
    asides = rng.sample(tone.asides, len(tone.asides))
    caption = f"{fill(angle.caption)} {rng.choice(tone.caption_tails)}"
    hashtags = hashtags_for(topic, angle)

    def build(hook: str, call: str, count: int, recap: bool, aside_count: int, framed: bool = True) -> WrittenScript:
        scenes = []
        labels = _labels(angle, tone, count)
        for index, beat in enumerate(beats[:count]):
            text = fill(beat.text)
            text = f"{labels[index]} {text}" if labels else _capitalised(text)
            if index < aside_count:
                text = f"{text} {asides[index % len(asides)]}"
            overlay = f"{index + 1}. {beat.overlay}" if labels else beat.overlay
            scenes.append(WrittenScene(text=text, on_screen_text=overlay))
        if recap and angle.recap:
            items = [beat.overlay[:1].lower() + beat.overlay[1:] for beat in beats[:count]]
            listed = ", ".join(items[:-1]) + f", and {items[-1]}" if len(items) > 1 else items[0]
            scenes.append(WrittenScene(text=angle.recap.format(list=listed), on_screen_text="Recap"))
        frame = (opener, bridge) if framed else ("", "")
        spoken_hook = " ".join(part for part in (fill(frame[0]), _exclaimed(fill(hook, count), tone), fill(frame[1])) if part)
        return WrittenScript(
            title=fill(title, count), hook=spoken_hook, scenes=scenes, call_to_action=_exclaimed(fill(call), tone),
            caption=caption, hashtags=hashtags,
        )

    limit = length_limit(brief.target_s, brief.max_s)
    timed = _growing(partial(build, hook, call), angle, tone, _fewest(hook, title), brief)
    if timed[0][0] > limit:  # even the shortest draft is too long: the shortest words too
        hook, call = min(angle.hooks, key=len), min(tone.calls, key=len)
        timed = _growing(partial(build, hook, call), angle, tone, _fewest(hook, title), brief) + timed
    fitting = [(seconds, draft) for seconds, draft in timed if seconds <= limit] or timed[:1]
    return min(fitting, key=lambda pair: abs(pair[0] - brief.target_s))[1]


def _fewest(hook: str, title: str) -> int:
    return 2 if "{N}" in hook or "{N}" in title else 1  # "1 mistakes" would not do


def _growing(
    build: Callable[..., WrittenScript], angle: Angle, tone: Tone, fewest: int, brief: WritingBrief
) -> list[tuple[float, WrittenScript]]:
    """Drafts and their estimated seconds, shortest first: more beats (each without and
    with the opener and bridge around the hook), then a recap, then asides."""
    most = len(angle.beats)
    drafts = [build(count, False, 0, framed) for count in range(fewest, most + 1) for framed in (False, True)]
    if angle.recap:
        drafts.append(build(most, True, 0))
    if not angle.ordered:
        drafts += [build(most, bool(angle.recap), asides) for asides in range(1, min(most, len(tone.asides)) + 1)]
    return [(script_seconds(draft, brief.voice), draft) for draft in drafts]


def _labels(angle: Angle, tone: Tone, count: int) -> list[str]:
    if angle.labels == () or count == 1:  # a lone "First," promises a second
        return []
    if angle.labels is not None:
        return list(angle.labels[:count])
    labels = list(tone.ordinals[:count])
    if count >= 3:
        labels[-1] = tone.last
    return labels


def _capitalised(text: str) -> str:
    return text[:1].upper() + text[1:]


def _exclaimed(text: str, tone: Tone) -> str:
    return text[:-1] + "!" if tone.exclaims and text.endswith(".") else text
