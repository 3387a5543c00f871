"""Every model the GPU backends can load, one entry each.

``files`` are the files a backend reads, relative to the model's folder (a local
folder ``MODELS_DIR/<id>/`` or a Hugging Face cache snapshot of ``repo``). A file may
be published under several names (fp16 or full precision); any one of them will do.
``sha256`` is pinned only where the published file is known; otherwise ``models
verify`` records the checksum it finds the first time and checks against that after.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import ConfigError


@dataclass(frozen=True)
class WeightFile:
    names: tuple[str, ...]  # alternatives, preferred first
    sha256: str | None = None


@dataclass(frozen=True)
class ModelSpec:
    id: str
    family: str  # sd, sdxl, ip_adapter, svd, animatediff, musetalk, wav2lip, vae, whisper
    title: str
    licence: str
    commercial_use: str  # "yes", "no" or a short condition
    files: tuple[WeightFile, ...]
    repo: str | None = None  # Hugging Face repository, for the cache and the hint
    source_url: str | None = None  # where to get it when it is not on the Hub
    gated: bool = False  # the Hub asks for the licence to be accepted, signed in, before downloading
    notes: str = ""


def _f(*names: str, sha256: str | None = None) -> WeightFile:
    return WeightFile(tuple(names), sha256)


def _diffusers(*components: str) -> tuple[WeightFile, ...]:
    """model_index.json plus each component's config and weights (fp16 or full)."""
    files = [_f("model_index.json")]
    for component in components:
        if component in ("tokenizer", "tokenizer_2"):
            files += [_f(f"{component}/vocab.json"), _f(f"{component}/merges.txt")]
        elif component == "feature_extractor":
            files.append(_f(f"{component}/preprocessor_config.json"))
        elif component == "scheduler":
            files.append(_f(f"{component}/scheduler_config.json"))
        else:
            stem = "model" if component.startswith(("text_encoder", "image_encoder")) else "diffusion_pytorch_model"
            files += [
                _f(f"{component}/config.json"),
                _f(f"{component}/{stem}.fp16.safetensors", f"{component}/{stem}.safetensors"),
            ]
    return tuple(files)


_SD_PARTS = ("unet", "vae", "text_encoder", "tokenizer", "scheduler")
_SVD_PARTS = ("unet", "vae", "image_encoder", "feature_extractor", "scheduler")

_ENTRIES = [
    ModelSpec(
        "sd15", "sd", "Stable Diffusion 1.5", "CreativeML OpenRAIL-M",
        "yes, within the licence's use restrictions", _diffusers(*_SD_PARTS),
        repo="stable-diffusion-v1-5/stable-diffusion-v1-5",
    ),
    ModelSpec(
        "sdxl", "sdxl", "Stable Diffusion XL 1.0 base", "CreativeML OpenRAIL++-M",
        "yes, within the licence's use restrictions",
        _diffusers(*_SD_PARTS, "text_encoder_2", "tokenizer_2"),
        repo="stabilityai/stable-diffusion-xl-base-1.0",
    ),
    ModelSpec(
        "ip-adapter", "ip_adapter", "IP-Adapter (SD 1.5 and SDXL) with its image encoders", "Apache-2.0", "yes",
        (_f("models/ip-adapter_sd15.safetensors", "models/ip-adapter_sd15.bin"),
         _f("models/image_encoder/config.json"), _f("models/image_encoder/model.safetensors"),
         _f("sdxl_models/ip-adapter_sdxl.safetensors", "sdxl_models/ip-adapter_sdxl.bin"),
         _f("sdxl_models/image_encoder/config.json"), _f("sdxl_models/image_encoder/model.safetensors")),
        repo="h94/IP-Adapter",
    ),
    ModelSpec(
        "svd", "svd", "Stable Video Diffusion img2vid (14 frames)", "Stability AI Community License",
        "yes below USD 1M annual revenue, otherwise an enterprise licence", _diffusers(*_SVD_PARTS),
        repo="stabilityai/stable-video-diffusion-img2vid", gated=True,
    ),
    ModelSpec(
        "svd-xt", "svd", "Stable Video Diffusion img2vid-xt (25 frames)", "Stability AI Community License",
        "yes below USD 1M annual revenue, otherwise an enterprise licence", _diffusers(*_SVD_PARTS),
        repo="stabilityai/stable-video-diffusion-img2vid-xt", gated=True,
    ),
    ModelSpec(
        "animatediff", "animatediff", "AnimateDiff motion adapter v1.5.3 (for SD 1.5)", "Apache-2.0", "yes",
        (_f("config.json"), _f("diffusion_pytorch_model.fp16.safetensors", "diffusion_pytorch_model.safetensors")),
        repo="guoyww/animatediff-motion-adapter-v1-5-3", notes="needs sd15 as its base model",
    ),
    ModelSpec(
        "animatelcm", "animatediff", "AnimateLCM motion adapter and LoRA (4-8 steps)", "see the model card",
        "see the model card",
        (_f("AnimateLCM_sd15_t2v.ckpt"), _f("AnimateLCM_sd15_t2v_lora.safetensors")),
        repo="wangfuyun/AnimateLCM", notes="needs sd15 as its base model",
    ),
    ModelSpec(
        "musetalk", "musetalk", "MuseTalk 1.5 UNet", "MIT", "yes",
        (_f("musetalkV15/musetalk.json"), _f("musetalkV15/unet.pth")),
        repo="TMElyralab/MuseTalk", notes="needs sd-vae-ft-mse and whisper-tiny",
    ),
    ModelSpec(
        "sd-vae-ft-mse", "vae", "Stable Diffusion VAE fine-tuned (MSE)", "MIT", "yes",
        (_f("config.json"), _f("diffusion_pytorch_model.safetensors", "diffusion_pytorch_model.bin")),
        repo="stabilityai/sd-vae-ft-mse",
    ),
    ModelSpec(
        "whisper-tiny", "whisper", "Whisper tiny (audio features for MuseTalk)", "Apache-2.0", "yes",
        (_f("config.json"), _f("model.safetensors", "pytorch_model.bin"), _f("preprocessor_config.json")),
        repo="openai/whisper-tiny",
    ),
    ModelSpec(
        "wav2lip", "wav2lip", "Wav2Lip (GAN checkpoint)", "Wav2Lip licence: research and personal use only",
        "no: the authors' weights are for non-commercial use",
        (_f("wav2lip_gan.pth", "wav2lip.pth"),),
        source_url="https://github.com/Rudrabha/Wav2Lip#getting-the-weights",
        notes="put wav2lip_gan.pth (or wav2lip.pth) in MODELS_DIR/wav2lip/",
    ),
]

CATALOG: dict[str, ModelSpec] = {spec.id: spec for spec in _ENTRIES}


def model_spec(model_id: str) -> ModelSpec:
    try:
        return CATALOG[model_id]
    except KeyError:
        raise ConfigError(f"unknown model '{model_id}'", hint=f"known models: {', '.join(sorted(CATALOG))}") from None
