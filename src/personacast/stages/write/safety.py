"""The content-safety pass: a topic or a written script that breaks a rule is rejected
with a ``ContentError`` naming each rule, the words that broke it and where they are.

Rules: the persona's banned words and banned topics (whole words, case-insensitive, a
plural "s"/"es" included), and risky claims that platforms and advertising rules treat
as misleading: medical cures, weight-loss promises and financial guarantees. The claim
patterns are deliberately narrow; they catch the usual phrasings, not every one.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from ...errors import ContentError
from ...models import Persona
from .written import WrittenScript

_NUMBER = r"(?:\d+(?:[.,]\d+)?|one|two|three|four|five|six|seven|eight|nine|ten|fifteen|twenty|thirty|fifty)"
_SHORT_TIME = r"(?:a|one|two|three|four|five|six|seven|\d+) (?:days?|weeks?)"

RISKY_CLAIMS: dict[str, re.Pattern[str]] = {
    "medical claim": re.compile(
        r"\bcure[sd]?\b|\bheals? (?:any|all|every)\w*|\bmiracle (?:cure|pill|drug)s?\b|\bno side[- ]effects\b"
        r"|\b(?:prevents?|reverses?|beats?) (?:cancer|diabetes|dementia|ageing|aging)\b|\bdoctors hate\b"
    ),
    "weight-loss promise": re.compile(
        rf"\blose {_NUMBER} ?(?:kg|kgs|kilos?|kilograms?|lbs?|pounds?) (?:in|within) {_SHORT_TIME}\b"
        r"|\bmelts? (?:away )?(?:belly |body )?fat\b|\bburn fat (?:fast|overnight|while you sleep)\b"
    ),
    "financial guarantee": re.compile(
        r"\bguaranteed (?:returns?|profits?|income|gains|results|money|wins?)\b|\brisk[- ]free\b|\bno risk\b"
        r"|\bcan'?t lose\b|\bget rich quick\b|\bdouble your money\b|\b100 ?% (?:guaranteed|safe|returns?|profits?)"
    ),
}
HINT = "rephrase or remove those words; persona bans are under persona: in character.yaml"


def check_topic(topic: str, persona: Persona) -> None:
    """Reject a topic before anything is written (and paid for)."""
    found = _violations([("topic", topic)], persona, topic_itself=topic)
    if found:
        raise ContentError(f"the topic '{topic}' was rejected: {'; '.join(found)}", hint=HINT, violations=found)


def check_script(written: WrittenScript, persona: Persona) -> None:
    found = _violations(_parts(written), persona)
    if found:
        raise ContentError(f"the script was rejected: {'; '.join(found)}", hint=HINT, violations=found)


def _parts(written: WrittenScript) -> list[tuple[str, str]]:
    parts = [("title", written.title), ("hook", written.hook)]
    for index, scene in enumerate(written.scenes, start=1):
        parts += [(f"scene {index}", scene.text), (f"on-screen text {index}", scene.on_screen_text)]
    parts += [("call to action", written.call_to_action), ("caption", written.caption)]
    parts.append(("hashtags", " ".join(f"#{tag}" for tag in written.hashtags)))
    return [(where, text) for where, text in parts if text]


def _violations(parts: list[tuple[str, str]], persona: Persona, topic_itself: str | None = None) -> list[str]:
    banned_topics = _clean(persona.banned_topics)
    rules: list[tuple[str, re.Pattern[str]]] = [
        *((f"banned word '{word}'", _phrase(word)) for word in _clean(persona.banned_words)),
        *((f"banned topic '{topic}'", _phrase(topic)) for topic in banned_topics),
        *RISKY_CLAIMS.items(),
    ]
    found = []
    for rule, pattern in rules:
        hits: dict[str, list[str]] = {}
        for where, text in parts:
            for match in pattern.finditer(_plain(text)):
                hits.setdefault(match.group(0), []).append(where)
        if hits:
            words = ", ".join(f"'{word}'" for word in hits)
            places = ", ".join(dict.fromkeys(where for wheres in hits.values() for where in wheres))
            found.append(f"{rule}: {words} ({places})")
    if topic_itself is not None:
        # Asking for "crypto" when "crypto trading" is banned is asking for that subject.
        asked = _phrase(topic_itself)
        found += [f"banned topic '{banned}': '{topic_itself}' (topic)" for banned in banned_topics
                  if asked.search(_plain(banned)) and not _phrase(banned).search(_plain(topic_itself))]
    return found


def _clean(values: Iterable[str]) -> list[str]:
    return [" ".join(v.lstrip("#").split()) for v in values if v.strip().lstrip("#")]


def _phrase(words: str) -> re.Pattern[str]:
    """The words in order, any spacing, as whole words, with an optional plural ending."""
    body = r"\s+".join(re.escape(word) for word in _plain(words).split())
    return re.compile(rf"(?<!\w){body}(?:s|es)?(?!\w)")


def _plain(text: str) -> str:
    return text.lower().replace("\u2019", "'").replace("\u2018", "'")
