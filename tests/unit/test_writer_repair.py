"""Structured output: WrittenScript validation and the repair of malformed model answers."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from personacast.stages.write.repair import UnusableOutput, coerce, extract_object, parse_written
from personacast.stages.write.written import WrittenScene, WrittenScript

GOOD = {
    "title": "Three cold brew fixes",
    "hook": "Your cold brew is bitter for one reason.",
    "scenes": [{"text": "Grind coarse.", "on_screen_text": "Coarse"}, {"text": "Steep it overnight.", "on_screen_text": "Overnight"}],
    "call_to_action": "Follow for part two.",
    "caption": "Better cold brew tonight",
    "hashtags": ["coldbrew", "coffee"],
}


def test_a_valid_script_and_its_render_script():
    written = WrittenScript.model_validate(GOOD)
    assert written.spoken_parts == [GOOD["hook"], "Grind coarse.", "Steep it overnight.", GOOD["call_to_action"]]
    assert written.text == " ".join(written.spoken_parts)
    assert [scene.on_screen_text for scene in written.spoken_scenes] == ["", "Coarse", "Overnight", ""]
    script = written.to_script()
    assert [scene.text for scene in script.scenes] == written.spoken_parts
    assert (script.title, script.caption, script.hashtags) == (GOOD["title"], GOOD["caption"], ["coldbrew", "coffee"])


def test_validation_normalises_text_and_hashtags():
    written = WrittenScript(
        hook="  Hi   there. ", scenes=[WrittenScene(text="One\n two.")],
        hashtags=["#Self Care", "selfcare", "#1", "#coffee!", ""],
    )
    assert written.hook == "Hi there." and written.scenes[0].text == "One two."
    assert written.hashtags == ["SelfCare", "coffee"]  # once each, words only, no bare numbers
    assert written.title == "Hi there"  # missing title: the hook's first words
    assert written.call_to_action == "" and written.spoken_parts == ["Hi there.", "One two."]


@pytest.mark.parametrize("data", [
    {"scenes": [{"text": "x"}]},
    {"hook": "Hi", "scenes": []},
    {"hook": "  ", "scenes": [{"text": "x"}]},
    {"hook": "Hi", "scenes": [{"text": ""}]},
])
def test_invalid_scripts_are_rejected(data):
    with pytest.raises(ValidationError):
        WrittenScript.model_validate(data)


@pytest.mark.parametrize("answer", [
    json.dumps(GOOD),
    "Sure! Here's your script:\n\n" + json.dumps(GOOD) + "\n\nLet me know if you want changes.",
    "```json\n" + json.dumps(GOOD, indent=2) + "\n```",
    "Here:\n```\n" + json.dumps(GOOD) + "\n```\nAnd a note with {braces}.",
    json.dumps([GOOD]),
    json.dumps({"script": GOOD}),
])
def test_json_is_found_in_prose_fences_lists_and_wrappers(answer):
    assert parse_written(answer) == WrittenScript.model_validate(GOOD)


def test_trailing_commas_and_raw_line_breaks_are_repaired():
    answer = (
        '{"hook": "A line, with a comma,", "scenes": [{"text": "First.\nSecond.",},], '
        '"hashtags": ["a", "b",], "caption": "Braces } and ] inside strings stay",}'
    )
    written = parse_written(answer)
    assert written.hook == "A line, with a comma,"
    assert written.scenes[0].text == "First. Second."
    assert written.caption == "Braces } and ] inside strings stay"
    assert written.hashtags == ["a", "b"]


def test_other_field_names_and_near_types_are_coerced():
    answer = json.dumps({
        "Title": 2024,
        "Hook": ["Stop.", "Read this."],
        "Body": ["Plain string scene.", {"Voiceover": "Aliased scene.", "Text Overlay": "Overlay"}],
        "CTA": "Follow!",
        "tags": "#coffee, #ColdBrew morning",
        "caption": None,
        "unexpected": {"extra": "ignored"},
    })
    written = parse_written(answer)
    assert written.title == "2024"
    assert written.hook == "Stop. Read this."
    assert [(s.text, s.on_screen_text) for s in written.scenes] == [("Plain string scene.", ""), ("Aliased scene.", "Overlay")]
    assert written.call_to_action == "Follow!" and written.caption == ""
    assert written.hashtags == ["coffee", "ColdBrew", "morning"]


def test_scenes_as_one_string_become_paragraph_scenes():
    assert coerce({"scenes": "First part.\n\nSecond part."})["scenes"] == [{"text": "First part."}, {"text": "Second part."}]
    assert coerce({"scenes": {"text": "Only one."}})["scenes"] == [{"text": "Only one."}]


@pytest.mark.parametrize("answer, reason", [
    ("", "the answer was empty"),
    ("I can't help with that.", "no JSON object was found"),
    ('{"hook": "Hi", "scenes": [{"text": "x"}', "no JSON object was found"),  # cut off mid-way
    ('{"title": "Only a title"}', "hook: Field required; scenes: Field required"),
    ('{"hook": "Hi", "scenes": [{"on_screen_text": "no words"}]}', "scenes.0.text: Field required"),
    ('{"hook": {"nested": true}, "scenes": ["x"]}', "hook: Input should be a valid string"),
])
def test_unrepairable_answers_say_why(answer, reason):
    with pytest.raises(UnusableOutput) as caught:
        parse_written(answer)
    assert reason in caught.value.reason


def test_extract_prefers_a_fenced_object_over_stray_braces():
    answer = "Use {topic} wisely.\n```json\n{\"hook\": \"Hi\", \"scenes\": [\"x\"]}\n```"
    assert extract_object(answer) == {"hook": "Hi", "scenes": ["x"]}
