"""OUT.jpg: a cover image, one of the video's own frames with the title on it.

Profiles and search results show the cover, not the video. A frame that passes unseen in
motion (lids half shut, lips pressed on an "m", the jaw at its widest) looks broken as a
still, so the frame is chosen from the performance curves instead of at a fixed time.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import av
import numpy as np
from PIL import Image, ImageColor, ImageDraw, ImageFont
from scipy.ndimage import maximum_filter1d

from ...errors import ConfigError, MediaError
from ...media.canvas import Overlay
from ...models import CaptionStyle, Word
from ..perform.performance import Performance
from .captions import default_font_path
from .formats import FormatPreset

BLINK_MARGIN_FRAMES = 3  # lids move over a few frames around each blink's peak
OPEN_EYES_MAX_BLINK = 0.05
MAX_JAW_OPEN = 0.55  # wider reads as a shout on a still
MID_JAW_OPEN = 0.3
STRESS_MIN_BROW = 0.5  # the performer raises the brows on stressed words
JPEG_QUALITY = 90

TITLE_SIZE_RATIO = 0.09  # of the frame's shorter side: bigger than the captions
MIN_TITLE_SIZE_RATIO = 0.04
MAX_TITLE_LINES = 3
BOX_ALPHA = 255  # opaque: even a faint caption burned into the frame shows through a dark glass


def choose_cover_frame(performance: Performance, words: Sequence[Word], hidden: Sequence[tuple[int, int]] = ()) -> int:
    """The index of the best frame for a still: eyes open, mouth relaxed or mid-open,
    preferably in the first third and on a stressed word. ``hidden`` are frame ranges
    (start, end exclusive) where the face is not on screen: title cards, B-roll.

    Every frame gets a score; frames that break a rule are heavily penalised rather
    than excluded, so a clip without a single good frame still gets its least bad one.
    """
    count = performance.frame_count
    eyes_open = maximum_filter1d(performance.blink, 2 * BLINK_MARGIN_FRAMES + 1, mode="nearest") <= OPEN_EYES_MAX_BLINK
    # Lips on their way into or out of a closure are as awkward as the closure itself.
    closing = maximum_filter1d(performance.lip_close, 3, mode="nearest") > 0
    jaw = performance.jaw_open
    mouth_ok = ~closing & (jaw <= MAX_JAW_OPEN)
    times = np.arange(count) / performance.fps
    stressed = performance.brow_raise >= STRESS_MIN_BROW
    for word in words:
        if word.emphasis:
            stressed |= (times >= word.start_s) & (times < word.end_s)
    first_third = np.arange(count) < count / 3
    face_shown = np.ones(count, bool)
    for start, end in hidden:
        face_shown[max(0, start) : max(0, end)] = False
    score = (
        first_third.astype(float) + stressed - np.abs(jaw - MID_JAW_OPEN)
        - 20.0 * ~face_shown - 10.0 * ~eyes_open - 5.0 * ~mouth_ok
    )
    return int(np.argmax(score))


def decode_frame(video: Path, index: int, fps: int) -> np.ndarray:
    """Frame ``index`` of ``video`` as RGB: seek to the keyframe before it, decode forward."""
    try:
        with av.open(str(video)) as container:
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"
            start_s = float(stream.start_time * stream.time_base) if stream.start_time is not None else 0.0
            target_s = start_s + index / fps
            container.seek(int(target_s / stream.time_base), stream=stream, backward=True)
            for frame in container.decode(stream):
                if frame.time is not None and frame.time >= target_s - 0.5 / fps:
                    return frame.to_ndarray(format="rgb24")
    except (av.FFmpegError, IndexError) as exc:
        raise MediaError(f"cannot decode frame {index} of {video}: {exc}") from None
    raise MediaError(f"{video} has no frame {index}")


def title_overlay(title: str, preset: FormatPreset, style: CaptionStyle) -> Overlay:
    """The title in the caption's font and colours on a dark rounded box, in at most
    three lines, inside the safe zone where the style puts the captions.

    The box spans the safe zone's width and is at least as tall as a two-line caption,
    so the caption burned into the chosen frame does not show around the title.
    """
    x0, y0, x1, y1 = preset.safe_rect
    short_side = min(preset.size)
    font_path = Path(style.font) if style.font else default_font_path()
    size = int(TITLE_SIZE_RATIO * short_side)
    pad = max(8, size // 3)
    while True:
        font = _font(font_path, size)
        outline = max(1, int(style.outline_ratio * size))
        width = x1 - x0 - 2 * pad - 2 * outline
        lines = _wrap(title, font, width)
        fits = len(lines) <= MAX_TITLE_LINES and all(font.getlength(line) <= width for line in lines)
        if fits or size <= MIN_TITLE_SIZE_RATIO * short_side:
            break
        size = int(size * 0.9)
    lines = lines[: MAX_TITLE_LINES - 1] + [" ".join(lines[MAX_TITLE_LINES - 1 :])]
    lines = [line if font.getlength(line) <= width else _fit_line(line, font, width) for line in lines]
    ascent, descent = font.getmetrics()
    line_h = int((ascent + descent) * 1.1)
    text_h = line_h * len(lines) + 2 * outline
    box_h = min(y1 - y0, max(text_h, _caption_height(font_path, style, preset)) + 2 * pad)
    box_w = x1 - x0
    image = Image.new("RGBA", (box_w, box_h), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle((0, 0, box_w - 1, box_h - 1), radius=pad, fill=(0, 0, 0, BOX_ALPHA))
    fill, stroke = ImageColor.getrgb(style.color), ImageColor.getrgb(style.outline_color)
    top = (box_h - text_h) // 2 + outline
    for row, line in enumerate(lines):
        x = (box_w - font.getlength(line)) / 2
        draw.text((x, top + row * line_h), line, font=font, fill=fill[:3] + (255,), stroke_width=outline, stroke_fill=stroke[:3] + (255,))
    if style.position == "top":
        top_y = y0
    elif style.position == "bottom":
        top_y = y1 - box_h
    else:
        centre_y = (y0 + y1) // 2 if style.position == "center" else int(style.center_y_ratio * preset.height)
        top_y = min(max(centre_y - box_h // 2, y0), y1 - box_h)
    return Overlay(np.asarray(image), x0, top_y)


def write_cover(video: Path, out_path: Path, frame_index: int, fps: int, title: str, preset: FormatPreset, style: CaptionStyle) -> None:
    """Decode the chosen frame, put the title on it and save it as a JPEG of the video's size."""
    frame = decode_frame(video, frame_index, fps)
    if title:
        title_overlay(title, preset, style).blend_into(frame)
    try:
        Image.fromarray(frame).save(out_path, format="JPEG", quality=JPEG_QUALITY, optimize=True)
    except OSError as exc:
        raise MediaError(f"cannot write the cover {out_path}: {exc}") from None


