"""The performer's head motion on a still portrait: a feathered warp of the head region.

The head region (hair above, neck and shoulders below) rolls a little about the neck
and shifts, the motion fading to none at the region's edges, so the rest of the frame
stays exactly still and x264 skips it.

Warping that region is most of what a frame costs to make (a 992x771 bilinear remap
for a 1080x1920 portrait, ~6.5 ms on one core here), and the head moves only about
0.3 px a frame. So the head is warped again only when the pose it shows would be
more than ``HOLD_PX`` from the performer's (checked on the displacement grid, so at
every pixel); in between, the frames keep the last drawn pose and only the mouth
and eyes, drawn anew into the stage, are warped through it. The performance is known
ahead, so the pose drawn is the middle of the next few frames' head controls, over
as many frames as it stays within ``HOLD_PX`` of: the head leads a little, then lags
a little. Half a pixel of a 1080-wide video on a phone is well under a minute of arc
at arm's length, below what the eye resolves, and about 70% of the frames skip the
warp.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import NamedTuple

import cv2
import numpy as np

from ...face.warp import Region
from ...media.canvas import FrameChanges, FramePatch, Rect
from ..perform.performance import Performance
from .framing import Stage

# Share of the head region, at each edge, over which head motion fades to none.
HEAD_FEATHER = 0.25
HEAD_GRID_STEP = 16
# How far (in output pixels) the shown head may be from the performer's before it is warped again.
HOLD_PX = 0.5
# How far ahead a held pose is looked for.
LOOKAHEAD_FRAMES = 12


class HeadMotion:
    """Frames of one framed portrait with the performer's head motion: each is a patch
    over the still frame, covering the head region."""

    def __init__(self, stage: Stage, down: np.ndarray) -> None:
        width, height = stage.frame_size
        margin = self.margin = stage.margin_px
        self.still = np.ascontiguousarray(stage.image[margin : margin + height, margin : margin + width])
        self.face_w = stage.landmarks.width_px
        self.pivot = stage.landmarks.points[152] + down * self.face_w * 0.35  # roughly the neck
        self.head = head = head_region(stage.landmarks.bbox, margin, (width, height))
        head_h, head_w = head.shape
        # The head's displacement is smooth, so it is computed on a coarse grid and
        # upsampled: a full-resolution map cost more than the remap itself.
        coarse_w, coarse_h = max(2, head_w // HEAD_GRID_STEP), max(2, head_h // HEAD_GRID_STEP)
        cys, cxs = np.meshgrid(np.linspace(head.y0, head.y1 - 1, coarse_h), np.linspace(head.x0, head.x1 - 1, coarse_w), indexing="ij")
        self._cxs, self._cys = cxs.astype(np.float32), cys.astype(np.float32)
        self._weight = feather((coarse_h, coarse_w), HEAD_FEATHER)
        self._shown: np.ndarray | None = None  # the displacement grid of the pose drawn last
        self._ahead: dict[int, np.ndarray] = {}  # displacement grids worked out while choosing a pose
        # The map is relative to each patch pixel: a patch pixel at rest shows the stage
        # pixel this far away, and the head's motion adds to it.
        self._at_rest = (head.x0 + margin, head.y0 + margin)
        self._head_map = np.empty((head_h, head_w, 2), np.float32)
        # Two patch buffers taken in turn: a consumer may still read the previous frame
        # (a crossfade holds it) while the next one is drawn, never the one before.
        self._patches = [np.empty((head_h, head_w, 3), np.uint8) for _ in range(2)]
        self._frames_made = 0
        self._token: object | None = None
        # The patch rectangles the previous frame warped, when it was held (None after a redraw).
        self._held_rects: list[Rect] | None = None

    def frame(self, working: np.ndarray, perf: Performance, i: int, rewritten: Sequence[Rect] | None = None) -> FramePatch:
        """Frame ``i`` of ``working``: the stage with this frame's mouth and eyes drawn.

        ``rewritten`` lists the stage rectangles drawn anew since the previous frame;
        None means they are not known, and the whole head is warped.
        """
        moved = self._displacement(perf, i)
        patch = self._patches[self._frames_made % 2]
        previous = self._patches[(self._frames_made + 1) % 2]
        self._frames_made += 1
        token, after = object(), self._token
        self._token = token
        if rewritten is None or self._shown is None or _apart(moved, self._shown) > HOLD_PX:
            self._shown = moved if rewritten is None else self._pose_to_hold(perf, i, moved)
            self._update_map(self._shown)
            self._warp(working, patch, (0, 0, *self.head.shape[::-1]))
            self._held_rects = None
            return FramePatch(self.still, patch, self.head.x0, self.head.y0, token)
        # The same pose as the previous frame: only what the stage changed under it.
        if self._held_rects is None:
            np.copyto(patch, previous)
        else:
            # This buffer holds the frame before the previous one, at the same pose.
            for x0, y0, x1, y1 in self._held_rects:
                patch[y0:y1, x0:x1] = previous[y0:y1, x0:x1]
        rects = [self._reading(rect) for rect in rewritten]
        rects = self._held_rects = [r for r in rects if r[2] > r[0] and r[3] > r[1]]
        for rect in rects:
            self._warp(working, patch, rect)
        hx, hy = self.head.x0, self.head.y0
        changes = FrameChanges(after, tuple((x0 + hx, y0 + hy, x1 + hx, y1 + hy) for x0, y0, x1, y1 in rects))
        return FramePatch(self.still, patch, hx, hy, token, changes)

    def _displacement(self, perf: Performance, i: int) -> np.ndarray:
        """(2, gy, gx): how far from its rest each grid point's source is for frame ``i``."""
        moved = self._ahead.pop(i, None)
        return self._displacement_at(HeadPose.of(perf, i)) if moved is None else moved

    def _displacement_at(self, pose: HeadPose) -> np.ndarray:
        """The displacement grid of ``pose``.

        Frame pixel p shows stage point p + margin when still and inv(p) when the head
        has moved; the feather blends the two so the motion fades out to the edge.
        """
        margin = self.margin
        inv = cv2.invertAffineTransform(head_matrix(pose, self.pivot, self.face_w, margin))
        moved = np.empty((2, *self._weight.shape), np.float32)
        moved[0] = self._weight * ((inv[0, 0] - 1) * self._cxs + inv[0, 1] * self._cys + (inv[0, 2] - margin))
        moved[1] = self._weight * (inv[1, 0] * self._cxs + (inv[1, 1] - 1) * self._cys + (inv[1, 2] - margin))
        return moved

    def _pose_to_hold(self, perf: Performance, i: int, now: np.ndarray) -> np.ndarray:
        """The displacement of a pose within HOLD_PX of the performer's for as many frames
        from ``i`` (whose displacement is ``now``) on as one pose can be, up to
        LOOKAHEAD_FRAMES: the middle of their head controls.

        Per grid point, the deviation of a candidate from the run's frames is largest
        against the highest or the lowest of them, so keeping those two bounds checks a
        run in two comparisons however long it is.
        """
        end = min(perf.frame_count, i + LOOKAHEAD_FRAMES)
        poses = [HeadPose.of(perf, i)]
        high, low = now.copy(), now.copy()
        best = now
        for k in range(i + 1, end):
            pose = HeadPose.of(perf, k)
            moved = self._ahead[k] = self._displacement_at(pose)
            np.maximum(high, moved, out=high)
            np.minimum(low, moved, out=low)
            if _apart(high, low) > 2 * HOLD_PX:
                break  # no one pose is within HOLD_PX of both extremes
            poses.append(pose)
            candidate = self._displacement_at(HeadPose.middle(poses))
            if max(float((high - candidate).max()), float((candidate - low).max())) > HOLD_PX:
                break
            best = candidate
        return best

    def _update_map(self, moved: np.ndarray) -> None:
        rest_x, rest_y = self._at_rest
        coarse = cv2.merge([moved[0] + rest_x, moved[1] + rest_y])
        cv2.resize(coarse, self.head.shape[::-1], dst=self._head_map, interpolation=cv2.INTER_LINEAR)

    def _warp(self, working: np.ndarray, patch: np.ndarray, rect: Rect) -> None:
        """Warp the patch rectangle ``rect`` (patch coordinates) through the current map."""
        x0, y0, x1, y1 = rect
        # The map is relative to the patch pixel, so a piece of it reads the stage from
        # the same offset.
        cv2.remap(
            working[y0:, x0:], self._head_map[y0:y1, x0:x1], None, cv2.INTER_LINEAR | cv2.WARP_RELATIVE_MAP,
            dst=patch[y0:y1, x0:x1], borderMode=cv2.BORDER_REPLICATE,
        )

    def _reading(self, rect: Rect) -> Rect:
        """The patch rectangle whose source, at the pose shown, may touch stage rectangle
        ``rect`` (bilinear sampling reaches one pixel further)."""
        pad = math.ceil(float(np.abs(self._shown).max())) + 2
        dx, dy = self._at_rest
        head_h, head_w = self.head.shape
        x0, y0, x1, y1 = rect
        return max(0, x0 - dx - pad), max(0, y0 - dy - pad), min(head_w, x1 - dx + pad), min(head_h, y1 - dy + pad)


