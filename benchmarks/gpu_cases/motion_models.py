"""Random-weight image-to-video models for the motion tests and benchmarks.

Full size uses the published configuration values of Stable Video Diffusion XT and of
the AnimateDiff motion adapter (Stable Diffusion 1.5 itself comes from tiny_sd), so a
benchmark times the real architecture without downloading anything; tiny keeps every
block type with small widths so the tests run the same code on a CPU in seconds.
``save_*`` write the models in the layout the real checkpoints are published in, for
the backends to load through ``weights.require``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import torch
from diffusers import (
    AutoencoderKLTemporalDecoder,
    EulerDiscreteScheduler,
    MotionAdapter,
    StableDiffusionPipeline,
    StableVideoDiffusionPipeline,
    UNetSpatioTemporalConditionModel,
)
from transformers import CLIPImageProcessor, CLIPVisionConfig, CLIPVisionModelWithProjection

from .tiny_sd import FULL_SD15, TINY_SD15, lora_factors, published_names, save_lora, save_pipeline

SVD_FRAMES = {"svd": 14, "svd-xt": 25}
# How the tiny models are run (backend keyword arguments): few frames, 2 steps, frames
# a few latents wide (portraits come out 16x32 from SVD, 16x24 from AnimateDiff).
TINY_SVD_OPTIONS = {"frames": 4, "steps": 2, "size": (32, 16)}
TINY_ANIMATEDIFF_OPTIONS = {"frames": 4, "steps": 2, "short_side": 16, "prompt": "a person talking"}
CLIP_MEAN = [0.48145466, 0.4578275, 0.40821073]
CLIP_STD = [0.26862954, 0.26130258, 0.27577711]


def _seeded(seed: int = 0) -> None:
    # Random weights, but the same ones on every run: tests compare outputs across loads.
    torch.manual_seed(seed)


# --- Stable Video Diffusion ---------------------------------------------------------


def _svd_models(tiny: bool, frames: int):
    if tiny:
        unet = UNetSpatioTemporalConditionModel(
            sample_size=16, block_out_channels=(32, 64), layers_per_block=1,
            down_block_types=("CrossAttnDownBlockSpatioTemporal", "DownBlockSpatioTemporal"),
            up_block_types=("UpBlockSpatioTemporal", "CrossAttnUpBlockSpatioTemporal"),
            num_attention_heads=(2, 4), cross_attention_dim=32, addition_time_embed_dim=8,
            projection_class_embeddings_input_dim=24, num_frames=frames,
        )
        vae = AutoencoderKLTemporalDecoder(
            block_out_channels=(32, 64), down_block_types=("DownEncoderBlock2D",) * 2, layers_per_block=1,
            latent_channels=4, sample_size=32,
        )
        # The pipeline resizes the conditioning image to 224 px itself; a 32 px patch
        # keeps the tiny encoder at 49 tokens.
        vision = CLIPVisionConfig(hidden_size=32, intermediate_size=37, num_hidden_layers=2, num_attention_heads=2,
                                  image_size=224, patch_size=32, projection_dim=32)
    else:
        # stabilityai/stable-video-diffusion-img2vid-xt: unet/config.json is the class
        # defaults with sample_size 96; the VAE and the ViT-H/14 image encoder likewise.
        unet = UNetSpatioTemporalConditionModel(sample_size=96, num_frames=frames)
        vae = AutoencoderKLTemporalDecoder(
            block_out_channels=(128, 256, 512, 512), down_block_types=("DownEncoderBlock2D",) * 4,
            layers_per_block=2, latent_channels=4, sample_size=768,
        )
        vision = CLIPVisionConfig(hidden_size=1280, intermediate_size=5120, num_hidden_layers=32, num_attention_heads=16,
                                  image_size=224, patch_size=14, projection_dim=1024, hidden_act="gelu")
    return unet, vae, CLIPVisionModelWithProjection(vision)


def svd_pipeline(tiny: bool, model_id: str = "svd-xt", device: str = "cpu") -> StableVideoDiffusionPipeline:
    """``device``: where the weights are made (a GPU makes SVD-XT's 2 billion random
    weights in seconds, a CPU in minutes)."""
    _seeded()
    with torch.device(device):
        unet, vae, image_encoder = _svd_models(tiny, SVD_FRAMES[model_id])
    scheduler = EulerDiscreteScheduler(
        beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear", prediction_type="v_prediction",
        interpolation_type="linear", use_karras_sigmas=True, sigma_min=0.002, sigma_max=700.0,
        timestep_spacing="leading", timestep_type="continuous", steps_offset=1,
    )
    features = CLIPImageProcessor(size={"shortest_edge": 224}, crop_size={"height": 224, "width": 224},
                                  image_mean=CLIP_MEAN, image_std=CLIP_STD, resample=3)
    return StableVideoDiffusionPipeline(vae=vae, image_encoder=image_encoder, unet=unet, scheduler=scheduler,
                                        feature_extractor=features)


def save_svd(models_dir: Path, model_id: str = "svd-xt") -> Path:
    """A tiny SVD in MODELS_DIR/<model_id>/ as the Hub publishes it (diffusers folders)."""
    root = models_dir / model_id
    svd_pipeline(tiny=True, model_id=model_id).save_pretrained(root)
    return root


# --- Stable Diffusion 1.5 + AnimateDiff -----------------------------------------------
# SD 1.5 itself comes from tiny_sd (shared with the character-image tests).


def motion_adapter(tiny: bool, seed: int = 1) -> MotionAdapter:
    """An adapter for TINY_SD15 (one layer per block, like its UNet) or, full size, the
    v1.5-2/3 adapters' configuration, which is the class defaults."""
    _seeded(seed)
    if tiny:
        return MotionAdapter(block_out_channels=TINY_SD15.unet["block_out_channels"],
                             motion_layers_per_block=TINY_SD15.unet["layers_per_block"], motion_num_attention_heads=8,
                             motion_norm_num_groups=32, motion_max_seq_length=32)
    return MotionAdapter()


