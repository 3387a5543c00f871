import cv2
import numpy as np
import pytest
from PIL import features
from pydantic import ValidationError

from personacast.errors import ConfigError
from personacast.models import CaptionStyle, Character, Script, Word
from personacast.stages.compose import captions
from personacast.stages.compose.captions import EDGE_MARGIN_RATIO, CaptionRenderer, caption_warnings
from personacast.stages.compose.formats import PRESETS, get_preset

needs_emoji_font = pytest.mark.skipif(captions.emoji_font(captions.EMOJI_FONT_PATH) is None, reason="fonts-noto-color-emoji missing")


def spoken(text, start=0.0):
    return [Word(text=t, start_s=start + i * 0.3, end_s=start + i * 0.3 + 0.25) for i, t in enumerate(text.split(" "))]


NASTY = {
    "long word": "supercalifragilisticexpialidocious!!!",
    "many words": "so many tiny words here that they can never fit on one line anywhere",
    "emoji only": "🔥🔥🔥 🎉 👨‍👩‍👧‍👦",
    "two lines": "Wonderful 🇫🇷 MOUNTAINS everywhere",
}
STYLES = {
    "default": CaptionStyle(max_words=12),
    "big, low, boxed, shadowed": CaptionStyle(
        max_words=12, size_ratio=0.2, center_y_ratio=0.94, box_color="#000000A0", box_padding_ratio=0.8,
        shadow_offset_ratio=0.2, shadow_blur_ratio=0.15,
    ),
    "one line at the top": CaptionStyle(max_words=12, max_lines=1, position="top", outline_ratio=0.3),
    "bottom": CaptionStyle(max_words=12, position="bottom", box_color="#FFFFFF", shadow_offset_ratio=0.1),
}


def frame_alpha(overlay, preset):
    """The overlay's opacity over the whole frame, or an error if part of it is off the frame."""
    x0, y0, x1, y1 = overlay.rect
    assert 0 <= x0 and 0 <= y0 and x1 <= preset.width and y1 <= preset.height
    alpha = np.zeros((preset.height, preset.width), np.uint8)
    alpha[y0:y1, x0:x1] = overlay.rgba[..., 3]
    return alpha


def blended(renderer, t, preset, background=0):
    frame = np.full((preset.height, preset.width, 3), background, np.uint8)
    renderer.overlay_at(t).blend_into(frame)
    return frame


def line_count(overlay):
    rows = (overlay.rgba[..., 3] > 0).any(1)
    return int(rows[0]) + int(np.count_nonzero(rows[1:] & ~rows[:-1]))


@pytest.mark.parametrize("preset_name", sorted(PRESETS))
def test_every_caption_pixel_lies_inside_the_safe_zone(preset_name):
    preset = get_preset(preset_name)
    for text_name, text in NASTY.items():
        for style_name, style in STYLES.items():
            renderer = CaptionRenderer(spoken(text), style, preset)
            left, top, right, bottom = renderer.safe_box
            alpha = frame_alpha(renderer.overlay_at(0.1), preset)
            inside = alpha[top:bottom, left:right]
            assert np.count_nonzero(inside) > 500, (text_name, style_name)
            assert np.count_nonzero(alpha) == np.count_nonzero(inside), (text_name, style_name)


@pytest.mark.parametrize("preset_name", sorted(PRESETS))
def test_a_long_word_shrinks_to_fit_without_being_cut(preset_name):
    renderer = CaptionRenderer(spoken(NASTY["long word"]), CaptionStyle(size_ratio=0.25), get_preset(preset_name))
    rgba = renderer.overlay_at(0.1).rgba
    assert rgba.shape[1] <= renderer.safe_box[2] - renderer.safe_box[0]
    edges = np.concatenate([rgba[0, :, 3], rgba[-1, :, 3], rgba[:, 0, 3], rgba[:, -1, 3]])
    assert not edges.any()  # the padding around the glyphs is empty: nothing was clipped


