import numpy as np
import pytest

from personacast.stages.animate.head_motion import HOLD_PX, HeadMotion
from personacast.stages.animate.landmark_warp import LandmarkWarpAnimator, ScenePlan, warp_eyes, warp_mouth
from personacast.stages.perform.performance import Performance

SIZE = (540, 960)


@pytest.fixture(scope="module")
def portrait_prepared(portrait):
    from personacast.settings import Settings

    animator = LandmarkWarpAnimator(Settings())
    return animator, animator.prepare(portrait, SIZE)


def performance(head_dx, jaw_open, blink=None) -> Performance:
    blink = np.zeros(len(head_dx)) if blink is None else blink
    return Performance.at_rest(30, len(head_dx), head_dx=head_dx, jaw_open=jaw_open, blink=blink)


def exact_frames(portrait, perf):
    """Every frame warped whole at its own pose: what the hold approximates."""
    working = portrait.stage.image.copy()
    head = HeadMotion(portrait.stage, portrait.warper.down)
    frames = []
    for i in range(perf.frame_count):
        warp_mouth(working, portrait, perf, i)
        warp_eyes(working, portrait, perf, i)
        frames.append(head.frame(working, perf, i).full())
    return frames


def frames_and_patches(animator, portrait, perf):
    # A patch buffer is drawn into again two frames later: each frame is kept as it comes.
    patches = animator.frames([ScenePlan(portrait, 0, perf.frame_count)], perf)
    return zip(*((patch, patch.full()) for patch in patches))


def on_a_fine_grid(face_widths):
    """Head shifts (in face widths) whose midpoints float32 holds exactly, so a pose
    halfway between two can be asked of the performer and compared bit for bit."""
    return np.round(np.asarray(face_widths) * 2**16) / 2**16


def test_the_head_holds_its_pose_within_half_a_pixel_while_the_mouth_keeps_moving(portrait_prepared):
    animator, portrait = portrait_prepared
    # head_dx is in face widths; the middle of the head region moves by all of it. The
    # head starts 8 px off its rest, so the changes must be found where it moved them.
    face_w = portrait.stage.landmarks.width_px
    start, near, far = on_a_fine_grid([8 / face_w, 0.8 * HOLD_PX / face_w, 6 / face_w])
    # The lids shut on frame 1 and stay shut: frame 2 redraws only the mouth, so the
    # shut lids must come along from frame 1.
    perf = performance(start + np.array([0, near, near, far, far]), [0, 0.6, 1.0, 0.3, 0.3], [0, 1, 1, 1, 1])
    patches, frames = frames_and_patches(animator, portrait, perf)

    # Frames 0-2 show the pose halfway between theirs (0.2 px from each), frame 3 is
    # past the limit and moves, frame 4 repeats frame 3 exactly.
    assert [patch.changes is not None for patch in patches] == [False, True, True, False, True]
    halfway = start + near / 2
    exact = exact_frames(portrait, performance([halfway] * 3 + [start + far] * 2, perf.jaw_open, perf.blink))
    for got, want in zip(frames, exact):
        assert np.array_equal(got, want)
    assert not np.array_equal(exact_frames(portrait, perf)[2], frames[2])  # the hold is real

    # A held frame names every pixel it changed, and its mouth did change.
    for i in (1, 2):
        outside = np.ones(frames[i].shape[:2], bool)
        for x0, y0, x1, y1 in patches[i].changes.rects:
            outside[y0:y1, x0:x1] = False
        diff = np.abs(frames[i].astype(int) - frames[i - 1]).max(-1)
        assert not diff[outside].any()
        assert diff[~outside].max() > 30
    assert patches[4].changes.rects == ()


def test_a_steadily_moving_head_holds_the_pose_in_the_middle_of_a_run(portrait_prepared):
    animator, portrait = portrait_prepared
    step = on_a_fine_grid(0.3 * HOLD_PX / portrait.stage.landmarks.width_px)  # 0.15 px a frame
    dx = on_a_fine_grid(8 / portrait.stage.landmarks.width_px) + step * np.arange(15)
    jaw = np.resize([0.0, 0.5, 1.0], 15)
    patches, frames = frames_and_patches(animator, portrait, performance(dx, jaw))

    # Holding frame 0's pose would last 4 frames (0.6 px off by frame 4). The pose
    # halfway between frames 0 and 6, frame 3's, is within 0.45 px of all seven (frame 7
    # would stretch the run to 1.05 px), so it is the one drawn, then frame 10's.
    assert [i for i, patch in enumerate(patches) if patch.changes is None] == [0, 7, 14]
    shown = np.concatenate([[dx[3]] * 7, [dx[10]] * 7, [dx[14]]])
    for got, want in zip(frames, exact_frames(portrait, performance(shown, jaw))):
        assert np.array_equal(got, want)


def test_without_the_mouth_and_eyes_named_the_head_is_warped_whole(portrait_prepared):
    _, portrait = portrait_prepared
    perf = performance([0, 0], [0, 1.0])
    working = portrait.stage.image.copy()
    head = HeadMotion(portrait.stage, portrait.warper.down)
    first = head.frame(working, perf, 0)
    warp_mouth(working, portrait, perf, 1)
    second = head.frame(working, perf, 1)
    assert first.changes is None and second.changes is None
    assert not np.array_equal(first.full(), second.full())
