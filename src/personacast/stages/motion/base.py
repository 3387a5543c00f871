"""What every image-to-video backend takes and returns."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np


@dataclass
class MotionClip:
    """``frames``: uint8 RGB, shape (N, H, W, 3); played at ``fps``."""

    frames: np.ndarray
    fps: float

    @property
    def duration_s(self) -> float:
        return len(self.frames) / self.fps


class MotionBackend(Protocol):
    """Built with (settings, device); the model loads on the first ``generate``."""

    name: str
    frames_per_segment: int  # what one model call makes (SVD 14, SVD-XT 25, AnimateDiff 16)
    required_models: tuple[str, ...]  # catalog ids, checked before a render does any slow work

    def cache_identity(self) -> dict:
        """Everything besides the picture and the seed that decides the output (model,
        steps, size, conditioning, precision), for the clip cache."""
        ...

    def generate(self, image: np.ndarray, seed: int, first_frame: np.ndarray | None = None) -> MotionClip:
        """One segment of motion starting from ``image`` (uint8 RGB). ``first_frame``
        continues an earlier segment from its last frame instead of the portrait."""
        ...
