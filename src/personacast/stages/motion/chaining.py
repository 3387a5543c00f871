"""Covering a speech with image-to-video segments (numpy only, no model needed).

A model makes a few seconds at a time (SVD-XT: 25 frames at 7 fps). To cover a whole
speech the segments are chained in the model's own frame rate, then retimed once to
the video's:

- "continue": each segment starts from the previous one's last frame. The model's
  first frame only approximates the picture it was given, so each new segment is
  pulled onto that last frame exactly and the difference is faded out over its first
  few frames (a crossfade from the old segment into the new one).
- "pingpong": the footage is played forward, then backward, then forward... It costs
  one model call, and is also what "continue" falls back to when ``max_segments``
  calls are not enough, so a long speech never costs unbounded GPU time.

Retiming blends the two nearest model frames. Measured on a textured face-sized blob
swaying like a head, made at 7 fps and shown at 30 fps (PSNR against the true 30 fps
motion): at 2 px of motion per model frame blending scored 52.0 dB against 42.5 dB for
the nearest frame, at 8 px 32.7 dB against 31.1 dB; and nearest showed the same frame
twice in a row at 68 of 89 steps, a visible 7 fps judder, where blending moves on every
frame. Blending ghosts only fast motion, which the talking-head conditioning avoids
(tests/gpu/motion/test_chaining.py repeats the measurement).
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np

from ...errors import ConfigError
from .base import MotionBackend, MotionClip

Mode = Literal["continue", "pingpong"]
RetimeMethod = Literal["blend", "nearest"]
JOIN_FADE_FRAMES = 4  # model frames over which a continued segment's offset fades out


def frame_count(duration_s: float, fps: float) -> int:
    """Frames covering ``duration_s`` at ``fps``: ceil(duration_s * fps), without
    float noise adding a frame (2.0 s at 25 fps is 50, not 51)."""
    if duration_s <= 0 or fps <= 0:
        raise ConfigError(f"cannot cover {duration_s} s at {fps} fps", hint="both must be positive")
    return math.ceil(round(duration_s * fps, 6))


def native_frames_needed(count: int, native_fps: float, fps: float) -> int:
    """Model frames whose time span reaches the last of ``count`` output frames."""
    return math.ceil(round((count - 1) * native_fps / fps, 6)) + 1


def pingpong_indices(length: int, count: int) -> np.ndarray:
    """0, 1, .., length-1, length-2, .., 1, 0, 1, ..: ``count`` indices, a loop of period
    2*(length-1) with no frame shown twice in a row at the turns."""
    if length < 1:
        raise ValueError("ping-pong needs at least one frame")
    if length == 1:
        return np.zeros(count, dtype=np.int64)
    period = 2 * (length - 1)
    position = np.arange(count) % period
    return np.where(position < length, position, period - position)


def pingpong(frames: np.ndarray, count: int) -> np.ndarray:
    return frames[pingpong_indices(len(frames), count)]


def align_start(segment: np.ndarray, previous_last: np.ndarray, fade_frames: int = JOIN_FADE_FRAMES) -> np.ndarray:
    """``segment`` moved so that its first frame is exactly ``previous_last``, the
    correction fading out (raised cosine) over ``fade_frames`` frames."""
    out = segment.copy()
    offset = previous_last.astype(np.float32) - segment[0].astype(np.float32)
    for index in range(min(max(fade_frames, 1), len(segment))):
        weight = 0.5 * (1.0 + math.cos(math.pi * index / max(fade_frames, 1)))
        out[index] = np.clip(np.rint(segment[index].astype(np.float32) + weight * offset), 0, 255).astype(np.uint8)
    return out


def retime(frames: np.ndarray, native_fps: float, fps: float, count: int, method: RetimeMethod = "blend") -> np.ndarray:
    """``count`` frames at ``fps`` from ``frames`` made at ``native_fps``. Output frame i
    shows the moment i/fps; "blend" mixes the two model frames around it by distance,
    "nearest" takes the closest. Past the end the last frame holds."""
    if method not in ("blend", "nearest"):
        raise ConfigError(f"unknown retime method '{method}'", hint="use blend or nearest")
    position = np.minimum(np.arange(count, dtype=np.float64) * native_fps / fps, len(frames) - 1)
    position = np.round(position, 6)  # 0.9999999 must land on frame 1, not blend 99.99999 % of it
    if method == "nearest":
        return frames[np.floor(position + 0.5).astype(np.int64)]
    out = np.empty((count, *frames.shape[1:]), dtype=np.uint8)
    for index, where in enumerate(position):
        low = int(where)
        weight = where - low
        if weight == 0.0:
            out[index] = frames[low]
        else:
            mixed = frames[low].astype(np.float32) * (1.0 - weight) + frames[low + 1].astype(np.float32) * weight
            out[index] = np.rint(mixed).astype(np.uint8)
    return out


def cover_duration(
    backend: MotionBackend,
    image: np.ndarray,
    seed: int,
    duration_s: float,
    fps: float,
    mode: Mode = "continue",
    max_segments: int = 8,
    fade_frames: int = JOIN_FADE_FRAMES,
    retime_method: RetimeMethod = "blend",
) -> MotionClip:
    """Motion for exactly ``frame_count(duration_s, fps)`` frames at ``fps``. Segment k
    uses seed + k, so the same call gives the same clip."""
    if mode not in ("continue", "pingpong"):
        raise ConfigError(f"unknown motion chaining mode '{mode}'", hint="use continue or pingpong")
    if max_segments < 1:
        raise ConfigError("max_segments must be at least 1")
    count = frame_count(duration_s, fps)
    first = backend.generate(image, seed)
    native_fps = first.fps
    needed = native_frames_needed(count, native_fps, fps)
    # Each continued segment starts from the chain's last frame (as shown, so after any
    # alignment), is aligned onto it, and joins without its first frame (the repeat).
    parts = [first.frames]
    covered = len(first.frames)
    while mode == "continue" and 1 < len(first.frames) and covered < needed and len(parts) < max_segments:
        last = parts[-1][-1]
        segment = backend.generate(image, seed + len(parts), first_frame=last).frames
        parts.append(align_start(segment, last, fade_frames)[1:])
        covered += len(parts[-1])
    chain = np.concatenate(parts)
    chain = chain[:needed] if len(chain) >= needed else pingpong(chain, needed)
    return MotionClip(retime(chain, native_fps, fps, count, retime_method), fps)
