"""MuseTalk 1.5: Whisper features per second of audio, then milliseconds per
lip-synced 256x256 frame (VAE encode of masked + reference, one UNet pass, VAE decode)
at batch 1 and batched, and peak accelerator memory.

Full size is the published architecture (MuseTalk 1.5's musetalk.json UNet, the
sd-vae-ft-mse VAE, whisper-tiny) with random weights, made on the device in its
precision, written in the published layouts and loaded by MuseTalkModel as a render
loads it. Tiny runs the test models on the CPU.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from personacast.settings import Settings
from personacast.stages.lipsync.musetalk import MuseTalkModel

from . import Timing
from .lipsync_models import install_musetalk, lipsync_timings


def run(device, tiny: bool) -> list[Timing]:
    with tempfile.TemporaryDirectory() as folder:
        models = Path(folder)
        # Random init straight on the GPU: seconds, where 850M parameters take minutes on a CPU.
        install_musetalk(models, tiny=tiny, device=device.name, dtype=device.torch_dtype())
        settings = Settings(data_dir=models / "data", models_dir=models, device=device.name)
        model = MuseTalkModel(settings, device)
        batches = (1, 4) if tiny else (1, 16, 32)
        return lipsync_timings(device, model, "musetalk", f"musetalk-1.5{' tiny' if tiny else ''} {device.precision}",
                               batches, audio_seconds=2.0 if tiny else 10.0, repeats=1 if tiny else 5)
