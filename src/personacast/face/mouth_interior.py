"""Paint a believable mouth interior between the (warped) inner lips.

When the portrait shows its teeth, those real teeth are reused: the part above the
source mouth's midline travels with the upper lip, the part below with the lower lip,
and a shaded cavity opens between them. Otherwise the teeth are painted, upper ones
hanging from the upper lip and lower ones riding on the lower lip, with a tongue hint
when the jaw is open wide. Coordinates follow the face's own axes, so a tilted head
works too.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

CAVITY_RGB = np.array([78, 30, 32], dtype=np.float32)
TEETH_RGB = np.array([214, 206, 192], dtype=np.float32)
TONGUE_RGB = np.array([160, 72, 78], dtype=np.float32)
# Share of the source interior that must look like teeth (bright, unsaturated) before
# the portrait's own teeth are reused.
TEETH_SHARE = 0.3
MIN_SOURCE_GAP_PER_MOUTH_WIDTH = 0.05
UPPER_TEETH_SHARE = 0.62


@dataclass(frozen=True)
class _TeethPart:
    rgba: np.ndarray  # float32, alpha in 0..1
    x0: float
    y0: float
    anchor: np.ndarray  # source inner-lip centre point the part moves with


class MouthInterior:
    """The interior painter for one portrait (built once, used every open-mouth frame)."""

    def __init__(
        self,
        image: np.ndarray,
        upper: np.ndarray,
        lower: np.ndarray,
        down: np.ndarray,
        across: np.ndarray,
        mouth_width: float,
    ) -> None:
        self.down = down.astype(np.float32)
        self.across = across.astype(np.float32)
        self.mouth_width = mouth_width
        self.teeth = _cut_source_teeth(image, upper, lower, self.down, self.across, mouth_width)

    @property
    def uses_source_teeth(self) -> bool:
        return self.teeth is not None

    def paint(self, patch: np.ndarray, origin: tuple[int, int], upper: np.ndarray, lower: np.ndarray, strength: float) -> None:
        """Blend the interior for target inner-lip contours into ``patch`` (RGB uint8, in place)."""
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
        rel_x, rel_y = xs + ox - centre[0], ys + oy - centre[1]
        u = rel_x * self.across[0] + rel_y * self.across[1]
        v = rel_x * self.down[0] + rel_y * self.down[1]
        upper_uv = _profile(upper - centre, self.across, self.down)
        lower_uv = _profile(lower - centre, self.across, self.down)
        v_top = np.interp(u, *upper_uv)
        v_bottom = np.interp(u, *lower_uv)
        half_width = self.mouth_width / 2
        centre_gap = float(np.interp(0.0, *lower_uv) - np.interp(0.0, *upper_uv))

        layer = self._cavity(u, v, v_top, v_bottom, half_width)
        if centre_gap > 0.2 * self.mouth_width:
            layer = self._tongue(layer, u, v_bottom - v, half_width, centre_gap)
        if self.teeth is not None:
            frame_origin = (ox + x0, oy + y0)
            moved = {"upper": upper[len(upper) // 2], "lower": lower[len(lower) // 2]}
            for name, part in self.teeth.items():
                rgba = _placed(part, moved[name] - part.anchor, frame_origin, mask.shape)
                alpha = rgba[..., 3:4]
                layer = layer * (1 - alpha) + rgba[..., :3] * alpha
        else:
            layer = self._painted_teeth(layer, u, v, v_top, v_bottom, half_width, centre_gap)

        # Soft edges: the lips overlap the interior rather than meeting it at a cut line.
        alpha = (cv2.GaussianBlur(mask, (5, 5), 0).astype(np.float32) / 255.0 * strength)[..., None]
        layer = cv2.GaussianBlur(layer, (3, 3), 0)
        region = patch[y0:y1, x0:x1]
        region[:] = np.clip(region * (1 - alpha) + layer * alpha, 0, 255).astype(np.uint8)

    def _cavity(self, u, v, v_top, v_bottom, half_width) -> np.ndarray:
        # Darkest at the back and the corners, a little light from above on the tongue.
        gap = np.maximum(v_bottom - v_top, 1e-3)
        depth = np.clip((v - v_top) / gap, 0, 1)
        across = np.clip(1 - np.abs(u) / half_width, 0, 1)
        shade = (0.45 + 0.55 * np.sqrt(across)) * (0.85 + 0.3 * np.abs(depth - 0.45))
        return CAVITY_RGB * shade[..., None]

    def _painted_teeth(self, layer, u, v, v_top, v_bottom, half_width, centre_gap) -> np.ndarray:
        front = np.clip(1 - (np.abs(u) / (half_width * 0.7)) ** 4, 0, 1)
        # Soft, faint lines between the teeth keep the band from reading as a flat strip.
        tooth = self.mouth_width / 8
        offset = np.abs(u / tooth - np.round(u / tooth)) * tooth
        separations = 1 - 0.12 * np.exp(-((offset / 1.2) ** 2))
        band = min(0.12 * self.mouth_width, 0.4 * centre_gap)
        below_lip = v - v_top
        # Each tooth's edge is slightly rounded, so the band's lower edge scallops a little.
        edge = band * (1 - 0.08 * (offset / (tooth / 2)) ** 2)
        upper_alpha = np.clip((edge - below_lip) / 1.5, 0, 1) * front
        # Shadowed right under the lip, lit lower down, darker towards the corners.
        shade = (0.78 + 0.22 * np.clip(below_lip / max(band, 1.0), 0, 1)) * separations * (0.75 + 0.25 * front)
        layer = layer * (1 - upper_alpha[..., None]) + (TEETH_RGB * shade[..., None]) * upper_alpha[..., None]
        if centre_gap > 0.3 * self.mouth_width:
            above_lip = v_bottom - v
            lower_alpha = np.clip((0.04 * self.mouth_width - above_lip) / 1.5, 0, 1) * front**2 * 0.6
            lower_rgb = TEETH_RGB * (0.75 * separations)[..., None]
            layer = layer * (1 - lower_alpha[..., None]) + lower_rgb * lower_alpha[..., None]
        return layer

    def _tongue(self, layer, u, above_lip, half_width, centre_gap) -> np.ndarray:
        # A dim rounded hump behind the lower lip: seen, not noticed.
        tongue = np.clip(1 - (u / (half_width * 0.6)) ** 2 - (above_lip / (0.35 * centre_gap)) ** 2, 0, 1)
        alpha = (np.sqrt(tongue) * 0.7)[..., None]
        return layer * (1 - alpha) + TONGUE_RGB * (0.55 + 0.35 * tongue)[..., None] * alpha


def _cut_source_teeth(image, upper, lower, down, across, mouth_width) -> dict[str, _TeethPart] | None:
    """The portrait's own teeth, split at the mouth's midline, or None if it shows none."""
    gap = float(np.linalg.norm(lower[len(lower) // 2] - upper[len(upper) // 2]))
    if gap < MIN_SOURCE_GAP_PER_MOUTH_WIDTH * mouth_width:
        return None
    polygon = np.concatenate([upper, lower[::-1]])
    x0, y0 = np.floor(polygon.min(0)).astype(int) - 1
    x1, y1 = np.ceil(polygon.max(0)).astype(int) + 2
    h, w = image.shape[:2]
    x0, y0, x1, y1 = max(0, x0), max(0, y0), min(w, x1), min(h, y1)
    mask = np.zeros((y1 - y0, x1 - x0), np.uint8)
    cv2.fillPoly(mask, [np.round((polygon - (x0, y0)) * 16).astype(np.int32)], 255, lineType=cv2.LINE_AA, shift=4)
    # Keep off the lips themselves: their colour would otherwise ride along as teeth.
    inner = cv2.erode(mask, np.ones((3, 3), np.uint8))
    crop = image[y0:y1, x0:x1]
    hsv = cv2.cvtColor(crop, cv2.COLOR_RGB2HSV)
    inside = inner > 128
    if inside.sum() < 20:
        return None
    toothlike = (hsv[..., 2] > 150) & (hsv[..., 1] < 90)
    if toothlike[inside].mean() < TEETH_SHARE:
        return None

    centre = (upper[len(upper) // 2] + lower[len(lower) // 2]) / 2
    ys, xs = np.mgrid[y0:y1, x0:x1].astype(np.float32)
    u = (xs - centre[0]) * across[0] + (ys - centre[1]) * across[1]
    v = (xs - centre[0]) * down[0] + (ys - centre[1]) * down[1]
    top = np.interp(u, *_profile(upper - centre, across, down))
    bottom = np.interp(u, *_profile(lower - centre, across, down))
    # Upper incisors show more than lower ones in a smile, so the rows part below the middle.
    split = top + UPPER_TEETH_SHARE * (bottom - top)
    # A soft seam a couple of pixels wide, so the halves part without a hard edge.
    upper_share = np.clip((split - v) / 2.0 + 0.5, 0, 1)
    alpha = cv2.GaussianBlur(inner, (3, 3), 0).astype(np.float32) / 255.0
    rgb = crop.astype(np.float32)
    parts = {}
    for name, share, anchor in (("upper", upper_share, upper[len(upper) // 2]), ("lower", 1 - upper_share, lower[len(lower) // 2])):
        rgba = np.dstack([rgb, alpha * share]).astype(np.float32)
        parts[name] = _TeethPart(rgba, float(x0), float(y0), np.asarray(anchor, np.float64))
    return parts


def _placed(part: _TeethPart, shift: np.ndarray, origin: tuple[int, int], shape: tuple[int, int]) -> np.ndarray:
    """The part moved by ``shift`` (sub-pixel), on a canvas of ``shape`` at ``origin``."""
    dx = part.x0 + float(shift[0]) - origin[0]
    dy = part.y0 + float(shift[1]) - origin[1]
    matrix = np.float32([[1, 0, dx], [0, 1, dy]])
    return cv2.warpAffine(part.rgba, matrix, (shape[1], shape[0]), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0)


def _profile(contour: np.ndarray, across: np.ndarray, down: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    u = contour @ across
    v = contour @ down
    order = np.argsort(u)
    return u[order], v[order]
