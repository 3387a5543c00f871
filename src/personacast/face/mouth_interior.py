"""Paint a believable mouth interior between the (warped) inner lips.

Upper teeth hang from the upper lip, lower teeth ride on the lower lip, a shaded
dark cavity sits between them and a tongue hint shows when the jaw is open wide.
Coordinates are measured along the face's own axes, so a tilted head works too.
"""

from __future__ import annotations

import cv2
import numpy as np

CAVITY_RGB = np.array([58, 20, 24], dtype=np.float32)
TEETH_RGB = np.array([206, 199, 188], dtype=np.float32)
TONGUE_RGB = np.array([168, 70, 76], dtype=np.float32)


def paint_interior(
    patch: np.ndarray,
    origin: tuple[int, int],
    upper: np.ndarray,
    lower: np.ndarray,
    down: np.ndarray,
    across: np.ndarray,
    mouth_width: float,
    strength: float,
) -> None:
    """Blend the interior into ``patch`` (RGB uint8, modified in place)."""
    if strength <= 0.01:
        return
    ox, oy = origin
    polygon = np.concatenate([upper, lower[::-1]]) - (ox, oy)
    x0, y0 = np.floor(polygon.min(0)).astype(int) - 1
    x1, y1 = np.ceil(polygon.max(0)).astype(int) + 2
    h, w = patch.shape[:2]
    x0, y0, x1, y1 = max(0, x0), max(0, y0), min(w, x1), min(h, y1)
    if x1 - x0 < 2 or y1 - y0 < 2:
        return
    mask = np.zeros((y1 - y0, x1 - x0), dtype=np.uint8)
    cv2.fillPoly(mask, [np.round((polygon - (x0, y0)) * 16).astype(np.int32)], 255, lineType=cv2.LINE_AA, shift=4)
    if not mask.any():
        return

    centre = (upper[len(upper) // 2] + lower[len(lower) // 2]) / 2
    ys, xs = np.mgrid[y0:y1, x0:x1].astype(np.float32)
    rel = np.stack([xs + ox - centre[0], ys + oy - centre[1]], -1)
    u = rel @ across.astype(np.float32)
    v = rel @ down.astype(np.float32)
    upper_uv = _profile(upper - centre, across, down)
    lower_uv = _profile(lower - centre, across, down)
    v_top = np.interp(u, *upper_uv)
    v_bottom = np.interp(u, *lower_uv)
    gap = np.maximum(v_bottom - v_top, 1e-3)
    depth = (v - v_top) / gap  # 0 at the upper lip, 1 at the lower lip
    half_width = mouth_width / 2

    # Darker towards the back and the corners.
    shade = 0.55 + 0.45 * np.clip(1 - np.abs(u) / half_width, 0, 1)
    layer = CAVITY_RGB * shade[..., None] * (0.8 + 0.4 * np.abs(depth - 0.5))[..., None]

    centre_gap = float(np.interp(0.0, *lower_uv) - np.interp(0.0, *upper_uv))
    front = np.clip(1 - (np.abs(u) / (half_width * 0.72)) ** 4, 0, 1)
    upper_teeth = (v - v_top) < min(0.13 * mouth_width, 0.42 * centre_gap)
    tooth_shade = (0.78 + 0.22 * front)[..., None] * (0.9 + 0.1 * np.clip((v - v_top) / 6, 0, 1))[..., None]
    teeth_alpha = (upper_teeth * front)[..., None]
    layer = layer * (1 - teeth_alpha) + TEETH_RGB * tooth_shade * teeth_alpha
    if centre_gap > 0.3 * mouth_width:
        lower_teeth = (v_bottom - v) < 0.05 * mouth_width
        lt_alpha = (lower_teeth * front * 0.85)[..., None]
        layer = layer * (1 - lt_alpha) + TEETH_RGB * 0.85 * lt_alpha
        tongue = ((u / (half_width * 0.55)) ** 2 + ((v_bottom - v) / (0.32 * centre_gap)) ** 2) < 1
        tg_alpha = (tongue * ~lower_teeth * 0.8)[..., None]
        layer = layer * (1 - tg_alpha) + TONGUE_RGB * tg_alpha

    alpha = (cv2.GaussianBlur(mask, (3, 3), 0).astype(np.float32) / 255.0 * strength)[..., None]
    region = patch[y0:y1, x0:x1]
    region[:] = (region * (1 - alpha) + layer * alpha).astype(np.uint8)


def _profile(contour: np.ndarray, across: np.ndarray, down: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    u = contour @ across
    v = contour @ down
    order = np.argsort(u)
    return u[order], v[order]
