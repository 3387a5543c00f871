"""Cards, transitions and B-roll on synthetic frame streams."""

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from personacast.errors import ImageError, MediaError
from personacast.media.canvas import FramePatch
from personacast.models import BRoll, Card, CaptionStyle, Scene, SceneSpan, Script
from personacast.stages.compose.formats import get_preset
from personacast.stages.compose.scenes import EditPlan, check_broll, edit_frames, plan_edit

FPS = 10
PRESET = get_preset("square")
SIZE = PRESET.size


def solid(value: int) -> np.ndarray:
    return np.full((SIZE[1], SIZE[0], 3), value, np.uint8)


def stream(values: list[int]):
    """One scene per value run: frames share their scene's background, like the animator's."""
    backgrounds: dict[int, np.ndarray] = {}
    for v in values:
        bg = backgrounds.setdefault(v, solid(v))
        yield FramePatch(bg, bg[:2, :2], 0, 0)


def script(**kwargs) -> Script:
    scenes = kwargs.pop("scenes", [Scene(text="one"), Scene(text="two", transition="crossfade")])
    return Script(scenes=scenes, **kwargs)


def spans(*bounds) -> list[SceneSpan]:
    return [SceneSpan(image=Path("x.png"), start_s=a, end_s=b) for a, b in bounds]


def test_plan_counts_cards_transitions_and_broll(tmp_path):
    s = script(
        intro=Card(text="Hi", duration_s=1.0), outro=Card(text="Bye", duration_s=0.5),
        scenes=[Scene(text="one", broll=[BRoll(path=tmp_path / "b.png", start_s=0.5, duration_s=1.0)]),
                Scene(text="two", transition="zoom")],
    )
    plan = plan_edit(s, spans((1.0, 3.0), (3.0, 5.0)), FPS, 55)
    assert (plan.intro_frames, plan.outro_frames) == (10, 5)
    assert plan.transitions == ((30, "zoom"),)
    assert [(w.start_frame, w.end_frame) for w in plan.broll] == [(15, 25)]
    assert not plan.is_plain and plan_edit(script(scenes=[Scene(text="a")]), spans((0, 2)), FPS, 20).is_plain


def test_plain_plans_pass_frames_through_untouched():
    frames = list(stream([10] * 5))
    out = list(edit_frames(iter(frames), EditPlan(5), PRESET, FPS, CaptionStyle()))
    assert all(a is b for a, b in zip(out, frames))


def test_cards_wrap_the_speech_and_show_their_text():
    plan = EditPlan(8, intro=Card(text="Hello there", duration_s=0.3, background="#203040"), intro_frames=3,
                    outro=Card(text="", duration_s=0.2, background="#000000"), outro_frames=2)
    out = list(edit_frames(stream([100] * 3), plan, PRESET, FPS, CaptionStyle()))
    assert len(out) == 8
    intro = out[0].full()
    assert out[0].background is out[2].background  # held: the canvas redraws nothing
    background = np.all(intro == (0x20, 0x30, 0x40), axis=2)
    assert 0.5 < background.mean() < 0.995  # mostly card colour, with the title on it
    ys, xs = np.nonzero(~background)
    x0, y0, x1, y1 = PRESET.safe_rect
    assert xs.min() >= x0 and xs.max() < x1 and ys.min() >= y0 and ys.max() < y1
    assert np.all(out[3].full() == 100) and np.all(out[-1].full() == 0)


def test_crossfade_blends_from_the_last_frame_of_the_previous_scene():
    plan = EditPlan(12, transitions=((6, "crossfade"),))
    out = [f.full()[0, 0, 0] for f in edit_frames(stream([0] * 6 + [200] * 6), plan, PRESET, FPS, CaptionStyle())]
    assert out[:6] == [0] * 6
    blend = out[6:9]  # 0.3 s at 10 fps
    assert 0 < blend[0] < blend[1] < blend[2] < 200
    assert out[9:] == [200] * 3


def test_zoom_transition_eases_in_from_a_closer_shot():
    pattern = np.zeros((SIZE[1], SIZE[0], 3), np.uint8)
    third = SIZE[0] // 3
    pattern[:, :third] = 255  # an edge left of the zoom centre moves further left when zoomed in
    frames = [FramePatch(pattern, pattern[:2, :2], 0, 0)] * 6
    plan = EditPlan(6, transitions=((2, "zoom"),))
    out = [f.full() for f in edit_frames(iter(frames), plan, PRESET, FPS, CaptionStyle())]
    edge = [int(np.argmin(f[SIZE[1] // 2, :, 0] > 127)) for f in out]
    assert edge[0] == edge[1] == third
    assert edge[2] < edge[3] < edge[4] < third and edge[5] == third


def test_broll_picture_pans_and_zooms(tmp_path):
    rng = np.random.default_rng(1)
    picture = tmp_path / "b.png"
    Image.fromarray(rng.integers(0, 255, (300, 400, 3), dtype=np.uint8)).save(picture)
    window_frames = []
    for motion in ("zoom_in", "pan_left", "none"):
        s = script(scenes=[Scene(text="x", broll=[BRoll(path=picture, start_s=0.2, duration_s=0.6, motion=motion)])])
        plan = plan_edit(s, spans((0.0, 1.0)), FPS, 10)
        out = [f.full() for f in edit_frames(stream([50] * 10), plan, PRESET, FPS, CaptionStyle())]
        assert np.all(out[0] == 50) and np.all(out[9] == 50)
        window_frames.append(out[2:8])
        assert all(f.shape == (SIZE[1], SIZE[0], 3) and f.std() > 30 for f in out[2:8])
    zoom, pan, still = window_frames
    assert not np.array_equal(zoom[0], zoom[-1]) and not np.array_equal(pan[0], pan[-1])
    assert np.array_equal(still[0], still[-1])


def test_broll_clip_follows_its_own_clock(tmp_path):
    import av

    clip = tmp_path / "clip.mp4"
    with av.open(str(clip), "w") as container:
        stream_ = container.add_stream("libx264", rate=5)
        stream_.width, stream_.height, stream_.pix_fmt = 64, 64, "yuv420p"
        for i in range(5):  # 1 s at 5 fps, brightness 40, 80, ... 200
            frame = av.VideoFrame.from_ndarray(np.full((64, 64, 3), 40 * (i + 1), np.uint8), format="rgb24")
            for packet in stream_.encode(frame):
                container.mux(packet)
        for packet in stream_.encode(None):
            container.mux(packet)
    s = script(scenes=[Scene(text="x", broll=[BRoll(path=clip)])])
    plan = plan_edit(s, spans((0.0, 1.4)), FPS, 14)
    levels = [int(f.full()[SIZE[1] // 2, SIZE[0] // 2, 0]) for f in edit_frames(stream([0] * 14), plan, PRESET, FPS, CaptionStyle())]
    expected = [40 * (min(i // 2, 4) + 1) for i in range(14)]  # two output frames per clip frame, then the last holds
    assert np.abs(np.array(levels) - expected).max() <= 6


def test_unusable_broll_fails_before_rendering(tmp_path):
    broken = tmp_path / "b.mp4"
    broken.write_bytes(b"not a video" * 10)
    with pytest.raises(MediaError, match="cannot read B-roll clip"):
        check_broll(BRoll(path=broken))
    with pytest.raises(ImageError):
        check_broll(BRoll(path=tmp_path / "missing.png"))
