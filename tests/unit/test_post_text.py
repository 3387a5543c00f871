"""OUT.txt: caption from the script, hashtags once each, the disclosure, within the limit."""

from dataclasses import replace
from pathlib import Path

import pytest

from personacast.models import Character, Scene, Script
from personacast.stages.compose.formats import PRESETS, get_preset
from personacast.stages.compose.post_text import (
    DISCLOSURE_LINE,
    MAX_HASHTAGS,
    MAX_TITLE_CHARS,
    hashtags,
    headline,
    plain_text,
    post_text,
    shorten,
)

SOFIA = Character(name="Sofia", images=[Path("face.png")], hashtags=["#AI", "tech", "ai"])


def test_caption_has_title_first_sentences_hashtags_and_disclosure():
    script = Script(
        title="My *first* video",
        scenes=[Scene(text="Hi, I'm Sofia! [pause] Big news #Launch today. Third sentence #tech."), Scene(text="More #launch")],
    )
    text = post_text(script, SOFIA, get_preset("tiktok"), disclose=True)
    assert text.split("\n\n") == [
        "My first video",
        "Hi, I'm Sofia! Big news #Launch today.",
        "#Launch #tech #AI",
        DISCLOSURE_LINE,
    ]


def test_no_disclosure_line_when_the_label_is_off():
    text = post_text(Script.from_text("Hello there."), SOFIA, get_preset("reels"), disclose=False)
    assert DISCLOSURE_LINE not in text and text.startswith("Hello there.")


def test_hashtags_deduplicated_and_capped():
    script = Script.from_text("#one #Two #two #1 C# a#b #three&x #four #five #six")
    tags = hashtags(script, SOFIA)
    assert tags == ["#one", "#Two", "#three", "#four", "#five"]
    assert len(tags) == MAX_HASHTAGS
    assert hashtags(Script.from_text("No tags."), SOFIA) == ["#AI", "#tech"]


def test_character_hashtags_must_be_single_words():
    with pytest.raises(ValueError):
        Character(name="x", images=[Path("face.png")], hashtags=["two words"])


@pytest.mark.parametrize("name", list(PRESETS))
def test_long_scripts_respect_each_platforms_limit(name):
    preset = get_preset(name)
    long_sentence = " ".join(["word"] * 3000) + "."
    script = Script(title="T" * 300, scenes=[Scene(text=f"{long_sentence} {long_sentence} #tag")])
    text = post_text(script, SOFIA, preset, disclose=True)
    assert len(text) <= preset.caption_max_chars
    title, body, tags, disclosure = text.split("\n\n")
    assert len(title) <= MAX_TITLE_CHARS and body.endswith("…") and tags == "#tag #AI #tech" and disclosure == DISCLOSURE_LINE


def test_a_tight_limit_shortens_only_the_sentences():
    preset = replace(get_preset("tiktok"), caption_max_chars=80)
    script = Script(title="Title", scenes=[Scene(text="A rather long first sentence that will not fit here at all.")])
    text = post_text(script, SOFIA, preset, disclose=True)
    assert len(text) <= 80
    assert text.startswith("Title\n\nA rather") and text.endswith(f"#AI #tech\n\n{DISCLOSURE_LINE}")


def test_headline_is_the_title_or_the_first_sentence():
    assert headline(Script(title="  Big *news*  ", scenes=[Scene(text="Hello.")])) == "Big news"
    assert headline(Script.from_text("Hi, I'm **Sofia**! Big news today.")) == "Hi, I'm Sofia!"
    assert len(headline(Script.from_text("word " * 100))) <= MAX_TITLE_CHARS


def test_shorten_cuts_between_words():
    assert shorten("one two three", 20) == "one two three"
    assert shorten("one two, three", 12) == "one two…"
    assert shorten("abcdefghij", 5) == "abcd…"
    assert plain_text("a [pause 1s] *b*  **c** 5*3") == "a b c 5*3"


def test_a_written_caption_and_hashtag_list_are_used():
    script = Script(
        title="Cold brew", caption="My *best* cold brew, finally [pause] ☕", hashtags=["coldbrew", "#AI"],
        scenes=[Scene(text="Spoken words #spoken. More.")],
    )
    paragraphs = post_text(script, SOFIA, get_preset("tiktok"), disclose=False).split("\n\n")
    assert paragraphs == ["Cold brew", "My best cold brew, finally ☕", "#spoken #coldbrew #AI #tech"]
