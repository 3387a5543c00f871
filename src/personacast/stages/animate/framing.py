"""Place a portrait in the output frame: face in the upper-middle, never stretched.

The "stage" is the output frame plus a small margin on every side, so head motion
never reveals an edge. When the portrait cannot cover the stage without blowing the
face up, it is shown smaller over a blurred, darkened copy of itself.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from ...face.landmarks import FaceLandmarks

FACE_WIDTH_OF_SHORT_SIDE = 0.34
FACE_CENTRE_Y = 0.40  # of the frame height: the upper-middle third for 9:16
MARGIN_OF_LONG_SIDE = 0.03
MAX_ZOOM_OVER_FACE_SIZE = 1.5


@dataclass(frozen=True)
class Stage:
    image: np.ndarray  # RGB, (frame_h + 2*margin, frame_w + 2*margin, 3)
    landmarks: FaceLandmarks  # in stage pixels
    margin_px: int
    frame_size: tuple[int, int]
    blurred_fill: bool


PUNCH_IN_ZOOM = 1.3


@dataclass(frozen=True)
class Layout:
    """Where a picture goes on the stage: scaled to ``scaled_size``, its top-left corner
    at ``offset`` in stage pixels. One layout serves every frame of a moving clip, so the
    camera stays put while the head moves in it."""

    source_size: tuple[int, int]
    scale: float
    scaled_size: tuple[int, int]
    offset: tuple[int, int]
    margin_px: int
    frame_size: tuple[int, int]
    blurred_fill: bool

    @property
    def stage_size(self) -> tuple[int, int]:
        return self.frame_size[0] + 2 * self.margin_px, self.frame_size[1] + 2 * self.margin_px

    @property
    def matrix(self) -> np.ndarray:
        """2x3 affine: source pixels -> stage pixels."""
        (src_w, src_h), (new_w, new_h), (tx, ty) = self.source_size, self.scaled_size, self.offset
        return np.array([[new_w / src_w, 0, tx], [0, new_h / src_h, ty]], dtype=np.float64)

    @property
    def frame_matrix(self) -> np.ndarray:
        """2x3 affine: source pixels -> output frame pixels (the stage without its margin)."""
        matrix = self.matrix
        matrix[:, 2] -= self.margin_px
        return matrix


def plan_layout(source_size: tuple[int, int], face: FaceLandmarks, frame_size: tuple[int, int], zoom: float = 1.0) -> Layout:
    """Scale and place a ``source_size`` picture with ``face`` in it (see compose_stage)."""
    width, height = frame_size
    margin = int(round(MARGIN_OF_LONG_SIDE * max(width, height)))
    stage_w, stage_h = width + 2 * margin, height + 2 * margin
    src_w, src_h = source_size

    face_scale = zoom * FACE_WIDTH_OF_SHORT_SIDE * min(width, height) / max(face.width_px, 1.0)
    cover_scale = max(stage_w / src_w, stage_h / src_h)
    blurred = cover_scale > MAX_ZOOM_OVER_FACE_SIZE * face_scale
    scale = MAX_ZOOM_OVER_FACE_SIZE * face_scale if blurred else max(face_scale, cover_scale)

    new_w, new_h = max(1, round(src_w * scale)), max(1, round(src_h * scale))
    x0, y0, x1, y1 = face.bbox
    face_cx, face_cy = (x0 + x1) / 2 * new_w / src_w, (y0 + y1) / 2 * new_h / src_h
    tx = stage_w / 2 - face_cx
    ty = margin + FACE_CENTRE_Y * height - face_cy
    if not blurred:
        # Keep the portrait covering the whole stage.
        tx = float(np.clip(tx, stage_w - new_w, 0))
        ty = float(np.clip(ty, stage_h - new_h, 0))
    return Layout((src_w, src_h), scale, (new_w, new_h), (int(round(tx)), int(round(ty))), margin, frame_size, blurred)


def compose_stage(
    rgb: np.ndarray, face: FaceLandmarks, frame_size: tuple[int, int], zoom: float = 1.0, background: str = "blur"
) -> Stage:
    """``zoom`` > 1 frames the face closer (a punch-in); ``background`` fills what a
    too-narrow portrait leaves: "blur", "#RRGGBB" or a picture path."""
    layout = plan_layout((rgb.shape[1], rgb.shape[0]), face, frame_size, zoom)
    canvas = empty_stage(layout, rgb, background)
    place(rgb, layout, canvas, layout.offset)
    return Stage(canvas, face.transformed(layout.matrix, layout.stage_size), layout.margin_px, frame_size, layout.blurred_fill)


def empty_stage(layout: Layout, rgb: np.ndarray, background: str, size: tuple[int, int] | None = None) -> np.ndarray:
    """What shows around the picture (``size`` defaults to the whole stage): the fill
    made from ``rgb`` when the picture cannot cover the stage, else black."""
    size = size or layout.stage_size
    return _fill(background, rgb, size) if layout.blurred_fill else np.zeros((size[1], size[0], 3), np.uint8)


def place(rgb: np.ndarray, layout: Layout, canvas: np.ndarray, offset: tuple[int, int]) -> None:
    """Scale ``rgb`` as ``layout`` says and paste it into ``canvas`` at ``offset``."""
    new_w, new_h = layout.scaled_size
    interpolation = cv2.INTER_AREA if layout.scale < 1 else cv2.INTER_LANCZOS4
    paste_clipped(canvas, cv2.resize(rgb, (new_w, new_h), interpolation=interpolation), *offset)


def _fill(background: str, rgb: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    if background == "blur":
        return _blurred_background(rgb, size)
    if background.startswith("#"):
        from PIL import ImageColor

        canvas = np.empty((size[1], size[0], 3), np.uint8)
        canvas[:] = ImageColor.getrgb(background)[:3]
        return canvas
    from pathlib import Path

    from ...media.image import cover_fit, load_rgb

    return cover_fit(load_rgb(Path(background)), size)


def _blurred_background(rgb: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    stage_w, stage_h = size
    src_h, src_w = rgb.shape[:2]
    small_w, small_h = max(8, stage_w // 8), max(8, stage_h // 8)
    scale = max(small_w / src_w, small_h / src_h)
    small = cv2.resize(rgb, (max(small_w, round(src_w * scale)), max(small_h, round(src_h * scale))), interpolation=cv2.INTER_AREA)
    ox, oy = (small.shape[1] - small_w) // 2, (small.shape[0] - small_h) // 2
    small = cv2.GaussianBlur(small[oy : oy + small_h, ox : ox + small_w], (0, 0), sigmaX=4)
    return (cv2.resize(small, (stage_w, stage_h), interpolation=cv2.INTER_LINEAR) * 0.7).astype(np.uint8)


def paste_clipped(canvas: np.ndarray, image: np.ndarray, x: int, y: int) -> None:
    """``image`` into ``canvas`` with its top-left corner at (x, y); what falls outside is dropped."""
    ch, cw = canvas.shape[:2]
    ih, iw = image.shape[:2]
    cx0, cy0, cx1, cy1 = max(0, x), max(0, y), min(cw, x + iw), min(ch, y + ih)
    if cx1 > cx0 and cy1 > cy0:
        canvas[cy0:cy1, cx0:cx1] = image[cy0 - y : cy1 - y, cx0 - x : cx1 - x]
