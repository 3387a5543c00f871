"""MuseTalk 1.5 (Tencent Music Lyra Lab, 2025): re-draws the lower half of a 256x256
face in Stable Diffusion's latent space in one UNet pass, steered by Whisper audio.

Per frame: the crop with its lower half blacked out and an identity reference are
encoded by the sd-vae-ft-mse VAE (4 + 4 = 8 latent channels, 32x32); the UNet (a
diffusers UNet2DConditionModel built from ``musetalkV15/musetalk.json``, weights a
plain state dict in ``musetalkV15/unet.pth``) runs once at timestep 0 with the audio
as cross-attention context, and the VAE decodes its 4-channel output.

The audio context is what MuseTalk trained on: every hidden state of the whisper-tiny
encoder (the embeddings and each layer's output, the last after the final layer
norm) at 50 per second, ten of them around each video frame (2 frames' worth on
each side, zero beyond the audio), flattened time-major to 10 x 5 = 50 tokens of 384
with a sinusoidal position encoding added.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch

from ...devices import DeviceChoice, out_of_memory_as_error
from ...errors import ModelWeightsError
from ...media.audio import resample
from ...weights import model_spec, require
from .common import check_audio, check_crops, load_strictly, read_checkpoint

if TYPE_CHECKING:
    from diffusers import AutoencoderKL, UNet2DConditionModel
    from transformers import WhisperFeatureExtractor
    from transformers.models.whisper.modeling_whisper import WhisperEncoder

    from ...settings import Settings

CROP = 256
UNET_CONFIG = "musetalkV15/musetalk.json"
UNET_WEIGHTS = "musetalkV15/unet.pth"
PAD_LEFT = PAD_RIGHT = 2  # video frames of audio context either side (the official defaults)
BATCH = 16  # frames per UNet and VAE call (the official script uses 8, its real-time one 20)


# -- audio ------------------------------------------------------------------------


@torch.inference_mode()
def encoder_states(encoder: WhisperEncoder, extractor: WhisperFeatureExtractor, samples: np.ndarray) -> torch.Tensor:
    """(T, layers + 1, d_model) hidden states at the encoder's frame rate for
    ``samples`` at the extractor's rate. Whisper hears fixed windows (30 s for the
    published model); longer audio is cut into such windows, the last one padded, and
    the states after the end of the audio are dropped."""
    param = next(encoder.parameters())
    window = extractor.n_samples
    pieces = []
    for start in range(0, max(len(samples), 1), window):
        mel = extractor(samples[start:start + window], sampling_rate=extractor.sampling_rate, return_tensors="pt")
        hidden = encoder(mel.input_features.to(param.device, param.dtype), output_hidden_states=True).hidden_states
        pieces.append(torch.stack(hidden, dim=2)[0])
    states = torch.cat(pieces)
    keep = math.floor(len(samples) / extractor.sampling_rate * states_per_second(encoder, extractor))
    return states[:keep]


def states_per_second(encoder: WhisperEncoder, extractor: WhisperFeatureExtractor) -> float:
    """50 for Whisper: 100 mel frames a second, halved by the encoder's strided conv."""
    return encoder.config.max_source_positions / (extractor.n_samples / extractor.sampling_rate)


def frame_windows(states: torch.Tensor, rate: float, fps: float, frame_count: int,
                  pad_left: int = PAD_LEFT, pad_right: int = PAD_RIGHT) -> torch.Tensor:
    """(frame_count, width * (layers + 1), d_model) audio context per video frame.

    Frame k's window starts at state floor(k * rate / fps) - ceil(rate / fps) * pad_left
    and is ``width = 2 * (pad_left + pad_right + 1)`` states long: at 25 fps, states
    2k-4 .. 2k+5, i.e. 80 ms before the frame to 120 ms after it. States outside the
    audio are zero, as in training. Unlike the official script, ``fps`` is not rounded
    to an integer, so 29.97 fps video does not drift from its sound."""
    per_frame = rate / fps
    width = 2 * (pad_left + pad_right + 1)
    starts = np.floor(np.arange(frame_count) * per_frame).astype(np.int64)
    lead = math.ceil(per_frame) * pad_left
    length = max(lead + states.shape[0], int(starts.max(initial=0)) + width)
    padded = states.new_zeros((length, *states.shape[1:]))
    padded[lead:lead + states.shape[0]] = states
    index = torch.from_numpy(starts[:, None] + np.arange(width)).to(states.device)
    windows = padded[index]  # (frames, width, layers + 1, d_model)
    return windows.reshape(frame_count, width * states.shape[1], states.shape[2])


