"""Character images: seconds per 512x512 Stable Diffusion 1.5 image at 25 steps with the
character's LoRA fused, the same without a LoRA, and peak accelerator memory.

Full size is SD 1.5's published architecture with random weights (speed does not
depend on the weights, and nothing is downloaded), saved in the published folder
layout and loaded by StableDiffusionImages exactly as `personacast images generate`
loads a real one, with a rank-16 LoRA file on every attention projection of the UNet
and text encoder. Tiny runs the test models at 64 px for 2 steps.
"""

from __future__ import annotations

import gc
import tempfile
from pathlib import Path

import torch

from personacast.models import Appearance, Character
from personacast.settings import Settings
from personacast.stages.images.stable_diffusion import StableDiffusionImages

from . import Timing, timed
from .tiny_sd import FULL_SD15, TINY_SD15, lora_factors, published_names, save_lora, save_pipeline

LORA_RANK = 16


def run(device, tiny: bool) -> list[Timing]:
    configs, size, steps = (TINY_SD15, 64, 2) if tiny else (FULL_SD15, 512, 25)
    timings = []
    with tempfile.TemporaryDirectory(prefix="personacast-lora-bench-") as folder:
        data = Path(folder)
        with torch.device(device.name):  # random init straight on the GPU: seconds, not minutes on the CPU
            pipe = save_pipeline(data / "models" / "sd15", configs, dtype=device.torch_dtype())
        pipe.to("cpu")
        # Small factors: random weights at full strength would overflow fp16.
        factors = published_names(lora_factors(pipe, rank=LORA_RANK, strength=0.02))
        lora = save_lora(data / "character.safetensors", factors, "kohya", pipe.unet.config)
        del pipe
        gc.collect()
        settings = Settings(data_dir=data, hf_cache_dir=data / "hf", device=device.name, precision=device.precision)
        for label, extra in (("fused LoRA r16", {"lora": lora, "lora_scale": 0.8}), ("no LoRA", {})):
            character = Character(
                name="bench", images=[data / "portrait.png"], seed=0,
                appearance=Appearance(description="a woman with red hair", trigger="sofiaxyz", steps=steps, **extra),
            )
            backend = StableDiffusionImages(settings, device)
            backend.load(character.appearance)
            seconds, peak = timed(device, lambda: backend.generate(character, 1, width=size, height=size),
                                  repeats=1 if tiny else 3)
            name = f"sd15 {'tiny ' if tiny else ''}{size}x{size} {steps} steps {device.precision}, {label}"
            timings.append(Timing("lora", name, seconds, "image", peak))
            del backend
            gc.collect()
            if device.kind == "cuda":
                torch.cuda.empty_cache()
    return timings
