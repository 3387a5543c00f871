"""Face tracking on moving clips made from the sample portrait by known motion."""

import numpy as np
import pytest

from personacast.errors import FaceError
from personacast.stages.lipsync.tracking import RIGID_POINTS, OneEuro, fill_gaps, similarity, smooth, track_face

FPS = 24


def truth(still_face, matrices):
    return np.stack([still_face @ m[:, :2].T + m[:, 2] for m in matrices])


def jitter(points, expected):
    """Mean size of the frame-to-frame change of the error (second difference): what
    shows as shaking, whatever the error's constant part."""
    return float(np.linalg.norm(np.diff(points - expected, n=2, axis=0), axis=-1).mean())


@pytest.fixture(scope="module")
def raw_and_tracked(moving_clip, detector):
    frames, _ = moving_clip
    raw = np.stack([detector.detect(frame).points for frame in frames])
    return raw, track_face(frames, FPS, name="moving.mp4", detector=detector)


def test_tracked_landmarks_follow_the_known_motion_and_are_smoother_than_raw_detection(moving_clip, still_face, raw_and_tracked):
    _, matrices = moving_clip
    raw, track = raw_and_tracked
    expected = truth(still_face, matrices)
    assert track.points.shape == (24, 478, 2) and track.found.all() and track.frame_size == (512, 512)
    error = np.linalg.norm(track.points - expected, axis=-1).mean(axis=1)
    assert error.max() < 2.0  # the face moves 34 px and turns 9 degrees over the clip
    # Smoothing must not trade accuracy for calm: no lag behind the moving face.
    assert error.mean() < np.linalg.norm(raw - expected, axis=-1).mean() + 0.2
    assert jitter(track.points, expected) < 0.6 * jitter(raw, expected)


def test_head_transforms_carry_the_first_face_onto_each_frame(moving_clip, still_face, raw_and_tracked):
    _, matrices = moving_clip
    _, track = raw_and_tracked
    heads = track.head_transforms(track.points[0])
    assert heads.shape == (24, 2, 3)
    expected = truth(still_face, matrices)
    for i, (head, matrix) in enumerate(zip(heads, matrices)):
        # Frame i is the still picture moved by matrix i; frame 0 is unmoved.
        angle = np.degrees(np.arctan2(head[0, 1], head[0, 0]))
        assert abs(angle - 0.4 * i) < 0.5
        assert abs(np.hypot(head[0, 0], head[0, 1]) - 1.0) < 0.02
        carried = track.points[0][RIGID_POINTS] @ head[:, :2].T + head[:, 2]
        assert np.linalg.norm(carried - expected[i][RIGID_POINTS], axis=1).mean() < 2.0


def test_frames_without_the_face_are_filled_from_their_neighbours(moving_clip, still_face, detector):
    frames, matrices = moving_clip
    frames = list(frames[:12])
    for missing in (5, 6):
        frames[missing] = np.full_like(frames[missing], 128)  # the face gone (a cut, a hand over it)
    track = track_face(frames, FPS, detector=detector)
    assert list(np.flatnonzero(~track.found)) == [5, 6]
    expected = truth(still_face, matrices[:12])
    assert np.linalg.norm(track.points[5:7] - expected[5:7], axis=-1).mean() < 2.5


def test_a_face_lost_for_most_of_the_clip_or_never_seen_is_a_face_error(moving_clip, detector):
    frames, _ = moving_clip
    blank = np.full_like(frames[0], 128)
    with pytest.raises(FaceError, match="lost in 5 of its 8 frames"):
        track_face(list(frames[:3]) + [blank] * 5, FPS, name="mostly-empty.mp4", detector=detector)
    with pytest.raises(FaceError, match="no face found in empty.mp4"):
        track_face([blank] * 4, FPS, name="empty.mp4", detector=detector)


def test_smoothing_has_no_lag_on_steady_motion_and_removes_jitter():
    rng = np.random.default_rng(0)
    shape = rng.uniform(0, 100, (478, 2))
    shape[263] = shape[33] + (60, 0)  # eye corners 60 px apart: the filter's unit
    steady = np.stack([shape + (3.0 * i, 1.0 * i) for i in range(48)])  # 90 px/s
    assert np.abs(smooth(steady, FPS) - steady).max() < 0.05
    noisy = np.stack([shape] * 48) + rng.normal(0, 0.7, (48, 478, 2))
    calmed = smooth(noisy, FPS, OneEuro())
    assert np.std(calmed - shape, axis=0).mean() < 0.5 * np.std(noisy - shape, axis=0).mean()


def test_gaps_at_the_ends_hold_the_nearest_face_and_similarity_is_exact():
    a, b = np.zeros((3, 2)), np.ones((3, 2))
    filled = fill_gaps([None, a, None, b, None])
    assert np.allclose(filled[0], a) and np.allclose(filled[2], 0.5) and np.allclose(filled[4], b)

    points = np.random.default_rng(1).uniform(0, 200, (20, 2))
    angle, scale = np.radians(12), 1.3
    linear = scale * np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    moved = points @ linear.T + (5.0, -7.0)
    assert np.allclose(similarity(points, moved), np.hstack([linear, [[5.0], [-7.0]]]), atol=1e-9)


def test_crop_transforms_from_the_track_are_steadier_than_from_raw_detection(moving_clip, raw_and_tracked):
    from personacast.stages.lipsync.paste import crop_transform

    _, matrices = moving_clip
    raw, track = raw_and_tracked

    def wobble(points):
        # A point fixed in the moving picture (its centre, carried by the known motion)
        # stays put in a crop that follows the face; what it does is the crop's shake.
        placed = []
        for frame_points, matrix in zip(points, matrices):
            transform = crop_transform(frame_points, 256)
            centre = matrix @ np.array([256.0, 256.0, 1.0])
            placed.append(transform[:, :2] @ centre + transform[:, 2])
        return float(np.linalg.norm(np.diff(np.array(placed), n=2, axis=0), axis=-1).mean())

    assert wobble(track.points) < 0.6 * wobble(raw)
