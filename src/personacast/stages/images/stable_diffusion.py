"""New pictures of a character with Stable Diffusion 1.5 or SDXL (GPU backend).

The base model comes from MODELS_DIR (or the Hugging Face cache) through
``weights.require``; the character's LoRA is fused into the weights at its scale (no
per-step cost, so a LoRA'd image takes as long as a plain one); with reference
pictures an IP-Adapter adds their identity at ``ip_adapter_scale``. The pipeline is
kept for the next call while the base model, LoRA and IP-Adapter stay the same.
"""

from __future__ import annotations

import gc
from pathlib import Path

import torch
from diffusers import DPMSolverMultistepScheduler, StableDiffusionPipeline, StableDiffusionXLPipeline
from PIL import Image

from ... import weights
from ...devices import DeviceChoice, memory_plan, out_of_memory_as_error
from ...diffusion import first_line, fuse_lora, generator, load_pretrained, place
from ...errors import ConfigError, ModelWeightsError
from ...media.image import load_rgb
from ...models import Appearance, Character
from ...settings import Settings
from .base import GeneratedImage, ImageBatch, ImageRunInfo, StepCallback
from .prompts import build_prompts

# Base model -> pipeline, default size (portrait, as the videos are; SDXL's is one of
# the sizes it was trained at), and where h94/IP-Adapter keeps its weights for it.
_MODELS = {
    "sd15": (StableDiffusionPipeline, (512, 768), "models", ("ip-adapter_sd15.safetensors", "ip-adapter_sd15.bin")),
    "sdxl": (StableDiffusionXLPipeline, (832, 1216), "sdxl_models", ("ip-adapter_sdxl.safetensors", "ip-adapter_sdxl.bin")),
}
SCHEDULER = "DPM++ 2M Karras"
MAX_SIDE = 2048


def image_size(base_model: str, width: int | None, height: int | None) -> tuple[int, int]:
    """The size asked for, the model's default where not given; ConfigError if the
    model cannot make it."""
    default = _MODELS[base_model][1]
    size = (width or default[0], height or default[1])
    for name, value in zip(("width", "height"), size):
        if value <= 0 or value % 8 or value > MAX_SIDE:
            raise ConfigError(f"image {name} {value} px cannot be made", hint=f"use a multiple of 8 up to {MAX_SIDE}")
    return size


