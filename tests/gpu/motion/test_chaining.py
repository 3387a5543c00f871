"""Chaining segments to cover a speech (numpy only). The model here is a small numpy
one with what matters for chaining: its first frame only approximates the picture it
was given, its motion depends on the seed, and it counts its calls."""

from __future__ import annotations

import math

import numpy as np
import pytest

from personacast.errors import ConfigError
from personacast.stages.motion.base import MotionClip
from personacast.stages.motion.chaining import (
    align_start,
    cover_duration,
    frame_count,
    native_frames_needed,
    pingpong,
    pingpong_indices,
    retime,
)


class DriftModel:
    """Shifts the picture a seed-dependent step per frame and brightens frame 0 by 3
    levels (a model's imperfect reconstruction of its conditioning picture)."""

    name = "drift"

    def __init__(self, frames: int = 6, fps: float = 7.0) -> None:
        self.frames_per_segment = frames
        self.fps = fps
        self.calls: list[dict] = []
        self.segments: list[np.ndarray] = []

    def cache_identity(self) -> dict:
        return {"backend": self.name}

    def generate(self, image, seed, first_frame=None):
        start = first_frame if first_frame is not None else image
        self.calls.append({"seed": seed, "first_frame": None if first_frame is None else first_frame.copy()})
        step = 1 + seed % 3
        frames = np.stack([np.roll(start, step * i, axis=1) for i in range(self.frames_per_segment)])
        frames[0] = np.clip(frames[0].astype(np.int16) + 3, 0, 255).astype(np.uint8)
        self.segments.append(frames)
        return MotionClip(frames, self.fps)


@pytest.fixture
def picture():
    rng = np.random.default_rng(0)
    return rng.integers(0, 250, size=(8, 12, 3), dtype=np.uint8)


def test_frame_count_is_the_ceiling_without_float_noise():
    assert frame_count(2.0, 25) == 50
    assert frame_count(0.1 * 3, 10) == 3  # 0.30000000000000004 s
    assert frame_count(1.01, 30) == 31
    assert frame_count(0.01, 25) == 1
    with pytest.raises(ConfigError):
        frame_count(0, 25)


def test_pingpong_is_symmetric_and_never_stalls():
    length, period = 5, 8
    indices = pingpong_indices(length, 40)
    assert indices[:length].tolist() == list(range(length))
    assert indices[length - 1 : period + 1].tolist() == list(range(length - 1, -1, -1))
    for i in range(period + 1):
        assert indices[i] == indices[period - i]
    assert np.all(np.diff(indices) != 0)
    assert np.array_equal(indices[:period], indices[period : 2 * period])
    assert pingpong_indices(1, 4).tolist() == [0, 0, 0, 0]


def test_align_start_lands_exactly_and_fades_out(picture):
    segment = np.stack([picture] * 6)
    segment[0] = 200
    target = np.full_like(picture, 10)
    aligned = align_start(segment, target, fade_frames=3)
    assert np.array_equal(aligned[0], target)
    assert np.array_equal(aligned[3:], segment[3:])
    # Strictly between: partly corrected, less with each frame.
    errors = [np.abs(aligned[i].astype(int) - segment[i]).mean() for i in range(4)]
    assert errors[0] > errors[1] > errors[2] > errors[3] == 0


def test_retime_same_rate_is_identity_and_counts_exactly(picture):
    frames = np.stack([np.roll(picture, i, axis=0) for i in range(7)])
    assert np.array_equal(retime(frames, 7, 7, 7), frames)
    assert np.array_equal(retime(frames, 7, 7, 7, "nearest"), frames)
    out = retime(frames, 7, 30, 26)
    assert out.shape == (26, *picture.shape) and out.dtype == np.uint8
    # 30/7 output frames per model frame: frame 30 would be model frame 7 (past the end).
    assert np.array_equal(out[0], frames[0])
    assert np.array_equal(retime(frames, 7, 30, 40)[-1], frames[-1])


def test_retime_blend_is_halfway_between_neighbours():
    frames = np.stack([np.full((2, 2, 3), 0, np.uint8), np.full((2, 2, 3), 100, np.uint8)])
    out = retime(frames, 1, 2, 3)
    assert out[:, 0, 0, 0].tolist() == [0, 50, 100]
    assert retime(frames, 1, 4, 4, "nearest")[:, 0, 0, 0].tolist() == [0, 0, 100, 100]  # 0.5 rounds up


def _blob(x: float, y: float, size=(128, 96)) -> np.ndarray:
    width, height = size
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    blob = np.exp(-((xx - x) ** 2 + (yy - y) ** 2) / (2 * 18.0**2)) * (0.75 + 0.25 * np.sin((xx - x) * 0.5))
    return np.repeat((60 + 170 * blob)[..., None], 3, axis=2).clip(0, 255).astype(np.uint8)


