"""The default CPU animator: a still portrait made to talk by warping its landmarks.

Per frame only two small regions (mouth+jaw, eyes+brows) are re-mapped from cached
maps, the mouth interior is painted, and one affine warp applies the head motion.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from ...face.landmarks import FaceMeshDetector
from ...face.mouth_interior import paint_interior
from ...face.warp import FaceWarper
from ...media.image import load_rgb
from ...settings import Settings
from ..perform.performance import Performance
from .framing import Stage, compose_stage

# The interior fades in over this much extra opening (in mouth widths).
INTERIOR_FADE_PER_MOUTH_WIDTH = 0.12


@dataclass
class PreparedPortrait:
    image_path: Path
    stage: Stage
    warper: FaceWarper
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ScenePlan:
    portrait: PreparedPortrait
    start_frame: int
    end_frame: int


class LandmarkWarpAnimator:
    name = "landmark_warp"

    def __init__(self, settings: Settings) -> None:
        self._min_face_px = settings.min_face_width_px

    def prepare(self, image_path: Path, frame_size: tuple[int, int]) -> PreparedPortrait:
        """Load, find the face and lay out the stage; fails fast on bad portraits."""
        rgb = load_rgb(image_path)
        with FaceMeshDetector() as detector:
            face = detector.detect(rgb, min_face_width_px=self._min_face_px, name=Path(image_path).name)
        warnings = []
        if face.faces_found > 1:
            warnings.append(f"{Path(image_path).name}: {face.faces_found} faces found; animating the largest")
        stage = compose_stage(rgb, face, frame_size)
        warper = FaceWarper(stage.landmarks.points, (stage.image.shape[1], stage.image.shape[0]))
        return PreparedPortrait(Path(image_path), stage, warper, warnings)

    def frames(self, scenes: list[ScenePlan], performance: Performance) -> Iterator[np.ndarray]:
        for plan in scenes:
            yield from self._scene_frames(plan, performance)

    def _scene_frames(self, plan: ScenePlan, perf: Performance) -> Iterator[np.ndarray]:
        stage, warper = plan.portrait.stage, plan.portrait.warper
        source = stage.image
        working = source.copy()
        width, height = stage.frame_size
        face_w = stage.landmarks.width_px
        pivot = stage.landmarks.points[152] + warper.down * face_w * 0.35  # roughly the neck
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
                paint_interior(patch, (region.x0, region.y0), upper, lower, warper.down, warper.across, warper.mouth_width, strength)
            working[mouth_rows, mouth_cols] = patch

            eye_map = warper.eye_map(*warper.quantise_eyes(perf.blink[i], perf.brow_raise[i]))
            working[eye_rows, eye_cols] = cv2.remap(source, eye_map, None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)

            matrix = _head_matrix(perf, i, pivot, face_w, stage.margin_px)
            yield cv2.warpAffine(working, matrix, (width, height), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT101)


def _head_matrix(perf: Performance, i: int, pivot: np.ndarray, face_w: float, margin: int) -> np.ndarray:
    """Stage -> frame: roll about the neck, nods and turns as small shifts."""
    angle = float(perf.head_roll_deg[i])
    dx = (float(perf.head_dx[i]) + math.sin(math.radians(float(perf.head_yaw_deg[i]))) * 0.5) * face_w
    dy = (float(perf.head_dy[i]) + math.sin(math.radians(float(perf.head_pitch_deg[i]))) * 0.5) * face_w
    matrix = cv2.getRotationMatrix2D((float(pivot[0]), float(pivot[1])), angle, 1.0 + float(perf.head_pitch_deg[i]) * 0.001)
    matrix[0, 2] += dx - margin
    matrix[1, 2] += dy - margin
    return matrix