def _font(path: Path, size: int) -> ImageFont.FreeTypeFont:
    try:
        return ImageFont.truetype(str(path), size)
    except OSError:
        raise ConfigError(f"cannot load caption font {path}", hint="give a .ttf or .otf file") from None


def _wrap(text: str, font: ImageFont.FreeTypeFont, max_width: float) -> list[str]:
    lines: list[str] = []
    for word in text.split():
        if lines and font.getlength(f"{lines[-1]} {word}") <= max_width:
            lines[-1] = f"{lines[-1]} {word}"
        else:
            lines.append(word)
    return lines


def _fit_line(text: str, font: ImageFont.FreeTypeFont, max_width: float) -> str:
    """``text`` cut word by word (a long word letter by letter) until it fits with "…"."""
    while text and font.getlength(text + "…") > max_width:
        text = text.rsplit(" ", 1)[0] if " " in text else text[:-1]
    return text.rstrip(" ,;:-–—") + "…"


def _caption_height(font_path: Path, style: CaptionStyle, preset: FormatPreset) -> int:
    """About how tall a two-line caption of this style is, to hide it under the box."""
    if not style.enabled:
        return 0
    size = max(12, int(style.size_ratio * preset.width))
    ascent, descent = _font(font_path, size).getmetrics()
    return int(2 * (ascent + descent) * 1.15 + 4 * style.outline_ratio * size)
