"""Stable Diffusion 1.5 / SDXL models, LoRAs and IP-Adapters with random weights, saved
in the published folder layouts so that they load through the same code as the real
ones (weights.require, diffusion.load_pretrained, load_lora_weights, load_ip_adapter).

Used by tests/gpu/images (tiny sizes, fast on one CPU thread) and by the lora benchmark
(tiny, or SD 1.5 at full size: its architecture from the published config values).
Nothing here downloads anything.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import torch
from diffusers import (
    AutoencoderKL,
    EulerDiscreteScheduler,
    PNDMScheduler,
    StableDiffusionPipeline,
    StableDiffusionXLPipeline,
    UNet2DConditionModel,
)
from safetensors.torch import save_file
from transformers import (
    CLIPTextConfig,
    CLIPTextModel,
    CLIPTextModelWithProjection,
    CLIPTokenizer,
    CLIPVisionConfig,
    CLIPVisionModelWithProjection,
)

BOS, EOS = "<|startoftext|>", "<|endoftext|>"
# Whole-word tokens of the tiny vocabulary; every other word is spelled letter by letter.
WORDS = ("a", "photo", "portrait", "of", "woman", "with", "hair", "in", "the", "at", "and", "looking", "camera",
         "head", "shoulders", "natural", "light", "sharp", "focus", "blurry", "red", "green", "eyes", "city", "cafe")
_CHARACTERS = "abcdefghijklmnopqrstuvwxyz0123456789,.'-!?()"


@dataclass(frozen=True)
class SDConfigs:
    """Config dicts of one Stable Diffusion architecture; ``text_2`` only for SDXL."""

    unet: dict
    vae: dict
    text: dict
    text_2: dict | None = None
    vocab_words: tuple[str, ...] = field(default=WORDS)


_TINY_VAE = dict(
    in_channels=3, out_channels=3, latent_channels=4, block_out_channels=(32, 32), layers_per_block=1,
    down_block_types=("DownEncoderBlock2D",) * 2, up_block_types=("UpDecoderBlock2D",) * 2,
    norm_num_groups=8, sample_size=32,
)
_TINY_TEXT = dict(hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4,
                  max_position_embeddings=77, projection_dim=32, hidden_act="quick_gelu")

TINY_SD15 = SDConfigs(
    unet=dict(
        sample_size=16, in_channels=4, out_channels=4, layers_per_block=1, block_out_channels=(32, 64),
        down_block_types=("CrossAttnDownBlock2D", "DownBlock2D"), up_block_types=("UpBlock2D", "CrossAttnUpBlock2D"),
        cross_attention_dim=32, attention_head_dim=4, norm_num_groups=8,
    ),
    vae=_TINY_VAE,
    text=_TINY_TEXT,
)

# SDXL's shape in small: no cross-attention in the first block, two text encoders
# whose hidden states are joined (32 + 32), the second one's pooled output and the
# six size/crop numbers as the extra "text_time" conditioning.
TINY_SDXL = SDConfigs(
    unet=dict(
        sample_size=16, in_channels=4, out_channels=4, layers_per_block=1, block_out_channels=(32, 64),
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"), up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
        cross_attention_dim=64, attention_head_dim=(2, 4), norm_num_groups=8, use_linear_projection=True,
        transformer_layers_per_block=(1, 1), addition_embed_type="text_time", addition_time_embed_dim=8,
        projection_class_embeddings_input_dim=8 * 6 + 32,
    ),
    vae=_TINY_VAE,
    text=_TINY_TEXT,
    text_2=_TINY_TEXT,
)

# Stable Diffusion 1.5 at full size (the published unet/vae/text_encoder config.json values).
FULL_SD15 = SDConfigs(
    unet=dict(
        sample_size=64, in_channels=4, out_channels=4, layers_per_block=2, block_out_channels=(320, 640, 1280, 1280),
        down_block_types=("CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D"),
        up_block_types=("UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D"),
        cross_attention_dim=768, attention_head_dim=8, norm_num_groups=32, downsample_padding=1, flip_sin_to_cos=True,
        freq_shift=0, center_input_sample=False, act_fn="silu", norm_eps=1e-5, mid_block_scale_factor=1,
    ),
    vae=dict(
        in_channels=3, out_channels=3, latent_channels=4, block_out_channels=(128, 256, 512, 512), layers_per_block=2,
        down_block_types=("DownEncoderBlock2D",) * 4, up_block_types=("UpDecoderBlock2D",) * 4,
        norm_num_groups=32, sample_size=512, act_fn="silu",
    ),
    text=dict(hidden_size=768, intermediate_size=3072, num_hidden_layers=12, num_attention_heads=12,
              max_position_embeddings=77, projection_dim=768, hidden_act="quick_gelu", vocab_size=49408),
)


def write_tokenizer(folder: Path, words: tuple[str, ...] = WORDS) -> None:
    """A CLIP BPE tokenizer in the published files (vocab.json, merges.txt, configs):
    single characters plus merges that make each of ``words`` one token."""
    folder.mkdir(parents=True, exist_ok=True)
    vocab: dict[str, int] = {}
    for suffix in ("", "</w>"):
        for char in _CHARACTERS:
            vocab[char + suffix] = len(vocab)
    merges = []
    for word in words:
        pieces = list(word[:-1]) + [word[-1] + "</w>"]
        joined = pieces[0]
        for piece in pieces[1:]:
            merge = f"{joined} {piece}"
            if merge not in merges:
                merges.append(merge)
            joined += piece
            vocab.setdefault(joined, len(vocab))
    vocab[BOS] = len(vocab)
    vocab[EOS] = len(vocab)
    (folder / "vocab.json").write_text(json.dumps(vocab))
    (folder / "merges.txt").write_text("#version: 0.2\n" + "\n".join(merges) + "\n")
    special = {"bos_token": BOS, "eos_token": EOS, "unk_token": EOS, "pad_token": EOS}
    (folder / "special_tokens_map.json").write_text(json.dumps(special))
    (folder / "tokenizer_config.json").write_text(
        json.dumps({**special, "model_max_length": 77, "do_lower_case": True, "tokenizer_class": "CLIPTokenizer"})
    )


def _text_config(values: dict, tokenizer: CLIPTokenizer) -> CLIPTextConfig:
    ids = {"vocab_size": max(len(tokenizer), values.get("vocab_size", 0)), "bos_token_id": tokenizer.bos_token_id,
           "eos_token_id": tokenizer.eos_token_id, "pad_token_id": tokenizer.pad_token_id}
    return CLIPTextConfig(**{**values, **ids})


def save_pipeline(root: Path, configs: SDConfigs, seed: int = 0, dtype: torch.dtype = torch.float32):
    """A complete diffusers folder (model_index.json, unet/, vae/, text_encoder/,
    tokenizer/, scheduler/, and the _2 parts for SDXL) with random weights, as the
    published repositories lay it out. Returns the pipeline that was saved."""
    torch.manual_seed(seed)
    staging = root / ".tokenizer"
    write_tokenizer(staging, configs.vocab_words)
    tokenizer = CLIPTokenizer.from_pretrained(staging)
    parts = dict(
        unet=UNet2DConditionModel(**configs.unet),
        vae=AutoencoderKL(**configs.vae),
        tokenizer=tokenizer,
    )
    if configs.text_2 is None:
        parts["text_encoder"] = CLIPTextModel(_text_config(configs.text, tokenizer))
        parts["scheduler"] = PNDMScheduler(beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear",
                                           skip_prk_steps=True, steps_offset=1)
        pipe = StableDiffusionPipeline(**parts, safety_checker=None, feature_extractor=None, image_encoder=None,
                                       requires_safety_checker=False)
    else:
        parts["text_encoder"] = CLIPTextModel(_text_config(configs.text, tokenizer))
        parts["text_encoder_2"] = CLIPTextModelWithProjection(_text_config(configs.text_2, tokenizer))
        parts["tokenizer_2"] = tokenizer
        parts["scheduler"] = EulerDiscreteScheduler(beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear",
                                                    steps_offset=1, timestep_spacing="leading")
        pipe = StableDiffusionXLPipeline(**parts, image_encoder=None, feature_extractor=None)
    pipe.to(dtype=dtype)
    pipe.save_pretrained(root, safe_serialization=True)
    # save_pretrained writes tokenizer.json only; the published folders have the BPE files.
    for name in ("tokenizer", "tokenizer_2") if configs.text_2 else ("tokenizer",):
        write_tokenizer(root / name, configs.vocab_words)
        (root / name / "tokenizer.json").unlink(missing_ok=True)
    for path in staging.iterdir():
        path.unlink()
    staging.rmdir()
    return pipe


# -- LoRA files ------------------------------------------------------------------------

LORA_FORMATS = ("peft", "diffusers", "kohya")
_TEXT_TARGETS = ("q_proj", "k_proj", "v_proj", "out_proj")
_UNET_TARGETS = ("to_q", "to_k", "to_v", "to_out.0")


def _targets(model: torch.nn.Module, suffixes: tuple[str, ...]) -> dict[str, torch.nn.Linear]:
    return {name: module for name, module in model.named_modules()
            if isinstance(module, torch.nn.Linear) and name.endswith(suffixes)}


def lora_factors(pipe, rank: int = 4, seed: int = 1, strength: float = 0.3) -> dict[str, dict[str, tuple[torch.Tensor, torch.Tensor]]]:
    """Random LoRA factors (down: rank x in, up: out x rank) for the attention
    projections of the UNet and each text encoder: component -> module name -> factors.
    The change a module gets is up @ down."""
    generator = torch.Generator().manual_seed(seed)
    factors: dict[str, dict[str, tuple[torch.Tensor, torch.Tensor]]] = {}
    components = {"unet": (pipe.unet, _UNET_TARGETS), "text_encoder": (pipe.text_encoder, _TEXT_TARGETS)}
    if getattr(pipe, "text_encoder_2", None) is not None:
        components["text_encoder_2"] = (pipe.text_encoder_2, _TEXT_TARGETS)
    for component, (model, suffixes) in components.items():
        factors[component] = {
            name: (torch.randn(rank, linear.in_features, generator=generator) * strength,
                   torch.randn(linear.out_features, rank, generator=generator) * strength)
            for name, linear in _targets(model, suffixes).items()
        }
    return factors


def published_names(factors: dict) -> dict:
    """``factors`` with the text encoders' layers named as published LoRAs name them,
    under ``text_model.``: transformers 5's CLIPTextModel no longer has that level,
    so a loader that reads real files must map it."""
    def published(name: str) -> str:
        return name if name.startswith("text_model.") else "text_model." + name

    return {component: modules if component == "unet" else {published(name): f for name, f in modules.items()}
            for component, modules in factors.items()}


def _kohya_unet_name(name: str, unet_config) -> str:
    """A diffusers UNet module name as kohya's sd-scripts writes it: SD 1.x keeps the
    diffusers names; SDXL uses the original (sgm) UNet's input/middle/output blocks."""
    if unet_config.get("addition_embed_type") != "text_time":
        return name.replace(".", "_")
    parts = name.split(".")
    per_block = unet_config["layers_per_block"] + 1
    if parts[0] == "down_blocks":
        block, layer, rest = int(parts[1]), int(parts[3]), parts[4:]
        prefix = ["input_blocks", str(1 + block * per_block + layer), "1"]
    elif parts[0] == "up_blocks":
        block, layer, rest = int(parts[1]), int(parts[3]), parts[4:]
        prefix = ["output_blocks", str(block * per_block + layer), "1"]
    else:  # mid_block.attentions.0
        prefix, rest = ["middle_block", "1"], parts[3:]
    return "_".join(prefix + rest)


