"""The default landmark animator on a moving portrait (a video given as the picture)."""

import numpy as np
import pytest
from animate_doubles import walking_portrait, with_display_rotation, write_video

from personacast.errors import ImageError
from personacast.face import landmarks as lm
from personacast.settings import Settings
from personacast.stages.animate.landmark_warp import LandmarkWarpAnimator, PreparedClip, ScenePlan
from personacast.stages.animate.moving import MAX_DECODE_LONG_SIDE, read_clip
from personacast.stages.perform.performance import Performance

SIZE = (360, 640)
FPS = 24


def performance(count, **curves):
    return Performance.at_rest(FPS, count, **curves)


@pytest.fixture(scope="module")
def video(moving_clip, tmp_path_factory):
    path = tmp_path_factory.mktemp("clip") / "idle.mp4"
    write_video(path, moving_clip[0][:12], fps=FPS)
    return path


@pytest.fixture(scope="module")
def prepared(video):
    animator = LandmarkWarpAnimator(Settings())
    return animator, animator.prepare(video, SIZE)


def test_a_video_portrait_talks_and_blinks_where_its_face_is_in_each_frame(prepared, detector):
    animator, portrait = prepared
    assert isinstance(portrait, PreparedClip) and portrait.warnings == []
    count = 12
    closed_open = np.arange(count) % 2 == 1
    perf = performance(count, jaw_open=closed_open * 1.0, lip_close=~closed_open * 1.0, blink=(np.arange(count) % 4 == 2) * 1.0)
    patches = list(animator.frames([ScenePlan(portrait, 0, count)], perf))
    assert len(patches) == count and all(p.full().shape == (640, 360, 3) for p in patches)
    assert all(p.background is portrait.still for p in patches)

    def mouth_gap(points):
        return lm.inner_lip_gap(points) / np.linalg.norm(points[33] - points[263])

    def eye_opening(points):
        return np.linalg.norm(points[159] - points[145]) / np.linalg.norm(points[33] - points[133])

    for i, patch in enumerate(patches):
        found = detector.detect(patch.full()).points
        source = portrait.moving.track.points[i]  # the clip frame as it was, smiling with her teeth showing
        if closed_open[i]:
            assert mouth_gap(found) > 1.5 * mouth_gap(source), i
        else:
            assert mouth_gap(found) < 0.6 * mouth_gap(source), i
        if i % 4 == 2:
            assert eye_opening(found) < 0.8 * eye_opening(source), i
        else:
            assert eye_opening(found) > 0.9 * eye_opening(source), i
        # The warps were carried to where the head is in this clip frame: the face found
        # in the output sits where the tracker saw it.
        steady = [168, 6, 33, 263]
        assert np.linalg.norm(found[steady] - source[steady], axis=1).mean() < 2.5


def test_a_clip_shorter_than_its_scene_plays_forwards_and_backwards(prepared):
    _, portrait = prepared
    moving = portrait.moving
    assert moving.clip_indices(20, FPS).tolist() == [*range(12), *range(10, 2, -1)]
    assert moving.clip_indices(6, 2 * FPS).tolist() == [0, 0, 1, 1, 2, 2]  # a 24 fps clip in a 48 fps video
    assert moving.clip_indices(0, FPS).tolist() == []


def test_a_video_too_large_for_memory_is_cut_with_a_warning_and_bad_files_fail_clearly(video, tmp_path):
    clip, warnings = read_clip(video, max_bytes=5 * 512 * 512 * 3)
    assert clip.frames.shape == (5, 512, 512, 3) and clip.fps == FPS
    assert warnings == ["idle.mp4: only its first 0.2 s are used (it loops); a longer clip does not fit in memory at this size"]
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(video.read_bytes()[:300])
    with pytest.raises(ImageError, match="broken.mp4"):
        LandmarkWarpAnimator(Settings()).prepare(broken, SIZE)
    with pytest.raises(ImageError, match="video not found"):
        LandmarkWarpAnimator(Settings()).prepare(tmp_path / "missing.mov", SIZE)


def test_a_phone_video_stored_sideways_is_read_upright(moving_clip, tmp_path):
    upright = [frame[:, :448] for frame in moving_clip[0][:3]]  # taller than wide
    path = tmp_path / "phone.mp4"
    write_video(path, [np.ascontiguousarray(np.rot90(frame)) for frame in upright])  # stored turned left
    with_display_rotation(path)  # and marked to be shown turned right
    clip, _ = read_clip(path)
    assert clip.frames.shape == (3, 512, 448, 3)
    assert np.abs(clip.frames.astype(int) - np.stack(upright)).mean() < 3


def test_a_head_that_walks_out_of_the_frame_leaves_the_clip_as_it_is_there(astronaut, tmp_path):
    path = tmp_path / "walk.mp4"
    write_video(path, walking_portrait(astronaut, 8), fps=FPS)
    animator = LandmarkWarpAnimator(Settings())
    portrait = animator.prepare(path, SIZE)  # a 16:9 shot framed 9:16: the face walks out of it halfway
    moving = portrait.moving
    gone = [i for i in range(8) if moving.track.points[i][:, 0].min() > SIZE[0] + 10]
    assert gone and gone[0] > 1
    perf = performance(8, jaw_open=np.ones(8), blink=np.ones(8))
    frames = [patch.full() for patch in animator.frames([ScenePlan(portrait, 0, 8)], perf)]
    for i, frame in enumerate(frames):
        # The mouth and eyes are warped while the face is in the frame, nothing after.
        assert np.array_equal(frame, moving.frame(i)) == (i in gone), i


def test_a_4k_phone_video_is_decoded_no_larger_than_the_largest_output_needs(astronaut, tmp_path):
    import cv2

    picture = cv2.resize(astronaut, (2160, 2160))
    tall = np.concatenate([picture, np.full((3840 - 2160, 2160, 3), 200, np.uint8)])  # 2160x3840, 9:16
    path = tmp_path / "4k.mp4"
    write_video(path, [tall] * 3)
    clip, warnings = read_clip(path)
    assert MAX_DECODE_LONG_SIDE == 1920 + 2 * 58  # the 1080x1920 stage: frame and framing margin
    assert clip.frames.shape == (3, MAX_DECODE_LONG_SIDE, 1146, 3) and warnings == []  # aspect kept, even sizes
    expected = cv2.resize(tall, (1146, MAX_DECODE_LONG_SIDE), interpolation=cv2.INTER_AREA)
    assert np.abs(clip.frames[0].astype(int) - expected).mean() < 3  # the whole picture, shrunk
