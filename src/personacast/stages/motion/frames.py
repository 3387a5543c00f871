"""Frames in and out of the image-to-video models (numpy only).

The models take one picture at their own resolution and give back floats in [0, 1];
everything else in the project speaks uint8 RGB arrays.
"""

from __future__ import annotations

import numpy as np

from ...errors import ImageError
from ...media.image import cover_fit


def check_rgb(image: np.ndarray, what: str = "image") -> np.ndarray:
    array = np.asarray(image)
    if array.dtype != np.uint8 or array.ndim != 3 or array.shape[2] != 3:
        raise ImageError(f"the {what} for image-to-video must be uint8 RGB (H, W, 3), got {array.dtype} {array.shape}",
                         hint="load pictures with personacast.media.image.load_rgb")
    return array


def orient(image: np.ndarray, long_side: int, short_side: int) -> tuple[int, int]:
    """(width, height) for the model: portrait pictures get a portrait frame. Both
    orientations have the same pixel count, so the cost is the same, and a tall
    picture keeps its head and shoulders instead of losing two thirds to a crop."""
    height, width = image.shape[:2]
    return (short_side, long_side) if height > width else (long_side, short_side)


def fit(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Scale to cover ``size`` (width, height) and crop the middle; unchanged if it
    already has that size (a continued segment's last frame)."""
    if image.shape[1] == size[0] and image.shape[0] == size[1]:
        return image
    return cover_fit(image, size)


def to_uint8(frames: np.ndarray) -> np.ndarray:
    """A pipeline's float frames in [0, 1] as uint8, rounded (not truncated, which would
    darken every frame by half a level)."""
    return np.clip(np.rint(np.asarray(frames, dtype=np.float32) * 255.0), 0, 255).astype(np.uint8)