def save_lora(path: Path, factors, fmt: str, unet_config, alpha_ratio: float = 0.5) -> Path:
    """Write ``factors`` as a LoRA .safetensors in ``fmt``:

    - "peft": diffusers' current keys (``unet.X.lora_A.weight`` / ``lora_B``);
    - "diffusers": what the diffusers training scripts save (``unet.X.lora.down.weight``,
      ``text_encoder.X.lora_linear_layer.down.weight``);
    - "kohya": kohya sd-scripts / A1111 / Civitai files (``lora_unet_X.lora_down.weight``,
      ``lora_te_``, for SDXL ``lora_te1_`` / ``lora_te2_``, and ``.alpha``).

    kohya files scale by alpha / rank; they get alpha = ``alpha_ratio`` x rank and an up
    matrix divided by that, so that every format makes the same change to the model."""
    tensors: dict[str, torch.Tensor] = {}
    sdxl = "text_encoder_2" in factors
    for component, modules in factors.items():
        for name, (down, up) in modules.items():
            if fmt == "peft":
                tensors[f"{component}.{name}.lora_A.weight"] = down
                tensors[f"{component}.{name}.lora_B.weight"] = up
            elif fmt == "diffusers":
                layer = "lora" if component == "unet" else "lora_linear_layer"
                tensors[f"{component}.{name}.{layer}.down.weight"] = down
                tensors[f"{component}.{name}.{layer}.up.weight"] = up
            elif fmt == "kohya":
                if component == "unet":
                    key = "lora_unet_" + _kohya_unet_name(name, unet_config)
                else:
                    prefix = {"text_encoder": "lora_te1_" if sdxl else "lora_te_", "text_encoder_2": "lora_te2_"}[component]
                    key = prefix + name.replace(".", "_")
                rank = down.shape[0]
                tensors[f"{key}.lora_down.weight"] = down
                tensors[f"{key}.lora_up.weight"] = up / alpha_ratio
                tensors[f"{key}.alpha"] = torch.tensor(alpha_ratio * rank)
            else:
                raise ValueError(f"unknown LoRA format {fmt!r}; use one of {LORA_FORMATS}")
    path.parent.mkdir(parents=True, exist_ok=True)
    save_file({k: v.contiguous() for k, v in tensors.items()}, str(path), metadata={"format": "pt"})
    return path