class StableDiffusionImages:
    name = "stable_diffusion"

    def __init__(self, settings: Settings, device: DeviceChoice) -> None:
        self.settings = settings
        self.device = device
        self._pipe = None
        self._key: tuple | None = None
        self._model_path = ""
        self._ip_adapter: Path | None = None
        self._safety_checker = False

    # -- loading ---------------------------------------------------------------------

    def load(self, appearance: Appearance):
        """The pipeline for ``appearance`` (base model, fused LoRA, IP-Adapter), loaded
        once and reused while those stay the same."""
        key = (appearance.base_model, appearance.lora, appearance.lora_scale if appearance.lora else None,
               bool(appearance.reference_images))
        if key == self._key:
            return self._pipe
        self._release()
        pipeline_class = _MODELS[appearance.base_model][0]
        location = weights.require(appearance.base_model, self.settings)
        root = location.root
        assert root is not None  # require() raises when the model is not found
        pipe = load_pretrained(pipeline_class, root, self.device, **self._safety_parts(root, pipeline_class))
        # The folders ship PNDM (SD 1.5) or Euler (SDXL); DPM++ 2M Karras converges in
        # the 25-30 steps an appearance asks for.
        pipe.scheduler = DPMSolverMultistepScheduler.from_config(pipe.scheduler.config, use_karras_sigmas=True)
        if appearance.lora is not None:
            self._fuse_lora(pipe, appearance.lora, appearance.lora_scale, appearance.base_model)
        self._ip_adapter = self._load_ip_adapter(pipe, appearance.base_model) if appearance.reference_images else None
        family = weights.model_spec(appearance.base_model).family
        place(pipe, self.device, memory_plan(self.device, family, self.settings.gpu_memory_mode))
        self._pipe, self._key, self._model_path = pipe, key, str(root)
        self._safety_checker = getattr(pipe, "safety_checker", None) is not None
        return pipe

    def _release(self) -> None:
        """Drop the held pipeline before loading another: two need not fit at once."""
        if self._pipe is None:
            return
        self._pipe, self._key = None, None
        gc.collect()
        if self.device.kind == "cuda":
            torch.cuda.empty_cache()

    @staticmethod
    def _safety_parts(root: Path, pipeline_class) -> dict:
        """SD 1.5's folder names a safety checker in model_index.json; it is used when its
        files were downloaded too, and left out (instead of failing) when they were not."""
        if pipeline_class is not StableDiffusionPipeline:
            return {}
        present = any((root / "safety_checker").glob("*.safetensors")) or any((root / "safety_checker").glob("*.bin"))
        if present and (root / "feature_extractor" / "preprocessor_config.json").is_file():
            return {}
        return {"safety_checker": None, "feature_extractor": None, "requires_safety_checker": False}

    def _fuse_lora(self, pipe, path: Path, scale: float, base_model: str) -> None:
        if not path.is_file():
            raise ModelWeightsError(f"the character's LoRA {path} does not exist",
                                    hint="appearance.lora in character.yaml is a path relative to the character folder")
        fits = f"a LoRA works only with the base model it was trained for: is {path.name} for {base_model}?"
        fuse_lora(pipe, path, scale, backend=self.name, model=base_model, fits=fits)

    def _load_ip_adapter(self, pipe, base_model: str) -> Path:
        _, _, subfolder, names = _MODELS[base_model]
        needed = (f"{subfolder}/{names[0]}", f"{subfolder}/image_encoder/config.json",
                  f"{subfolder}/image_encoder/model.safetensors")
        try:
            location = weights.require("ip-adapter", self.settings)
        except ModelWeightsError:
            # A copy holding only this base model's variant is enough.
            location = weights.locate("ip-adapter", self.settings)
            if location.root is None or not all(name in location.found for name in needed):
                raise
        weight_file = location.path(needed[0])
        try:
            pipe.load_ip_adapter(str(location.root), subfolder=subfolder, weight_name=weight_file.name,
                                 image_encoder_folder="image_encoder", local_files_only=True)
        except (OSError, ValueError, RuntimeError, KeyError) as exc:
            raise ModelWeightsError(f"could not load the IP-Adapter {weight_file}: {first_line(exc)}",
                                    hint="check the ip-adapter folder (personacast models verify ip-adapter)") from exc
        return weight_file

    # -- generating ------------------------------------------------------------------

    def generate(
        self, character: Character, n: int, *, seed: int | None = None, steps: int | None = None,
        width: int | None = None, height: int | None = None, on_step: StepCallback | None = None,
    ) -> ImageBatch:
        """``n`` pictures of ``character`` from its appearance; ``seed`` replaces the
        character's seed, ``steps`` and the size the appearance's and model's defaults."""
        appearance = character.appearance
        width, height = image_size(appearance.base_model, width, height)
        steps = steps or appearance.steps
        if not 1 <= steps <= 150:
            raise ConfigError(f"{steps} steps", hint="use 1 to 150 steps (25-30 is usual)")
        references = [Image.fromarray(load_rgb(path)) for path in appearance.reference_images]
        # Placing the pipeline on the GPU can run out of memory as well as running it.
        with out_of_memory_as_error(f"loading {appearance.base_model}"):
            pipe = self.load(appearance)
        tokenizer = pipe.tokenizer
        plan = build_prompts(appearance, character.seed if seed is None else seed, n,
                             count_tokens=lambda text: len(tokenizer(text).input_ids))
        extra = {}
        if references:
            pipe.set_ip_adapter_scale(appearance.ip_adapter_scale)
            extra["ip_adapter_image"] = [references]  # one adapter, every reference picture
        images = []
        for item in plan.prompts:
            def step_done(_pipe, step: int, _timestep, tensors: dict, index: int = item.index) -> dict:
                if on_step is not None:
                    on_step(index, step + 1, steps)
                return tensors

            with out_of_memory_as_error(f"making a {width}x{height} image"):
                output = pipe(
                    prompt=item.prompt, negative_prompt=item.negative or None, num_inference_steps=steps,
                    guidance_scale=appearance.guidance, width=width, height=height,
                    generator=generator(item.seed), callback_on_step_end=step_done, **extra,
                )
            flagged = getattr(output, "nsfw_content_detected", None)
            images.append(GeneratedImage(item, output.images[0], nsfw=bool(flagged and flagged[0])))
        run = ImageRunInfo(
            model=appearance.base_model, model_path=self._model_path, scheduler=SCHEDULER, steps=steps,
            guidance=appearance.guidance, width=width, height=height,
            lora=str(appearance.lora) if appearance.lora else None,
            lora_scale=appearance.lora_scale if appearance.lora else None,
            ip_adapter=str(self._ip_adapter) if references else None,
            ip_adapter_scale=appearance.ip_adapter_scale if references else None,
            reference_images=tuple(str(path) for path in appearance.reference_images),
            safety_checker=self._safety_checker, device=self.device.describe(),
        )
        warnings = list(plan.warnings)
        blacked = [image.index for image in images if image.nsfw]
        if blacked:
            warnings.append(f"the safety checker blacked out image(s) {', '.join(map(str, blacked))}: change their prompt or seed")
        return ImageBatch(character.name, run, images, warnings)
