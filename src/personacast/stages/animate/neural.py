"""The neural animator (GPU): a lip-sync model re-draws the mouth from the voice itself.

Each scene has a base picture sequence, then every frame's face is cropped upright
(lipsync/paste.py), the lip-sync backend (``settings.lipsync_backend``) re-draws its
lower half for that frame's audio, a batch at a time, and the answer is pasted back.
The base is, by what the scene gives:

- a video as the scene's picture: its own frames, tracked (see moving.py);
- a still portrait with ``settings.motion_backend`` set: the motion backend's clip of
  it, chained to the scene's length (motion/chaining.py, segments cached on disk by
  motion/cache.py), tracked the same way;
- a still portrait otherwise: the portrait itself with the landmark animator's blinks
  and head motion, which moves the re-drawn mouth along with the head.

Framing is the landmark animator's (framing.py), so both animators place a face alike.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ...cache import StageCache
from ...devices import choose_device
from ...errors import BackendError
from ...media.canvas import FramePatch
from ...media.wav import read_wav
from ...models import VoiceTrack
from ...registry import load_backend
from ...weights import require
from ...settings import Settings
from ..lipsync.base import LipSyncModel
from ..lipsync.paste import crop_face, crop_transform, paste_face
from ..motion.base import MotionBackend
from ..motion.cache import CachedMotion
from ..motion.chaining import cover_duration
from ..perform.performance import Performance
from .landmark_warp import HeadMotion, LandmarkWarpAnimator, PreparedClip, PreparedPortrait, ScenePlan, warp_eyes
from .moving import MovingStage, TrackedClip, lay_out, track_clip


@dataclass
class NeuralPortrait:
    """A scene's picture prepared for one output size; ``base`` is the landmark
    animator's preparation (framing, face, eyes), reused for the base frames."""

    base: PreparedPortrait | PreparedClip
    zoom: float
    background: str
    warnings: list[str]

    @property
    def image_path(self) -> Path:
        return self.base.image_path

    @property
    def still(self) -> np.ndarray:
        return self.base.still


