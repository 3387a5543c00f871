"""Word-by-word captions: pages of a few words, the spoken word highlighted.

Each (page, highlighted word) is drawn once with PIL into an RGBA overlay and cached;
the canvas blends it only when it changes or the head moves under it.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
from PIL import Image, ImageColor, ImageDraw, ImageFont

from ...errors import ConfigError
from ...media.canvas import Overlay
from ...models import CaptionStyle, Word
from .formats import FormatPreset

PAGE_GAP_HOLD_S = 0.6  # a page stays up through pauses shorter than this


@dataclass(frozen=True)
class CaptionPage:
    words: tuple[Word, ...]
    start_s: float
    end_s: float


def paginate(words: list[Word], max_words: int) -> list[CaptionPage]:
    pages: list[list[Word]] = []
    for word in words:
        current = pages[-1] if pages else None
        sentence_ended = current and current[-1].text[-1:] in ".!?"
        if current is None or len(current) >= max_words or sentence_ended:
            pages.append([word])
        else:
            current.append(word)
    result = []
    for i, page in enumerate(pages):
        end = page[-1].end_s
        if i + 1 < len(pages):
            next_start = pages[i + 1][0].start_s
            end = next_start if next_start - end < PAGE_GAP_HOLD_S else end + 0.2
        else:
            end += 0.4
        result.append(CaptionPage(tuple(page), page[0].start_s, end))
    return result


def default_font_path() -> Path:
    import matplotlib

    return Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans-Bold.ttf"


class CaptionRenderer:
    def __init__(self, words: list[Word], style: CaptionStyle, preset: FormatPreset) -> None:
        self.style = style
        self.pages = paginate(words, style.max_words) if style.enabled else []
        self.frame_w, self.frame_h = preset.size
        safe = preset.safe
        self.safe_box = (
            int(safe.left * self.frame_w),
            int(safe.top * self.frame_h),
            int((1 - safe.right) * self.frame_w),
            int((1 - safe.bottom) * self.frame_h),
        )
        self._size = max(12, int(style.size_ratio * self.frame_w))
        self._font_path = Path(style.font) if style.font else default_font_path()
        self._font_at = lru_cache(maxsize=16)(self._load_font)
        self._font_at(self._size)  # a bad font file fails now, not mid-render
        self.colors = tuple(ImageColor.getrgb(c) for c in (style.color, style.highlight_color, style.outline_color))
        self._sprite = lru_cache(maxsize=256)(self._draw)
        self._layout = lru_cache(maxsize=64)(self._fit)
        self._starts = np.array([p.start_s for p in self.pages])

    def state_at(self, t: float) -> tuple[int, int] | None:
        """(page index, highlighted word index) shown at time ``t``, or None."""
        index = int(np.searchsorted(self._starts, t, side="right")) - 1
        if index < 0 or t >= self.pages[index].end_s:
            return None
        page = self.pages[index]
        spoken = [i for i, w in enumerate(page.words) if w.start_s <= t]
        return index, (spoken[-1] if spoken else 0)

    def _load_font(self, size: int) -> ImageFont.FreeTypeFont:
        try:
            return ImageFont.truetype(str(self._font_path), size)
        except OSError:
            raise ConfigError(f"cannot load caption font {self._font_path}", hint="give a .ttf or .otf file") from None

    def _fit(self, page_index: int) -> tuple[ImageFont.FreeTypeFont, int, list[list[int]]]:
        """Font, outline width and lines: the font shrinks until the page fits the safe
        zone in at most two lines. Computed once per page, shared by its highlights."""
        page = self.pages[page_index]
        size = self._size
        while True:
            font = self._font_at(size)
            outline = max(1, int(self.style.outline_ratio * size))
            lines = self._lines(page, font, outline)
            max_w = self.safe_box[2] - self.safe_box[0]
            widest = max(font.getlength(self._text(w)) for w in page.words) + 4 * outline
            ascent, descent = font.getmetrics()
            tall = (ascent + descent) * 1.15 * len(lines) + 4 * outline
            if (len(lines) <= 2 and widest <= max_w and tall <= self.safe_box[3] - self.safe_box[1]) or size <= 12:
                return font, outline, lines
            size = int(size * 0.9)

    def _text(self, word: Word) -> str:
        return word.text.upper() if self.style.uppercase else word.text

    def _lines(self, page: CaptionPage, font: ImageFont.FreeTypeFont, outline: int) -> list[list[int]]:
        max_w = self.safe_box[2] - self.safe_box[0]
        lines: list[list[int]] = [[]]
        for i, word in enumerate(page.words):
            trial = " ".join(self._text(page.words[j]) for j in lines[-1] + [i])
            if lines[-1] and font.getlength(trial) + 2 * outline > max_w:
                lines.append([i])
            else:
                lines[-1].append(i)
        return lines

    def _draw(self, page_index: int, highlight: int) -> Overlay:
        """The page as an RGBA overlay at its place in the frame."""
        page = self.pages[page_index]
        font, outline_px, lines = self._layout(page_index)
        ascent, descent = font.getmetrics()
        line_h = int((ascent + descent) * 1.15)
        space = font.getlength(" ")
        widths = [sum(font.getlength(self._text(page.words[i])) for i in line) + space * (len(line) - 1) for line in lines]
        pad = outline_px * 2
        sprite_w = int(max(widths)) + 2 * pad
        sprite_h = line_h * len(lines) + 2 * pad
        image = Image.new("RGBA", (sprite_w, sprite_h), (0, 0, 0, 0))
        draw = ImageDraw.Draw(image)
        fill, accent, outline = self.colors
        for row, line in enumerate(lines):
            x = pad + (sprite_w - 2 * pad - widths[row]) / 2
            y = pad + row * line_h
            for i in line:
                text = self._text(page.words[i])
                color = accent if i == highlight else fill
                draw.text((x, y), text, font=font, fill=color + (255,), stroke_width=outline_px, stroke_fill=outline + (255,))
                x += font.getlength(text) + space
        left, top, right, bottom = self.safe_box
        x0 = int((self.frame_w - sprite_w) / 2)
        y0 = int(self.style.center_y_ratio * self.frame_h - sprite_h / 2)
        x0 = min(max(x0, left), max(left, right - sprite_w))
        y0 = min(max(y0, top), max(top, bottom - sprite_h))
        return Overlay(np.asarray(image), x0, y0)

    def sprite_box(self, page_index: int, highlight: int) -> tuple[int, int, int, int]:
        return self._sprite(page_index, highlight).rect

    def overlay_at(self, t: float) -> Overlay | None:
        """The caption shown at time ``t``; the same object for as long as it is unchanged."""
        state = self.state_at(t)
        return None if state is None else self._sprite(*state)
