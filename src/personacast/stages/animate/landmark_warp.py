"""The default CPU animator: a portrait made to talk by warping its landmarks.

Per frame only small regions change: mouth+jaw and eyes+brows are pasted from
patches drawn once per quantised shape (warped, mouth interior painted), and the
head moves inside a feathered region around them while the rest of the frame stays
exactly still. A still background
is what keeps x264 fast: a whole-frame motion made every macroblock expensive
(~14 ms a frame against ~6 ms for a still one, measured on 2 cores).

A video given as the portrait (a moving clip) is tracked frame by frame instead; the
maps made for its first frame are carried along with the head (see moving.py), and
every frame is a whole new picture.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from ...face import landmarks as lm
from ...face.landmarks import FaceLandmarks, FaceMeshDetector
from ...face.mouth_interior import MouthInterior
from ...face.warp import FaceWarper
from ...media.canvas import FramePatch
from ...media.image import load_rgb
from ...settings import Settings
from ..perform.performance import Performance
from .framing import Stage, compose_stage
from .head_motion import HeadMotion
from .moving import MovingStage, TrackedClip, carried_map, is_video, lay_out, read_clip, track_clip

# The interior fades in over this much extra opening (in mouth widths).
INTERIOR_FADE_PER_MOUTH_WIDTH = 0.12


@dataclass
class PreparedPortrait:
    image_path: Path
    stage: Stage
    warper: FaceWarper
    interior: MouthInterior
    warnings: list[str] = field(default_factory=list)
    # A still portrait's mouth (or eyes) look the same every time a quantised shape
    # comes back, so each shape is drawn once; speech reuses a few hundred shapes.
    _mouths: dict[tuple[int, int], np.ndarray] = field(default_factory=dict, repr=False)
    _eyes: dict[tuple[int, int], np.ndarray] = field(default_factory=dict, repr=False)

    @property
    def still(self) -> np.ndarray:
        """The portrait as framed, at rest: the frame-sized middle of the stage."""
        margin = self.stage.margin_px
        width, height = self.stage.frame_size
        return self.stage.image[margin : margin + height, margin : margin + width]

    def mouth(self, jaw_key: int, width_key: int) -> np.ndarray:
        """The mouth region with lips and jaw moved and the interior painted."""
        key = (jaw_key, width_key)
        if key not in self._mouths:
            warper = self.warper
            patch = cv2.remap(self.stage.image, warper.build_mouth_map(*key), None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
            region = warper.mouth_region
            _paint_interior(patch, (region.x0, region.y0), warper, self.interior, *key)
            self._mouths[key] = patch
        return self._mouths[key]

    def eyes(self, blink_key: int, brow_key: int) -> np.ndarray:
        """The eye region with lids and brows moved."""
        key = (blink_key, brow_key)
        if key not in self._eyes:
            eye_map = self.warper.build_eye_map(*key)
            self._eyes[key] = cv2.remap(self.stage.image, eye_map, None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        return self._eyes[key]


@dataclass
class PreparedClip:
    """A moving portrait framed for one output size; ``heads`` (N, 2, 3) carry the
    first frame's face onto each clip frame's."""

    image_path: Path
    moving: MovingStage
    warper: FaceWarper
    interior: MouthInterior
    heads: np.ndarray
    warnings: list[str] = field(default_factory=list)

    @property
    def still(self) -> np.ndarray:
        return self.moving.still


@dataclass(frozen=True)
class ScenePlan:
    portrait: PreparedPortrait | PreparedClip
    start_frame: int
    end_frame: int


class LandmarkWarpAnimator:
    name = "landmark_warp"

    def __init__(self, settings: Settings) -> None:
        self._min_face_px = settings.min_face_width_px
        # The landmarks do not depend on the frame size: one detection per image serves
        # every format of a multi-format render.
        self._detected: dict[Path, tuple[np.ndarray, FaceLandmarks]] = {}
        self._tracked: dict[Path, tuple[TrackedClip, list[str]]] = {}

    def prepare(
        self, image_path: Path, frame_size: tuple[int, int], zoom: float = 1.0, background: str = "blur"
    ) -> PreparedPortrait | PreparedClip:
        """Load, find the face and lay out the stage; fails fast on bad portraits. A
        video file is a moving portrait: its face is tracked through every frame."""
        if is_video(Path(image_path)):
            tracked, warnings = self.tracked(Path(image_path))
            return prepare_clip(tracked, frame_size, zoom, background, Path(image_path), warnings)
        rgb, face = self.detected(Path(image_path))
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

    def detected(self, image_path: Path) -> tuple[np.ndarray, FaceLandmarks]:
        """The still portrait and its face (once per file)."""
        if image_path not in self._detected:
            rgb = load_rgb(image_path)
            with FaceMeshDetector() as detector:
                face = detector.detect(rgb, min_face_width_px=self._min_face_px, name=image_path.name)
            self._detected[image_path] = (rgb, face)
        return self._detected[image_path]

    def tracked(self, video_path: Path) -> tuple[TrackedClip, list[str]]:
        """The video's frames and face track (once per file), and warnings about it."""
        if video_path not in self._tracked:
            clip, warnings = read_clip(video_path)
            tracked = track_clip(clip, video_path.name, self._min_face_px)
            if tracked.track.faces_found > 1:
                warnings.append(f"{video_path.name}: {tracked.track.faces_found} faces found; animating the one seen first")
            self._tracked[video_path] = (tracked, warnings)
        return self._tracked[video_path]

    def frames(self, scenes: list[ScenePlan], performance: Performance) -> Iterator[FramePatch]:
        for plan in scenes:
            if isinstance(plan.portrait, PreparedClip):
                yield from self._clip_frames(plan, performance)
            else:
                yield from self._scene_frames(plan, performance)

    def _scene_frames(self, plan: ScenePlan, perf: Performance) -> Iterator[FramePatch]:
        portrait = plan.portrait
        working = portrait.stage.image.copy()
        head = HeadMotion(portrait.stage, portrait.warper.down)
        warper = portrait.warper
        mouth = eyes = None  # the shapes drawn into the working stage
        for i in range(plan.start_frame, plan.end_frame):
            rewritten = []
            if (key := warp_mouth(working, portrait, perf, i, mouth)) != mouth:
                mouth = key
                rewritten.append(warper.mouth_region.rect)
            if (key := warp_eyes(working, portrait, perf, i, eyes)) != eyes:
                eyes = key
                rewritten.append(warper.eye_region.rect)
            yield head.frame(working, perf, i, rewritten)

    def _clip_frames(self, plan: ScenePlan, perf: Performance) -> Iterator[FramePatch]:
        """A moving portrait: the reference face's mouth and eye maps, carried each frame
        to wherever the tracked head has gone. The clip's own motion replaces the
        performer's head motion."""
        portrait: PreparedClip = plan.portrait
        moving = portrait.moving
        indices = moving.clip_indices(plan.end_frame - plan.start_frame, perf.fps)
        for i, index in zip(range(plan.start_frame, plan.end_frame), indices):
            source = moving.frame(index)
            frame = source.copy()
            _carry_eyes(frame, source, portrait, portrait.heads[index], perf, i)
            _carry_mouth(frame, source, portrait, portrait.heads[index], perf, i)
            yield FramePatch(moving.still, frame, 0, 0)


