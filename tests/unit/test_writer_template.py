"""The offline template writer: deterministic per seed, varied, tone-aware, in the
persona, fitted to the duration, and never breaking the content rules."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from personacast.errors import ContentError
from personacast.models import Character, Persona, Script, VoiceProfile
from personacast.settings import Settings
from personacast.stages.write.fitting import length_limit, script_seconds
from personacast.stages.write.safety import check_script
from personacast.stages.write.script_file import write_script_file
from personacast.stages.write.template import TemplateWriter, hashtags_for, pick_tone, topic_words
from personacast.stages.write.template_bank import ANGLES, TONES
from personacast.stages.write.written import WritingBrief

ESPEAK = VoiceProfile(engine="espeak", voice="en-us+f3")
TOPICS = ["cold brew at home", "Morning routines", "budgeting for students", "TikTok growth", "learning to draw"]


def write(topic: str = "cold brew at home", seconds: float = 30, seed: int = 1, variant: int = 0, persona: Persona | None = None,
          voice: VoiceProfile = ESPEAK, format: str = "tiktok"):
    character = Character(name="Sofia", images=[Path("a.png")], voice=voice, persona=persona or Persona())
    brief = WritingBrief.for_character(character, topic, seconds, format, seed=seed, variant=variant)
    return TemplateWriter(Settings()).write(brief), brief


def test_same_seed_same_script_other_seeds_vary():
    first, _ = write(seed=4)
    again, _ = write(seed=4)
    assert first == again
    scripts = [write(seed=seed)[0].written for seed in range(12)]
    assert len({w.hook for w in scripts}) >= 8 and len({w.title for w in scripts}) >= 5


def test_repeated_topics_in_a_series_take_new_angles():
    titles = [write(variant=variant)[0].written.title for variant in range(4)]
    assert len(set(titles)) == 4


@pytest.mark.parametrize("topic", TOPICS)
@pytest.mark.parametrize("seconds", [15, 30, 45])
def test_scripts_fit_the_target(topic, seconds):
    result, brief = write(topic, seconds)
    estimate = script_seconds(result.written, ESPEAK)
    assert result.estimated_s == pytest.approx(estimate, abs=0.05)
    assert seconds * 0.75 <= estimate <= length_limit(seconds, brief.max_s)
    assert result.warnings == []


def test_piper_voices_get_more_words_than_slower_engines():
    piper, _ = write(voice=VoiceProfile(engine="piper"))
    human_paced, _ = write(voice=VoiceProfile(engine="elevenlabs", voice="v"))
    assert len(piper.written.text.split()) > len(human_paced.written.text.split())


def test_a_very_short_target_is_trimmed_and_a_long_one_noted():
    short, _ = write(seconds=5)
    assert any("cut to fit" in w for w in short.warnings)
    assert short.estimated_s < 10 and len(short.written.scenes) == 1
    long, _ = write(seconds=120)
    assert any("short of the 120 s" in w for w in long.warnings)


@pytest.mark.parametrize("topic", TOPICS)
def test_reads_like_a_post(topic):
    for seed in range(6):
        result, _ = write(topic, seed=seed)
        written = result.written
        spoken = written.text
        assert "{" not in spoken + written.title + written.caption and "  " not in spoken
        assert re.fullmatch(r"[A-Z0-9].*[.!?]", written.hook) and written.call_to_action[-1] in ".!?"
        assert all(scene.text[0].isupper() and scene.text[-1] in ".!?" for scene in written.scenes)
        assert 2 <= len(written.scenes) and all(scene.on_screen_text for scene in written.scenes)
        assert topic_words(topic) in spoken and written.caption and 1 <= len(written.hashtags) <= 5
        if re.search(r"\d", written.title):  # "3 mistakes ..." counts what the body delivers
            count = int(re.search(r"\d+", written.title).group())
            assert count == len([s for s in written.scenes if s.on_screen_text != "Recap"])


def test_topic_reads_naturally_mid_sentence():
    assert topic_words("Morning routines.") == "morning routines"
    assert topic_words("TikTok growth") == "TikTok growth"
    assert topic_words("NASA facts") == "NASA facts"
    assert hashtags_for("cold brew at home", ANGLES[0]) == ["coldbrew", ANGLES[0].tag]
    assert hashtags_for("budgeting for students", ANGLES[1]) == ["budgetingstudents", "budgeting", "students", ANGLES[1].tag]


@pytest.mark.parametrize("tone, personality, expected", [
    ("friendly", "", "friendly"),
    ("high-energy and bold", "", "energetic"),
    ("calm, soothing", "", "calm"),
    ("professional", "an expert nutritionist", "expert"),
    ("witty", "", "playful"),
    ("", "a sarcastic, funny nerd", "playful"),
    ("whatever", "", "friendly"),
])
def test_tone_from_the_persona(tone, personality, expected):
    assert pick_tone(Persona(tone=tone, personality=personality)).name == expected


def test_wording_follows_the_tone():
    energetic = [write(seed=s, persona=Persona(tone="energetic"))[0].written for s in range(6)]
    calm = [write(seed=s, persona=Persona(tone="calm"))[0].written for s in range(6)]
    energetic_tone = next(t for t in TONES if t.name == "energetic")
    calm_tone = next(t for t in TONES if t.name == "calm")
    assert all(w.call_to_action in energetic_tone.calls and w.hook.endswith(("!", "?")) for w in energetic)
    assert all(w.call_to_action in calm_tone.calls for w in calm)
    assert sum(w.text.count("!") for w in energetic) > sum(w.text.count("!") for w in calm)


def test_the_character_name_and_persona_reach_the_script():
    hooks = [write(seed=s, persona=Persona(tone="friendly"))[0].written.hook for s in range(20)]
    assert any("Hi, it's Sofia!" in hook for hook in hooks)


def test_banned_words_are_avoided_by_drawing_again():
    plain, _ = write(seed=2)
    used = next(w.strip(".,!?:").lower() for w in plain.written.call_to_action.split() if len(w) > 4)
    persona = Persona(banned_words=[used])
    result, _ = write(seed=2, persona=persona)
    check_script(result.written, persona)
    assert used not in result.written.text.lower()


def test_banned_topics_and_risky_topics_are_refused():
    with pytest.raises(ContentError, match="banned topic 'cold brew'"):
        write(persona=Persona(banned_topics=["cold brew"]))
    with pytest.raises(ContentError, match="weight-loss promise"):
        write("how to lose 10 kg in a week")


def test_every_template_line_is_safe_on_its_own():
    lines = [text for angle in ANGLES for text in (*angle.hooks, *angle.titles, angle.caption, *(b.text for b in angle.beats))]
    lines += [text for tone in TONES for text in (*tone.openers, *tone.bridges, *tone.asides, *tone.calls, *tone.caption_tails)]
    result, _ = write()
    for line in filter(None, lines):
        check_script(result.written.model_copy(update={"hook": line.format(topic="x", Topic="X", N=3, name="S")}), Persona())


def test_other_languages_are_noted():
    result, _ = write(persona=Persona(language="Spanish"))
    assert any("writes English" in warning for warning in result.warnings)


def test_script_file_renders_as_a_script_with_overlays_as_comments(tmp_path):
    result, _ = write("it's \"cold brew\": #1 at home", seed=3)
    path = tmp_path / "nested" / "script.yaml"
    write_script_file(result, "cold brew", path)
    script = Script.from_file(path)
    assert [scene.text for scene in script.scenes] == result.written.spoken_parts
    assert (script.title, script.caption, script.hashtags) == (result.written.title, result.written.caption, result.written.hashtags)
    text = path.read_text(encoding="utf-8")
    assert text.startswith("# Written by personacast (template writer) about 'cold brew'")
    for scene in result.written.scenes:
        assert f"    # on screen: {scene.on_screen_text}\n" in text