def test_shadow_is_the_text_moved_by_the_offset():
    preset = get_preset("tiktok")
    style = CaptionStyle(color="#FFFFFF", highlight_color="#FFFFFF", outline_ratio=0, shadow_color="#FF0000", shadow_offset_ratio=0.3)
    frame = blended(CaptionRenderer(spoken("Hey"), style, preset), 0.1, preset)
    white = (frame > 128).all(-1)
    red = (frame[..., 0] > 128) & (frame[..., 1] < 128)
    offset = round(0.3 * int(style.size_ratio * preset.width))
    for axis in (0, 1):
        assert np.flatnonzero(red.any(axis)).max() - np.flatnonzero(white.any(axis)).max() == pytest.approx(offset, abs=1)
        assert np.flatnonzero(red.any(axis)).min() > np.flatnonzero(white.any(axis)).min()
    no_shadow = blended(CaptionRenderer(spoken("Hey"), style.model_copy(update={"shadow_offset_ratio": 0}), preset), 0.1, preset)
    assert not ((no_shadow[..., 0] > 128) & (no_shadow[..., 1] < 128)).any()


def test_box_is_a_filled_rounded_rectangle_behind_the_text():
    preset = get_preset("square")
    style = CaptionStyle(color="#FFFFFF", highlight_color="#FFFFFF", outline_ratio=0, box_color="#2040C0", box_radius_ratio=0.4)
    renderer = CaptionRenderer(spoken("Hello box"), style, preset)
    overlay = renderer.overlay_at(0.1)
    frame = blended(renderer, 0.1, preset)
    x0, y0, x1, y1 = overlay.rect
    box = frame[y0:y1, x0:x1].astype(int)
    blue = (np.abs(box - (0x20, 0x40, 0xC0)).sum(-1) <= 3)
    white = (box > 200).all(-1)
    radius = round(0.4 * int(style.size_ratio * preset.width))
    body = np.ones(blue.shape, bool)
    for rows in (slice(0, radius), slice(-radius, None)):
        for cols in (slice(0, radius), slice(-radius, None)):
            body[rows, cols] = False
    assert (blue | white | (box.sum(-1) > 3 * 0x40))[body].all()  # filled: box colour, text, or their blend
    assert white.sum() > 500 and white[body].sum() == white.sum()  # the text sits on the box
    assert blue[0, radius:-radius].all() and blue[radius:-radius, 0].all()  # straight edges up to the frame of the box
    for corner in (box[0, 0], box[0, -1], box[-1, 0], box[-1, -1]):
        assert (corner == 0).all()  # rounded: the corners stay transparent
    assert np.count_nonzero(frame.any(-1)) == np.count_nonzero(box.any(-1))  # nothing outside the box


@needs_emoji_font
def test_emoji_are_drawn_in_colour_where_they_stand():
    preset = get_preset("tiktok")
    frame = blended(CaptionRenderer(spoken("Hi 🍕"), CaptionStyle(highlight_color="#FFFFFF"), preset), 0.1, preset, background=128)
    hsv = cv2.cvtColor(frame, cv2.COLOR_RGB2HSV)
    colourful = (hsv[..., 1] > 100) & (hsv[..., 2] > 60)
    white = (frame > 230).all(-1)
    assert colourful.sum() > 1000
    assert np.flatnonzero(colourful.any(0)).mean() > np.flatnonzero(white.any(0)).max()  # the pizza follows "Hi"


@needs_emoji_font
@pytest.mark.skipif(not features.check("raqm"), reason="sequences are shaped into one emoji by libraqm")
@pytest.mark.parametrize("sequence", ["👨‍👩‍👧‍👦", "👍🏽", "🇯🇵", "❤️", "1️⃣", "🏴󠁧󠁢󠁳󠁣󠁴󠁿"])
def test_an_emoji_sequence_is_one_picture(sequence):
    preset = get_preset("square")
    style = CaptionStyle(size_ratio=0.1)
    frame = blended(CaptionRenderer(spoken(sequence), style, preset), 0.1, preset)
    columns = np.flatnonzero(frame.any(-1).any(0))
    size = int(style.size_ratio * preset.width)
    assert size * 0.8 < columns.max() - columns.min() < size * 1.5


