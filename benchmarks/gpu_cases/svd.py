"""Stable Video Diffusion XT: seconds per 25-frame 576x1024 clip at 25 steps, with and
without torch.compile on CUDA, and peak accelerator memory.

Full size is the published SVD-XT architecture with random weights (speed does not
depend on the weights, and nothing is downloaded), run through SVDMotion exactly as a
render runs it, portrait orientation. Tiny runs the small test models for 2 steps.
"""

from __future__ import annotations

import dataclasses

from personacast.media.image import cover_fit, load_rgb
from personacast.samples import sample_image
from personacast.settings import Settings
from personacast.stages.motion.svd import SVDMotion

from . import Timing, timed
from .motion_models import TINY_SVD_OPTIONS, svd_pipeline


def run(device, tiny: bool) -> list[Timing]:
    settings = Settings(device=device.name, motion_model="svd-xt")
    pipe = svd_pipeline(tiny=tiny, model_id="svd-xt", device=device.name)
    pipe.to(dtype=device.torch_dtype())
    options = TINY_SVD_OPTIONS if tiny else {}
    variants = [device]
    if device.kind == "cuda":  # compiled last: torch.compile replaces the UNet in the pipeline
        variants = [dataclasses.replace(device, compile=False), dataclasses.replace(device, compile=True)]
    timings = []
    for variant in variants:
        backend = SVDMotion(settings, variant, pipeline=pipe, **options)
        if variant.compile and backend.plan.offload != "none":
            continue  # an offloaded UNet is never compiled (diffusion.place): nothing new to time
        width, height = backend.size[1], backend.size[0]  # a talking head is a portrait
        portrait = cover_fit(load_rgb(sample_image("astronaut")), (width, height))
        seconds, peak = timed(variant, lambda: backend.generate(portrait, seed=0))
        compiled = " compiled" if variant.compile else ""
        label = (f"svd-xt {'tiny ' if tiny else ''}{backend.frames_per_segment}x{width}x{height} "
                 f"{backend.steps} steps {variant.precision}{compiled}")
        timings.append(Timing("svd", label, seconds, "clip", peak))
    return timings
