"""Prompts from a character's appearance: combinations, seeds, trigger word, CLIP's limit."""

from collections import Counter

import pytest

from personacast.errors import ConfigError
from personacast.models import Appearance
from personacast.stages.images.prompts import CLIP_MAX_TOKENS, build_prompts, fit_prompt


def words(text: str) -> int:
    """Tokens as a CLIP tokenizer of whole words would count them (start and end included)."""
    return len(text.replace(",", " ,").split()) + 2


def appearance(**fields) -> Appearance:
    base = {"description": "a woman, red hair", "trigger": "sofiaxyz", "style": "photo, natural light",
            "poses": ["standing", "sitting"], "outfits": ["coat", "dress"], "scenarios": ["park", "cafe"]}
    return Appearance(**{**base, **fields})


def test_every_value_comes_round_evenly_then_all_combinations_then_they_cycle():
    four = build_prompts(appearance(), 0, 4, words).prompts
    for axis in ("pose", "outfit", "scenario"):
        assert sorted(Counter(getattr(p, axis) for p in four).values()) == [2, 2]

    eight = build_prompts(appearance(), 0, 8, words).prompts
    combos = [(p.pose, p.outfit, p.scenario) for p in eight]
    assert len(set(combos)) == 8  # 2 x 2 x 2, none twice

    ten = build_prompts(appearance(), 0, 10, words).prompts
    assert [(p.pose, p.outfit, p.scenario) for p in ten[8:]] == combos[:2]
    assert ten[8].prompt == ten[0].prompt and ten[8].seed != ten[0].seed
    assert [p.prompt for p in ten[:8]] == [p.prompt for p in eight]  # asking for more keeps the first ones


def test_seeds_follow_the_base_seed_and_index_and_reruns_are_identical():
    first = build_prompts(appearance(), 41, 5, words)
    assert [p.seed for p in first.prompts] == [41, 42, 43, 44, 45]
    assert build_prompts(appearance(), 41, 5, words) == first
    assert build_prompts(appearance(), 2**32 - 1, 2, words).prompts[1].seed == 0  # wraps like a uint32


def test_the_trigger_word_comes_first_then_description_pose_outfit_scenario_style():
    prompt = build_prompts(appearance(), 0, 1, words).prompts[0]
    assert prompt.prompt == "sofiaxyz, a woman, red hair, standing, coat, park, photo, natural light"
    assert prompt.negative == appearance().negative
    assert prompt.dropped == ()


def test_unset_outfits_and_scenarios_are_left_out():
    plain = appearance(outfits=[], scenarios=[], poses=[])
    prompts = build_prompts(plain, 0, 3, words).prompts
    assert {p.prompt for p in prompts} == {"sofiaxyz, a woman, red hair, photo, natural light"}
    assert [p.seed for p in prompts] == [0, 1, 2]


def test_over_the_limit_style_goes_first_then_the_description_after_its_first_phrase():
    long_style = ", ".join(f"style{i}" for i in range(40))
    plan = build_prompts(appearance(style=long_style, description="a woman, " + ", ".join(f"trait{i}" for i in range(40))), 0, 1, words)
    prompt = plan.prompts[0]
    assert words(prompt.prompt) <= CLIP_MAX_TOKENS
    assert prompt.prompt.startswith("sofiaxyz, a woman, trait0")
    assert all(part in prompt.prompt for part in ("standing", "coat", "park"))
    assert "style0" not in prompt.prompt  # all 40 style phrases went before any trait did
    assert prompt.dropped[:40] == tuple(f"style{i}" for i in reversed(range(40)))
    assert "trait39" in prompt.dropped and "trait0" not in prompt.dropped
    assert any("lost style or description phrases" in w for w in plan.warnings)


def test_a_prompt_that_cannot_fit_is_reported_not_silently_cut():
    long_pose = " ".join(["walking"] * 90)
    plan = build_prompts(appearance(poses=[long_pose]), 0, 1, words)
    assert long_pose in plan.prompts[0].prompt
    assert any("image(s) 0 is still over CLIP's 77" in w and "its end will be cut" in w for w in plan.warnings)


def test_a_long_negative_prompt_loses_its_last_phrases():
    negative = ", ".join(f"bad{i}" for i in range(60))
    plan = build_prompts(appearance(negative=negative), 0, 1, words)
    assert words(plan.prompts[0].negative) <= CLIP_MAX_TOKENS
    assert plan.prompts[0].negative.startswith("bad0, bad1")
    assert any("negative prompt" in w for w in plan.warnings)


def test_fit_prompt_keeps_phrases_of_rank_zero():
    text, dropped = fit_prompt([("keep me", 0), ("maybe", 1), ("first to go", 2), ("also", 1)], words, limit=6)
    assert text == "keep me, maybe"
    assert dropped == ("first to go", "also")


def test_with_a_real_clip_tokenizer(tiny_sd, tmp_path):
    from transformers import CLIPTokenizer

    tiny_sd.write_tokenizer(tmp_path / "tokenizer")
    tokenizer = CLIPTokenizer.from_pretrained(tmp_path / "tokenizer")
    count = lambda text: len(tokenizer(text).input_ids)  # noqa: E731
    # The tiny vocabulary spells unknown words letter by letter: this style alone is over 77.
    plan = build_prompts(appearance(style="cinematic lighting, bokeh, film grain, kodak portra, depth of field"), 0, 2, count)
    for prompt in plan.prompts:
        assert count(prompt.prompt) <= CLIP_MAX_TOKENS
        assert prompt.prompt.startswith("sofiaxyz, a woman")
        assert prompt.dropped[0] == "depth of field"


def test_nothing_to_draw_or_no_images_is_a_config_error():
    with pytest.raises(ConfigError, match="neither a trigger word nor a description"):
        build_prompts(appearance(trigger="", description=""), 0, 1, words)
    with pytest.raises(ConfigError, match="at least one"):
        build_prompts(appearance(), 0, 0, words)
