"""Stable Video Diffusion image-to-video: img2vid (14 frames) or img2vid-xt (25).

Tuned for a talking head, where the picture must stay the person and only sway a
little: the conditioning asks for little motion (``motion_bucket_id`` 48 instead of
127, which moves the camera and the scene), adds only the default 2 % noise to the
picture (more noise means more motion but drifts away from the face), and tells the
model the clip plays at 7 fps, the rate both checkpoints were tuned at, so each frame
is a small step of a slow movement.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from diffusers import StableVideoDiffusionPipeline
from PIL import Image

from ...devices import DeviceChoice, memory_plan, out_of_memory_as_error
from ...diffusion import generator, load_pretrained, place
from ...errors import ConfigError
from ...weights import require
from .base import MotionClip
from .frames import check_rgb, fit, orient, to_uint8

if TYPE_CHECKING:
    from ...settings import Settings

NATIVE_FRAMES = {"svd": 14, "svd-xt": 25}
NATIVE_FPS = 7
MOTION_BUCKET_ID = 48
NOISE_AUG_STRENGTH = 0.02
# Trained at 1024x576; a portrait is made at 576x1024, the same pixels turned.
LONG_SIDE, SHORT_SIDE = 1024, 576
STEPS = 25


class SVDMotion:
    name = "svd"

    def __init__(
        self,
        settings: Settings,
        device: DeviceChoice,
        *,
        frames: int | None = None,
        steps: int = STEPS,
        size: tuple[int, int] = (LONG_SIDE, SHORT_SIDE),
        pipeline: StableVideoDiffusionPipeline | None = None,
    ) -> None:
        """``frames``, ``steps`` and ``size`` (long side, short side) default to the
        checkpoint's own; ``pipeline`` is an already built one (random-weight
        benchmarks), placed on the device like a loaded one."""
        model_id = settings.motion_model.strip().lower()
        model_id = "svd-xt" if model_id == "auto" else model_id
        if model_id not in NATIVE_FRAMES:
            raise ConfigError(f"motion model '{settings.motion_model}' is not a Stable Video Diffusion checkpoint",
                              hint="set PERSONACAST_MOTION_MODEL to svd or svd-xt")
        self.settings = settings
        self.device = device
        self.model_id = model_id
        self.required_models = (model_id,)
        self.frames_per_segment = frames or NATIVE_FRAMES[model_id]
        self.steps = steps
        self.size = size
        self.plan = memory_plan(device, "svd", settings.gpu_memory_mode)
        self._pipe = pipeline
        self._placed = False

    def cache_identity(self) -> dict:
        return {"backend": self.name, "model": self.model_id, "frames": self.frames_per_segment, "steps": self.steps,
                "size": list(self.size), "precision": self.device.precision, "fps": NATIVE_FPS,
                "motion_bucket_id": MOTION_BUCKET_ID, "noise_aug_strength": NOISE_AUG_STRENGTH}

    def pipeline(self) -> StableVideoDiffusionPipeline:
        """The diffusers pipeline, loaded and placed on the device on first use."""
        if self._pipe is None:
            location = require(self.model_id, self.settings)
            self._pipe = load_pretrained(StableVideoDiffusionPipeline, location.root, self.device)
        if not self._placed:
            place(self._pipe, self.device, self.plan, frames=self.frames_per_segment)
            self._placed = True
        return self._pipe

    def generate(self, image: np.ndarray, seed: int, first_frame: np.ndarray | None = None) -> MotionClip:
        start = check_rgb(first_frame if first_frame is not None else image,
                          "first frame" if first_frame is not None else "portrait")
        width, height = orient(check_rgb(image), *self.size)
        picture = fit(start, (width, height))
        # Moving the pipeline onto the GPU can run out of memory as well as running it.
        with out_of_memory_as_error("making a motion clip with Stable Video Diffusion"):
            result = self.pipeline()(
                image=Image.fromarray(picture), height=height, width=width, num_frames=self.frames_per_segment,
                num_inference_steps=self.steps, fps=NATIVE_FPS, motion_bucket_id=MOTION_BUCKET_ID,
                noise_aug_strength=NOISE_AUG_STRENGTH, decode_chunk_size=self.plan.decode_chunk,
                generator=generator(seed), output_type="np",
            )
        return MotionClip(to_uint8(result.frames[0]), float(NATIVE_FPS))