def positional_encoding(length: int, dim: int) -> torch.Tensor:
    """(length, dim) sinusoids, sine on even and cosine on odd channels (Vaswani et al.),
    which MuseTalk adds to the audio tokens before the UNet."""
    position = torch.arange(length, dtype=torch.float32)[:, None]
    frequency = torch.exp(torch.arange(0, dim, 2, dtype=torch.float32) * (-math.log(10000.0) / dim))
    encoding = torch.zeros(length, dim)
    encoding[:, 0::2] = torch.sin(position * frequency)
    encoding[:, 1::2] = torch.cos(position * frequency[: dim // 2])
    return encoding


# -- loading ----------------------------------------------------------------------


def load_unet(config_path: Path, weights_path: Path, device: DeviceChoice) -> UNet2DConditionModel:
    from diffusers import UNet2DConditionModel

    try:
        config = json.loads(config_path.read_text())
        with torch.device("meta"):  # the checkpoint supplies every weight; skip 850M random ones
            unet = UNet2DConditionModel.from_config(config)
    except (OSError, ValueError, TypeError, KeyError) as exc:
        raise ModelWeightsError(
            f"{config_path} is not a MuseTalk UNet config: {exc}", hint="use musetalkV15/musetalk.json from TMElyralab/MuseTalk"
        ) from exc
    if unet.config.in_channels != 8 or unet.config.out_channels != 4:
        raise ModelWeightsError(
            f"{config_path} describes a UNet with {unet.config.in_channels} input and {unet.config.out_channels} "
            "output channels; MuseTalk's takes 8 (masked + reference latents) and gives 4",
            hint="use musetalkV15/musetalk.json from TMElyralab/MuseTalk",
        )
    state = read_checkpoint(weights_path, "MuseTalk UNet")
    if isinstance(state, dict):
        # Cast before loading: the meta-built UNet adopts these tensors as they are.
        dtype = device.torch_dtype()
        state = {key: value.to(dtype) if torch.is_tensor(value) and value.is_floating_point() else value
                 for key, value in state.items()}
    load_strictly(unet, state, "MuseTalk UNet", weights_path)
    return unet.to(device.name).eval()


def load_vae(root: Path, device: DeviceChoice) -> AutoencoderKL:
    from diffusers import AutoencoderKL

    try:
        vae = AutoencoderKL.from_pretrained(str(root), dtype=device.torch_dtype(), local_files_only=True)
    except (OSError, ValueError, KeyError, RuntimeError) as exc:
        raise ModelWeightsError(f"could not load the VAE from {root}: {exc}",
                                hint="check the folder holds sd-vae-ft-mse (personacast models verify)") from exc
    return vae.to(device.name).eval()


def load_whisper(root: Path, device: DeviceChoice) -> tuple[WhisperFeatureExtractor, WhisperEncoder]:
    """The feature extractor and the encoder alone (the decoder is never used)."""
    from transformers import WhisperFeatureExtractor, WhisperModel

    hint = "check the folder holds whisper-tiny (personacast models verify)"
    try:
        extractor = WhisperFeatureExtractor.from_pretrained(str(root), local_files_only=True)
        model, info = WhisperModel.from_pretrained(
            str(root), local_files_only=True, dtype=device.torch_dtype(), output_loading_info=True
        )
    except (OSError, ValueError, KeyError, RuntimeError) as exc:
        raise ModelWeightsError(f"could not load Whisper from {root}: {exc}", hint=hint) from exc
    missing = [key for key in info.get("missing_keys", ()) if "encoder." in key]
    if missing:
        raise ModelWeightsError(f"the Whisper weights in {root} lack encoder weights: {', '.join(missing[:5])}", hint=hint)
    return extractor, model.get_encoder().to(device.name).eval()


# -- backend ----------------------------------------------------------------------


@dataclass
class _Generator:
    unet: UNet2DConditionModel
    vae: AutoencoderKL


def _licence_note() -> str:
    specs = [model_spec(model_id) for model_id in ("musetalk", "sd-vae-ft-mse", "whisper-tiny")]
    return "; ".join(f"{spec.title}: {spec.licence} (commercial use: {spec.commercial_use})" for spec in specs)


class MuseTalkModel:
    """LipSyncModel on MuseTalk 1.5; weights of musetalk, sd-vae-ft-mse and
    whisper-tiny are loaded on first use (Whisper for the audio, the rest to draw)."""

    name = "musetalk"
    crop_size = CROP
    licence_note = _licence_note()
    required_models = ("musetalk", "sd-vae-ft-mse", "whisper-tiny")

    def __init__(self, settings: Settings, device: DeviceChoice) -> None:
        self.settings = settings
        self.device = device
        self.batch_size = BATCH
        self._whisper: tuple[WhisperFeatureExtractor, WhisperEncoder] | None = None
        self._generator: _Generator | None = None
        self._positions: torch.Tensor | None = None  # on the device, made on first use

    def whisper(self) -> tuple[WhisperFeatureExtractor, WhisperEncoder]:
        if self._whisper is None:
            self._whisper = load_whisper(require("whisper-tiny", self.settings).root, self.device)
        return self._whisper

    def generator(self) -> _Generator:
        if self._generator is None:
            location = require("musetalk", self.settings)
            unet = load_unet(location.path(UNET_CONFIG), location.path(UNET_WEIGHTS), self.device)
            vae = load_vae(require("sd-vae-ft-mse", self.settings).root, self.device)
            self._generator = _Generator(unet, vae)
        return self._generator

    @torch.inference_mode()
    def audio_features(self, samples: np.ndarray, sample_rate: int, fps: float, frame_count: int) -> torch.Tensor:
        """(frame_count, 50, 384) Whisper context per video frame, on the device."""
        samples = check_audio(samples, fps)
        # Whisper runs on the device: loading it there can run out of memory too.
        with out_of_memory_as_error("hearing the voice with Whisper for MuseTalk"):
            extractor, encoder = self.whisper()
            states = encoder_states(encoder, extractor, resample(samples, sample_rate, extractor.sampling_rate))
            return frame_windows(states, states_per_second(encoder, extractor), fps, frame_count)

    @torch.inference_mode()
    def sync(self, crops: np.ndarray, references: np.ndarray, features: torch.Tensor, frame_indices: list[int]) -> np.ndarray:
        check_crops("MuseTalk", CROP, crops, references, frame_indices)
        # Moving the UNet and VAE onto the GPU can run out of memory as well as running them.
        with out_of_memory_as_error("drawing mouths with MuseTalk"):
            generator = self.generator()
            return self._draw_all(generator, crops, references, features, frame_indices)

    def _draw_all(self, generator: _Generator, crops: np.ndarray, references: np.ndarray, features: torch.Tensor,
                  frame_indices: list[int]) -> np.ndarray:
        context_dim = generator.unet.config.cross_attention_dim
        if features.shape[-1] != context_dim:
            raise ModelWeightsError(
                f"the Whisper features have {features.shape[-1]} channels but the MuseTalk UNet attends to {context_dim}",
                hint="MuseTalk 1.5 pairs with whisper-tiny",
            )
        out = np.empty_like(crops)
        for start in range(0, len(crops), self.batch_size):
            part = slice(start, start + self.batch_size)
            audio = features[torch.as_tensor(frame_indices[part], device=features.device)]
            out[part] = self._draw(generator, crops[part], references[part], audio)
        return out

    def _draw(self, generator: _Generator, crops: np.ndarray, references: np.ndarray, audio: torch.Tensor) -> np.ndarray:
        dtype = self.device.torch_dtype()
        vae, scale = generator.vae, generator.vae.config.scaling_factor
        pixels = torch.from_numpy(np.concatenate([crops, references])).to(self.device.name)
        images = pixels.permute(0, 3, 1, 2).to(dtype) / 255.0
        images[: len(crops), :, CROP // 2:] = 0.0  # black lower half before scaling to [-1, 1], as trained
        # The posterior's mean, not a sample: the same input gives the same frame.
        latents = vae.encode(images * 2.0 - 1.0).latent_dist.mode() * scale
        masked, reference = latents.chunk(2)
        context = audio.to(self.device.name, dtype)
        context = context + self._positions_for(context)
        predicted = generator.unet(torch.cat([masked, reference], dim=1), 0, encoder_hidden_states=context).sample
        decoded = vae.decode(predicted / scale).sample
        result = ((decoded.float() / 2 + 0.5).clamp(0, 1) * 255.0).round().to(torch.uint8)
        return result.permute(0, 2, 3, 1).cpu().numpy()

    def _positions_for(self, context: torch.Tensor) -> torch.Tensor:
        """The position encoding of ``context``'s tokens, on its device and in its
        dtype: made and copied to the device once, not every batch."""
        if self._positions is None or self._positions.shape != context.shape[1:]:
            self._positions = positional_encoding(context.shape[1], context.shape[2]).to(context)
        return self._positions

