"""Wav2Lip (Prajwal et al., ACM MM 2020): re-draws the lower half of a 96x96 face from
0.2 s of mel spectrogram.

The generator is rebuilt here layer for layer so that the authors' checkpoints
(``wav2lip.pth``, ``wav2lip_gan.pth``: ``{"state_dict": ...}``, keys often prefixed
"module." by DataParallel) load strictly. The audio features follow the official
preprocessing exactly (16 kHz, pre-emphasis 0.97, 800-point STFT every 200 samples,
80 Slaney mel bands from 55 to 7600 Hz, dB with a -100 dB floor, scaled to [-4, 4]);
the network only knows that scale. The authors' weights are licensed for research
and personal use only.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch
from torch import nn

from ...devices import DeviceChoice, out_of_memory_as_error
from ...media.audio import resample
from ...weights import model_spec, require
from .common import check_audio, check_crops, load_strictly, read_checkpoint

if TYPE_CHECKING:
    from ...settings import Settings

SAMPLE_RATE = 16000
N_FFT = 800
HOP = 200  # 12.5 ms: 80 mel frames a second
N_MELS = 80
FMIN, FMAX = 55.0, 7600.0
PREEMPHASIS = 0.97
MIN_LEVEL_DB = -100.0
REF_LEVEL_DB = 20.0
MAX_ABS = 4.0  # mels are scaled symmetrically into [-MAX_ABS, MAX_ABS]
MEL_RATE = SAMPLE_RATE / HOP
MEL_STEP = 16  # mel frames the network hears per video frame (0.2 s)
CROP = 96
BATCH = 128  # frames per forward pass, the official inference default


# -- audio ------------------------------------------------------------------------


def _hz_to_slaney(hz: np.ndarray) -> np.ndarray:
    """Slaney's mel scale (librosa's default): linear to 1 kHz, logarithmic above."""
    hz = np.asarray(hz, dtype=np.float64)
    linear = hz / (200.0 / 3)
    log_step = np.log(6.4) / 27.0
    return np.where(hz >= 1000.0, 15.0 + np.log(np.maximum(hz, 1e-10) / 1000.0) / log_step, linear)


def _slaney_to_hz(mel: np.ndarray) -> np.ndarray:
    mel = np.asarray(mel, dtype=np.float64)
    log_step = np.log(6.4) / 27.0
    return np.where(mel >= 15.0, 1000.0 * np.exp(log_step * (mel - 15.0)), mel * (200.0 / 3))


def mel_filters(sample_rate: int = SAMPLE_RATE, n_fft: int = N_FFT, n_mels: int = N_MELS,
                fmin: float = FMIN, fmax: float = FMAX) -> np.ndarray:
    """(n_mels, 1 + n_fft // 2) triangular filters on the Slaney scale, each scaled to
    unit area (librosa's ``norm="slaney"``), as Wav2Lip's librosa built them."""
    edges = _slaney_to_hz(np.linspace(_hz_to_slaney(fmin), _hz_to_slaney(fmax), n_mels + 2))
    bins = np.linspace(0.0, sample_rate / 2, 1 + n_fft // 2)
    widths = np.diff(edges)
    distance = edges[:, None] - bins[None, :]
    rising = -distance[:-2] / widths[:-1, None]
    falling = distance[2:] / widths[1:, None]
    filters = np.maximum(0.0, np.minimum(rising, falling))
    return filters * (2.0 / (edges[2:] - edges[:-2]))[:, None]


def _stft_magnitude(signal: np.ndarray) -> np.ndarray:
    """|STFT| (1 + N_FFT // 2, frames): periodic Hann window, frames centred on
    multiples of HOP with reflected edges (librosa's ``center=True`` of the time)."""
    half = N_FFT // 2
    if signal.size <= half:
        signal = np.pad(signal, (0, half + 1 - signal.size))  # reflection needs more than half a window
    padded = np.pad(signal, half, mode="reflect")
    count = 1 + (padded.size - N_FFT) // HOP
    frames = np.lib.stride_tricks.as_strided(
        padded, shape=(count, N_FFT), strides=(padded.strides[0] * HOP, padded.strides[0]), writeable=False
    )
    window = 0.5 - 0.5 * np.cos(2.0 * np.pi * np.arange(N_FFT) / N_FFT)
    return np.abs(np.fft.rfft(frames * window, axis=1)).T


def melspectrogram(samples: np.ndarray) -> np.ndarray:
    """Wav2Lip's normalised mel spectrogram (N_MELS, frames) of 16 kHz mono samples;
    frame j is centred on sample j * HOP."""
    signal = np.asarray(samples, dtype=np.float64)
    emphasised = np.append(signal[:1], signal[1:] - PREEMPHASIS * signal[:-1])
    mel = mel_filters() @ _stft_magnitude(emphasised)
    floor = 10.0 ** (MIN_LEVEL_DB / 20.0)
    decibels = 20.0 * np.log10(np.maximum(floor, mel)) - REF_LEVEL_DB
    scaled = 2 * MAX_ABS * (decibels - MIN_LEVEL_DB) / -MIN_LEVEL_DB - MAX_ABS
    return np.clip(scaled, -MAX_ABS, MAX_ABS).astype(np.float32)


def mel_windows(mel: np.ndarray, fps: float, frame_count: int) -> np.ndarray:
    """(frame_count, N_MELS, MEL_STEP): video frame k hears the MEL_STEP mel frames
    starting at k / fps, as in training; frames past the end of the audio reuse its
    last window (the official inference does the same for the final frame)."""
    if mel.shape[1] < MEL_STEP:
        silence = np.full((mel.shape[0], MEL_STEP - mel.shape[1]), -MAX_ABS, dtype=mel.dtype)
        mel = np.concatenate([mel, silence], axis=1)
    starts = (np.arange(frame_count) * (MEL_RATE / fps)).astype(np.int64)
    starts = np.minimum(starts, mel.shape[1] - MEL_STEP)
    windows = mel[:, starts[:, None] + np.arange(MEL_STEP)]  # (mels, frames, steps)
    return np.ascontiguousarray(windows.transpose(1, 0, 2))


# -- network ----------------------------------------------------------------------


@dataclass(frozen=True)
class _Layer:
    cin: int
    cout: int
    kernel: int
    stride: int | tuple[int, int] = 1
    padding: int = 1
    residual: bool = False
    transposed: bool = False


def _down(cin: int, cout: int, kernel: int = 3, stride: int | tuple[int, int] = 2, padding: int = 1) -> _Layer:
    return _Layer(cin, cout, kernel, stride, padding)


def _res(channels: int) -> _Layer:
    return _Layer(channels, channels, 3, 1, 1, residual=True)


def _up(cin: int, cout: int, stride: int = 2) -> _Layer:
    return _Layer(cin, cout, 3, stride, 1 if stride == 2 else 0, transposed=True)


# Block by block as published; comments give the face feature map size after each.
FACE_ENCODER = (
    (_down(6, 16, 7, 1, 3),),  # 96
    (_down(16, 32), _res(32), _res(32)),  # 48
    (_down(32, 64), _res(64), _res(64), _res(64)),  # 24
    (_down(64, 128), _res(128), _res(128)),  # 12
    (_down(128, 256), _res(256), _res(256)),  # 6
    (_down(256, 512), _res(512)),  # 3
    (_down(512, 512, 3, 1, 0), _down(512, 512, 1, 1, 0)),  # 1
)
# 80x16 mel window -> 512x1x1: height shrinks 80 -> 27 -> 9 -> 3 -> 1, width 16 -> 6 -> 3 -> 1.
AUDIO_ENCODER = (
    _down(1, 32, 3, 1), _res(32), _res(32),
    _down(32, 64, 3, (3, 1)), _res(64), _res(64),
    _down(64, 128, 3, 3), _res(128), _res(128),
    _down(128, 256, 3, (3, 2)), _res(256),
    _down(256, 512, 3, 1, 0), _down(512, 512, 1, 1, 0),
)
# Each block's output is joined with the matching encoder features before the next.
FACE_DECODER = (
    (_down(512, 512, 1, 1, 0),),  # 1
    (_up(1024, 512, 1), _res(512)),  # 3
    (_up(1024, 512), _res(512), _res(512)),  # 6
    (_up(768, 384), _res(384), _res(384)),  # 12
    (_up(512, 256), _res(256), _res(256)),  # 24
    (_up(320, 128), _res(128), _res(128)),  # 48
    (_up(160, 64), _res(64), _res(64)),  # 96
)


class ConvBlock(nn.Module):
    """Convolution (or transposed convolution), batch norm, optional skip, ReLU; the
    two weighted parts sit in ``conv_block`` as in the published checkpoints."""

    def __init__(self, layer: _Layer) -> None:
        super().__init__()
        if layer.transposed:
            conv = nn.ConvTranspose2d(layer.cin, layer.cout, layer.kernel, layer.stride, layer.padding,
                                      output_padding=1 if layer.stride == 2 else 0)
        else:
            conv = nn.Conv2d(layer.cin, layer.cout, layer.kernel, layer.stride, layer.padding)
        self.conv_block = nn.Sequential(conv, nn.BatchNorm2d(layer.cout))
        self.act = nn.ReLU()
        self.residual = layer.residual

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.conv_block(x)
        return self.act(out + x if self.residual else out)


class Wav2LipNet(nn.Module):
    """The Wav2Lip generator. ``mels`` (B, 1, 80, 16) and ``faces`` (B, 6, 96, 96): the
    masked frame then the reference, BGR in [0, 1]. Returns (B, 3, 96, 96) BGR in [0, 1]."""

    def __init__(self) -> None:
        super().__init__()
        self.face_encoder_blocks = nn.ModuleList(nn.Sequential(*map(ConvBlock, block)) for block in FACE_ENCODER)
        self.audio_encoder = nn.Sequential(*map(ConvBlock, AUDIO_ENCODER))
        self.face_decoder_blocks = nn.ModuleList(nn.Sequential(*map(ConvBlock, block)) for block in FACE_DECODER)
        self.output_block = nn.Sequential(ConvBlock(_down(80, 32, 3, 1)), nn.Conv2d(32, 3, 1), nn.Sigmoid())

    def forward(self, mels: torch.Tensor, faces: torch.Tensor) -> torch.Tensor:
        skips = []
        x = faces
        for block in self.face_encoder_blocks:
            x = block(x)
            skips.append(x)
        x = self.audio_encoder(mels)
        for block in self.face_decoder_blocks:
            x = torch.cat([block(x), skips.pop()], dim=1)
        return self.output_block(x)


def load_wav2lip(path: Path, device: DeviceChoice) -> Wav2LipNet:
    """The generator from an official checkpoint, in eval mode on ``device``."""
    checkpoint = read_checkpoint(path, "Wav2Lip")
    state = checkpoint.get("state_dict", checkpoint) if isinstance(checkpoint, dict) else checkpoint
    if isinstance(state, dict):
        state = {key.removeprefix("module."): value for key, value in state.items()}
    with torch.device("meta"):
        net = Wav2LipNet()
    load_strictly(net, state, "Wav2Lip", path)
    return net.to(device=device.name, dtype=device.torch_dtype()).eval()


# -- backend ----------------------------------------------------------------------


def _licence_note() -> str:
    spec = model_spec("wav2lip")
    return (f"{spec.title}: {spec.licence}; commercial use: {spec.commercial_use}. For commercial videos use "
            "the musetalk lip-sync backend (PERSONACAST_LIPSYNC_BACKEND=musetalk).")


class Wav2LipModel:
    """LipSyncModel on Wav2Lip; weights from MODELS_DIR/wav2lip/ on first use."""

    name = "wav2lip"
    crop_size = CROP
    licence_note = _licence_note()
    required_models = ("wav2lip",)

    def __init__(self, settings: Settings, device: DeviceChoice) -> None:
        self.settings = settings
        self.device = device
        self.batch_size = BATCH
        self._net: Wav2LipNet | None = None

    def network(self) -> Wav2LipNet:
        if self._net is None:
            location = require("wav2lip", self.settings)
            self._net = load_wav2lip(location.path("wav2lip_gan.pth"), self.device)
        return self._net

    def audio_features(self, samples: np.ndarray, sample_rate: int, fps: float, frame_count: int) -> np.ndarray:
        """(frame_count, 80, 16) float32 mel windows, one per video frame."""
        samples = check_audio(samples, fps)
        return mel_windows(melspectrogram(resample(samples, sample_rate, SAMPLE_RATE)), fps, frame_count)

    @torch.inference_mode()
    def sync(self, crops: np.ndarray, references: np.ndarray, features: np.ndarray, frame_indices: list[int]) -> np.ndarray:
        check_crops("Wav2Lip", CROP, crops, references, frame_indices)
        # Moving the network onto the GPU can run out of memory as well as running it.
        with out_of_memory_as_error("drawing mouths with Wav2Lip"):
            net = self.network()
            out = np.empty_like(crops)
            for start in range(0, len(crops), self.batch_size):
                part = slice(start, start + self.batch_size)
                mels = torch.from_numpy(features[frame_indices[part]]).unsqueeze(1)
                out[part] = self._forward(net, mels, crops[part], references[part])
        return out

    def _forward(self, net: Wav2LipNet, mels: torch.Tensor, crops: np.ndarray, references: np.ndarray) -> np.ndarray:
        dtype = self.device.torch_dtype()
        # The network was trained on OpenCV's BGR frames.
        bgr = torch.from_numpy(np.concatenate([crops, references], axis=3)[..., [2, 1, 0, 5, 4, 3]])
        faces = bgr.to(self.device.name).permute(0, 3, 1, 2).to(dtype) / 255.0
        faces[:, :3, CROP // 2:] = 0.0  # the mouth half the network must fill in
        predicted = net(mels.to(self.device.name, dtype), faces)
        pixels = (predicted.float().clamp(0, 1) * 255.0).round().to(torch.uint8)
        return pixels.permute(0, 2, 3, 1)[..., [2, 1, 0]].cpu().numpy()

