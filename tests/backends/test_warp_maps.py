"""The warper's backward maps against a straightforward scipy build of the same maps.

The warper keeps per-region work and solves its splines itself; the reference here
is the plain algorithm (scipy's RBFInterpolator per side, the join at full
resolution), so a drift of the fast path shows up as a difference in pixels.
"""

import cv2
import numpy as np
import pytest
from scipy.interpolate import RBFInterpolator

from personacast.face import landmarks as lm
from personacast.face import warp
from personacast.face.warp import GRID_STEP_PX, FaceWarper, Region

SIZE = (1080, 1920)
TOLERANCE_PX = 0.05


@pytest.fixture(scope="module")
def upright(portrait) -> FaceWarper:
    from personacast.settings import Settings
    from personacast.stages.animate.landmark_warp import LandmarkWarpAnimator

    return LandmarkWarpAnimator(Settings()).prepare(portrait, SIZE).warper


@pytest.fixture(scope="module")
def tilted(upright) -> FaceWarper:
    """The same face turned by 30 degrees, so the face frame is not the image's."""
    angle = np.deg2rad(30)
    turn = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    centre = upright.points.mean(0)
    return FaceWarper(((upright.points - centre) @ turn.T + centre).astype(np.float32), SIZE)


def reference_offsets(mesh, src, dst, anchors):
    centers = np.concatenate([dst, anchors])
    offsets = np.concatenate([src - dst, np.zeros_like(anchors)])
    _, unique = np.unique(np.round(centers, 2), axis=0, return_index=True)
    spline = RBFInterpolator(centers[unique], offsets[unique], kernel="thin_plate_spline", smoothing=warp.SMOOTHING)
    return spline(mesh)


def coarse_mesh(region: Region):
    h, w = region.shape
    gx = np.linspace(region.x0, region.x1 - 1, max(2, w // GRID_STEP_PX + 1))
    gy = np.linspace(region.y0, region.y1 - 1, max(2, h // GRID_STEP_PX + 1))
    return np.stack(np.meshgrid(gx, gy), -1).reshape(-1, 2), (len(gy), len(gx))


def reference_map(warper, region, upper, lower, anchors, split, centre, half_width):
    """One spline per side on the coarse mesh, joined along the split line per pixel."""
    h, w = region.shape
    mesh, coarse_shape = coarse_mesh(region)
    sides = [reference_offsets(mesh, *side, anchors).reshape(*coarse_shape, 2).astype(np.float32) for side in (upper, lower)]
    up, low = (cv2.resize(side, (w, h), interpolation=cv2.INTER_LINEAR).astype(np.float64) for side in sides)
    ys, xs = np.mgrid[region.y0 : region.y1, region.x0 : region.x1].astype(np.float64)
    u = (xs - centre[0]) * warper.across[0] + (ys - centre[1]) * warper.across[1]
    v = (xs - centre[0]) * warper.down[0] + (ys - centre[1]) * warper.down[1]
    rel = split - centre
    su, sv = rel @ warper.across, rel @ warper.down
    order = np.argsort(su)
    v_split = np.interp(u, su[order], sv[order])
    softness = 0.5 + np.maximum(0.0, np.abs(u) - half_width) * 0.8
    weight_up = (1.0 / (1.0 + np.exp(np.clip((v - v_split) / softness, -30, 30))))[..., None]
    offsets = up * weight_up + low * (1 - weight_up)
    return np.dstack([xs + offsets[..., 0], ys + offsets[..., 1]])


def reference_mouth_map(warper: FaceWarper, jaw_key: int, width_key: int) -> np.ndarray:
    src, dst = warper.mouth_targets(jaw_key, width_key)
    p = warper.points

    def member(group):
        return (np.abs(src[:, None] - p[group][None]) < 1e-3).all(-1).any(1)

    is_upper = member(lm.UPPER_LIP_INNER + lm.UPPER_LIP_OUTER)
    is_lower = member(lm.LOWER_LIP_INNER + lm.LOWER_LIP_OUTER + lm.LOWER_JAW)
    corners = ~is_upper & ~is_lower | (is_upper & is_lower)
    up, low = is_upper | corners, (is_lower & ~is_upper) | corners
    upper_contour, lower_contour = warper.inner_lip_targets(jaw_key, width_key)
    return reference_map(
        warper, warper.mouth_region, (src[up], dst[up]), (src[low], dst[low]), warper._mouth_anchors,
        (upper_contour + lower_contour) / 2, warper.mouth_center, warper.mouth_width * 0.42,
    )


@pytest.mark.parametrize("face", ["upright", "tilted"])
@pytest.mark.parametrize("jaw_key, width_key", [(0, 0), (14, -8), (28, 8)])
def test_mouth_maps_match_the_scipy_reference(request, face, jaw_key, width_key):
    warper = request.getfixturevalue(face)
    built = warper.mouth_map(jaw_key, width_key)
    assert built.dtype == np.float32 and built.shape == (*warper.mouth_region.shape, 2)
    assert np.abs(built - reference_mouth_map(warper, jaw_key, width_key)).max() < TOLERANCE_PX


@pytest.mark.parametrize("face", ["upright", "tilted"])
@pytest.mark.parametrize("blink_key, brow_key", [(0, 0), (6, 2), (10, 4)])
def test_eye_maps_match_the_scipy_reference(request, monkeypatch, face, blink_key, brow_key):
    warper = request.getfixturevalue(face)
    # The lid targets are worked out inside the warper: take the ones it hands to the splines.
    seen = []
    build = warp._two_sided_map
    monkeypatch.setattr(warp, "_two_sided_map", lambda grid, *sides: seen.append(sides) or build(grid, *sides))
    built = warper.build_eye_map(blink_key, brow_key)
    assert built.dtype == np.float32 and built.shape == (*warper.eye_region.shape, 2)
    [(upper, lower, split)] = seen
    expected = reference_map(
        warper, warper.eye_region, upper, lower, warper._eye_anchors, split, warper.eyes_mid, warper.eye_gap * 0.5
    )
    assert np.abs(built - expected).max() < TOLERANCE_PX


def test_targets_on_anchors_and_on_each_other_count_once_as_in_scipy(upright):
    """Centres that round alike (to 0.01 px) are one centre, the target winning over an anchor."""
    grid = upright._mouth_grid
    anchors = upright._mouth_anchors
    region = upright.mouth_region
    dst = np.array([
        anchors[-1] + 0.001,  # on a border anchor
        [region.x0 + 40.0, region.y0 + 50.0],
        [region.x0 + 40.002, region.y0 + 50.001],  # on the target before
        [region.x0 + 120.0, region.y0 + 90.0],
    ])
    src = dst + np.array([[0.5, -1.0], [2.0, 3.0], [-4.0, 1.0], [1.5, -2.5]])
    mesh, coarse_shape = coarse_mesh(region)
    expected = reference_offsets(mesh, src, dst, anchors).reshape(*coarse_shape, 2)
    assert np.abs(grid.offsets(src, dst) - expected).max() < 1e-3