def _apart(a: np.ndarray, b: np.ndarray) -> float:
    """How far apart two displacement grids are at their farthest point, in pixels."""
    return float(np.abs(a - b).max())


def head_region(face_bbox: tuple[float, float, float, float], margin: int, size: tuple[int, int]) -> Region:
    """Frame region that moves with the head: hair above, neck and shoulders below."""
    x0, y0, x1, y1 = (v - margin for v in face_bbox)
    face_w, face_h = x1 - x0, y1 - y0
    width, height = size
    return Region(
        max(0, int(x0 - 0.55 * face_w)) & ~1,
        max(0, int(y0 - 0.6 * face_h)) & ~1,
        min(width, int(x1 + 0.55 * face_w)),
        min(height, int(y1 + 0.8 * face_h)),
    )


def feather(shape: tuple[int, int], fraction: float) -> np.ndarray:
    """1 in the middle, easing to 0 at every edge over ``fraction`` of the size."""
    h, w = shape

    def ramp(n: int) -> np.ndarray:
        edge = np.minimum(np.arange(n), np.arange(n)[::-1]) / max(1.0, fraction * n)
        t = np.clip(edge, 0.0, 1.0)
        return (t * t * (3 - 2 * t)).astype(np.float32)

    return np.outer(ramp(h), ramp(w))


