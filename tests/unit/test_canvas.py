import cv2
import numpy as np
import pytest

from personacast.media.canvas import FrameChanges, FramePatch, I420Canvas, Overlay

SIZE = (96, 64)  # width, height


def reference(frame: FramePatch, overlays) -> np.ndarray:
    rgb = frame.full()
    for overlay in overlays:
        overlay.blend_into(rgb)
    return cv2.cvtColor(rgb, cv2.COLOR_RGB2YUV_I420)


def test_updating_changed_rectangles_matches_converting_whole_frames():
    rng = np.random.default_rng(3)
    scenes = [rng.integers(0, 256, (SIZE[1], SIZE[0], 3), dtype=np.uint8) for _ in range(2)]
    rgba = rng.integers(0, 256, (10, 30, 4), dtype=np.uint8)
    rgba[..., 3] = rng.choice([0, 128, 255], rgba.shape[:2])
    captions = [Overlay(rgba, 40, 50), Overlay(rgba[::-1].copy(), 41, 47), Overlay(rgba, 10, 5)]
    canvas = I420Canvas(SIZE)
    # Odd positions and sizes, patches that move, a caption that stays, changes, overlaps
    # the patch and disappears, and a scene change in the middle.
    plan = [
        (0, (20, 10, 25, 31), 0), (0, (21, 11, 25, 31), 0), (0, (21, 11, 25, 31), 1), (0, (3, 3, 7, 9), None),
        (1, (3, 3, 7, 9), None), (1, (8, 2, 33, 21), 2), (1, (9, 3, 33, 21), 2), (1, (70, 50, 26, 14), 0),
    ]
    # A fixed label that the moving patch and one caption sometimes cover.
    label = Overlay(rgba[:6, :12].copy(), 30, 8)
    for scene, (x0, y0, w, h), caption in plan:
        patch = FramePatch(scenes[scene], rng.integers(0, 256, (h, w, 3), dtype=np.uint8), x0, y0)
        overlays = [captions[caption]] if caption is not None else []
        for stack in (overlays, overlays + [label]):
            assert np.array_equal(canvas.render(patch, stack), reference(patch, stack))


def test_frames_that_name_their_changes_update_only_those_and_still_match_whole_frames():
    rng = np.random.default_rng(5)
    scene = rng.integers(0, 256, (SIZE[1], SIZE[0], 3), dtype=np.uint8)
    rgba = rng.integers(0, 256, (10, 30, 4), dtype=np.uint8)
    caption = Overlay(rgba, 30, 20)  # over the patch's lower edge
    canvas = I420Canvas(SIZE)
    patch = rng.integers(0, 256, (30, 40, 3), dtype=np.uint8)
    token = object()
    canvas.render(FramePatch(scene, patch.copy(), 20, 5, token), [caption])
    # Changes inside and under the caption, on odd edges; then a chain that does not
    # follow the frame shown last, which must be drawn whole.
    for rect, follows in (((3, 4, 9, 11), True), ((11, 17, 37, 30), True), ((0, 0, 40, 30), True), ((5, 5, 6, 6), False)):
        x0, y0, x1, y1 = rect
        patch[y0:y1, x0:x1] = rng.integers(0, 256, (y1 - y0, x1 - x0, 3), dtype=np.uint8)
        if not follows:
            patch[25:, 30:] = 7  # a change the frame does not name: visible only when drawn whole
        after, token = (token if follows else object()), object()
        frame = FramePatch(scene, patch.copy(), 20, 5, token, FrameChanges(after, ((x0 + 20, y0 + 5, x1 + 20, y1 + 5),)))
        assert np.array_equal(canvas.render(frame, [caption]), reference(frame, [caption]))


def test_named_changes_are_all_that_is_redrawn():
    # A change the frame does not name stays unseen: the canvas trusts the animator, so
    # this pins that it really skips the rest of the patch.
    scene = np.zeros((SIZE[1], SIZE[0], 3), np.uint8)
    canvas = I420Canvas(SIZE)
    first = object()
    canvas.render(FramePatch(scene, np.zeros((20, 20, 3), np.uint8), 10, 10, first))
    patch = np.full((20, 20, 3), 200, np.uint8)
    out = canvas.render(FramePatch(scene, patch, 10, 10, object(), FrameChanges(first, ((10, 10, 14, 14),))))
    luma = out[: SIZE[1]]
    assert luma[11, 11] > 150 and luma[20, 20] < 20


def test_overlay_blend_respects_alpha():
    rgba = np.zeros((2, 2, 4), np.uint8)
    rgba[..., :3] = 200
    rgba[0, 0, 3], rgba[0, 1, 3], rgba[1, 0, 3] = 255, 0, 128
    frame = np.full((4, 4, 3), 100, np.uint8)
    Overlay(rgba, 1, 1).blend_into(frame)
    assert frame[1, 1, 0] == 200 and frame[1, 2, 0] == 100 and abs(int(frame[2, 1, 0]) - 150) <= 1
    assert frame[0, 0, 0] == 100 and frame[3, 3, 0] == 100


def test_canvas_rejects_mismatched_and_odd_sizes():
    with pytest.raises(ValueError, match="even"):
        I420Canvas((95, 64))
    canvas = I420Canvas(SIZE)
    with pytest.raises(ValueError, match="canvas is 96x64"):
        canvas.render(FramePatch(np.zeros((10, 10, 3), np.uint8), np.zeros((1, 1, 3), np.uint8), 0, 0))
