"""OUT.txt: what to paste when posting the video: caption, hashtags, AI disclosure.

The caption is the script's ``caption`` or else its first sentences, so the post says
what the video says. It is cut to the preset's caption limit by shortening the caption
only: the title, the hashtags and the disclosure always survive, since they are what the
post is found and judged by.
"""

from __future__ import annotations

import re

from ...models import Character, Script
from .formats import FormatPreset

# YouTube's title limit, the tightest of the platforms; also keeps cover titles short.
MAX_TITLE_CHARS = 100
# More tags read as spam to viewers and, on TikTok and Instagram, to the ranking.
MAX_HASHTAGS = 5
CAPTION_SENTENCES = 2
DISCLOSURE_LINE = "Made with AI (personacast)"

_PAUSE_RE = re.compile(r"\[\s*pause\b[^\]]*\]", re.IGNORECASE)
_EMPHASIS_RE = re.compile(r"(?<![\w*])(\*{1,2})(\S(?:[^*\n]*\S)?)\1(?![\w*])")
# A tag needs a letter: "#1" is a rank, not a hashtag; "C#" is not one either.
_HASHTAG_RE = re.compile(r"(?<![\w#&])#(\w*[^\W\d_]\w*)")
_SENTENCE_END_RE = re.compile(r"(?<=[.!?…])\s+")


def plain_text(text: str) -> str:
    """Script text as it reads on screen: no [pause] tags or *emphasis* marks, single spaces."""
    text = _EMPHASIS_RE.sub(r"\2", _PAUSE_RE.sub(" ", text))
    return " ".join(text.split())


def sentences(text: str) -> list[str]:
    return [s for s in _SENTENCE_END_RE.split(plain_text(text)) if s]


def shorten(text: str, limit: int) -> str:
    """``text`` in at most ``limit`` characters, cut between words and marked with "…"."""
    if len(text) <= limit:
        return text
    if limit <= 1:
        return ""
    cut = text[: limit - 1]
    if " " in cut.strip():
        cut = cut[: cut.rstrip().rfind(" ")]
    return cut.rstrip(" ,;:-–—") + "…"


def headline(script: Script) -> str:
    """The script's title, or its first sentence when it has none."""
    title = plain_text(script.title) or next(iter(sentences(script.text)), "")
    return shorten(title, MAX_TITLE_CHARS)


def hashtags(script: Script, character: Character) -> list[str]:
    """The script's own hashtags (in its text, then its list), then the character's, once
    each (ignoring case)."""
    listed = [tag.lstrip("#") for tag in script.hashtags + character.hashtags]
    found = _HASHTAG_RE.findall(script.text) + listed
    unique: dict[str, str] = {}
    for tag in found:
        unique.setdefault(tag.casefold(), tag)
    return [f"#{tag}" for tag in unique.values()][:MAX_HASHTAGS]


def post_text(script: Script, character: Character, preset: FormatPreset, disclose: bool) -> str:
    """Title, first sentences, hashtags and the disclosure line, within the preset's limit."""
    title = shorten(plain_text(script.title), MAX_TITLE_CHARS)
    closing = [" ".join(hashtags(script, character)), DISCLOSURE_LINE if disclose else ""]
    fixed = _paragraphs([title, *closing])
    room = preset.caption_max_chars - len(fixed) - len("\n\n") * bool(fixed)
    caption = plain_text(script.caption) or " ".join(sentences(script.text)[:CAPTION_SENTENCES])
    body = shorten(caption, max(0, room))
    return _paragraphs([title, body, *closing])


def _paragraphs(parts: list[str]) -> str:
    return "\n\n".join(part for part in parts if part)