# -- IP-Adapter ------------------------------------------------------------------------

TINY_IMAGE_ENCODER = dict(hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4,
                          image_size=32, patch_size=8, projection_dim=32, hidden_act="quick_gelu")
IP_ADAPTER_FILES = {"sd15": ("models", "ip-adapter_sd15.safetensors"), "sdxl": ("sdxl_models", "ip-adapter_sdxl.safetensors")}


def save_ip_adapter(root: Path, unets: dict[str, dict], seed: int = 2, strength: float = 0.3) -> Path:
    """h94/IP-Adapter's layout for each base model in ``unets`` ({"sd15": unet config,
    "sdxl": ...}): ``models/ip-adapter_sd15.safetensors`` with ``models/image_encoder/``
    and ``sdxl_models/...``. The weights file has ``image_proj.*`` (image embedding ->
    4 extra context tokens) and ``ip_adapter.N.to_k_ip`` / ``to_v_ip`` for the N-th
    attention processor of the UNet, every cross-attention one (N odd)."""
    generator = torch.Generator().manual_seed(seed)
    for family, config in unets.items():
        folder, weight_name = IP_ADAPTER_FILES[family]
        torch.manual_seed(seed)
        encoder = CLIPVisionModelWithProjection(CLIPVisionConfig(**TINY_IMAGE_ENCODER))
        encoder.save_pretrained(root / folder / "image_encoder", safe_serialization=True)
        unet = UNet2DConditionModel(**config)
        cross_dim = unet.config.cross_attention_dim
        embed_dim = TINY_IMAGE_ENCODER["projection_dim"]
        tensors = {
            "image_proj.proj.weight": torch.randn(4 * cross_dim, embed_dim, generator=generator) * strength,
            "image_proj.proj.bias": torch.zeros(4 * cross_dim),
            "image_proj.norm.weight": torch.ones(cross_dim),
            "image_proj.norm.bias": torch.zeros(cross_dim),
        }
        for index, name in enumerate(unet.attn_processors):
            if name.endswith("attn2.processor"):
                attention = unet.get_submodule(name.removesuffix(".processor"))
                shape = attention.to_k.weight.shape  # (hidden size, cross-attention dim)
                tensors[f"ip_adapter.{index}.to_k_ip.weight"] = torch.randn(*shape, generator=generator) * strength
                tensors[f"ip_adapter.{index}.to_v_ip.weight"] = torch.randn(*shape, generator=generator) * strength
        save_file(tensors, str(root / folder / weight_name))
    return root
