"""Persona rules (character.yaml's persona:, prompts) and the content-safety pass."""

from __future__ import annotations

from pathlib import Path

import pytest

from personacast.errors import ContentError, InputError
from personacast.models import Character, Persona, VoiceProfile
from personacast.stages.write.prompts import system_prompt, user_prompt
from personacast.stages.write.safety import check_script, check_topic
from personacast.stages.write.written import WritingBrief, WrittenScene, WrittenScript

PERSONA = Persona(
    personality="a former barista, warm and a little nerdy",
    tone="playful",
    topics=["cold brew", "latte art"],
    banned_topics=["politics", "crypto trading"],
    banned_words=["hack", "#grind", "game changer"],
    brand_rules=["Call the shop 'the bar', never 'the store'"],
    language="English",
)


def script(**parts) -> WrittenScript:
    values = {"title": "A post", "hook": "Hello there.", "scenes": [WrittenScene(text="A calm body line.")], **parts}
    return WrittenScript(**values)


def test_persona_in_character_yaml(tmp_path):
    (tmp_path / "character.yaml").write_text(
        "name: Sofia\nimages: [sample:astronaut]\npersona:\n  personality: warm\n  tone: calm and gentle\n"
        "  topics: [sleep, tea]\n  banned_topics: [politics]\n  banned_words: [hack]\n"
        "  brand_rules: [No slang]\n  language: English\n",
        encoding="utf-8",
    )
    character = Character.from_dir(tmp_path)
    assert character.persona.tone == "calm and gentle" and character.persona.topics == ["sleep", "tea"]
    assert Character(name="x", images=[Path("a.png")]).persona == Persona()  # optional, with defaults


def test_unknown_persona_field_is_a_config_error(tmp_path):
    (tmp_path / "character.yaml").write_text("name: S\nimages: [sample:astronaut]\npersona: {mood: sunny}\n", encoding="utf-8")
    with pytest.raises(InputError, match="persona.mood"):
        Character.from_dir(tmp_path)


def test_every_persona_field_reaches_the_prompt():
    character = Character(name="Sofia", images=[Path("a.png")], persona=PERSONA, voice=VoiceProfile(engine="espeak"))
    brief = WritingBrief.for_character(character, "cold brew at home", 30, "reels")
    system = system_prompt(brief)
    for part in ("Sofia", PERSONA.personality, "playful", "English", "cold brew, latte art", "politics, crypto trading",
                 "hack, #grind, game changer", "- Call the shop 'the bar', never 'the store'", "guaranteed returns", "JSON"):
        assert part in system, part
    user = user_prompt(brief, 80)
    assert "Topic: cold brew at home" in user and "reels" in user and "180 seconds" in user and "about 80 spoken words" in user


def test_clean_script_passes():
    check_script(script(caption="Latte art for beginners ☕", hashtags=["latteart"]), PERSONA)


@pytest.mark.parametrize("parts, violation", [
    ({"hook": "This HACK saves time."}, "banned word 'hack': 'hack' (hook)"),
    ({"call_to_action": "Two hacks, no excuses."}, "banned word 'hack': 'hacks' (call to action)"),
    ({"hashtags": ["grind"]}, "banned word 'grind': 'grind' (hashtags)"),
    ({"scenes": [WrittenScene(text="Fine.", on_screen_text="Total game   changer")]}, "banned word 'game changer': 'game changer' (on-screen text 1)"),
    ({"caption": "My take on politics."}, "banned topic 'politics': 'politics' (caption)"),
    ({"hook": "This tea cures insomnia."}, "medical claim: 'cures' (hook)"),
    ({"hook": "No side effects, ever."}, "medical claim: 'no side effects' (hook)"),
    ({"hook": "Lose 10 kg in a week with this."}, "weight-loss promise: 'lose 10 kg in a week' (hook)"),
    ({"hook": "Lose ten pounds in 3 days!"}, "weight-loss promise: 'lose ten pounds in 3 days' (hook)"),
    ({"title": "Guaranteed returns on day one"}, "financial guarantee: 'guaranteed returns' (title)"),
    ({"hook": "It's completely risk-free."}, "financial guarantee: 'risk-free' (hook)"),
    ({"hook": "You can\u2019t lose with this fund."}, "financial guarantee: 'can't lose' (hook)"),
])
def test_each_rule_names_itself_the_words_and_where(parts, violation):
    with pytest.raises(ContentError) as caught:
        check_script(script(**parts), PERSONA)
    assert caught.value.violations == [violation]
    assert violation in caught.value.message and "character.yaml" in caught.value.hint
    assert caught.value.permanent and isinstance(caught.value, InputError)


def test_several_violations_are_reported_together():
    risky = script(hook="This hack cures everything.", scenes=[WrittenScene(text="Risk free, guaranteed profits, a real hack.")])
    with pytest.raises(ContentError) as caught:
        check_script(risky, PERSONA)
    assert caught.value.violations == [
        "banned word 'hack': 'hack' (hook, scene 1)",
        "medical claim: 'cures' (hook)",
        "financial guarantee: 'risk free', 'guaranteed profits' (scene 1)",
    ]


def test_words_inside_other_words_are_not_flagged():
    check_script(script(hook="Shackles off: the curser of secure ideas, a hackathon."), PERSONA)


@pytest.mark.parametrize("topic", ["politics this week", "crypto", "Crypto trading for beginners", "a cold brew hack", "lose 5 kg in a week"])
def test_banned_and_risky_topics_are_rejected_before_writing(topic):
    with pytest.raises(ContentError, match=f"the topic '{topic}' was rejected"):
        check_topic(topic, PERSONA)


@pytest.mark.parametrize("topic", ["cold brew at home", "political cartoons", "crypt tours", "trading cards"])
def test_allowed_topics_pass(topic):
    check_topic(topic, PERSONA)
