"""Generated motion segments kept on disk, so re-rendering a character (another
script, format or caption style) does not pay for the same model calls again.

The key is each call's real input: the picture's pixels (the portrait, or the frame a
continued segment starts from), the seed and the backend's settings. A chain of
continued segments is therefore found segment by segment, and anything that changes
one segment misses only from there on.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

from ...cache import StageCache
from .base import MotionBackend, MotionClip

STAGE = "motion"
FILE = "frames.npz"


def image_digest(image: np.ndarray) -> str:
    array = np.ascontiguousarray(image)
    digest = hashlib.sha256(f"{array.dtype}{array.shape}".encode())
    digest.update(array.tobytes())
    return digest.hexdigest()


class CachedMotion:
    """A MotionBackend that asks ``backend`` only for segments not in ``cache``;
    ``hits`` and ``misses`` count the calls."""

    def __init__(self, backend: MotionBackend, cache: StageCache) -> None:
        self.backend = backend
        self.cache = cache
        self.name = backend.name
        self.frames_per_segment = backend.frames_per_segment
        self.required_models = backend.required_models
        self.hits = 0
        self.misses = 0

    def cache_identity(self) -> dict:
        return self.backend.cache_identity()

    def generate(self, image: np.ndarray, seed: int, first_frame: np.ndarray | None = None) -> MotionClip:
        made: list[MotionClip] = []

        def build(folder: Path) -> None:
            clip = self.backend.generate(image, seed, first_frame=first_frame)
            # Compressed: a 25-frame 576x1024 segment is 44 MB raw.
            np.savez_compressed(folder / FILE, frames=clip.frames, fps=np.float64(clip.fps))
            made.append(clip)

        inputs = {
            "backend": self.backend.cache_identity(),
            "image": image_digest(image),
            "first_frame": None if first_frame is None else image_digest(first_frame),
            "seed": int(seed),
        }
        folder, cached = self.cache.entry(STAGE, inputs, build)
        if not cached:
            self.misses += 1
            return made[0]
        self.hits += 1
        with np.load(folder / FILE) as stored:
            return MotionClip(stored["frames"], float(stored["fps"]))
