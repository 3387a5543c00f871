"""Landmark-driven warps of the mouth and eye regions.

For a set of controls (jaw opening, lip width, closure, blink) the landmarks get
target positions; a thin-plate spline through (target -> source) offsets gives a
backward map that cv2.remap applies to a small region of interest. Maps are computed
on a coarse grid, quantised by control value and cached, so a frame costs one remap
of the region, not a spline solve.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import cv2
import numpy as np
from scipy.interpolate import RBFInterpolator

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


class FaceWarper:
    """Builds (and caches) the backward maps for one face in one image."""

    def __init__(self, points: np.ndarray, image_size: tuple[int, int]) -> None:
        self.points = points.astype(np.float64)
        p = self.points
        eyes_mid = (p[lm.EYE_OUTER_CORNERS[0]] + p[lm.EYE_OUTER_CORNERS[1]]) / 2
        down = p[lm.CHIN] - eyes_mid
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
        self.mouth_map = lru_cache(maxsize=512)(self._mouth_map)
        # Painting the interior needs the same targets every frame the mouth is open.
        self.inner_lip_targets = lru_cache(maxsize=512)(self._inner_lip_targets)
        self.eye_map = lru_cache(maxsize=64)(self._eye_map)

    # --- controls -> landmark targets -------------------------------------------------

    def quantise_mouth(self, jaw_open: float, lip_width: float, lip_close: float) -> tuple[int, int]:
        jaw = 0.0 if lip_close >= 0.5 else jaw_open
        return int(round(np.clip(jaw, 0, 1.2) * JAW_LEVELS)), int(round(np.clip(lip_width, -1, 1) * WIDTH_LEVELS))

    def target_gap(self, jaw_key: int) -> float:
        return self.max_gap * jaw_key / JAW_LEVELS

    def mouth_targets(self, jaw_key: int, width_key: int) -> tuple[np.ndarray, np.ndarray]:
        """Source and target positions of the lips and jaw for these controls."""
        p = self.points
        change = self.target_gap(jaw_key) - self.source_gap
        width = width_key / WIDTH_LEVELS
        # Lips round (pull in) further than they spread: an "oo" is visibly narrower.
        corner_reach = SPREAD_REACH if width > 0 else ROUND_REACH
        # Centre of the lips moves most; the corners stay nearly put.
        def taper(indices):
            offset = (p[indices] - self.mouth_center) @ self.across
            return np.clip(1.0 - (offset / (self.mouth_width / 2)) ** 2, 0.0, 1.0)[:, None]

        groups = [
            (lm.UPPER_LIP_INNER, -UPPER_LIP_SHARE, 1.0),
            (lm.UPPER_LIP_OUTER, -UPPER_LIP_SHARE, 0.45),
            (lm.LOWER_LIP_INNER, 1 - UPPER_LIP_SHARE, 1.0),
            (lm.LOWER_LIP_OUTER, 1 - UPPER_LIP_SHARE, 0.95),
        ]
        sources, targets = [], []
        for indices, share, gain in groups:
            shift = share * change * gain * taper(indices) * self.down
            sideways = (p[indices] - self.mouth_center) @ self.across
            spread = (corner_reach * width * sideways)[:, None] * self.across
            sources.append(p[indices])
            targets.append(p[indices] + shift + spread)
        jaw = p[lm.LOWER_JAW]
        reach = np.clip(1.0 - np.abs((jaw - p[lm.CHIN]) @ self.across) / (self.mouth_width * 1.6), 0.25, 1.0)[:, None]
        sources.append(jaw)
        targets.append(jaw + (1 - UPPER_LIP_SHARE) * change * 0.85 * reach * self.down)
        corners = p[list(lm.MOUTH_CORNERS)]
        corner_drop = 0.25 * (1 - UPPER_LIP_SHARE) * change * self.down
        side = ((corners - self.mouth_center) @ self.across)[:, None] * self.across
        sources.append(corners)
        targets.append(corners + corner_drop + corner_reach * width * side)
        src, dst = np.concatenate(sources), np.concatenate(targets)
        # Drop duplicates (corners appear in several groups) keeping the last target.
        _, keep = np.unique(np.round(src, 3), axis=0, return_index=True)
        return src[keep], dst[keep]

    def _inner_lip_targets(self, jaw_key: int, width_key: int) -> tuple[np.ndarray, np.ndarray]:
        """Target inner-lip contours (upper, lower), for painting the mouth interior."""
        src, dst = self.mouth_targets(jaw_key, width_key)
        lookup = {tuple(np.round(s, 3)): d for s, d in zip(src, dst)}
        def contour(indices):
            return np.array([lookup.get(tuple(np.round(self.points[i], 3)), self.points[i]) for i in indices])
        return contour(lm.UPPER_LIP_INNER), contour(lm.LOWER_LIP_INNER)

    # --- backward maps -------------------------------------------------------------

    def _offsets(self, mesh: np.ndarray, src: np.ndarray, dst: np.ndarray, anchors: np.ndarray) -> np.ndarray:
        """Thin-plate spline of (source - target) offsets, evaluated at ``mesh`` points."""
        centers = np.concatenate([dst, anchors])
        offsets = np.concatenate([src - dst, np.zeros_like(anchors)])
        _, unique = np.unique(np.round(centers, 2), axis=0, return_index=True)
        spline = RBFInterpolator(centers[unique], offsets[unique], kernel="thin_plate_spline", smoothing=1e-3)
        return spline(mesh)

    def _two_sided_map(
        self,
        region: Region,
        upper: tuple[np.ndarray, np.ndarray],
        lower: tuple[np.ndarray, np.ndarray],
        anchors: np.ndarray,
        split: np.ndarray,
        centre: np.ndarray,
        half_width: float,
    ) -> np.ndarray:
        """(h, w, 2) float32 source coordinates for every pixel of the region.

        Lips (and lids) that touch make the backward map discontinuous: above the
        meeting line pixels come from the upper lip, below it from the lower one. One
        smooth spline cannot bend that sharply, so each side gets its own spline and
        they are joined along the target split line: sharply between the corners,
        gradually beyond them so the cheeks stay smooth.
        """
        h, w = region.shape
        gx = np.linspace(region.x0, region.x1 - 1, max(2, w // GRID_STEP_PX + 1))
        gy = np.linspace(region.y0, region.y1 - 1, max(2, h // GRID_STEP_PX + 1))
        mesh = np.stack(np.meshgrid(gx, gy), -1).reshape(-1, 2)
        coarse_up = self._offsets(mesh, *upper, anchors).reshape(len(gy), len(gx), 2).astype(np.float32)
        coarse_low = self._offsets(mesh, *lower, anchors).reshape(len(gy), len(gx), 2).astype(np.float32)
        up = cv2.resize(coarse_up, (w, h), interpolation=cv2.INTER_LINEAR)
        low = cv2.resize(coarse_low, (w, h), interpolation=cv2.INTER_LINEAR)

        ys, xs = np.mgrid[region.y0 : region.y1, region.x0 : region.x1].astype(np.float32)
        u = (xs - centre[0]) * self.across[0] + (ys - centre[1]) * self.across[1]
        v = (xs - centre[0]) * self.down[0] + (ys - centre[1]) * self.down[1]
        rel = split - centre
        su, sv = rel @ self.across, rel @ self.down
        order = np.argsort(su)
        v_split = np.interp(u, su[order], sv[order])
        softness = 0.5 + np.maximum(0.0, np.abs(u) - half_width) * 0.8
        weight_up = 1.0 / (1.0 + np.exp(np.clip((v - v_split) / softness, -30, 30)))
        offsets = up * weight_up[..., None] + low * (1 - weight_up[..., None])
        return np.dstack([xs + offsets[..., 0], ys + offsets[..., 1]]).astype(np.float32)

    def _mouth_map(self, jaw_key: int, width_key: int) -> np.ndarray:
        src, dst = self.mouth_targets(jaw_key, width_key)
        p = self.points
        is_upper = np.array([_member(s, p[lm.UPPER_LIP_INNER + lm.UPPER_LIP_OUTER]) for s in src])
        is_lower = np.array([_member(s, p[lm.LOWER_LIP_INNER + lm.LOWER_LIP_OUTER + lm.LOWER_JAW]) for s in src])
        corners = ~is_upper & ~is_lower | (is_upper & is_lower)
        up_sel, low_sel = is_upper | corners, (is_lower & ~is_upper) | corners
        upper_contour, lower_contour = self.inner_lip_targets(jaw_key, width_key)
        split = (upper_contour + lower_contour) / 2
        return self._two_sided_map(
            self.mouth_region, (src[up_sel], dst[up_sel]), (src[low_sel], dst[low_sel]),
            self._mouth_anchors, split, self.mouth_center, self.mouth_width * 0.42,
        )

    def _eye_map(self, blink_key: int, brow_key: int) -> np.ndarray:
        p = self.points
        closing = blink_key / BLINK_LEVELS
        eye_gap = np.linalg.norm(p[lm.EYE_OUTER_CORNERS[0]] - p[lm.EYE_OUTER_CORNERS[1]])
        lift = brow_key / BROW_LEVELS * 0.04 * eye_gap
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
        eyes_mid = (p[lm.EYE_OUTER_CORNERS[0]] + p[lm.EYE_OUTER_CORNERS[1]]) / 2
        return self._two_sided_map(
            self.eye_region, (np.concatenate(up_src), np.concatenate(up_dst)), (low, low),
            self._eye_anchors, np.concatenate(splits), eyes_mid, eye_gap * 0.5,
        )

    def quantise_eyes(self, blink: float, brow: float) -> tuple[int, int]:
        return int(round(np.clip(blink, 0, 1) * BLINK_LEVELS)), int(round(np.clip(brow, 0, 1) * BROW_LEVELS))


def _member(point: np.ndarray, group: np.ndarray) -> bool:
    return bool(np.any(np.all(np.abs(group - point) < 1e-3, axis=1)))


def _sorted_uv(rel: np.ndarray, across: np.ndarray, down: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    u, v = rel @ across, rel @ down
    order = np.argsort(u)
    return u[order], v[order]