def _carry_eyes(frame: np.ndarray, source: np.ndarray, portrait: PreparedClip, head: np.ndarray, perf: Performance, i: int) -> None:
    """Frame ``i``'s lids and brows, carried by ``head`` (2x3) into ``frame``; nothing
    where the eyes are out of the frame."""
    warper = portrait.warper
    eye_map = warper.eye_map(*warper.quantise_eyes(perf.blink[i], perf.brow_raise[i]))
    carried = carried_map(eye_map, warper.eye_region, head, portrait.moving.frame_size)
    if carried is not None:
        region, backward = carried
        frame[region.slices()] = cv2.remap(source, backward, None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def _carry_mouth(frame: np.ndarray, source: np.ndarray, portrait: PreparedClip, head: np.ndarray, perf: Performance, i: int) -> None:
    """Frame ``i``'s mouth, carried by ``head`` (2x3) into ``frame``; nothing where the
    mouth is out of the frame."""
    warper = portrait.warper
    jaw_key, width_key = warper.quantise_mouth(perf.jaw_open[i], perf.lip_width[i], perf.lip_close[i])
    carried = carried_map(warper.mouth_map(jaw_key, width_key), warper.mouth_region, head, portrait.moving.frame_size)
    if carried is not None:
        region, backward = carried
        patch = cv2.remap(source, backward, None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        _paint_interior(patch, (region.x0, region.y0), warper, portrait.interior, jaw_key, width_key, head)
        frame[region.slices()] = patch


def prepare_clip(
    tracked: TrackedClip, frame_size: tuple[int, int], zoom: float, background: str, path: Path, warnings: list[str]
) -> PreparedClip:
    """A tracked clip framed for ``frame_size``, with the warps made for its first frame."""
    moving = lay_out(tracked, frame_size, zoom, background)
    points = moving.track.points[0]
    warper = FaceWarper(points, frame_size)
    interior = MouthInterior(
        moving.still, points[lm.UPPER_LIP_INNER], points[lm.LOWER_LIP_INNER], warper.down, warper.across, warper.mouth_width
    )
    return PreparedClip(path, moving, warper, interior, moving.track.head_transforms(points), list(warnings))


def warp_mouth(working: np.ndarray, portrait: PreparedPortrait, perf: Performance, i: int, shown: tuple | None = None) -> tuple:
    """Frame ``i``'s mouth (lips and jaw moved, interior painted) into ``working``,
    unless ``shown``, the shape already there, is the same; returns the shape."""
    warper = portrait.warper
    key = warper.quantise_mouth(perf.jaw_open[i], perf.lip_width[i], perf.lip_close[i])
    if key != shown:
        working[warper.mouth_region.slices()] = portrait.mouth(*key)
    return key


def _paint_interior(
    patch: np.ndarray, origin: tuple[int, int], warper: FaceWarper, interior: MouthInterior, jaw_key: int, width_key: int,
    head: np.ndarray | None = None,
) -> None:
    """Teeth and cavity between the moved inner lips, fading in as the mouth opens past
    its resting gap; ``head`` carries the reference lips to a moved face (2x3)."""
    gap = warper.target_gap(jaw_key)
    fade = INTERIOR_FADE_PER_MOUTH_WIDTH * warper.mouth_width
    strength = float(np.clip((gap - 0.85 * warper.source_gap) / fade, 0.0, 1.0)) if gap > 1.5 else 0.0
    if strength > 0:
        upper, lower = warper.inner_lip_targets(jaw_key, width_key)
        if head is not None:
            upper, lower = (c @ head[:, :2].T + head[:, 2] for c in (upper, lower))
        interior.paint(patch, origin, upper, lower, strength)


def warp_eyes(working: np.ndarray, portrait: PreparedPortrait, perf: Performance, i: int, shown: tuple | None = None) -> tuple:
    """Frame ``i``'s lids and brows into ``working``, unless ``shown``, the shape
    already there, is the same; returns the shape."""
    warper = portrait.warper
    key = warper.quantise_eyes(perf.blink[i], perf.brow_raise[i])
    if key != shown:
        working[warper.eye_region.slices()] = portrait.eyes(*key)
    return key
