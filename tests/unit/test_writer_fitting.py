"""Length: the spoken-duration estimate, word budgets, trimming at sentence boundaries
and the warnings every writer ends with."""

from __future__ import annotations

from pathlib import Path

import pytest

from personacast.models import Character, Persona, VoiceProfile
from personacast.pipeline import SCENE_GAP_S
from personacast.stages.write.finish import finish
from personacast.stages.write.fitting import (
    DEFAULT_PACE,
    estimate_seconds,
    length_limit,
    script_seconds,
    trim_to_fit,
    words_for,
    words_per_second,
)
from personacast.stages.write.written import WritingBrief, WrittenScene, WrittenScript

PIPER = VoiceProfile(engine="piper", sentence_pause_s=0.3)
ESPEAK = VoiceProfile(engine="espeak", voice="en-us+f3", sentence_pause_s=0.3)
# Measured with narrate(): 85 spoken words in 9 sentences took 28.4 s with Piper (joe)
# and 29.1 s with espeak-ng at rate 0.95.
MEASURED = (
    "Okay, real talk. Most people get cold brew wrong, and it is not their fault. Here is what actually changed my "
    "mornings. First, use a coarse grind, like rough sea salt, or it turns bitter and muddy. Second, give it a full "
    "eighteen hours in the fridge, not eight. Patience is the whole trick. Third, strain it twice through a paper "
    "filter. It takes two extra minutes and the difference is huge. Save this for your next batch, and tell me how "
    "yours turns out."
)


def scene_script(*body: str, hook: str = "Hook sentence here.", cta: str = "Follow for more.") -> WrittenScript:
    return WrittenScript(hook=hook, scenes=[WrittenScene(text=t, on_screen_text=f"o{i}") for i, t in enumerate(body)], call_to_action=cta)


def test_estimate_matches_the_measured_engines():
    assert estimate_seconds([MEASURED], PIPER) == pytest.approx(28.4, rel=0.08)
    assert estimate_seconds([MEASURED], ESPEAK.model_copy(update={"speaking_rate": 0.95})) == pytest.approx(29.1, rel=0.08)


def test_pace_follows_engine_and_rate():
    assert words_per_second(PIPER) == pytest.approx(3.4)
    # Piper speeds up less than the rate says; espeak follows it.
    assert words_per_second(PIPER.model_copy(update={"speaking_rate": 1.3})) == pytest.approx(3.4 * 1.3**0.65)
    assert words_per_second(ESPEAK.model_copy(update={"speaking_rate": 1.3})) == pytest.approx(3.4 * 1.3)
    assert words_per_second(VoiceProfile(engine="openai")) == DEFAULT_PACE[0] == 2.5
    faster = estimate_seconds([MEASURED], PIPER.model_copy(update={"speaking_rate": 1.5}))
    assert faster < estimate_seconds([MEASURED], PIPER)


def test_spoken_forms_pauses_and_scene_gaps_count():
    plain = estimate_seconds(["I paid five dollars."], ESPEAK)
    assert estimate_seconds(["I paid $5."], ESPEAK) == pytest.approx(plain)  # "$5" is two spoken words
    pauses = ESPEAK.model_copy(update={"sentence_pause_s": 1.0})
    assert estimate_seconds(["One. Two. Three."], pauses) - estimate_seconds(["One two three."], pauses) == pytest.approx(2.0)
    two = estimate_seconds(["One two.", "Three four."], ESPEAK)
    assert two == pytest.approx(2 * estimate_seconds(["One two."], ESPEAK) + SCENE_GAP_S)
    assert estimate_seconds(["", "  "], ESPEAK) == pytest.approx(SCENE_GAP_S)


def test_word_budget_fills_the_duration():
    for profile in (PIPER, ESPEAK, VoiceProfile(engine="elevenlabs")):
        words = words_for(30, profile)
        text = " ".join(["This is a typical spoken sentence of about eleven words, I think."] * (words // 12))
        parts = [text]
        assert estimate_seconds(parts, profile) == pytest.approx(30, rel=0.2)
    assert words_for(30, VoiceProfile(engine="openai")) < words_for(30, PIPER)


def test_limit_is_the_target_with_room_or_the_platform_cap():
    assert length_limit(30, 600) == pytest.approx(34.5)
    assert length_limit(170, 180) == 180


def test_trim_drops_body_sentences_from_the_end_first():
    written = scene_script("A one. A two.", "B one. B two. B three.", "C one.")
    limit = script_seconds(written, ESPEAK) - 1.5
    trimmed = trim_to_fit(written, ESPEAK, limit)
    assert script_seconds(trimmed, ESPEAK) <= limit
    assert trimmed.hook == written.hook and trimmed.call_to_action == written.call_to_action
    texts = [scene.text for scene in trimmed.scenes]
    assert texts[0] == "A one. A two." and all(t.endswith(".") for t in texts)
    assert len(" ".join(texts).split(". ")) < 6
    assert [s.on_screen_text for s in trimmed.scenes] == [f"o{i}" for i in range(len(texts))]  # overlays stay with their scenes


def test_trim_keeps_one_body_sentence_then_drops_the_cta_then_the_hook_tail():
    written = scene_script("Body one. Body two.", hook="Hook one. Hook two.", cta="Call to action.")
    trimmed = trim_to_fit(written, ESPEAK, 0.1)
    assert trimmed.hook == "Hook one." and trimmed.call_to_action == ""
    assert [scene.text for scene in trimmed.scenes] == ["Body one."]


def brief(seconds: float, format: str = "tiktok", persona: Persona | None = None) -> WritingBrief:
    character = Character(name="Sofia", images=[Path("face.png")], voice=ESPEAK, persona=persona or Persona())
    return WritingBrief.for_character(character, "cold brew", seconds, format)


def test_brief_takes_the_platform_cap():
    assert (brief(30).max_s, brief(30, "reels").max_s) == (600, 180)
    assert brief(400, "reels").target_s == 180  # a target over the platform's limit is capped


def test_finish_trims_long_scripts_and_says_so():
    written = scene_script(*["A long body sentence that keeps going for quite a while. " * 3] * 4)
    result = finish(written, brief(10), "test")
    assert result.estimated_s <= 11.5
    assert result.warnings and "sentences were cut to fit 12 s" in result.warnings[0]
    assert result.written.hook == written.hook


def test_finish_warns_on_short_scripts_but_keeps_them():
    written = scene_script("Tiny.")
    result = finish(written, brief(30), "test")
    assert result.written == written
    (warning,) = result.warnings
    assert warning.startswith("the script runs about ") and warning.endswith(" s, short of the 30 s asked for")


def test_finish_accepts_a_fitting_script_quietly():
    written = scene_script(*["A body sentence of a normal length, said at an easy pace."] * 5)
    seconds = script_seconds(written, ESPEAK)
    result = finish(written, brief(seconds), "test")
    assert result.warnings == [] and result.estimated_s == pytest.approx(seconds, abs=0.05)
