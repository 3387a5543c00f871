"""Landmark-driven warps of the mouth and eye regions.

For a set of controls (jaw opening, lip width, closure, blink) the landmarks get
target positions; a thin-plate spline through (target -> source) offsets gives a
backward map that cv2.remap applies to a small region of interest. Maps are computed
on a coarse grid, quantised by control value and cached, so a frame costs one remap
of the region, not a spline solve. A new map still costs a solve, so everything that
only depends on the region (the mesh, the fixed anchors' kernel, each pixel's place
in the face frame) is worked out once per region.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property, lru_cache

import cv2
import numpy as np
from scipy.spatial.distance import cdist

from . import landmarks as lm

JAW_LEVELS = 24
WIDTH_LEVELS = 8
BLINK_LEVELS = 10
BROW_LEVELS = 4
GRID_STEP_PX = 6
MAX_GAP_PER_MOUTH_WIDTH = 0.4  # inner-lip gap of the widest vowel
SPREAD_REACH = 0.12  # share of the half-width the corners move out at full spread
ROUND_REACH = 0.24  # and in at full rounding
UPPER_LIP_SHARE = 0.3  # the upper lip moves this much of a gap change, the jaw the rest
SMOOTHING = 1e-3  # added to the spline's kernel diagonal, as scipy's RBFInterpolator(smoothing=...)


@dataclass(frozen=True)
class Region:
    x0: int
    y0: int
    x1: int
    y1: int

    @property
    def shape(self) -> tuple[int, int]:
        return self.y1 - self.y0, self.x1 - self.x0

    def slices(self) -> tuple[slice, slice]:
        return slice(self.y0, self.y1), slice(self.x0, self.x1)

    @property
    def rect(self) -> tuple[int, int, int, int]:
        return self.x0, self.y0, self.x1, self.y1


def _region_around(points: np.ndarray, margin: tuple[float, float, float, float], size: tuple[int, int]) -> Region:
    x0, y0 = points.min(0)
    x1, y1 = points.max(0)
    left, top, right, bottom = margin
    width, height = size
    return Region(
        max(0, int(x0 - left)), max(0, int(y0 - top)), min(width, int(x1 + right) + 1), min(height, int(y1 + bottom) + 1)
    )


def _border_anchors(region: Region, count: int = 8) -> np.ndarray:
    xs = np.linspace(region.x0, region.x1 - 1, count)
    ys = np.linspace(region.y0, region.y1 - 1, count)
    top = np.stack([xs, np.full_like(xs, region.y0)], 1)
    bottom = np.stack([xs, np.full_like(xs, region.y1 - 1)], 1)
    left = np.stack([np.full_like(ys, region.x0), ys], 1)
    right = np.stack([np.full_like(ys, region.x1 - 1), ys], 1)
    return np.concatenate([top, bottom, left, right])


@dataclass(frozen=True)
class _MouthMotion:
    """The lip and jaw landmarks a mouth shape moves, one row per distinct position.

    Targets are linear in the controls, so each row keeps how far it moves per pixel
    of inner-lip gap change and per unit of corner reach.
    """

    sources: np.ndarray  # (n, 2)
    per_gap: np.ndarray  # (n, 2)
    per_reach: np.ndarray  # (n, 2)
    upper: np.ndarray  # (n,) bool: rows of the upper lip (the corners are in both lips)
    lower: np.ndarray  # (n,) bool: rows of the lower lip and the jaw
    upper_inner: np.ndarray  # the row of each lm.UPPER_LIP_INNER landmark
    lower_inner: np.ndarray  # the row of each lm.LOWER_LIP_INNER landmark


class FaceWarper:
    """Builds (and caches) the backward maps for one face in one image."""

    def __init__(self, points: np.ndarray, image_size: tuple[int, int]) -> None:
        self.points = points.astype(np.float64)
        p = self.points
        self.eyes_mid = (p[lm.EYE_OUTER_CORNERS[0]] + p[lm.EYE_OUTER_CORNERS[1]]) / 2
        self.eye_gap = float(np.linalg.norm(p[lm.EYE_OUTER_CORNERS[0]] - p[lm.EYE_OUTER_CORNERS[1]]))
        down = p[lm.CHIN] - self.eyes_mid
        self.down = down / np.linalg.norm(down)
        self.across = np.array([-self.down[1], self.down[0]])
        if np.dot(self.across, p[lm.MOUTH_CORNERS[1]] - p[lm.MOUTH_CORNERS[0]]) < 0:
            self.across = -self.across
        self.mouth_width = float(np.linalg.norm(p[lm.MOUTH_CORNERS[1]] - p[lm.MOUTH_CORNERS[0]]))
        self.mouth_center = (p[lm.MOUTH_CORNERS[0]] + p[lm.MOUTH_CORNERS[1]]) / 2
        self.source_gap = lm.inner_lip_gap(p)
        self.max_gap = MAX_GAP_PER_MOUTH_WIDTH * self.mouth_width
        face_h = float(np.linalg.norm(down))

        jaw_drop = self.max_gap * (1 - UPPER_LIP_SHARE) + face_h * 0.06
        mouth_pts = p[lm.UPPER_LIP_OUTER + lm.LOWER_LIP_OUTER + lm.LOWER_JAW]
        self.mouth_region = _region_around(
            mouth_pts, (face_h * 0.12, face_h * 0.08, face_h * 0.12, jaw_drop + face_h * 0.12), image_size
        )
        eye_pts = p[lm.RIGHT_EYE_UPPER + lm.LEFT_EYE_UPPER + lm.RIGHT_BROW + lm.LEFT_BROW + lm.RIGHT_EYE_LOWER + lm.LEFT_EYE_LOWER]
        self.eye_region = _region_around(eye_pts, (face_h * 0.08,) * 4, image_size)
        # Anchors hold still the parts a mouth or lid movement must not drag along.
        self._mouth_anchors = np.concatenate([p[lm.NOSE + lm.CHEEKS], _border_anchors(self.mouth_region)])
        self._eye_anchors = np.concatenate(
            [p[lm.NOSE[:5] + lm.CHEEKS[:6]], p[[33, 133, 263, 362]], _border_anchors(self.eye_region)]
        )
        # A moving portrait carries the same maps to a new place every frame, so they are
        # kept; a still one keeps the finished patches instead and builds each map once.
        self.mouth_map = lru_cache(maxsize=256)(self.build_mouth_map)
        # Painting the interior needs the same targets every frame the mouth is open.
        self.inner_lip_targets = lru_cache(maxsize=512)(self._inner_lip_targets)
        self.eye_map = lru_cache(maxsize=64)(self.build_eye_map)

    # --- controls -> landmark targets -------------------------------------------------

    def quantise_mouth(self, jaw_open: float, lip_width: float, lip_close: float) -> tuple[int, int]:
        jaw = 0.0 if lip_close >= 0.5 else jaw_open
        return int(round(np.clip(jaw, 0, 1.2) * JAW_LEVELS)), int(round(np.clip(lip_width, -1, 1) * WIDTH_LEVELS))

    def target_gap(self, jaw_key: int) -> float:
        return self.max_gap * jaw_key / JAW_LEVELS

    @cached_property
    def _mouth_motion(self) -> _MouthMotion:
        p = self.points

        def sideways(indices: list[int]) -> np.ndarray:
            return (p[indices] - self.mouth_center) @ self.across

        def taper(indices: list[int]) -> np.ndarray:
            # Centre of the lips moves most; the corners stay nearly put.
            return np.clip(1.0 - (sideways(indices) / (self.mouth_width / 2)) ** 2, 0.0, 1.0)[:, None]

        groups = [
            (lm.UPPER_LIP_INNER, -UPPER_LIP_SHARE, 1.0),
            (lm.UPPER_LIP_OUTER, -UPPER_LIP_SHARE, 0.45),
            (lm.LOWER_LIP_INNER, 1 - UPPER_LIP_SHARE, 1.0),
            (lm.LOWER_LIP_OUTER, 1 - UPPER_LIP_SHARE, 0.95),
        ]
        indices: list[int] = []
        per_gap, per_reach = [], []
        for group, share, gain in groups:
            indices += group
            per_gap.append(share * gain * taper(group) * self.down)
            per_reach.append(sideways(group)[:, None] * self.across)
        jaw = p[lm.LOWER_JAW]
        reach = np.clip(1.0 - np.abs((jaw - p[lm.CHIN]) @ self.across) / (self.mouth_width * 1.6), 0.25, 1.0)[:, None]
        indices += lm.LOWER_JAW
        per_gap.append((1 - UPPER_LIP_SHARE) * 0.85 * reach * self.down)
        per_reach.append(np.zeros_like(jaw))
        # Landmarks in several groups (the lip corners) move with the first group they are in.
        _, first, row = np.unique(np.round(p[indices], 3), axis=0, return_index=True, return_inverse=True)
        row = row.ravel()
        upper_end = len(lm.UPPER_LIP_INNER + lm.UPPER_LIP_OUTER)
        upper = np.zeros(len(first), bool)
        upper[row[:upper_end]] = True
        lower = np.zeros(len(first), bool)
        lower[row[upper_end:]] = True
        return _MouthMotion(
            sources=p[indices][first],
            per_gap=np.concatenate(per_gap)[first],
            per_reach=np.concatenate(per_reach)[first],
            upper=upper,
            lower=lower,
            upper_inner=row[: len(lm.UPPER_LIP_INNER)],
            lower_inner=row[upper_end : upper_end + len(lm.LOWER_LIP_INNER)],
        )

    def mouth_targets(self, jaw_key: int, width_key: int) -> tuple[np.ndarray, np.ndarray]:
        """Source and target positions of the lips and jaw for these controls."""
        motion = self._mouth_motion
        change = self.target_gap(jaw_key) - self.source_gap
        width = width_key / WIDTH_LEVELS
        # Lips round (pull in) further than they spread: an "oo" is visibly narrower.
        corner_reach = SPREAD_REACH if width > 0 else ROUND_REACH
        return motion.sources.copy(), motion.sources + change * motion.per_gap + corner_reach * width * motion.per_reach

    def _inner_lip_targets(self, jaw_key: int, width_key: int) -> tuple[np.ndarray, np.ndarray]:
        """Target inner-lip contours (upper, lower), for painting the mouth interior."""
        _, dst = self.mouth_targets(jaw_key, width_key)
        motion = self._mouth_motion
        return dst[motion.upper_inner], dst[motion.lower_inner]

    # --- backward maps -------------------------------------------------------------

    @cached_property
    def _mouth_grid(self) -> _MapGrid:
        return _MapGrid(
            self.mouth_region, self._mouth_anchors, self.mouth_center, self.mouth_width * 0.42, self.across, self.down
        )

    @cached_property
    def _eye_grid(self) -> _MapGrid:
        return _MapGrid(self.eye_region, self._eye_anchors, self.eyes_mid, self.eye_gap * 0.5, self.across, self.down)

    def build_mouth_map(self, jaw_key: int, width_key: int) -> np.ndarray:
        src, dst = self.mouth_targets(jaw_key, width_key)
        motion = self._mouth_motion
        upper_contour, lower_contour = self.inner_lip_targets(jaw_key, width_key)
        up, low = motion.upper, motion.lower
        split = (upper_contour + lower_contour) / 2
        return _two_sided_map(self._mouth_grid, (src[up], dst[up]), (src[low], dst[low]), split)

    def build_eye_map(self, blink_key: int, brow_key: int) -> np.ndarray:
        p = self.points
        closing = blink_key / BLINK_LEVELS
        lift = brow_key / BROW_LEVELS * 0.04 * self.eye_gap
        up_src, up_dst, low_pts, splits = [], [], [], []
        for upper, lower in ((lm.RIGHT_EYE_UPPER, lm.RIGHT_EYE_LOWER), (lm.LEFT_EYE_UPPER, lm.LEFT_EYE_LOWER)):
            up, low = p[upper[1:-1]], p[lower]
            # Each upper-lid point travels to the lower lid below it.
            rel_low = low - self.mouth_center
            target_v = np.interp((up - self.mouth_center) @ self.across, *_sorted_uv(rel_low, self.across, self.down))
            travel_v = target_v - (up - self.mouth_center) @ self.down
            travel = (0.97 * travel_v)[:, None] * self.down
            lid = up + closing * travel
            above = up - 0.5 * np.abs(travel_v).mean() * self.down
            up_src += [up, above]
            up_dst += [lid, above + closing * 0.5 * travel]
            low_pts.append(low)
            splits.append(np.concatenate([p[upper[:1]], lid, p[upper[-1:]]]))
        brows = p[lm.RIGHT_BROW + lm.LEFT_BROW]
        up_src.append(brows)
        up_dst.append(brows - lift * self.down)
        low = np.concatenate(low_pts)
        return _two_sided_map(
            self._eye_grid, (np.concatenate(up_src), np.concatenate(up_dst)), (low, low), np.concatenate(splits)
        )

    def quantise_eyes(self, blink: float, brow: float) -> tuple[int, int]:
        return int(round(np.clip(blink, 0, 1) * BLINK_LEVELS)), int(round(np.clip(brow, 0, 1) * BROW_LEVELS))


class _MapGrid:
    """What every map of one region shares, worked out once.

    The splines are evaluated on a coarse mesh and always pass through the same
    still anchors, so the anchors' kernel entries (among themselves and against the
    mesh) are kept: a new map only adds the moving landmarks' rows and columns. The
    join of the two sides needs each pixel's place in the face frame.
    """

    def __init__(
        self,
        region: Region,
        anchors: np.ndarray,
        centre: np.ndarray,
        half_width: float,
        across: np.ndarray,
        down: np.ndarray,
    ) -> None:
        h, w = region.shape
        gx = np.linspace(region.x0, region.x1 - 1, max(2, w // GRID_STEP_PX + 1))
        gy = np.linspace(region.y0, region.y1 - 1, max(2, h // GRID_STEP_PX + 1))
        self.size = (w, h)
        self.coarse_shape = (len(gy), len(gx))
        self.mesh = np.stack(np.meshgrid(gx, gy), -1).reshape(-1, 2)
        self.anchors = anchors
        # Any affine frame spans the same degree-1 polynomials (scipy scales its own to
        # the centres' box); one around the anchors keeps the system well conditioned.
        low, high = anchors.min(0), anchors.max(0)
        self.poly_shift, self.poly_scale = (high + low) / 2, np.maximum((high - low) / 2, 1.0)
        self.anchor_kernel = _thin_plate(anchors, anchors)
        self.mesh_kernel = _thin_plate(self.mesh, anchors)
        self.mesh_poly = self.polynomial(self.mesh)

        ys, xs = np.mgrid[region.y0 : region.y1, region.x0 : region.x1].astype(np.float64)
        self.pixels = (xs.astype(np.float32), ys.astype(np.float32))
        self.centre, self.across, self.down = centre, across, down
        self.u = (xs - centre[0]) * across[0] + (ys - centre[1]) * across[1]
        self.v = ((xs - centre[0]) * down[0] + (ys - centre[1]) * down[1]).astype(np.float32)
        softness = 0.5 + np.maximum(0.0, np.abs(self.u) - half_width) * 0.8
        self.half_inv_softness = (0.5 / softness).astype(np.float32)

    def polynomial(self, points: np.ndarray) -> np.ndarray:
        return np.column_stack([np.ones(len(points)), (points - self.poly_shift) / self.poly_scale])

    def offsets(self, src: np.ndarray, dst: np.ndarray) -> np.ndarray:
        """Thin-plate spline of (source - target) offsets through the targets and the
        still anchors, evaluated on the coarse mesh: (gy, gx, 2) float32.

        The interpolant of scipy's RBFInterpolator(kernel="thin_plate_spline",
        smoothing=SMOOTHING), through centres that round alike (to 0.01 px) counted
        once, targets before anchors.
        """
        if not np.any(src != dst):
            # A side that holds still (the lower lids) is all anchors: no offsets anywhere.
            return np.zeros((*self.coarse_shape, 2), np.float32)
        n = len(dst)
        first = _first_at_each_position(np.concatenate([dst, self.anchors]))
        moving, anchors = first[first < n], first[first >= n] - n
        dst, shift, n = dst[moving], (src - dst)[moving], len(moving)
        centres = np.concatenate([dst, self.anchors[anchors]])
        size = len(centres)
        # The saddle-point system [[K + smoothing I, P], [P^T, 0]] of a spline with a degree-1 polynomial.
        lhs = np.zeros((size + 3, size + 3))
        lhs[:n, :size] = _thin_plate(dst, centres)
        lhs[n:size, :n] = lhs[:n, n:size].T
        lhs[n:size, n:size] = self.anchor_kernel[np.ix_(anchors, anchors)]
        lhs[np.arange(size), np.arange(size)] += SMOOTHING
        lhs[:size, size:] = self.polynomial(centres)
        lhs[size:, :size] = lhs[:size, size:].T
        rhs = np.zeros((size + 3, 2))
        rhs[:n] = shift
        weights = np.linalg.solve(lhs, rhs)
        anchor_weights = np.zeros((len(self.anchors), 2))
        anchor_weights[anchors] = weights[n:size]
        coarse = self.mesh_poly @ weights[size:]
        coarse += self.mesh_kernel @ anchor_weights
        coarse += _thin_plate(self.mesh, dst) @ weights[:n]
        return coarse.reshape(*self.coarse_shape, 2).astype(np.float32)

    def join(self, up: np.ndarray, low: np.ndarray, split: np.ndarray) -> np.ndarray:
        """(h, w, 2) float32 source coordinates: the upper side's offsets above the
        split line, the lower side's below."""
        weight_up = self._weight_up(split)
        # One channel at a time: numpy is slow on the interleaved (h, w, 2) layout.
        diff = up - low
        joined = []
        for axis, pixels in enumerate(self.pixels):
            channel = cv2.resize(diff[..., axis], self.size, interpolation=cv2.INTER_LINEAR)
            channel *= weight_up
            channel += cv2.resize(low[..., axis], self.size, interpolation=cv2.INTER_LINEAR)
            channel += pixels
            joined.append(channel)
        return cv2.merge(joined)

    def _weight_up(self, split: np.ndarray) -> np.ndarray:
        """How much of each pixel comes from the upper side: a sigmoid across the split line."""
        v_split = np.interp(self.u, *_sorted_uv(split - self.centre, self.across, self.down))
        # 1 / (1 + e^z) for z = (v - v_split) / softness, as (1 - tanh(z / 2)) / 2: no overflow to clip.
        weight = np.subtract(self.v, v_split, dtype=np.float32)
        weight *= self.half_inv_softness
        np.tanh(weight, out=weight)
        weight *= -0.5
        weight += 0.5
        return weight


