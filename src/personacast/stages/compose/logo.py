"""A logo watermark in a corner of the safe zone, drawn once and blended per frame."""

from __future__ import annotations

import numpy as np
from PIL import Image, UnidentifiedImageError

from ...errors import ImageError
from ...media.canvas import Overlay, overlaps
from ...models import Logo
from .formats import FormatPreset

MARGIN_OF_WIDTH = 0.02


def logo_overlay(logo: Logo, preset: FormatPreset, avoid: Overlay | None = None) -> Overlay:
    """The logo scaled to its share of the frame width, at ``opacity``, in its corner;
    moved below (or above) ``avoid`` (the AI label) when both want the same corner."""
    try:
        with Image.open(logo.path) as image:
            rgba = image.convert("RGBA")
    except FileNotFoundError:
        raise ImageError(f"logo not found: {logo.path}", hint="check the logo path in character.yaml") from None
    except (UnidentifiedImageError, OSError) as exc:
        raise ImageError(f"cannot read the logo {logo.path}: {exc}".splitlines()[0], hint="use a PNG with transparency") from None
    width, height = preset.size
    x0, y0, x1, y1 = preset.safe_rect
    target_w = max(8, round(logo.width_ratio * width))
    target_h = max(1, round(rgba.height * target_w / rgba.width))
    target_h = min(target_h, (y1 - y0) // 4)  # a tall logo never covers the face
    target_w = max(8, round(rgba.width * target_h / rgba.height))
    pixels = np.asarray(rgba.resize((target_w, target_h), Image.LANCZOS)).copy()
    pixels[..., 3] = (pixels[..., 3].astype(np.float32) * logo.opacity).astype(np.uint8)
    margin = round(MARGIN_OF_WIDTH * width)
    left = logo.position.endswith("left")
    top = logo.position.startswith("top")
    x = x0 + margin if left else x1 - margin - target_w
    y = y0 + margin if top else y1 - margin - target_h
    overlay = Overlay(pixels, x, y)
    if avoid is not None and overlaps(overlay.rect, avoid.rect):
        ax0, ay0, ax1, ay1 = avoid.rect
        y = ay1 + margin // 2 if top else ay0 - margin // 2 - target_h
        overlay = Overlay(pixels, x, y)
    return overlay