class HeadPose(NamedTuple):
    """One frame's head controls (see Performance)."""

    pitch_deg: float
    yaw_deg: float
    roll_deg: float
    dx: float
    dy: float

    @classmethod
    def of(cls, perf: Performance, i: int) -> "HeadPose":
        return cls(
            float(perf.head_pitch_deg[i]), float(perf.head_yaw_deg[i]), float(perf.head_roll_deg[i]),
            float(perf.head_dx[i]), float(perf.head_dy[i]),
        )

    @classmethod
    def middle(cls, poses: Sequence["HeadPose"]) -> "HeadPose":
        """Each control halfway between its extremes over ``poses``."""
        controls = np.array(poses)
        return cls(*((controls.max(axis=0) + controls.min(axis=0)) / 2).tolist())


def head_matrix(pose: HeadPose, pivot: np.ndarray, face_w: float, margin: int) -> np.ndarray:
    """Stage -> frame: roll about the neck, nods and turns as small shifts."""
    dx = (pose.dx + math.sin(math.radians(pose.yaw_deg)) * 0.5) * face_w
    dy = (pose.dy + math.sin(math.radians(pose.pitch_deg)) * 0.5) * face_w
    matrix = cv2.getRotationMatrix2D((float(pivot[0]), float(pivot[1])), pose.roll_deg, 1.0 + pose.pitch_deg * 0.001)
    matrix[0, 2] += dx - margin
    matrix[1, 2] += dy - margin
    return matrix
