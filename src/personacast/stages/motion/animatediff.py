"""AnimateDiff image-to-video on Stable Diffusion 1.5: the v1.5 motion adapter, or
AnimateLCM (its motion module plus the LCM LoRA, 4 denoising steps instead of ~12).

AnimateDiff makes video from text; to animate a given portrait this runs video-to-video
over a still video of it (16 copies) at half strength: the noise added to each frame
is different, and the motion module denoises them into one coherent, slightly moving
clip that is still the same picture. The alternatives were weighed: IP-Adapter only
carries a likeness (a new face the lip sync would then paste onto a different head),
and SparseCtrl's RGB control, which pins the first frame exactly, needs the v3 adapter
and its own ControlNet, neither of which is in the model catalogue.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch
from diffusers import AnimateDiffVideoToVideoPipeline, DDIMScheduler, LCMScheduler, MotionAdapter
from diffusers.loaders.single_file_utils import convert_animatediff_checkpoint_to_diffusers
from PIL import Image

from ...devices import DeviceChoice, memory_plan, out_of_memory_as_error
from ...diffusion import fuse_lora, generator, load_pretrained, place
from ...errors import ConfigError, ModelWeightsError
from ...weights import require
from ..lipsync.common import load_strictly, read_checkpoint
from .base import MotionClip
from .frames import check_rgb, fit, to_uint8

if TYPE_CHECKING:
    from ...settings import Settings

NATIVE_FRAMES = 16  # the clip length the motion modules were trained on
NATIVE_FPS = 8  # AnimateDiff's training clips and its authors' exports
STRENGTH = 0.5  # lower keeps the face but barely moves; higher moves but repaints the person
PROMPT = "a person talking to the camera, subtle natural head movement, blinking, photorealistic, sharp focus"
NEGATIVE = "blurry, deformed face, distorted, flicker, watermark, text, lowres"
SHORT_SIDE = 512  # SD 1.5's resolution; portraits are made at 512x768


@dataclasses.dataclass(frozen=True)
class _Recipe:
    steps: int  # scheduled steps; STRENGTH of them run
    guidance: float
    lora_scale: float | None = None


RECIPES = {
    "animatediff": _Recipe(steps=25, guidance=6.0),
    # AnimateLCM's authors: LCMScheduler, 4-8 steps, guidance 1-2, the LoRA at 0.8.
    "animatelcm": _Recipe(steps=8, guidance=1.5, lora_scale=0.8),
}
LCM_MOTION_MODULE = "AnimateLCM_sd15_t2v.ckpt"
LCM_LORA = "AnimateLCM_sd15_t2v_lora.safetensors"


class AnimateDiffMotion:
    name = "animatediff"

    def __init__(
        self,
        settings: Settings,
        device: DeviceChoice,
        *,
        prompt: str = PROMPT,
        frames: int = NATIVE_FRAMES,
        steps: int | None = None,
        strength: float = STRENGTH,
        short_side: int = SHORT_SIDE,
        pipeline: AnimateDiffVideoToVideoPipeline | None = None,
    ) -> None:
        """``prompt`` may carry the character's appearance description; ``pipeline`` is
        an already built one (random-weight benchmarks), set up like a loaded one."""
        model_id = settings.motion_model.strip().lower()
        model_id = "animatediff" if model_id == "auto" else model_id
        if model_id not in RECIPES:
            raise ConfigError(f"motion model '{settings.motion_model}' is not an AnimateDiff checkpoint",
                              hint="set PERSONACAST_MOTION_MODEL to animatediff or animatelcm")
        if not 0.0 < strength <= 1.0:
            raise ConfigError(f"AnimateDiff strength must be in (0, 1], got {strength}")
        self.settings = settings
        self.device = device
        self.model_id = model_id
        self.required_models = ("sd15", model_id)
        self.recipe = RECIPES[model_id]
        self.prompt = prompt
        self.frames_per_segment = frames
        self.steps = steps or self.recipe.steps
        self.strength = strength
        self.short_side = short_side
        # No feed-forward chunking: the motion modules put pixels on the dimension the
        # spatial blocks put frames on, so either choice splits one of them into
        # thousands of tiny pieces; offloading and the decode chunk fit smaller cards.
        plan = memory_plan(device, "animatediff", settings.gpu_memory_mode)
        self.plan = dataclasses.replace(plan, forward_chunk=None)
        self._pipe = pipeline
        self._ready = False

    def cache_identity(self) -> dict:
        return {"backend": self.name, "model": self.model_id, "frames": self.frames_per_segment, "steps": self.steps,
                "strength": self.strength, "guidance": self.recipe.guidance, "lora_scale": self.recipe.lora_scale,
                "short_side": self.short_side, "prompt": self.prompt, "negative": NEGATIVE,
                "precision": self.device.precision, "fps": NATIVE_FPS}

    def size_for(self, image: np.ndarray) -> tuple[int, int]:
        """(width, height): 2:3 for a portrait or a landscape, square otherwise; SD 1.5
        composes faces well up to 1.5x its training size on the long side."""
        height, width = image.shape[:2]
        long_side = self.short_side * 3 // 2 // 8 * 8
        if height > 1.2 * width:
            return self.short_side, long_side
        if width > 1.2 * height:
            return long_side, self.short_side
        return self.short_side, self.short_side

    def pipeline(self) -> AnimateDiffVideoToVideoPipeline:
        """The diffusers pipeline, loaded and set up on first use."""
        if self._pipe is None:
            self._pipe = self._load()
        if not self._ready:
            self._set_up(self._pipe)
            self._ready = True
        return self._pipe

    def _load(self) -> AnimateDiffVideoToVideoPipeline:
        base = require("sd15", self.settings)
        motion = require(self.model_id, self.settings)
        if self.model_id == "animatediff" or (motion.root / "config.json").is_file():
            # The Hub folder of AnimateLCM also holds a diffusers copy of its module.
            adapter = load_pretrained(MotionAdapter, motion.root, self.device)
        else:
            adapter = load_original_motion_module(motion.path(LCM_MOTION_MODULE), self.device.torch_dtype())
        # The image encoder and feature extractor serve IP-Adapter only, which this does
        # not use; the catalogue's SD 1.5 files leave them out.
        pipe = load_pretrained(AnimateDiffVideoToVideoPipeline, base.root, self.device, motion_adapter=adapter,
                             feature_extractor=None, image_encoder=None)
        if self.recipe.lora_scale is not None:
            fuse_lora(pipe, motion.path(LCM_LORA), self.recipe.lora_scale, backend=self.name, model="sd15",
                      fits=f"use {LCM_LORA} from wangfuyun/AnimateLCM, made for Stable Diffusion 1.5")
        return pipe

    def _set_up(self, pipe: AnimateDiffVideoToVideoPipeline) -> None:
        if self.recipe.lora_scale is not None:
            pipe.scheduler = LCMScheduler.from_config(pipe.scheduler.config, beta_schedule="linear")
        else:
            # The motion adapters were trained on the linear beta schedule, not SD's.
            pipe.scheduler = DDIMScheduler.from_config(pipe.scheduler.config, beta_schedule="linear", clip_sample=False,
                                                       timestep_spacing="linspace", steps_offset=1)
        place(pipe, self.device, self.plan, frames=self.frames_per_segment)

    def generate(self, image: np.ndarray, seed: int, first_frame: np.ndarray | None = None) -> MotionClip:
        start = check_rgb(first_frame if first_frame is not None else image,
                          "first frame" if first_frame is not None else "portrait")
        width, height = self.size_for(check_rgb(image))
        still = Image.fromarray(fit(start, (width, height)))
        # Moving the pipeline onto the GPU can run out of memory as well as running it.
        with out_of_memory_as_error("making a motion clip"):
            result = self.pipeline()(
                video=[still] * self.frames_per_segment, prompt=self.prompt, negative_prompt=NEGATIVE,
                height=height, width=width, num_inference_steps=self.steps, strength=self.strength,
                guidance_scale=self.recipe.guidance, generator=generator(seed),
                decode_chunk_size=self.plan.decode_chunk, output_type="np",
            )
        return MotionClip(to_uint8(result.frames[0]), float(NATIVE_FPS))


def load_original_motion_module(path: Path, dtype: torch.dtype) -> MotionAdapter:
    """A motion module in AnimateDiff's own .ckpt format (AnimateLCM publishes its module
    this way) as a diffusers MotionAdapter. The layout is read off the weights; only
    the head count cannot be, and every published module uses 8."""
    state = _motion_state(read_checkpoint(path, "motion module"), path)
    tables = [tensor for key, tensor in state.items() if key.endswith("pos_encoder.pe")]
    converted = convert_animatediff_checkpoint_to_diffusers(state)
    config = _adapter_config(converted, max_length=tables[0].shape[1] if tables else 32)
    adapter = MotionAdapter(**config)
    # The sinusoidal position tables are recomputed by the adapter, not read.
    recomputed = {key: value for key, value in adapter.state_dict().items() if key.endswith("pos_embed.pe")}
    load_strictly(adapter, {**converted, **recomputed}, "AnimateDiff motion module", path)
    return adapter.to(dtype)


def _motion_state(checkpoint: object, path: Path) -> Mapping[str, torch.Tensor]:
    """The name -> tensor mapping of a .ckpt, which may wrap it in "state_dict"."""
    state = checkpoint.get("state_dict", checkpoint) if isinstance(checkpoint, Mapping) else checkpoint
    if not isinstance(state, Mapping) or not all(isinstance(value, torch.Tensor) for value in state.values()):
        raise ModelWeightsError(f"{path} holds no motion module state dict (a mapping of names to tensors)",
                                hint="use AnimateLCM_sd15_t2v.ckpt from wangfuyun/AnimateLCM, unchanged")
    return state


def _adapter_config(state: dict[str, torch.Tensor], max_length: int) -> dict:
    def indices(pattern: str) -> list[int]:
        return sorted({int(m.group(1)) for key in state if (m := re.match(pattern, key))})

    blocks = indices(r"down_blocks\.(\d+)\.motion_modules\.")
    if not blocks:
        raise ModelWeightsError("the motion module has no down-block layers", hint="is it an AnimateDiff .ckpt?")
    mid_layers = indices(r"mid_block\.motion_modules\.(\d+)\.")
    return {
        "block_out_channels": tuple(state[f"down_blocks.{b}.motion_modules.0.proj_in.weight"].shape[0] for b in blocks),
        "motion_layers_per_block": len(indices(r"down_blocks\.0\.motion_modules\.(\d+)\.")),
        "motion_transformer_layers_per_block": len(
            indices(r"down_blocks\.0\.motion_modules\.0\.transformer_blocks\.(\d+)\.")),
        "use_motion_mid_block": bool(mid_layers),
        "motion_mid_block_layers_per_block": max(len(mid_layers), 1),
        "motion_num_attention_heads": 8,
        "motion_norm_num_groups": 32,
        "motion_max_seq_length": int(max_length),
    }