def save_sd15(models_dir: Path, tiny: bool = True, dtype: torch.dtype = torch.float32) -> Path:
    """SD 1.5 as the catalogue asks for it: its published model_index.json, which also
    names a safety checker and a feature extractor, with only the folders the motion
    backends read."""
    root = models_dir / "sd15"
    save_pipeline(root, TINY_SD15 if tiny else FULL_SD15, dtype=dtype)
    index = json.loads((root / "model_index.json").read_text())
    index.pop("image_encoder", None)
    index.update(feature_extractor=["transformers", "CLIPImageProcessor"], requires_safety_checker=True,
                 safety_checker=["stable_diffusion", "StableDiffusionSafetyChecker"])
    (root / "model_index.json").write_text(json.dumps(index, indent=2))
    return root


def save_animatediff(models_dir: Path, tiny: bool = True, dtype: torch.dtype = torch.float32) -> Path:
    """The motion adapter as guoyww publishes it: config.json + diffusers weights."""
    root = models_dir / "animatediff"
    motion_adapter(tiny).to(dtype).save_pretrained(root)
    return root


# AnimateDiff's original motion-module names, from diffusers' names (the inverse of
# the rename diffusers applies when it converts an original checkpoint).
_ORIGINAL_NAMES = ((".norm1.", ".norms.0."), (".norm2.", ".norms.1."), (".norm3.", ".ff_norm."),
                   (".attn1.", ".attention_blocks.0."), (".attn2.", ".attention_blocks.1."))


def original_motion_module(adapter: MotionAdapter) -> dict[str, torch.Tensor]:
    """``adapter``'s weights named as in AnimateDiff's own .ckpt files (AnimateLCM's too):
    ``temporal_transformer`` in the path and a sinusoidal table in each attention block."""
    state = {}
    for name, tensor in adapter.state_dict().items():
        name = re.sub(r"(motion_modules\.\d+\.)", r"\1temporal_transformer.", name)
        if name.endswith(".pos_embed.pe"):
            for block in (0, 1):
                state[name.replace(".pos_embed.pe", f".attention_blocks.{block}.pos_encoder.pe")] = tensor.clone()
            continue
        for new, old in _ORIGINAL_NAMES:
            name = name.replace(new, old)
        state[name] = tensor.clone()
    return state


LCM_LORA_CONV = "down_blocks.0.resnets.0.conv1"


def lcm_lora_factors(sd15: Path, seed: int = 4) -> dict:
    """LoRA factors for the tiny SD 1.5 at ``sd15``: its attention projections (UNet and
    text encoder, as tiny_sd makes them) plus a 3x3 ResNet convolution, as LCM LoRAs
    also adapt those."""
    pipe = StableDiffusionPipeline.from_pretrained(str(sd15), local_files_only=True, safety_checker=None,
                                                   feature_extractor=None)
    factors = lora_factors(pipe, seed=seed)
    conv = pipe.unet.get_submodule(LCM_LORA_CONV).weight
    generator = torch.Generator().manual_seed(seed)
    factors["unet"][LCM_LORA_CONV] = (torch.randn(4, *conv.shape[1:], generator=generator) * 0.3,
                                      torch.randn(conv.shape[0], 4, 1, 1, generator=generator) * 0.3)
    return factors


def save_animatelcm(models_dir: Path) -> Path:
    """AnimateLCM as wangfuyun publishes it: the motion module as an original-format
    .ckpt and the LCM LoRA as kohya safetensors (for the tiny SD 1.5 in ``models_dir``)."""
    root = models_dir / "animatelcm"
    root.mkdir(parents=True, exist_ok=True)
    torch.save(original_motion_module(motion_adapter(True, seed=3)), root / "AnimateLCM_sd15_t2v.ckpt")
    sd15 = models_dir / "sd15"
    unet_config = json.loads((sd15 / "unet" / "config.json").read_text())
    factors = published_names(lcm_lora_factors(sd15))
    save_lora(root / "AnimateLCM_sd15_t2v_lora.safetensors", factors, "kohya", unet_config)
    return root
