import numpy as np

from personacast.models import CaptionStyle, Word
from personacast.stages.compose.captions import CaptionRenderer, paginate
from personacast.stages.compose.formats import get_preset


def words(*spans):
    return [Word(text=t, start_s=a, end_s=b) for t, a, b in spans]


SPEECH = words(("Hi,", 0.0, 0.3), ("I'm", 0.35, 0.5), ("Sofia!", 0.5, 1.0), ("Today", 1.6, 1.9),
               ("we", 1.9, 2.0), ("cook", 2.0, 2.3), ("pasta", 2.3, 2.8))


def test_pages_hold_max_words_and_break_after_sentences():
    pages = paginate(SPEECH, max_words=3)
    assert [[w.text for w in p.words] for p in pages] == [["Hi,", "I'm", "Sofia!"], ["Today", "we", "cook"], ["pasta"]]
    assert pages[0].end_s == 1.2  # long pause: shown a little after the last word
    assert pages[1].end_s == 2.3  # short gap: held until the next page
    assert pages[2].end_s == 2.8 + 0.4


def test_state_follows_the_spoken_word():
    renderer = CaptionRenderer(SPEECH, CaptionStyle(max_words=3), get_preset("tiktok"))
    assert renderer.state_at(0.1) == (0, 0)
    assert renderer.state_at(0.6) == (0, 2)
    assert renderer.state_at(1.4) is None  # the pause after "Sofia!"
    assert renderer.state_at(2.1) == (1, 2)
    assert renderer.state_at(5.0) is None


def test_captions_stay_inside_the_safe_zone_even_when_long_or_misplaced():
    long_words = words(*[(w, i * 0.3, i * 0.3 + 0.3) for i, w in enumerate(
        "Extraordinarily magnificent unbelievable transformations everywhere".split())])
    for name in ("tiktok", "square", "landscape"):
        preset = get_preset(name)
        for style in (CaptionStyle(max_words=5), CaptionStyle(max_words=5, center_y_ratio=0.94, size_ratio=0.12)):
            renderer = CaptionRenderer(long_words, style, preset)
            x0, y0, x1, y1 = renderer.sprite_box(0, 0)
            left, top, right, bottom = renderer.safe_box
            assert left <= x0 and x1 <= right and top <= y0 and y1 <= bottom, (name, style)


def test_overlay_draws_highlight_colour_only_on_the_current_word():
    renderer = CaptionRenderer(SPEECH, CaptionStyle(max_words=3, highlight_color="#00FF00", color="#FFFFFF"), get_preset("square"))
    frame = np.zeros((1080, 1080, 3), np.uint8)
    renderer.overlay_at(0.1).blend_into(frame)
    green = (frame[..., 1] > 200) & (frame[..., 0] < 60)
    white = (frame > 200).all(-1)
    assert green.sum() > 200 and white.sum() > 200
    gx = np.flatnonzero(green.any(0))
    wx = np.flatnonzero(white.any(0))
    assert gx.max() < wx.mean()  # "Hi," is the leftmost word
    assert renderer.overlay_at(1.4) is None
    assert renderer.overlay_at(0.1) is renderer.overlay_at(0.15)  # unchanged: the canvas can skip it


def test_disabled_captions_draw_nothing():
    renderer = CaptionRenderer(SPEECH, CaptionStyle(enabled=False), get_preset("tiktok"))
    assert all(renderer.overlay_at(t) is None for t in (0.1, 0.6, 2.1))