def _two_sided_map(
    grid: _MapGrid, upper: tuple[np.ndarray, np.ndarray], lower: tuple[np.ndarray, np.ndarray], split: np.ndarray
) -> np.ndarray:
    """(h, w, 2) float32 source coordinates for every pixel of the grid's region.

    Lips (and lids) that touch make the backward map discontinuous: above the
    meeting line pixels come from the upper lip, below it from the lower one. One
    smooth spline cannot bend that sharply, so each side gets its own spline and
    they are joined along the target split line: sharply between the corners,
    gradually beyond them so the cheeks stay smooth.
    """
    return grid.join(grid.offsets(*upper), grid.offsets(*lower), split)


def _first_at_each_position(points: np.ndarray) -> np.ndarray:
    """Indices of the points that come first at their position rounded to 0.01 px, in order."""
    keys = np.round(points, 2)
    # As one complex number a position sorts in a plain 1-D unique, several times faster than rows.
    _, first = np.unique(keys[:, 0] + 1j * keys[:, 1], return_index=True)
    return np.sort(first)


def _thin_plate(points: np.ndarray, centres: np.ndarray) -> np.ndarray:
    """The thin-plate kernel r^2 log r from every point to every centre."""
    r2 = cdist(points, centres, "sqeuclidean")
    # Worked in place: against the mesh, fresh memory for more temporaries costs more than the logs.
    kernel = np.maximum(r2, np.finfo(np.float64).tiny)  # r = 0 gives 0 * log(tiny) = 0
    np.log(kernel, out=kernel)
    kernel *= r2
    kernel *= 0.5
    return kernel


def _sorted_uv(rel: np.ndarray, across: np.ndarray, down: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    u, v = rel @ across, rel @ down
    order = np.argsort(u)
    return u[order], v[order]