def test_without_the_emoji_font_emoji_are_left_out_with_a_warning(monkeypatch, tmp_path):
    monkeypatch.setattr(captions, "EMOJI_FONT_PATH", tmp_path / "missing.ttf")
    preset = get_preset("tiktok")
    style = CaptionStyle(max_words=2)
    with_emoji = CaptionRenderer(spoken("Hey🎉 there 🔥🔥", start=0.0), style, preset)
    without = CaptionRenderer(spoken("Hey there", start=0.0), style, preset)
    assert [[w.text for w in p.words] for p in with_emoji.pages] == [["Hey🎉", "there"]]  # the emoji-only word is gone
    assert np.array_equal(with_emoji.overlay_at(0.1).rgba, without.overlay_at(0.1).rgba)  # no boxes where emoji were
    assert CaptionRenderer(spoken("🔥 🎉"), style, preset).overlay_at(0.1) is None
    (warning,) = caption_warnings(spoken("Hey🎉 there 🔥🔥"), style)
    assert "3 emoji" in warning and "fonts-noto-color-emoji" in warning
    assert caption_warnings(spoken("plain words"), style) == []
    assert caption_warnings(spoken("Hey🎉"), CaptionStyle(enabled=False)) == []


def test_a_group_wraps_onto_two_lines_only_when_it_must():
    preset = get_preset("tiktok")
    style = CaptionStyle(max_words=8, outline_ratio=0)
    short = CaptionRenderer(spoken("HI THERE"), style, preset).overlay_at(0.1)
    assert line_count(short) == 1
    long_text = "THE WAITER BROUGHT THE BREAD"
    two = CaptionRenderer(spoken(long_text), style, preset)
    assert line_count(two.overlay_at(0.1)) == 2
    assert two._layout(0).size == int(style.size_ratio * preset.width)  # wrapped instead of shrunk
    one = CaptionRenderer(spoken(long_text), style.model_copy(update={"max_lines": 1}), preset)
    assert line_count(one.overlay_at(0.1)) == 1
    assert one._layout(0).size < two._layout(0).size  # shrunk to fit
    heights = [(o.rect[3] - o.rect[1]) for o in (short, two.overlay_at(0.1))]
    assert heights[1] > 1.8 * heights[0]


def test_positions_sit_at_the_safe_zone_edges_or_centre():
    preset = get_preset("tiktok")
    margin = int(EDGE_MARGIN_RATIO * preset.height)

    def rect(position):
        renderer = CaptionRenderer(spoken("Hi there"), CaptionStyle(position=position, box_color="#000000"), preset)
        return renderer.safe_box, renderer.overlay_at(0.1).rect

    (left, top, right, bottom), box = rect("top")
    assert box[1] == top + margin
    assert rect("bottom")[1][3] == bottom - margin
    center = rect("center")[1]
    assert abs((center[1] + center[3]) / 2 - (top + bottom) / 2) <= 2
    default = rect(None)[1]
    assert abs((default[1] + default[3]) / 2 - 0.66 * preset.height) <= 2


def test_each_scene_captions_its_own_words_in_its_own_style():
    preset = get_preset("square")
    first = CaptionStyle(color="#FF0000", highlight_color="#FF0000", max_words=6)
    second = CaptionStyle(color="#0000FF", highlight_color="#0000FF", max_words=6)
    words = spoken("One two three", start=0.0) + spoken("Four five", start=1.25)
    renderer = CaptionRenderer(words, [(0.0, first), (1.25, second)], preset)
    assert [[w.text for w in p.words] for p in renderer.pages] == [["One", "two", "three"], ["Four", "five"]]
    before, after = blended(renderer, 0.7, preset), blended(renderer, 1.3, preset)
    assert (before[..., 0] > 200).sum() > 500 and not (before[..., 2] > 200).any()
    assert (after[..., 2] > 200).sum() > 500 and not (after[..., 0] > 200).any()
    silent = CaptionRenderer(words, [(0.0, first), (1.25, CaptionStyle(enabled=False))], preset)
    assert silent.overlay_at(0.7) is not None and silent.overlay_at(1.3) is None


