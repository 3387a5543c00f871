"""Cut the face out square and upright for a lip-sync model, and put its answer back.

The crop is a similarity transform fitted to five landmarks (eye centres, nose tip,
mouth corners) placed on fixed template points, so the face has the same size, place
and roll in every crop whatever the head does in the frame. Pasting back uses the
inverse transform under a feathered mask over the lower face only (the models also
redraw the upper half, which must not flicker), after any colour cast the model put
on the crop is taken off again, so no seam shows where the mask fades out.

The models work at 96 or 256 pixels while a 1080p face is about 370 pixels wide, so
pasting the upscaled crop as is would blur the whole lower face. Only what the model
changed is taken from it: where its output equals its input the frame's own detail
stays, where it re-drew the mouth its pixels replace the frame's.
"""

from __future__ import annotations

from functools import lru_cache

import cv2
import numpy as np

from ...face import landmarks as lm
from .tracking import similarity

# Crop-relative positions (x, y in 0..1) of the right eye centre, left eye centre, nose
# tip and mouth corners, as on a frontal face. The whole face fits with room for the
# jaw to drop; the mouth sits in the lower half, which both Wav2Lip and MuseTalk redraw.
CROP_TEMPLATE = np.array(
    [[0.33, 0.32], [0.67, 0.32], [0.50, 0.53], [0.327, 0.616], [0.673, 0.616]], np.float64
)
_RIGHT_EYE = [33, 133, 159, 145]
_LEFT_EYE = [263, 362, 386, 374]
_NOSE_TIP = 1
# The pasted region: an ellipse over mouth, chin and jaw (centre and radii as crop
# fractions), fully on inside INNER of its radius and fading to nothing at its edge,
# which stays inside the crop so the crop's own border never shows.
MASK_CENTRE = (0.5, 0.72)
MASK_RADII = (0.31, 0.26)
MASK_INNER = 0.65
# A generated pixel that differs from the model's input by about this much (0..255)
# replaces the frame's pixel; smaller changes are added to the frame's own detail.
REDRAWN_LEVEL = 14.0


def anchor_points(points: np.ndarray) -> np.ndarray:
    """The five template points of a (478, 2) landmark set."""
    return np.stack([
        points[_RIGHT_EYE].mean(0),
        points[_LEFT_EYE].mean(0),
        points[_NOSE_TIP],
        points[lm.MOUTH_CORNERS[0]],
        points[lm.MOUTH_CORNERS[1]],
    ])


def crop_transform(points: np.ndarray, crop_size: int) -> np.ndarray:
    """2x3 similarity from frame pixels to the model's square crop for this face."""
    return similarity(anchor_points(points), CROP_TEMPLATE * crop_size)