class NeuralAnimator:
    name = "neural"

    def __init__(self, settings: Settings, *, lipsync: LipSyncModel | None = None, motion: MotionBackend | None = None) -> None:
        """Backends come from the registry by the settings' names; ``lipsync`` and
        ``motion`` give ready instances instead."""
        self._settings = settings
        self._landmarks = LandmarkWarpAnimator(settings)
        wants_motion = settings.motion_backend != "none"
        device = choose_device(settings) if lipsync is None or (wants_motion and motion is None) else None
        self._model: LipSyncModel = lipsync or load_backend("lipsync", settings.lipsync_backend)(settings, device)
        if motion is None and wants_motion:
            motion = load_backend("motion", settings.motion_backend)(settings, device)
        # Segments are kept on disk: re-rendering a character pays for its motion once.
        cache = StageCache(settings.resolved_cache_dir, enabled=settings.use_cache)
        self._motion = CachedMotion(motion, cache) if motion is not None else None
        # Missing weights stop the render now, before the voice is made, not minutes in.
        for model_id in self._model.required_models + (self._motion.required_models if self._motion else ()):
            require(model_id, settings)
        self._voice: tuple[np.ndarray, int] | None = None
        self._features: tuple[tuple[int, int], Any] | None = None
        # Motion clips by (portrait, frames): made once, shared by every output format.
        self._clips: dict[tuple[Path, int], TrackedClip] = {}

    def use_voice(self, voice: VoiceTrack) -> None:
        """The speech the mouths follow; called by the pipeline before ``frames``.
        Frame i of the performance is the moment i/fps of this audio."""
        self._voice = read_wav(voice.audio_path)
        self._features = None

    def prepare(
        self, image_path: Path, frame_size: tuple[int, int], zoom: float = 1.0, background: str = "blur"
    ) -> NeuralPortrait:
        """Finds the face (every frame of a video) and frames it; fails fast on bad input."""
        base = self._landmarks.prepare(image_path, frame_size, zoom, background)
        return NeuralPortrait(base, zoom, background, [*base.warnings, self._model.licence_note])

    def frames(self, scenes: list[ScenePlan], performance: Performance) -> Iterator[FramePatch]:
        features = self._audio_features(performance)
        for plan in scenes:
            portrait: NeuralPortrait = plan.portrait
            if isinstance(portrait.base, PreparedClip):
                yield from self._moving_frames(portrait.base.moving, plan, performance.fps, features)
            elif self._motion is not None:
                moving = self._motion_stage(portrait, plan.end_frame - plan.start_frame, performance.fps)
                yield from self._moving_frames(moving, plan, performance.fps, features)
            else:
                yield from self._still_frames(portrait.base, plan, performance, features)

    def _audio_features(self, performance: Performance) -> Any:
        if self._voice is None:
            raise BackendError("the neural animator was not given the voice", hint="call use_voice(voice) before frames()")
        key = (performance.fps, performance.frame_count)
        if self._features is None or self._features[0] != key:
            samples, rate = self._voice
            self._features = (key, self._model.audio_features(samples, rate, performance.fps, performance.frame_count))
        return self._features[1]

    def _still_frames(self, portrait: PreparedPortrait, plan: ScenePlan, perf: Performance, features: Any) -> Iterator[FramePatch]:
        """One crop serves every frame (the face does not move on the stage); the head
        motion is applied after the mouth is pasted, so the mouth moves with the head."""
        size = self._model.crop_size
        source = portrait.stage.image
        transform = crop_transform(portrait.stage.landmarks.points, size)
        crop = crop_face(source, transform, size)
        working = source.copy()
        head = HeadMotion(portrait.stage, portrait.warper.down)
        pasted: tuple[int, int, int, int] | None = None
        eyes = None  # the eye shape drawn into the working stage
        for batch in self._batches(range(plan.start_frame, plan.end_frame)):
            crops = np.repeat(crop[None], len(batch), axis=0)
            drawn = self._model.sync(crops, crops, features, batch)
            for i, mouth in zip(batch, drawn):
                rewritten = []
                if pasted is not None:  # the last frame's mouth goes before this one's is drawn
                    x0, y0, x1, y1 = pasted
                    working[y0:y1, x0:x1] = source[y0:y1, x0:x1]
                    rewritten.append(pasted)
                # Drawn every frame: restoring the mouth's rectangle may have covered them.
                if (key := warp_eyes(working, portrait, perf, i)) != eyes:
                    eyes = key
                    rewritten.append(portrait.warper.eye_region.rect)
                pasted = paste_face(working, transform, crop, mouth)
                rewritten.append(pasted)
                yield head.frame(working, perf, i, rewritten)

    def _moving_frames(self, moving: MovingStage, plan: ScenePlan, fps: float, features: Any) -> Iterator[FramePatch]:
        size = self._model.crop_size
        indices = moving.clip_indices(plan.end_frame - plan.start_frame, fps)
        for batch in self._batches(range(plan.start_frame, plan.end_frame)):
            shown = [int(indices[i - plan.start_frame]) for i in batch]
            frames = [moving.frame(index).copy() for index in shown]
            transforms = [crop_transform(moving.track.points[index], size) for index in shown]
            crops = [crop_face(frame, transform, size) for frame, transform in zip(frames, transforms)]
            # A face out of the frame (a wide clip framed narrow, its subject walked off
            # to the side) has no mouth to draw: its frame shows as the clip has it.
            faces = [k for k, crop in enumerate(crops) if crop is not None]
            if faces:
                crops_array = np.stack([crops[k] for k in faces])
                drawn = self._model.sync(crops_array, crops_array, features, [batch[k] for k in faces])
                for k, mouth in zip(faces, drawn):
                    paste_face(frames[k], transforms[k], crops[k], mouth)
            for frame in frames:
                yield FramePatch(moving.still, frame, 0, 0)

    def _batches(self, frames: range) -> Iterator[list[int]]:
        """``frames`` in runs of the model's own batch size: one model call each, and no
        more frames held at once than it draws in one go."""
        step = self._model.batch_size
        for start in range(frames.start, frames.stop, step):
            yield list(range(start, min(start + step, frames.stop)))

    def _motion_stage(self, portrait: NeuralPortrait, count: int, fps: float) -> MovingStage:
        """The motion backend's clip of the portrait for ``count`` frames, framed."""
        path = portrait.image_path
        key = (path, count)
        if key not in self._clips:
            rgb, _ = self._landmarks.detected(path)
            # The seed follows the picture, so a render is repeatable.
            seed = zlib.crc32(rgb.tobytes()) & 0x7FFFFFFF
            clip = cover_duration(self._motion, rgb, seed, count / fps, fps)
            self._clips[key] = track_clip(clip, f"the {self._settings.motion_backend} clip of {path.name}", self._settings.min_face_width_px)
        frame_size = portrait.base.stage.frame_size
        return lay_out(self._clips[key], frame_size, portrait.zoom, portrait.background)

