"""Random-weight lip-sync models written to disk exactly as their weights are
published, so the real loaders read them: tiny sizes for tests/gpu/lipsync, full sizes
for the musetalk and wav2lip benchmark cases (one copy of the configs for both), and
the timing loop those two cases share.

Full sizes are the published configs: MuseTalk 1.5's ``musetalk.json``, the
sd-vae-ft-mse ``config.json`` and openai/whisper-tiny's ``config.json`` and
``preprocessor_config.json``.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch

from . import Timing, timed

MUSETALK_UNET_FULL = {
    "_class_name": "UNet2DConditionModel",
    "act_fn": "silu",
    "attention_head_dim": 8,
    "block_out_channels": [320, 640, 1280, 1280],
    "center_input_sample": False,
    "cross_attention_dim": 384,
    "down_block_types": ["CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D"],
    "downsample_padding": 1,
    "flip_sin_to_cos": True,
    "freq_shift": 0,
    "in_channels": 8,
    "layers_per_block": 2,
    "mid_block_scale_factor": 1,
    "norm_eps": 1e-05,
    "norm_num_groups": 32,
    "out_channels": 4,
    "sample_size": 64,
    "up_block_types": ["UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D"],
}
MUSETALK_UNET_TINY = {
    **MUSETALK_UNET_FULL,
    "attention_head_dim": 4,
    "block_out_channels": [16, 32],
    "cross_attention_dim": 32,  # = the tiny Whisper's d_model, as 384 = whisper-tiny's
    "down_block_types": ["CrossAttnDownBlock2D", "DownBlock2D"],
    "layers_per_block": 1,
    "norm_num_groups": 8,
    "sample_size": 32,
    "up_block_types": ["UpBlock2D", "CrossAttnUpBlock2D"],
}

SD_VAE_FULL = {
    "act_fn": "silu",
    "block_out_channels": [128, 256, 512, 512],
    "down_block_types": ["DownEncoderBlock2D"] * 4,
    "up_block_types": ["UpDecoderBlock2D"] * 4,
    "in_channels": 3,
    "out_channels": 3,
    "latent_channels": 4,
    "layers_per_block": 2,
    "norm_num_groups": 32,
    "sample_size": 256,
    "scaling_factor": 0.18215,
}
# Four blocks keep the VAE's 8x downsampling: 256x256 crops still give 32x32 latents.
SD_VAE_TINY = {**SD_VAE_FULL, "block_out_channels": [8, 8, 16, 16], "layers_per_block": 1, "norm_num_groups": 4}

_WHISPER_TOKENS = {"pad_token_id": 1, "bos_token_id": 2, "eos_token_id": 3, "decoder_start_token_id": 2,
                   "suppress_tokens": None, "begin_suppress_tokens": None}
WHISPER_FULL = {
    "d_model": 384, "encoder_layers": 4, "encoder_attention_heads": 6, "encoder_ffn_dim": 1536,
    "decoder_layers": 4, "decoder_attention_heads": 6, "decoder_ffn_dim": 1536,
    "num_mel_bins": 80, "max_source_positions": 1500, "max_target_positions": 448, "vocab_size": 51865,
    "pad_token_id": 50257, "bos_token_id": 50257, "eos_token_id": 50257, "decoder_start_token_id": 50258,
    "suppress_tokens": None, "begin_suppress_tokens": None,
}
# One-second windows instead of 30 s (50 encoder positions instead of 1500): the
# long-audio path (several windows) runs in a test on a couple of seconds of sound.
WHISPER_TINY = {
    "d_model": 32, "encoder_layers": 2, "encoder_attention_heads": 2, "encoder_ffn_dim": 64,
    "decoder_layers": 1, "decoder_attention_heads": 2, "decoder_ffn_dim": 64,
    "num_mel_bins": 80, "max_source_positions": 50, "max_target_positions": 8, "vocab_size": 16, **_WHISPER_TOKENS,
}
EXTRACTOR_FULL = {"feature_size": 80, "sampling_rate": 16000, "hop_length": 160, "chunk_length": 30, "n_fft": 400}
EXTRACTOR_TINY = {**EXTRACTOR_FULL, "chunk_length": 1}


def write_wav2lip_checkpoint(folder: Path, name: str = "wav2lip_gan.pth", prefix: str = "module.",
                             seed: int = 0, legacy_format: bool = False) -> dict[str, torch.Tensor]:
    """A randomly initialised generator saved as the authors' training script saves it
    (``{"state_dict", "optimizer", "global_step", "global_epoch"}``, DataParallel's
    "module." prefix; ``legacy_format``: the pre-zip serialisation of torch < 1.6,
    which the 2020 checkpoints use). Batch-norm statistics are randomised too so that
    loading them matters. Returns the state dict without the prefix."""
    from personacast.stages.lipsync.wav2lip import Wav2LipNet

    torch.manual_seed(seed)
    net = Wav2LipNet()
    state = net.state_dict()
    for key, value in state.items():
        if key.endswith("running_mean"):
            value.normal_(0.0, 0.1)
        elif key.endswith("running_var"):
            value.uniform_(0.5, 1.5)
    folder.mkdir(parents=True, exist_ok=True)
    checkpoint = {
        "state_dict": {prefix + key: value for key, value in state.items()},
        "optimizer": torch.optim.Adam(net.parameters(), lr=1e-4).state_dict(),
        "global_step": 1,
        "global_epoch": 1,
    }
    torch.save(checkpoint, folder / name, _use_new_zipfile_serialization=not legacy_format)
    return state


def install_musetalk(models_dir: Path, tiny: bool = True, device: str = "cpu", dtype=torch.float32,
                     seed: int = 0) -> dict[str, torch.Tensor]:
    """musetalk/musetalkV15/{musetalk.json, unet.pth}, sd-vae-ft-mse/ and whisper-tiny/
    under ``models_dir``, as the published repositories lay them out. Returns the UNet
    state dict that was saved."""
    from diffusers import AutoencoderKL, UNet2DConditionModel
    from transformers import WhisperConfig, WhisperFeatureExtractor, WhisperModel

    torch.manual_seed(seed)
    unet_config = MUSETALK_UNET_TINY if tiny else MUSETALK_UNET_FULL
    folder = models_dir / "musetalk" / "musetalkV15"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "musetalk.json").write_text(json.dumps(unet_config, indent=2))
    with torch.device(device):
        unet = UNet2DConditionModel.from_config(unet_config).to(dtype)
        vae = AutoencoderKL.from_config(SD_VAE_TINY if tiny else SD_VAE_FULL).to(dtype)
        whisper = WhisperModel(WhisperConfig(**(WHISPER_TINY if tiny else WHISPER_FULL))).to(dtype)
    state = unet.state_dict()
    torch.save(state, folder / "unet.pth")
    vae.save_pretrained(models_dir / "sd-vae-ft-mse")
    whisper.save_pretrained(models_dir / "whisper-tiny")
    WhisperFeatureExtractor(**(EXTRACTOR_TINY if tiny else EXTRACTOR_FULL)).save_pretrained(models_dir / "whisper-tiny")
    return state


def lipsync_timings(device, model, family: str, label: str, batches: tuple[int, ...],
                    audio_seconds: float = 10.0, fps: float = 25.0, repeats: int = 3) -> list[Timing]:
    """Audio features (seconds per second of sound), then ``model.sync`` per frame at
    each batch size (one model call per batch), through the backend as a render calls
    it. The warm-up call loads the weights, so loading is not timed."""
    rate = 16000
    rng = np.random.default_rng(0)
    audio = (0.3 * rng.standard_normal(int(audio_seconds * rate))).astype(np.float32)
    frames = int(audio_seconds * fps)
    seconds, peak = timed(device, lambda: model.audio_features(audio, rate, fps, frames), repeats=repeats)
    timings = [Timing(family, f"{label} audio features", seconds / audio_seconds, "audio-s", peak)]
    features = model.audio_features(audio, rate, fps, frames)
    size = model.crop_size
    for batch in batches:
        crops = rng.integers(0, 256, (batch, size, size, 3), dtype=np.uint8)
        indices = [index % frames for index in range(batch)]
        model.batch_size = batch
        seconds, peak = timed(device, lambda: model.sync(crops, crops, features, indices), repeats=repeats)
        timings.append(Timing(family, f"{label} {size}px batch {batch}", seconds / batch, "frame", peak))
    return timings