def test_script_and_scene_styles_override_only_what_they_set(tmp_path):
    path = tmp_path / "script.yaml"
    path.write_text(
        "caption_style: {box_color: '#000000A0'}\n"
        "scenes:\n"
        "  - text: Hello.\n"
        "  - text: Bye.\n"
        "    caption_style: {position: top, box_color: null}\n"
    )
    script = Script.from_file(path)
    character = CaptionStyle(color="#00FF00", max_words=2)
    video = character.overridden_by(script.caption_style)
    assert (video.color, video.max_words, video.box_color) == ("#00FF00", 2, "#000000A0")
    scene = video.overridden_by(script.scenes[1].caption_style)
    assert (scene.color, scene.position, scene.box_color) == ("#00FF00", "top", None)
    assert video.overridden_by(script.scenes[0].caption_style) is video
    short = tmp_path / "short.yaml"
    short.write_text("text: Hi.\ncaption_style: {uppercase: true}\n")
    assert Script.from_file(short).caption_style == CaptionStyle(uppercase=True)


@pytest.mark.parametrize("colour", ["red", "#12345", "FFFFFF", "#GGGGGG", "#FFFFFFFFF"])
def test_invalid_colours_are_refused_clearly(colour):
    with pytest.raises(ValidationError, match="#RGB, #RRGGBB or #RRGGBBAA"):
        CaptionStyle(box_color=colour)


def test_valid_colours_and_a_bad_one_in_a_character_file(tmp_path):
    for colour in ("#FFF", "#FFD21F", "#000000A0"):
        assert CaptionStyle(color=colour, shadow_color=colour, box_color=colour).color == colour
    (tmp_path / "character.yaml").write_text("name: X\nimages: [a.png]\ncaption_style: {highlight_color: yellow}\n")
    with pytest.raises(ConfigError, match=r"caption_style\.highlight_color: .*'yellow' is not a colour"):
        Character.from_dir(tmp_path)


def test_an_old_character_file_without_the_new_fields_still_loads(tmp_path):
    (tmp_path / "character.yaml").write_text(
        "name: Old\nimages: [a.png]\n"
        "caption_style: {size_ratio: 0.07, color: '#FFFFFF', highlight_color: '#FFD21F', outline_color: '#000000',"
        " center_y_ratio: 0.6, max_words: 3}\n"
    )
    style = Character.from_dir(tmp_path).caption_style
    assert style == CaptionStyle(size_ratio=0.07, center_y_ratio=0.6)
    assert (style.position, style.max_lines, style.box_color, style.shadow_offset_ratio) == (None, 2, None, 0.0)


def test_the_pipeline_styles_each_scene_from_its_start():
    from personacast.models import RenderSpec, Scene, SceneSpan
    from personacast.pipeline import RenderJob, _caption_styles

    character = Character(name="C", images=["a.png"], caption_style=CaptionStyle(color="#00FF00", max_words=2))
    script = Script(
        caption_style=CaptionStyle(uppercase=True),
        scenes=[Scene(text="One."), Scene(text="Two.", caption_style=CaptionStyle(position="top"))],
    )
    spans = [SceneSpan(image="a.png", start_s=0.0, end_s=1.25), SceneSpan(image="a.png", start_s=1.25, end_s=2.0)]
    (start_a, a), (start_b, b) = _caption_styles(RenderJob(character, script, RenderSpec(), "out.mp4"), spans)
    assert (start_a, start_b) == (0.0, 1.25)
    assert a == CaptionStyle(color="#00FF00", max_words=2, uppercase=True)
    assert b == CaptionStyle(color="#00FF00", max_words=2, uppercase=True, position="top")
