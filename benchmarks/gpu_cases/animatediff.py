"""AnimateDiff on SD 1.5: seconds per 16-frame 512x512 clip, for the v1.5 adapter's
recipe (25 scheduled steps at strength 0.5) and AnimateLCM's (8 at 0.5), and peak
accelerator memory.

Full size is SD 1.5 and the v1.5 motion adapter at their published architecture with
random weights, saved to a temporary MODELS_DIR and loaded by AnimateDiffMotion as a
render loads them (the LCM LoRA, merged into the weights, costs nothing per step, so
the AnimateLCM recipe runs on the same pipeline). Tiny runs the small test models.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import torch

from personacast.media.image import cover_fit, load_rgb
from personacast.samples import sample_image
from personacast.settings import Settings
from personacast.stages.motion.animatediff import AnimateDiffMotion

from . import Timing, timed
from .motion_models import TINY_ANIMATEDIFF_OPTIONS, save_animatediff, save_sd15


def run(device, tiny: bool) -> list[Timing]:
    side = TINY_ANIMATEDIFF_OPTIONS["short_side"] if tiny else 512
    square = np.ascontiguousarray(cover_fit(load_rgb(sample_image("astronaut")), (side, side)))
    options = TINY_ANIMATEDIFF_OPTIONS if tiny else {}
    timings = []
    with tempfile.TemporaryDirectory() as data:
        models = Path(data) / "models"
        # Random init straight on the GPU (the schedulers made here are only saved as config).
        with torch.device(device.name):
            save_sd15(models, tiny=tiny, dtype=device.torch_dtype())
            save_animatediff(models, tiny=tiny, dtype=device.torch_dtype())
        pipeline = None
        for model in ("animatediff", "animatelcm"):
            settings = Settings(data_dir=Path(data), device=device.name, motion_model=model)
            backend = AnimateDiffMotion(settings, device, pipeline=pipeline, **options)
            seconds, peak = timed(device, lambda: backend.generate(square, seed=0))
            pipeline = backend.pipeline()
            label = (f"{model} {'tiny ' if tiny else ''}{backend.frames_per_segment}x{side}x{side} "
                     f"{backend.steps}x{backend.strength:g} steps {device.precision}")
            timings.append(Timing("animatediff", label, seconds, "clip", peak))
    return timings
