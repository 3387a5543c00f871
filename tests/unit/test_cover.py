"""OUT.jpg: the best frame (eyes open, mouth at ease, early, stressed) with the title in the safe zone."""

from dataclasses import replace

import av
import numpy as np
import pytest
from PIL import Image

from personacast.errors import MediaError
from personacast.models import CaptionStyle, Word
from personacast.stages.compose.cover import (
    BLINK_MARGIN_FRAMES,
    MAX_JAW_OPEN,
    OPEN_EYES_MAX_BLINK,
    choose_cover_frame,
    title_overlay,
    write_cover,
)
from personacast.stages.compose.formats import PRESETS, get_preset
from personacast.stages.perform.performance import Performance

FPS = 30
LONG_TITLE = "Why every creator should try a talking head video at least once this year, honestly and truly"


def performance(count: int = 90, seed: int = 1) -> Performance:
    """Speech-like mouth curves with blinks and lip closures sprinkled in."""
    rng = np.random.default_rng(seed)
    jaw = np.clip(0.35 + 0.3 * np.sin(np.arange(count) * 0.7) + rng.normal(0, 0.05, count), 0, 1)
    close = np.zeros(count)
    close[rng.choice(count, min(8, count), replace=False)] = 1.0
    blink = np.zeros(count)
    for peak in range(6, count, 17):
        blink[peak - 2 : peak + 3] = [0.4, 0.9, 1.0, 0.7, 0.3]
    zeros = np.zeros(count, np.float32)
    as32 = lambda a: np.asarray(a, np.float32)  # noqa: E731
    return Performance(FPS, as32(jaw), zeros, as32(close), as32(blink), zeros, zeros, zeros, zeros, zeros, zeros.copy())


def assert_good_frame(perf: Performance, index: int) -> None:
    assert 0 <= index < perf.frame_count
    window = perf.blink[max(0, index - BLINK_MARGIN_FRAMES) : index + BLINK_MARGIN_FRAMES + 1]
    assert window.max() <= OPEN_EYES_MAX_BLINK
    assert perf.lip_close[max(0, index - 1) : index + 2].max() == 0
    assert perf.jaw_open[index] <= MAX_JAW_OPEN


@pytest.mark.parametrize("seed", range(5))
def test_chosen_frame_has_eyes_open_and_mouth_at_ease_in_the_first_third(seed):
    perf = performance(seed=seed)
    index = choose_cover_frame(perf, [])
    assert_good_frame(perf, index)
    assert index < perf.frame_count / 3


def test_a_stressed_word_wins_over_the_first_third():
    perf = performance()
    words = [Word(text="hello", start_s=0.1, end_s=0.5), Word(text="HUGE", start_s=1.7, end_s=2.2, emphasis=True)]
    index = choose_cover_frame(perf, words)
    assert_good_frame(perf, index)
    assert 1.7 <= index / FPS < 2.2


def test_the_brow_raise_marks_stress_too():
    perf = performance()
    perf.brow_raise[60:70] = 1.0
    index = choose_cover_frame(perf, [])
    assert_good_frame(perf, index)
    assert 60 <= index < 70


def test_a_clip_that_never_qualifies_still_gets_a_frame():
    perf = performance(count=5)
    perf.blink[:] = 1.0
    assert 0 <= choose_cover_frame(perf, []) < 5


@pytest.mark.parametrize("name", list(PRESETS))
@pytest.mark.parametrize("title", ["Hi!", LONG_TITLE, "Supercalifragilisticexpialidocious" * 3])
@pytest.mark.parametrize("position", [None, "top", "bottom"])
def test_title_stays_inside_the_safe_zone(name, title, position):
    preset = get_preset(name)
    overlay = title_overlay(title, preset, CaptionStyle(position=position))
    x0, y0, x1, y1 = overlay.rect
    sx0, sy0, sx1, sy1 = preset.safe_rect
    assert sx0 <= x0 < x1 <= sx1 and sy0 <= y0 < y1 <= sy1
    assert overlay.rgba[..., 3].max() == 255  # solid text on the box


def test_long_titles_wrap_to_three_lines_at_most():
    preset = get_preset("tiktok")
    one_line = title_overlay("Hi!", preset, CaptionStyle(enabled=False)).rgba
    long = title_overlay(LONG_TITLE * 3, preset, CaptionStyle(enabled=False)).rgba
    # Text rows are those with opaque (text) pixels; three lines fit in about three times one.
    rows = lambda rgba: int((rgba[..., 3] == 255).any(axis=1).sum())  # noqa: E731
    assert rows(long) <= 3.3 * rows(one_line)


@pytest.fixture
def numbered_clip(tmp_path):
    """A small 9:16 clip whose frame i is grey level 10 * i."""
    path = tmp_path / "clip.mp4"
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=FPS)
        stream.width, stream.height, stream.pix_fmt = 180, 320, "yuv420p"
        stream.options = {"g": "10"}  # several keyframes, so finding a frame needs a seek
        for i in range(24):
            frame = av.VideoFrame.from_ndarray(np.full((320, 180, 3), 10 * i, np.uint8), format="rgb24")
            container.mux(stream.encode(frame))
        container.mux(stream.encode())
    return path


def test_cover_is_the_chosen_frame_at_the_videos_size_with_the_title_in_the_safe_zone(tmp_path, numbered_clip):
    preset = replace(get_preset("tiktok"), width=180, height=320)
    out = tmp_path / "cover.jpg"
    write_cover(numbered_clip, out, 17, FPS, "Big news today", preset, CaptionStyle())
    with Image.open(out) as image:
        assert image.format == "JPEG" and image.size == (180, 320)
        pixels = np.asarray(image.convert("RGB")).astype(int)
    changed = np.abs(pixels - 170).max(axis=2) > 12
    ys, xs = np.nonzero(changed)
    x0, y0, x1, y1 = preset.safe_rect
    assert changed.any() and x0 <= xs.min() and xs.max() < x1 and y0 <= ys.min() and ys.max() < y1
    assert abs(np.median(pixels[~changed]) - 170) <= 2  # frame 17, not a neighbour


def test_undecodable_video_is_a_media_error(tmp_path, numbered_clip):
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"\0" * 1000)
    with pytest.raises(MediaError):
        write_cover(broken, tmp_path / "c.jpg", 0, FPS, "t", get_preset("tiktok"), CaptionStyle())
    with pytest.raises(MediaError, match="no frame 99"):
        write_cover(numbered_clip, tmp_path / "c.jpg", 99, FPS, "t", get_preset("tiktok"), CaptionStyle())


def test_frames_without_the_face_are_avoided():
    perf = performance()
    best = choose_cover_frame(perf, [])
    hidden = [(0, best + 5), (40, 90)]
    index = choose_cover_frame(perf, [], hidden)
    assert_good_frame(perf, index)
    assert best + 5 <= index < 40
