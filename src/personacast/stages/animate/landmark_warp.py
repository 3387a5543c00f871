"""The default CPU animator: a still portrait made to talk by warping its landmarks.

Per frame only small regions change: mouth+jaw and eyes+brows are re-mapped from
cached maps, the mouth interior is painted, and the head moves inside a feathered
region around it while the rest of the frame stays exactly still. A still background
is what keeps x264 fast: a whole-frame motion made every macroblock expensive
(~14 ms a frame against ~6 ms for a still one, measured on 2 cores).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from ...face import landmarks as lm
from ...face.landmarks import FaceLandmarks, FaceMeshDetector
from ...face.mouth_interior import MouthInterior
from ...face.warp import FaceWarper, Region
from ...media.canvas import FramePatch
from ...media.image import load_rgb
from ...settings import Settings
from ..perform.performance import Performance
from .framing import Stage, compose_stage

# The interior fades in over this much extra opening (in mouth widths).
INTERIOR_FADE_PER_MOUTH_WIDTH = 0.12
# Share of the head region, at each edge, over which head motion fades to none.
HEAD_FEATHER = 0.25
HEAD_GRID_STEP = 16


@dataclass
class PreparedPortrait:
    image_path: Path
    stage: Stage
    warper: FaceWarper
    interior: MouthInterior
    warnings: list[str] = field(default_factory=list)

    @property
    def still(self) -> np.ndarray:
        """The portrait as framed, at rest: the frame-sized middle of the stage."""
        margin = self.stage.margin_px
        width, height = self.stage.frame_size
        return self.stage.image[margin : margin + height, margin : margin + width]


@dataclass(frozen=True)
class ScenePlan:
    portrait: PreparedPortrait
    start_frame: int
    end_frame: int


class LandmarkWarpAnimator:
    name = "landmark_warp"

    def __init__(self, settings: Settings) -> None:
        self._min_face_px = settings.min_face_width_px
        # The landmarks do not depend on the frame size: one detection per image serves
        # every format of a multi-format render.
        self._detected: dict[Path, tuple[np.ndarray, FaceLandmarks]] = {}

    def prepare(
        self, image_path: Path, frame_size: tuple[int, int], zoom: float = 1.0, background: str = "blur"
    ) -> PreparedPortrait:
        """Load, find the face and lay out the stage; fails fast on bad portraits."""
        rgb, face = self._detect(Path(image_path))
        warnings = []
        if face.faces_found > 1:
            warnings.append(f"{Path(image_path).name}: {face.faces_found} faces found; animating the largest")
        stage = compose_stage(rgb, face, frame_size, zoom, background)
        warper = FaceWarper(stage.landmarks.points, (stage.image.shape[1], stage.image.shape[0]))
        points = stage.landmarks.points
        interior = MouthInterior(
            stage.image, points[lm.UPPER_LIP_INNER], points[lm.LOWER_LIP_INNER], warper.down, warper.across, warper.mouth_width
        )
        return PreparedPortrait(Path(image_path), stage, warper, interior, warnings)

    def _detect(self, image_path: Path) -> tuple[np.ndarray, FaceLandmarks]:
        if image_path not in self._detected:
            rgb = load_rgb(image_path)
            with FaceMeshDetector() as detector:
                face = detector.detect(rgb, min_face_width_px=self._min_face_px, name=image_path.name)
            self._detected[image_path] = (rgb, face)
        return self._detected[image_path]

    def frames(self, scenes: list[ScenePlan], performance: Performance) -> Iterator[FramePatch]:
        for plan in scenes:
            yield from self._scene_frames(plan, performance)

    def _scene_frames(self, plan: ScenePlan, perf: Performance) -> Iterator[FramePatch]:
        stage, warper = plan.portrait.stage, plan.portrait.warper
        source = stage.image
        working = source.copy()
        width, height = stage.frame_size
        margin = stage.margin_px
        still = np.ascontiguousarray(source[margin : margin + height, margin : margin + width])
        face_w = stage.landmarks.width_px
        pivot = stage.landmarks.points[152] + warper.down * face_w * 0.35  # roughly the neck
        head = _head_region(stage.landmarks.bbox, margin, (width, height))
        head_h, head_w = head.shape
        # The head's displacement is smooth, so it is computed on a coarse grid and
        # upsampled: a full-resolution map cost more than the remap itself.
        coarse_w, coarse_h = max(2, head_w // HEAD_GRID_STEP), max(2, head_h // HEAD_GRID_STEP)
        cys, cxs = np.meshgrid(np.linspace(head.y0, head.y1 - 1, coarse_h), np.linspace(head.x0, head.x1 - 1, coarse_w), indexing="ij")
        cxs, cys = cxs.astype(np.float32), cys.astype(np.float32)
        weight = _feather((coarse_h, coarse_w), HEAD_FEATHER)
        shift = np.empty((coarse_h, coarse_w, 2), np.float32)
        ys, xs = np.mgrid[head.y0 : head.y1, head.x0 : head.x1].astype(np.float32)
        still_map = np.dstack([xs + margin, ys + margin])
        head_map = np.empty_like(still_map)
        mouth_rows, mouth_cols = warper.mouth_region.slices()
        eye_rows, eye_cols = warper.eye_region.slices()
        fade = INTERIOR_FADE_PER_MOUTH_WIDTH * warper.mouth_width
        for i in range(plan.start_frame, plan.end_frame):
            jaw_key, width_key = warper.quantise_mouth(perf.jaw_open[i], perf.lip_width[i], perf.lip_close[i])
            mouth_map = warper.mouth_map(jaw_key, width_key)
            patch = cv2.remap(source, mouth_map, None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
            gap = warper.target_gap(jaw_key)
            strength = float(np.clip((gap - 0.85 * warper.source_gap) / fade, 0.0, 1.0)) if gap > 1.5 else 0.0
            if strength > 0:
                upper, lower = warper.inner_lip_targets(jaw_key, width_key)
                region = warper.mouth_region
                plan.portrait.interior.paint(patch, (region.x0, region.y0), upper, lower, strength)
            working[mouth_rows, mouth_cols] = patch

            eye_map = warper.eye_map(*warper.quantise_eyes(perf.blink[i], perf.brow_raise[i]))
            working[eye_rows, eye_cols] = cv2.remap(source, eye_map, None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)

            # Frame pixel p shows stage point p + margin when still and inv(p) when the head
            # has moved; the feather blends the two so the motion fades out to the edge.
            inv = cv2.invertAffineTransform(_head_matrix(perf, i, pivot, face_w, margin))
            shift[..., 0] = weight * ((inv[0, 0] - 1) * cxs + inv[0, 1] * cys + (inv[0, 2] - margin))
            shift[..., 1] = weight * (inv[1, 0] * cxs + (inv[1, 1] - 1) * cys + (inv[1, 2] - margin))
            cv2.resize(shift, (head_w, head_h), dst=head_map, interpolation=cv2.INTER_LINEAR)
            cv2.add(head_map, still_map, dst=head_map)
            patch = cv2.remap(working, head_map, None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
            yield FramePatch(still, patch, head.x0, head.y0)


def _head_region(face_bbox: tuple[float, float, float, float], margin: int, size: tuple[int, int]) -> Region:
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


def _feather(shape: tuple[int, int], fraction: float) -> np.ndarray:
    """1 in the middle, easing to 0 at every edge over ``fraction`` of the size."""
    h, w = shape

    def ramp(n: int) -> np.ndarray:
        edge = np.minimum(np.arange(n), np.arange(n)[::-1]) / max(1.0, fraction * n)
        t = np.clip(edge, 0.0, 1.0)
        return (t * t * (3 - 2 * t)).astype(np.float32)

    return np.outer(ramp(h), ramp(w))


def _head_matrix(perf: Performance, i: int, pivot: np.ndarray, face_w: float, margin: int) -> np.ndarray:
    """Stage -> frame: roll about the neck, nods and turns as small shifts."""
    angle = float(perf.head_roll_deg[i])
    dx = (float(perf.head_dx[i]) + math.sin(math.radians(float(perf.head_yaw_deg[i]))) * 0.5) * face_w
    dy = (float(perf.head_dy[i]) + math.sin(math.radians(float(perf.head_pitch_deg[i]))) * 0.5) * face_w
    matrix = cv2.getRotationMatrix2D((float(pivot[0]), float(pivot[1])), angle, 1.0 + float(perf.head_pitch_deg[i]) * 0.001)
    matrix[0, 2] += dx - margin
    matrix[1, 2] += dy - margin
    return matrix
