"""Loading diffusers pipelines, and merging LoRAs into them, the same way for every
GPU backend (images, motion).

Weights come only from the folder ``weights.require`` found (never the Hub); fp16
files are used when the device runs in half precision and they exist; the memory plan
and torch.compile are applied here so each backend only names its pipeline class.
Imported only by GPU backends: torch is imported at the top on purpose.
"""

from __future__ import annotations

from pathlib import Path

import torch

from .devices import DeviceChoice, MemoryPlan
from .errors import MissingDependencyError, ModelWeightsError

_LORA_ADAPTER = "personacast"


def choose_variant(root: Path, dtype: torch.dtype) -> str | None:
    """fp16 files for half precision; also in fp32 when they are all there is (what
    the missing-weights hint downloads): diffusers casts them up while loading."""
    patterns = ("*.safetensors", "*/*.safetensors", "*.bin", "*/*.bin")
    half = [".fp16." in path.name for pattern in patterns for path in root.glob(pattern)]
    if not any(half):
        return None
    return "fp16" if dtype != torch.float32 or all(half) else None


def load_pretrained(cls, root: Path, device: DeviceChoice, **components):
    """``cls.from_pretrained`` on a local folder, in the device's precision: a pipeline,
    or one diffusers model (a motion adapter); ``components`` replace a pipeline's
    sub-models (a motion adapter, a shared VAE)."""
    dtype = device.torch_dtype()
    variant = choose_variant(root, dtype)
    try:
        return cls.from_pretrained(
            str(root), dtype=dtype, variant=variant, local_files_only=True, use_safetensors=None, **components
        )
    except (OSError, ValueError, KeyError, RuntimeError) as exc:
        raise ModelWeightsError(
            f"could not load {cls.__name__} from {root}: {exc}",
            hint="check the folder holds the model's config.json and weights, unchanged (personacast models verify)",
        ) from exc


def first_line(exc: BaseException) -> str:
    """The first line of an exception from diffusers or torch, which may run to pages."""
    text = str(exc).strip()
    return text.splitlines()[0][:300] if text else exc.__class__.__name__


def fuse_lora(pipe, path: Path, scale: float, *, backend: str, model: str, fits: str) -> None:
    """Load the LoRA at ``path`` with diffusers (PEFT) and merge it into ``pipe``'s
    weights at ``scale``: fused, it costs nothing per step, and unloading then drops its
    separate copy. ``model`` names the base model and ``fits`` says which one the LoRA
    must be for, in errors; ``backend`` names who needs peft."""
    from diffusers.utils import USE_PEFT_BACKEND

    if not USE_PEFT_BACKEND:
        raise MissingDependencyError(backend, "gpu", "peft")
    try:
        pipe.load_lora_weights(str(path.parent), weight_name=path.name, adapter_name=_LORA_ADAPTER,
                               local_files_only=True)
    except (OSError, ValueError, RuntimeError, KeyError) as exc:
        raise ModelWeightsError(f"the LoRA {path.name} cannot be loaded into {model}: {first_line(exc)}",
                                hint=fits + " (diffusers, PEFT and kohya/A1111 .safetensors files are read)") from exc
    if not any(_LORA_ADAPTER in names for names in pipe.get_list_adapters().values()):
        raise ModelWeightsError(f"the LoRA {path.name} changes nothing in {model}", hint=fits)
    pipe.fuse_lora(lora_scale=scale, adapter_names=[_LORA_ADAPTER])
    pipe.unload_lora_weights()


def place(pipe, device: DeviceChoice, plan: MemoryPlan, frames: int | None = None):
    """Move ``pipe`` onto the device following the memory plan; returns it. ``frames``:
    the frames per call of a video pipeline, which the feed-forward chunk must divide."""
    if plan.offload == "model":
        pipe.enable_model_cpu_offload(device=device.name)
    elif plan.offload == "sequential":
        pipe.enable_sequential_cpu_offload(device=device.name)
    else:
        pipe.to(device.name)
    vae = getattr(pipe, "vae", None)
    if plan.offload != "none" and vae is not None and hasattr(vae, "enable_slicing"):
        vae.enable_slicing()
    unet = getattr(pipe, "unet", None)
    if plan.forward_chunk and unet is not None and hasattr(unet, "enable_forward_chunking"):
        # dim 0 is batch x frames in the spatial blocks; the temporal blocks always chunk
        # over frames and fail unless the chunk divides the frame count (25 for SVD-XT).
        # dim 1 would split the spatial blocks into thousands of two-token pieces.
        chunk = plan.forward_chunk
        while frames and frames % chunk:
            chunk -= 1
        unet.enable_forward_chunking(chunk_size=chunk, dim=0)
    if device.compile and unet is not None and plan.offload == "none":
        # Offloading hooks and a compiled graph fight over the weights; compile only
        # when the whole UNet stays on the GPU.
        pipe.unet = torch.compile(unet, mode="max-autotune", fullgraph=False)
    pipe.set_progress_bar_config(disable=True)
    return pipe


def generator(seed: int) -> torch.Generator:
    """A seeded generator on the CPU, whatever the device: with offloading the pipeline
    draws the noise on the CPU first, so this keeps results the same across memory modes."""
    return torch.Generator(device="cpu").manual_seed(int(seed))
