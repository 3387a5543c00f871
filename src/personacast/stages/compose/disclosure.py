"""The on-screen "AI-generated" label and the matching MP4 metadata.

Platforms and several jurisdictions ask for synthetic media to be labelled; the label is
on by default and sits in the top-left corner inside the preset's safe zone, small and
half-transparent so it informs without competing with the captions.
"""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from ...media.canvas import Overlay
from .captions import default_font_path
from .formats import FormatPreset

DEFAULT_LABEL = "AI-generated"
TEXT_SHARE_OF_WIDTH = 0.026  # of the frame's shorter side
MAX_LABEL_CHARS = 60


def disclosure_overlay(text: str, preset: FormatPreset) -> Overlay:
    """A rounded dark box with the label, placed inside the safe zone's top-left corner."""
    width, height = preset.size
    size = max(12, int(TEXT_SHARE_OF_WIDTH * min(width, height)))
    font = ImageFont.truetype(str(default_font_path()), size)
    left, top, right, bottom = font.getbbox(text)
    pad = size // 2
    box_w, box_h = int(right - left) + 2 * pad, int(bottom - top) + 2 * pad
    image = Image.new("RGBA", (box_w, box_h), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle((0, 0, box_w - 1, box_h - 1), radius=pad, fill=(0, 0, 0, 110))
    draw.text((pad - left, pad - top), text, font=font, fill=(255, 255, 255, 230))
    margin = size // 2
    x0 = int(preset.safe.left * width) + margin
    y0 = int(preset.safe.top * height) + margin
    return Overlay(np.asarray(image), x0, y0)


def provenance_metadata(label: str | None, character_name: str) -> dict[str, str]:
    """MP4 tags that say how the video was made, readable by ffprobe and most players."""
    made = f"made with personacast for the character {character_name}"
    if label:
        return {"comment": f"{label}: {made}", "description": f"AI-generated video ({made})", "encoder": "personacast"}
    return {"comment": made.capitalize(), "encoder": "personacast"}
