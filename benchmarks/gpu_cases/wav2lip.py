"""Wav2Lip: mel features per second of audio, then milliseconds per lip-synced 96x96
frame at batch 1 and batched, and peak accelerator memory.

Full size is the published generator with random weights (speed does not depend on
the weights), saved in the authors' checkpoint format and loaded by Wav2LipModel as a
render loads it. The network has no smaller configuration: tiny runs the same one on
a couple of small batches.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from personacast.settings import Settings
from personacast.stages.lipsync.wav2lip import Wav2LipModel

from . import Timing
from .lipsync_models import lipsync_timings, write_wav2lip_checkpoint


def run(device, tiny: bool) -> list[Timing]:
    with tempfile.TemporaryDirectory() as folder:
        models = Path(folder)
        write_wav2lip_checkpoint(models / "wav2lip")
        settings = Settings(data_dir=models / "data", models_dir=models, device=device.name)
        model = Wav2LipModel(settings, device)
        batches = (1, 4) if tiny else (1, 32, 128)
        return lipsync_timings(device, model, "wav2lip", f"wav2lip{' tiny' if tiny else ''} {device.precision}", batches,
                               audio_seconds=2.0 if tiny else 10.0, repeats=1 if tiny else 5)