def _psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return 10 * math.log10(255**2 / mse)


@pytest.mark.parametrize(("pixels_per_frame", "blend_db", "nearest_db"), [(2.0, 52.0, 42.5), (8.0, 32.7, 31.1)])
def test_blending_beats_nearest_on_head_like_motion(pixels_per_frame, blend_db, nearest_db):
    """The measurement behind retime's default (numbers in chaining.py): a head-sized
    blob swaying at 0.4 Hz, made at 7 fps, shown at 30 fps, against the true motion."""
    native, fps, seconds, hz = 7.0, 30.0, 3.0, 0.4
    amplitude = pixels_per_frame * native / (2 * math.pi * hz)

    def at(t):
        return _blob(64 + amplitude * math.sin(2 * math.pi * hz * t), 48 + 0.3 * amplitude * math.cos(2 * math.pi * hz * t))

    made = np.stack([at(i / native) for i in range(int(seconds * native) + 1)])
    count = int(seconds * fps)
    truth = np.stack([at(i / fps) for i in range(count)])
    blended, nearest = retime(made, native, fps, count, "blend"), retime(made, native, fps, count, "nearest")
    assert _psnr(blended, truth) == pytest.approx(blend_db, abs=0.1)
    assert _psnr(nearest, truth) == pytest.approx(nearest_db, abs=0.1)
    stalls = lambda clip: sum(np.array_equal(clip[i], clip[i - 1]) for i in range(1, len(clip)))  # noqa: E731
    assert stalls(blended) == 0 and stalls(nearest) == 68


@pytest.mark.parametrize("mode", ["continue", "pingpong"])
@pytest.mark.parametrize("duration", [0.04, 0.5, 1.37, 2.0, 9.3])
@pytest.mark.parametrize("fps", [24.0, 30.0])
def test_cover_duration_has_exactly_the_frames(picture, mode, duration, fps):
    model = DriftModel()
    clip = cover_duration(model, picture, 11, duration, fps, mode=mode, max_segments=3)
    assert len(clip.frames) == math.ceil(duration * fps)
    assert clip.fps == fps and clip.frames.dtype == np.uint8 and clip.frames.shape[1:] == picture.shape
    needed = native_frames_needed(len(clip.frames), model.fps, fps)
    expected_calls = 1 if mode == "pingpong" else min(3, 1 + max(0, math.ceil((needed - 6) / 5)))
    assert len(model.calls) == expected_calls
    assert [call["seed"] for call in model.calls] == [11 + k for k in range(expected_calls)]


def test_continue_starts_each_segment_on_the_previous_last_frame(picture):
    model = DriftModel(frames=6, fps=7.0)
    clip = cover_duration(model, picture, 4, duration_s=16 / 7, fps=7.0, mode="continue", max_segments=5)
    first, second, third = model.segments
    assert model.calls[0]["first_frame"] is None
    assert np.array_equal(model.calls[1]["first_frame"], first[-1])
    # At the model's own rate nothing is retimed: the joins are in the output as made,
    # each segment pulled onto the frame before it, its repeated first frame dropped.
    assert np.array_equal(clip.frames[:6], first)
    second_shown = align_start(second, first[-1])
    assert np.array_equal(clip.frames[5:11], second_shown)
    assert np.array_equal(model.calls[2]["first_frame"], second_shown[-1])
    assert np.array_equal(clip.frames[10:16], align_start(third, second_shown[-1]))
    assert not np.array_equal(second[0], first[-1])  # the model's own start is 3 levels off
    assert len(clip.frames) == 16


def test_continue_falls_back_to_pingpong_after_max_segments(picture):
    model = DriftModel(frames=6, fps=7.0)
    clip = cover_duration(model, picture, 0, duration_s=30 / 7, fps=7.0, mode="continue", max_segments=2)
    assert len(model.calls) == 2
    first, second = model.segments
    chain = np.concatenate([first, align_start(second, first[-1])[1:]])
    assert np.array_equal(clip.frames, pingpong(chain, 30))


def test_pingpong_cover_is_symmetric(picture):
    model = DriftModel(frames=6, fps=7.0)
    clip = cover_duration(model, picture, 2, duration_s=3.0, fps=7.0, mode="pingpong")
    period = 2 * (6 - 1)
    for i in range(period + 1):
        assert np.array_equal(clip.frames[i], clip.frames[period - i])
    assert np.array_equal(clip.frames[:6], model.segments[0])


def test_bad_mode_is_a_config_error(picture):
    with pytest.raises(ConfigError):
        cover_duration(DriftModel(), picture, 0, 1.0, 25, mode="loop")
    with pytest.raises(ConfigError):
        retime(np.zeros((2, 2, 2, 3), np.uint8), 7, 25, 3, method="flow")
