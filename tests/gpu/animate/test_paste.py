"""Cropping the face for a lip-sync model and pasting its answer back."""

import cv2
import numpy as np
import pytest

from personacast.stages.lipsync.paste import (
    CROP_TEMPLATE, anchor_points, crop_face, crop_transform, lower_face_mask, paste_face,
)


def rotated(rgb, points, degrees):
    h, w = rgb.shape[:2]
    matrix = cv2.getRotationMatrix2D((w / 2, h / 2), degrees, 1.0)
    return cv2.warpAffine(rgb, matrix, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT), points @ matrix[:, :2].T + matrix[:, 2]


def footprint_alpha(transform, size, shape):
    """The mask as it lands in the frame (what paste_face blends with)."""
    return cv2.warpAffine(lower_face_mask(size), transform, (shape[1], shape[0]), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP)


@pytest.mark.parametrize("size", [96, 256])
def test_the_crop_is_upright_and_the_same_whatever_the_head_does(astronaut, still_face, size):
    transform = crop_transform(still_face, size)
    placed = anchor_points(still_face) @ transform[:, :2].T + transform[:, 2]
    assert np.abs(placed - CROP_TEMPLATE * size).max() < 0.04 * size  # five points, least squares
    upright = crop_face(astronaut, transform, size)
    frame, points = rotated(astronaut, still_face, 15)
    turned = crop_face(frame, crop_transform(points, size), size)
    assert upright.shape == (size, size, 3) and upright.dtype == np.uint8
    inner = slice(size // 8, -size // 8)
    assert np.abs(turned[inner, inner].astype(int) - upright[inner, inner]).mean() < 4
    # For scale: the same crop box, not turned with the head, shows a different picture.
    stale = crop_face(frame, transform, size)
    assert np.abs(stale[inner, inner].astype(int) - upright[inner, inner]).mean() > 15


@pytest.mark.parametrize("size", [96, 256])
def test_pasting_back_an_unchanged_crop_leaves_the_frame_unchanged(astronaut, still_face, size):
    transform = crop_transform(still_face, size)
    crop = crop_face(astronaut, transform, size)
    frame = astronaut.copy()
    paste_face(frame, transform, crop, crop.copy())
    assert np.abs(frame.astype(int) - astronaut).max() <= 1  # rounding of the colour match only


def test_only_pixels_under_the_feathered_mask_change(astronaut, still_face):
    size = 96
    transform = crop_transform(still_face, size)
    crop = crop_face(astronaut, transform, size)
    noise = np.random.default_rng(0).integers(0, 256, crop.shape, dtype=np.uint8)
    frame = astronaut.copy()
    x0, y0, x1, y1 = paste_face(frame, transform, crop, noise, match_colour=False)
    changed = np.abs(frame.astype(int) - astronaut).max(-1) > 0
    outside = np.ones(changed.shape, bool)
    outside[y0:y1, x0:x1] = False
    assert not changed[outside].any()
    alpha = footprint_alpha(transform, size, astronaut.shape)
    assert not changed[alpha == 0].any()
    assert changed[alpha > 0.5].mean() > 0.95
    # The mask covers the mouth and chin, not the eyes.
    eyes, mouth = anchor_points(still_face)[:2].mean(0), still_face[[13, 14]].mean(0)
    assert alpha[int(eyes[1]), int(eyes[0])] == 0 and alpha[int(mouth[1]), int(mouth[0])] == 1
    # And it fades: no hard edge for a seam.
    assert ((alpha > 0.05) & (alpha < 0.95)).sum() > 0.3 * (alpha > 0).sum()


def test_colour_matching_takes_the_models_tint_off_and_keeps_the_new_mouth(astronaut, still_face):
    size = 96
    transform = crop_transform(still_face, size)
    crop = crop_face(astronaut, transform, size)
    drawn = crop.copy()
    cv2.ellipse(drawn, (48, 59), (15, 8), 0, 0, 360, (40, 12, 16), -1)  # an open mouth
    tinted = np.clip(drawn.astype(int) + (28, 6, -18), 0, 255).astype(np.uint8)  # and a colour cast
    results = {}
    for name, generated, match in (("true", drawn, False), ("cast", tinted, False), ("matched", tinted, True)):
        frame = astronaut.copy()
        paste_face(frame, transform, crop, generated, match_colour=match)
        results[name] = frame
    alpha = footprint_alpha(transform, size, astronaut.shape)
    # The fading band, where a seam would show, without the new mouth: skin.
    skin = (alpha > 0.2) & (alpha < 0.9) & (results["true"] == astronaut).all(-1)
    assert skin.sum() > 500
    wanted = results["true"][skin].mean(0)
    cast = np.abs(results["cast"][skin].mean(0) - wanted).sum()
    matched = np.abs(results["matched"][skin].mean(0) - wanted).sum()
    assert cast > 15 and matched < 0.2 * cast
    mouth_at = (np.array([48, 59, 1.0]) @ cv2.invertAffineTransform(transform).T).astype(int)
    for frame in results.values():
        assert frame[mouth_at[1], mouth_at[0]].max() < 90  # the drawn mouth is there, dark
