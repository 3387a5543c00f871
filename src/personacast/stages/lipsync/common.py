"""What the neural lip-sync models share: reading ``.pth`` checkpoints (Wav2Lip,
MuseTalk's UNet: not published as diffusers/transformers folders) and loading them
strictly, and checking the audio and crops they are given.

A checkpoint that does not fit the network is refused with the keys that differ: a
half-loaded network would silently draw noise where the mouth should be.
"""

from __future__ import annotations

import pickle
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import torch

from ...errors import ConfigError, MediaError, ModelWeightsError

_SHOWN = 5  # keys named per kind of difference; the rest are counted


def read_checkpoint(path: Path, what: str) -> object:
    """``torch.load`` on the CPU with pickled code refused (weights_only)."""
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, EOFError, OSError, ValueError) as exc:
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ModelWeightsError(
            f"{path} is not a readable {what} checkpoint: {first_line}",
            hint="the file may be truncated or not a PyTorch state dict; download it again",
        ) from exc


def _names(keys: list[str]) -> str:
    shown = ", ".join(keys[:_SHOWN])
    return shown + (f" and {len(keys) - _SHOWN} more" if len(keys) > _SHOWN else "")


def load_strictly(module: torch.nn.Module, state: Mapping[str, torch.Tensor], what: str, path: Path) -> None:
    """Copy ``state`` into ``module``; every key must exist on both sides with the same
    shape, else ModelWeightsError names the missing, unexpected and mismatched keys."""
    if not isinstance(state, Mapping) or not all(isinstance(value, torch.Tensor) for value in state.values()):
        raise ModelWeightsError(
            f"{path} holds no {what} state dict (a mapping of names to tensors)",
            hint=f"use the official {what} checkpoint, unchanged",
        )
    expected = module.state_dict()
    missing = [key for key in expected if key not in state]
    unexpected = [key for key in state if key not in expected]
    mismatched = [
        f"{key} {tuple(state[key].shape)} (want {tuple(expected[key].shape)})"
        for key in expected
        if key in state and tuple(state[key].shape) != tuple(expected[key].shape)
    ]
    problems = []
    if missing:
        problems.append(f"missing keys: {_names(missing)}")
    if unexpected:
        problems.append(f"unexpected keys: {_names(unexpected)}")
    if mismatched:
        problems.append(f"wrong shapes: {_names(mismatched)}")
    if problems:
        raise ModelWeightsError(
            f"{path} does not fit the {what} network ({'; '.join(problems)})",
            hint=f"use the official {what} checkpoint, unchanged",
        )
    module.load_state_dict(state, strict=True, assign=_on_meta(module))


def _on_meta(module: torch.nn.Module) -> bool:
    """A network built on the meta device takes the checkpoint's tensors as they are
    (nothing was allocated for random weights); a real one copies into its own."""
    return any(tensor.is_meta for tensor in module.state_dict().values())


def check_crops(model: str, size: int, crops: np.ndarray, references: np.ndarray, frame_indices) -> None:
    """Crops and references uint8 (B, size, size, 3), one audio frame index each."""
    for label, array in (("crops", crops), ("references", references)):
        if array.dtype != np.uint8 or array.ndim != 4 or array.shape[1:] != (size, size, 3):
            raise ValueError(f"{model} {label} must be uint8 (B, {size}, {size}, 3), got {array.dtype} {array.shape}")
    if len(references) != len(crops) or len(frame_indices) != len(crops):
        raise ValueError(f"{len(crops)} crops, {len(references)} references and {len(frame_indices)} frame indices")


def check_audio(samples: np.ndarray, fps: float) -> np.ndarray:
    """``samples`` as one float32 channel, for video at ``fps``. A WAV's 16-bit PCM
    cannot hold NaN, but float samples from a caller can, and one NaN spreads through
    a spectrogram or Whisper to every frame: refused here, with a non-positive fps."""
    if fps <= 0:
        raise ConfigError(f"fps must be positive, got {fps}", hint="give the video's frame rate")
    samples = np.asarray(samples, dtype=np.float32).reshape(-1)
    if not np.isfinite(samples).all():
        raise MediaError("the audio for lip sync contains NaN or infinite samples", hint="check the voice audio given")
    return samples
