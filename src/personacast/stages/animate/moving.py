"""Portraits that move: a video clip given as a scene's picture, or a motion model's clip.

A clip is tracked once (face landmarks on every frame, see lipsync/tracking.py) and
then laid out per output size the way a still portrait is (framing.py), with one
layout for all its frames: the camera stays put and the head moves in the frame. A
clip shorter than its scene plays forwards and backwards, which never jumps.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from ...errors import ImageError
from ...face.warp import Region
from ..compose.formats import PRESETS
from ..compose.scenes import VIDEO_SUFFIXES
from ..lipsync.tracking import FaceTrack, track_face
from ..motion.base import MotionClip
from ..motion.chaining import pingpong_indices
from .framing import MARGIN_OF_LONG_SIDE, Layout, empty_stage, paste_clipped, place, plan_layout

# Decoded frames are held in memory while a scene renders; a clip past this size is
# cut (with a warning) and loops. 1 GiB is about 5 s of 1080x1920 video at 30 fps.
MAX_CLIP_BYTES = 1 << 30
# Frames are decoded no larger than the largest output's stage (frame and framing
# margin, see framing.py) is long: a 4K phone video held at full size would fill the
# memory above in under 1.5 s. A clip turned the other way to its output (a 16:9 clip
# framed 9:16) is then enlarged as much as a 1080p one would be.
_LONGEST_OUTPUT = max(max(preset.size) for preset in PRESETS.values())
MAX_DECODE_LONG_SIDE = _LONGEST_OUTPUT + 2 * round(MARGIN_OF_LONG_SIDE * _LONGEST_OUTPUT)


def is_video(path: Path) -> bool:
    return Path(path).suffix.lower() in VIDEO_SUFFIXES


def read_clip(path: Path, max_bytes: int = MAX_CLIP_BYTES) -> tuple[MotionClip, list[str]]:
    """All frames of a video file as upright RGB, at most MAX_DECODE_LONG_SIDE long, and
    warnings (a cut clip)."""
    import av

    path = Path(path)
    if not path.is_file():
        raise ImageError(f"video not found: {path}", hint="check the path")
    frames: np.ndarray | None = None
    count = 0
    warnings: list[str] = []
    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise ImageError(f"{path.name} has no video stream", hint="give a portrait picture or a video of the face")
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"  # frame and slice threads: a large clip decodes on every core
            rate = float(stream.average_rate or stream.guessed_rate or 0) or 30.0
            for frame in container.decode(stream):
                width, height = decode_size(frame.width, frame.height)
                rgb = frame.to_ndarray(width=width, height=height, format="rgb24")
                # Older PyAV (pyproject allows 12) does not expose the display matrix: such
                # video reads as stored, sideways.
                turns = round(getattr(frame, "rotation", 0) / 90) % 4
                if turns:  # phones store portrait video sideways, with a rotation to show it by
                    rgb = np.rot90(rgb, turns)
                if frames is None:
                    # Room for the most frames allowed; memory is only taken as they fill it.
                    frames = np.empty((max(1, max_bytes // rgb.nbytes), *rgb.shape), np.uint8)
                if count == len(frames):
                    warnings.append(
                        f"{path.name}: only its first {count / rate:.1f} s are used (it loops); "
                        "a longer clip does not fit in memory at this size"
                    )
                    break
                frames[count] = rgb
                count += 1
    except ImageError:
        raise
    except (av.error.FFmpegError, ValueError) as exc:
        raise ImageError(f"{path.name} is not a readable video: {exc}".splitlines()[0], hint="re-export it as MP4 (H.264)") from None
    if frames is None:
        raise ImageError(f"{path.name} has no frames", hint="give a portrait picture or a video of the face")
    if min(frames.shape[1:3]) < 64:
        raise ImageError(f"{path.name} is only {frames.shape[2]}x{frames.shape[1]} pixels", hint="use a video of at least 512 px")
    return MotionClip(frames[:count], rate), warnings


def decode_size(width: int, height: int, long_side: int = MAX_DECODE_LONG_SIDE) -> tuple[int, int]:
    """The size a ``width`` x ``height`` frame is decoded at: its own, or shrunk to
    ``long_side`` with its aspect kept, in even pixels (as video sizes are)."""
    scale = long_side / max(width, height)
    if scale >= 1:
        return width, height
    return max(2, 2 * round(width * scale / 2)), max(2, 2 * round(height * scale / 2))


@dataclass(frozen=True)
class TrackedClip:
    """A clip and its face track, in the clip's own pixels; shared by every output size."""

    clip: MotionClip
    track: FaceTrack
    name: str


def track_clip(clip: MotionClip, name: str, min_face_width_px: int) -> TrackedClip:
    return TrackedClip(clip, track_face(clip.frames, clip.fps, name=name, min_face_width_px=min_face_width_px), name)