def crop_face(frame: np.ndarray, transform: np.ndarray, crop_size: int) -> np.ndarray | None:
    """The (crop_size, crop_size, 3) crop, or None when none of it is in the frame (a
    face that has left it). A face larger than the crop is blurred first in
    proportion, so shrinking it does not alias."""
    scale = float(np.hypot(transform[0, 0], transform[0, 1]))
    x0, y0, x1, y1 = _footprint(transform, (0, 0, crop_size, crop_size), frame.shape, pad=4)
    if x1 <= x0 or y1 <= y0:
        return None
    region = frame[y0:y1, x0:x1]
    if scale < 0.8:
        sigma = 0.45 * (1.0 / scale - 1.0)
        region = cv2.GaussianBlur(region, (0, 0), sigmaX=sigma)
    shifted = transform.copy()
    shifted[:, 2] += transform[:, :2] @ np.array([x0, y0], np.float64)
    return cv2.warpAffine(region, shifted, (crop_size, crop_size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


@lru_cache(maxsize=8)
def lower_face_mask(crop_size: int) -> np.ndarray:
    """(S, S) float32 weights in 0..1 over the lower face (read-only, shared)."""
    ys, xs = (np.mgrid[0:crop_size, 0:crop_size].astype(np.float32) + 0.5) / crop_size
    r = np.sqrt(((xs - MASK_CENTRE[0]) / MASK_RADII[0]) ** 2 + ((ys - MASK_CENTRE[1]) / MASK_RADII[1]) ** 2)
    t = np.clip((1.0 - r) / (1.0 - MASK_INNER), 0.0, 1.0)
    mask = (t * t * (3 - 2 * t)).astype(np.float32)
    mask.setflags(write=False)
    return mask


def match_colours(generated: np.ndarray, original: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """``generated`` with the colour cast it put on ``original`` removed: the weighted
    median, per CIELAB channel, of how each pixel changed, is taken off every pixel.

    The two crops show the same face in the same place, so pixel by pixel comparison
    finds the model's tint exactly; a median ignores the minority of pixels that
    changed because the mouth really moved (a mean, or matching the two colour
    distributions, would lighten the skin whenever the mouth opens dark)."""
    gen = cv2.cvtColor(generated.astype(np.float32) / 255.0, cv2.COLOR_RGB2LAB)
    ref = cv2.cvtColor(original.astype(np.float32) / 255.0, cv2.COLOR_RGB2LAB)
    offset = np.array([_weighted_median((gen - ref)[..., c], weights) for c in range(3)], np.float32)
    rgb = cv2.cvtColor(gen - offset, cv2.COLOR_LAB2RGB)
    return np.clip(rgb * 255.0 + 0.5, 0, 255).astype(np.uint8)


def _weighted_median(values: np.ndarray, weights: np.ndarray) -> float:
    used = weights.ravel() > 0
    flat, w = values.ravel()[used], weights.ravel()[used]
    if not len(flat):
        return 0.0
    order = np.argsort(flat)
    cumulative = np.cumsum(w[order])
    return float(flat[order][np.searchsorted(cumulative, cumulative[-1] / 2)])


def colour_weights(mask: np.ndarray) -> np.ndarray:
    """Where colours are compared: the mask's fading band, the skin a seam would
    cross."""
    return 4.0 * mask * (1.0 - mask)


def paste_face(
    frame: np.ndarray,
    transform: np.ndarray,
    original: np.ndarray,
    generated: np.ndarray,
    *,
    match_colour: bool = True,
) -> tuple[int, int, int, int]:
    """Write ``generated`` (the model's answer for the crop ``original`` cut from
    ``frame`` with ``transform``) back into ``frame`` in place, under the lower-face
    mask. Returns the rectangle (x0, y0, x1, y1) that may have changed."""
    size = original.shape[0]
    mask = lower_face_mask(size)
    if match_colour:
        generated = match_colours(generated, original, colour_weights(mask))
    # Only where the mask reaches: about a third of the crop's footprint.
    x0, y0, x1, y1 = _footprint(transform, _mask_support(size), frame.shape, pad=2)
    if x1 <= x0 or y1 <= y0:
        return x0, y0, x0, y0
    # Frame region pixel (u, v) samples the crop at transform @ (u + x0, v + y0).
    to_crop = transform.copy()
    to_crop[:, 2] += transform[:, :2] @ np.array([x0, y0], np.float64)
    dsize = (x1 - x0, y1 - y0)

    def back(image: np.ndarray) -> np.ndarray:
        return cv2.warpAffine(
            image, to_crop, dsize, flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP, borderMode=cv2.BORDER_CONSTANT, borderValue=0
        )

    alpha = back(mask)[..., None]
    gen_up = back(generated.astype(np.float32))
    change = gen_up - back(original.astype(np.float32))
    region = frame[y0:y1, x0:x1].astype(np.float32)
    amount = cv2.GaussianBlur(np.abs(change).max(-1), (0, 0), sigmaX=1.5)
    redrawn = (1.0 - np.exp(-((amount / REDRAWN_LEVEL) ** 2)))[..., None]
    # Kept detail: the frame plus the model's change; redrawn: the model's pixels.
    target = region + change + redrawn * (gen_up - region - change)
    out = region + alpha * (target - region)
    frame[y0:y1, x0:x1] = np.clip(out + 0.5, 0, 255).astype(np.uint8)
    return x0, y0, x1, y1


@lru_cache(maxsize=8)
def _mask_support(size: int) -> tuple[int, int, int, int]:
    """The crop rectangle (x0, y0, x1, y1) outside which the mask is zero."""
    ys, xs = np.nonzero(lower_face_mask(size))
    return int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1


def _footprint(transform: np.ndarray, rect: tuple[int, int, int, int], shape: tuple[int, ...], pad: int) -> tuple[int, int, int, int]:
    """Bounding box, in the frame, of a crop rectangle (clipped to the frame)."""
    inverse = cv2.invertAffineTransform(transform)
    cx0, cy0, cx1, cy1 = rect
    corners = np.array([[cx0, cy0], [cx1, cy0], [cx0, cy1], [cx1, cy1]], np.float64)
    mapped = corners @ inverse[:, :2].T + inverse[:, 2]
    height, width = shape[:2]
    x0, y0 = np.floor(mapped.min(0)).astype(int) - pad
    x1, y1 = np.ceil(mapped.max(0)).astype(int) + pad
    return max(0, int(x0)), max(0, int(y0)), min(width, int(x1)), min(height, int(y1))
