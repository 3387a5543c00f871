from pathlib import Path

import pytest

from personacast.errors import ConfigError, FormatError
from personacast.models import Character, Script
from personacast.samples import resolve_image_ref
from personacast.stages.compose.formats import PRESETS, get_preset

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_example_character_loads_with_female_voice_and_sample_image():
    character = Character.from_dir(EXAMPLES / "characters" / "sofia")
    assert character.name == "Sofia"
    assert character.images[0].name == "astronaut.png" and character.images[0].is_file()
    assert character.voice.formant_shift > 1.0 and character.voice.pitch_median_hz == 210
    assert character.formats == ["tiktok"]


def test_script_file_with_scenes_and_relative_images(tmp_path):
    (tmp_path / "a.png").write_bytes(b"")
    path = tmp_path / "s.yaml"
    path.write_text("title: t\nscenes:\n  - text: Hello there.\n    image: a.png\n  - text: Bye now.\n")
    script = Script.from_file(path)
    assert [s.text for s in script.scenes] == ["Hello there.", "Bye now."]
    assert script.scenes[0].image == tmp_path / "a.png" and script.scenes[1].image is None
    assert script.text == "Hello there. Bye now."


def test_plain_text_script_file(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text("text: Just one line.\n")
    assert Script.from_file(path).scenes[0].text == "Just one line."


@pytest.mark.parametrize(
    "content, message",
    [("- a\n- b\n", "mapping"), ("name: X\n", "images"), ("name: [unclosed\n", "not valid YAML")],
)
def test_bad_character_files_name_the_problem(tmp_path, content, message):
    (tmp_path / "character.yaml").write_text(content)
    with pytest.raises(ConfigError, match=message):
        Character.from_dir(tmp_path)


def test_missing_character_file():
    with pytest.raises(ConfigError, match="not found"):
        Character.from_dir(Path("/nonexistent/folder"))


def test_presets_cover_the_issue_formats():
    sizes = {name: p.size for name, p in PRESETS.items()}
    assert sizes == {
        "tiktok": (1080, 1920), "reels": (1080, 1920), "shorts": (1080, 1920),
        "square": (1080, 1080), "portrait": (1080, 1350), "landscape": (1920, 1080),
    }
    assert get_preset(" TikTok ").name == "tiktok"
    with pytest.raises(FormatError, match="unknown format 'vine'"):
        get_preset("vine")


def test_sample_reference_resolves_to_packaged_portrait(tmp_path):
    assert resolve_image_ref("sample:astronaut", tmp_path).is_file()
    assert resolve_image_ref("me.jpg", tmp_path) == tmp_path / "me.jpg"
    with pytest.raises(ConfigError):
        resolve_image_ref("sample:nobody", tmp_path)