@dataclass
class MovingStage:
    """A tracked clip framed for one output size. ``still`` (the first frame as framed)
    is the background every frame of its scenes is a patch over."""

    tracked: TrackedClip
    layout: Layout
    fill: np.ndarray  # frame-sized: what shows around a clip too narrow to cover the frame
    track: FaceTrack = field(init=False)  # in output frame pixels
    still: np.ndarray = field(init=False)
    _part: tuple[Region, tuple[int, int]] | None = field(default=None, init=False, repr=False)
    _last: tuple[int, np.ndarray] | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        matrix = self.layout.frame_matrix
        if self.layout.scale > 1:
            self._part, matrix = _enlarged_part(self.layout)
        self.track = self.tracked.track.transformed(matrix, self.frame_size)
        self.still = self.frame(0).copy()

    @property
    def frame_size(self) -> tuple[int, int]:
        return self.layout.frame_size

    def frame(self, index: int) -> np.ndarray:
        """Clip frame ``index`` as framed (read-only use: the array is reused while the
        same index is asked for again)."""
        if self._last is None or self._last[0] != index:
            canvas = self.fill.copy()
            source = self.tracked.clip.frames[index]
            if self._part is None:
                offset = (self.layout.offset[0] - self.layout.margin_px, self.layout.offset[1] - self.layout.margin_px)
                place(source, self.layout, canvas, offset)
            else:
                # Only the part that shows is enlarged: the whole clip frame scaled up
                # first cost 90 ms a frame at 1080x1920.
                region, at = self._part
                scale_x, scale_y = (n / s for n, s in zip(self.layout.scaled_size, self.layout.source_size))
                part = cv2.resize(source[region.slices()], None, fx=scale_x, fy=scale_y, interpolation=cv2.INTER_LINEAR)
                paste_clipped(canvas, part, *at)
            self._last = (index, canvas)
        return self._last[1]

    def clip_indices(self, count: int, fps: float) -> np.ndarray:
        """The clip frame on screen at each of a scene's first ``count`` frames at ``fps``."""
        if count <= 0:
            return np.zeros(0, np.int64)
        times = np.floor(np.arange(count) / fps * self.tracked.clip.fps + 1e-6).astype(np.int64)
        return pingpong_indices(len(self.tracked.clip.frames), int(times[-1]) + 1)[times]


def _enlarged_part(layout: Layout) -> tuple[tuple[Region, tuple[int, int]], np.ndarray]:
    """The source rectangle that reaches the frame, where its enlargement goes, and the
    source -> frame matrix exactly as drawn. cv2.resize with a given factor scales about
    the crop's corner, so the enlargement lands up to half a pixel off the layout's
    grid; the matrix says where, and the landmarks follow it."""
    (src_w, src_h), (width, height) = layout.source_size, layout.frame_size
    scale_x, scale_y = layout.scaled_size[0] / src_w, layout.scaled_size[1] / src_h
    ox, oy = layout.offset[0] - layout.margin_px, layout.offset[1] - layout.margin_px
    x0 = max(0, int(np.floor(-ox / scale_x)) - 2)
    y0 = max(0, int(np.floor(-oy / scale_y)) - 2)
    x1 = min(src_w, int(np.ceil((width - ox) / scale_x)) + 2)
    y1 = min(src_h, int(np.ceil((height - oy) / scale_y)) + 2)
    at = (int(round(ox + x0 * scale_x)), int(round(oy + y0 * scale_y)))
    matrix = np.array([[scale_x, 0, at[0] - x0 * scale_x], [0, scale_y, at[1] - y0 * scale_y]], np.float64)
    return (Region(x0, y0, x1, y1), at), matrix


def lay_out(tracked: TrackedClip, frame_size: tuple[int, int], zoom: float = 1.0, background: str = "blur") -> MovingStage:
    """Frame ``tracked`` for ``frame_size`` from where its face is in the first frame."""
    first = tracked.track.landmarks(0)
    layout = plan_layout(first.image_size, first, frame_size, zoom)
    return MovingStage(tracked, layout, empty_stage(layout, tracked.clip.frames[0], background, frame_size))


def carried_map(
    reference_map: np.ndarray, region: Region, head: np.ndarray, frame_size: tuple[int, int]
) -> tuple[Region, np.ndarray] | None:
    """A backward map made for the reference face, moved onto a face that ``head`` (2x3,
    reference -> this frame) has carried elsewhere: the same displacement, turned and
    scaled with the head. Returns the frame region it covers and its (h, w, 2) map, or
    None where that region is outside the frame (a wide clip framed narrow, its
    subject walked out of the frame)."""
    inverse = cv2.invertAffineTransform(head)
    corners = np.array([[region.x0, region.y0], [region.x1, region.y0], [region.x0, region.y1], [region.x1, region.y1]], np.float64)
    moved = corners @ head[:, :2].T + head[:, 2]
    width, height = frame_size
    x0, y0 = np.floor(moved.min(0)).astype(int)
    x1, y1 = np.ceil(moved.max(0)).astype(int)
    target = Region(max(0, int(x0)), max(0, int(y0)), min(width, int(x1)), min(height, int(y1)))
    if target.x1 <= target.x0 or target.y1 <= target.y0:
        return None
    ys, xs = np.mgrid[target.y0 : target.y1, target.x0 : target.x1].astype(np.float32)
    # Where each frame pixel was in the reference, as a position inside the reference map.
    qx = inverse[0, 0] * xs + inverse[0, 1] * ys + inverse[0, 2]
    qy = inverse[1, 0] * xs + inverse[1, 1] * ys + inverse[1, 2]
    rows, cols = np.mgrid[region.y0 : region.y1, region.x0 : region.x1].astype(np.float32)
    displacement = reference_map - np.dstack([cols, rows])
    shift = cv2.remap(
        displacement, (qx - region.x0).astype(np.float32), (qy - region.y0).astype(np.float32),
        cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0,
    )
    linear = head[:, :2].astype(np.float32)
    out = np.dstack([
        xs + linear[0, 0] * shift[..., 0] + linear[0, 1] * shift[..., 1],
        ys + linear[1, 0] * shift[..., 0] + linear[1, 1] * shift[..., 1],
    ])
    return target, out.astype(np.float32)
