"""What every neural lip-sync model takes and returns.

The model only ever sees square face crops; tracking, cropping, alignment and
paste-back live beside it (shared by every backend), so a backend is just
"audio features + face crops -> face crops with the mouth re-drawn".
"""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np


class LipSyncModel(Protocol):
    """Built with (settings, device); weights load on first use."""

    name: str
    crop_size: int  # side of the square face crop the model works on (Wav2Lip 96, MuseTalk 256)
    licence_note: str  # shown when the backend is used (Wav2Lip's weights are non-commercial)
    required_models: tuple[str, ...]  # catalog ids, checked before a render does any slow work
    batch_size: int  # frames per model call (Wav2Lip 128, MuseTalk 16); the animator batches by it

    def audio_features(self, samples: np.ndarray, sample_rate: int, fps: float, frame_count: int) -> Any:
        """Per-video-frame audio conditioning for mono float32 ``samples``."""
        ...

    def sync(self, crops: np.ndarray, references: np.ndarray, features: Any, frame_indices: list[int]) -> np.ndarray:
        """Re-draw the mouth. ``crops`` and ``references`` are uint8 RGB (B, S, S, 3):
        the frame's face and an identity reference (the same face, any mouth);
        ``frame_indices`` pick each crop's audio from ``features``. Returns (B, S, S, 3)."""
        ...
