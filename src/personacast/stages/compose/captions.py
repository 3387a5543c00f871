"""Word-by-word captions: pages of a few words, the spoken word highlighted.

Each (page, highlighted word) is drawn once with PIL into an RGBA overlay and cached;
the canvas blends it only when it changes or the head moves under it. What the
highlight does not change (layout, box, shadow, outlines, emoji) is made once per page.

Every caption, box and shadow included, lies inside the format's safe zone: a page
wraps onto a second line, then its font shrinks, until it fits.

Emoji come from Noto Color Emoji, a bitmap font that FreeType draws only at 109 px:
each emoji is drawn there once, scaled to the caption size and pasted between the
words. Without that font they are left out (see ``caption_warnings``), never drawn as
empty boxes.
"""

from __future__ import annotations

import bisect
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path

import numpy as np
from PIL import Image, ImageColor, ImageDraw, ImageFilter, ImageFont

from ...errors import ConfigError
from ...media.canvas import Overlay
from ...models import CaptionStyle, Word
from .formats import FormatPreset

PAGE_GAP_HOLD_S = 0.6  # a page stays up through pauses shorter than this
LINE_SPACING = 1.15
EDGE_MARGIN_RATIO = 0.03  # top/bottom captions keep this far (of the height) off the safe zone's edge
EMOJI_FONT_PATH = Path("/usr/share/fonts/truetype/noto/NotoColorEmoji.ttf")
EMOJI_FONT_PX = 109  # the one size the font's bitmaps are drawn at

# One style for the whole video, or (start_s, style) pairs in time order: each style
# captions the words that start at or after its start (one pair per scene).
CaptionStyles = CaptionStyle | Sequence[tuple[float, CaptionStyle]]

# Symbols below U+1F000 shown as emoji even without U+FE0F (Unicode's
# Emoji_Presentation); from U+1F000 on, every pictograph is taken for an emoji.
_EMOJI_PRESENTATION_BMP = (
    "\u231a\u231b\u23e9-\u23ec\u23f0\u23f3\u25fd\u25fe\u2614\u2615\u2648-\u2653\u267f\u2693\u26a1\u26aa\u26ab"
    "\u26bd\u26be\u26c4\u26c5\u26ce\u26d4\u26ea\u26f2\u26f3\u26f5\u26fa\u26fd\u2705\u270a\u270b\u2728\u274c"
    "\u274e\u2753-\u2755\u2757\u2795-\u2797\u27b0\u27bf\u2b1b\u2b1c\u2b50\u2b55"
)
_SKIN_TONE = "[\U0001f3fb-\U0001f3ff]"
_EMOJI_PART = rf"(?:[{_EMOJI_PRESENTATION_BMP}\U0001f000-\U0001faff]\ufe0f?|[^\w\s]\ufe0f){_SKIN_TONE}?"
_EMOJI_RE = re.compile(
    r"[0-9#*]\ufe0f?\u20e3"  # keycaps
    r"|[\U0001f1e6-\U0001f1ff]{2}"  # flags
    r"|\U0001f3f4[\U000e0020-\U000e007e]+\U000e007f"  # England, Scotland, Wales
    rf"|{_EMOJI_PART}(?:\u200d[^\w\s]\ufe0f?{_SKIN_TONE}?)*"  # ZWJ sequences join parts
)
_INVISIBLE = dict.fromkeys(map(ord, "\ufe0e\ufe0f\u200d"))  # selectors and joiners: boxes in a text font

Run = tuple[str, bool]  # text, is an emoji
Ink = int | tuple[int, ...]  # a colour, or a level on a mask


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


class EmojiFont:
    """The colour emoji font, at its one bitmap size, and the characters it has."""

    def __init__(self, path: Path) -> None:
        from fontTools.ttLib import TTFont

        self.font = ImageFont.truetype(str(path), EMOJI_FONT_PX)
        self.ascent, self.descent = self.font.getmetrics()
        self._codepoints = frozenset(TTFont(path, lazy=True)["cmap"].getBestCmap())
        self.image = lru_cache(maxsize=256)(self._image)

    def draws(self, cluster: str) -> bool:
        return all(ord(c) in self._codepoints for c in cluster.translate(_INVISIBLE))

    def _image(self, cluster: str, size: int) -> Image.Image:
        """``cluster`` as tall as text of font size ``size``, ascent at the top."""
        big = Image.new("RGBA", (math.ceil(self.font.getlength(cluster)), self.ascent + self.descent))
        ImageDraw.Draw(big).text((0, 0), cluster, font=self.font, embedded_color=True)
        scale = size / EMOJI_FONT_PX
        return big.resize((max(1, round(big.width * scale)), max(1, round(big.height * scale))), Image.Resampling.LANCZOS)


@lru_cache(maxsize=4)
def emoji_font(path: Path) -> EmojiFont | None:
    from fontTools.ttLib import TTLibError

    try:
        return EmojiFont(path)
    except (OSError, TTLibError):
        return None


def split_emoji(text: str, emoji: EmojiFont | None) -> tuple[tuple[Run, ...], list[str]]:
    """(the text and emoji runs to draw, the emoji that cannot be drawn)."""
    if text.isascii():
        return ((text, False),), []
    runs: list[Run] = []
    dropped: list[str] = []
    at = 0
    for match in [*_EMOJI_RE.finditer(text), None]:
        plain = text[at : match.start() if match else len(text)].translate(_INVISIBLE)
        if plain:
            runs.append((plain, False))
        if match:
            cluster = match.group()
            if emoji and emoji.draws(cluster):
                runs.append((cluster, True))
            else:
                dropped.append(cluster)
            at = match.end()
    return tuple(runs), dropped


def caption_warnings(words: Sequence[Word], styles: CaptionStyles) -> list[str]:
    """Why some emoji will be missing from the captions, if they will be."""
    emoji = emoji_font(EMOJI_FONT_PATH)
    dropped = [
        cluster for style, group in _by_style(words, styles) if style.enabled for w in group for cluster in split_emoji(w.text, emoji)[1]
    ]
    if not dropped:
        return []
    reason = "not in the colour emoji font" if emoji else f"no colour emoji font at {EMOJI_FONT_PATH} (install fonts-noto-color-emoji)"
    return [f"{len(dropped)} emoji left out of the captions ({' '.join(dict.fromkeys(dropped))}): {reason}"]


def _by_style(words: Sequence[Word], styles: CaptionStyles) -> list[tuple[CaptionStyle, list[Word]]]:
    """Consecutive words that share a style, with it."""
    schedule = [(0.0, styles)] if isinstance(styles, CaptionStyle) else list(styles)
    starts = [start for start, _ in schedule]
    groups: list[tuple[int, list[Word]]] = []
    for word in words:
        index = max(0, bisect.bisect_right(starts, word.start_s) - 1)
        if groups and groups[-1][0] == index:
            groups[-1][1].append(word)
        else:
            groups.append((index, [word]))
    return [(schedule[index][1], group) for index, group in groups]


class _Look:
    """A style made concrete for one frame width: font, colours, base size."""

    def __init__(self, style: CaptionStyle, frame_w: int) -> None:
        self.style = style
        self.size = max(12, int(style.size_ratio * frame_w))
        self._font_path = Path(style.font) if style.font else default_font_path()
        self.font_at = lru_cache(maxsize=16)(self._load_font)
        self.font_at(self.size)  # a bad font file fails now, not mid-render
        self.fill, self.accent, self.outline, self.shadow = (
            ImageColor.getcolor(c, "RGBA") for c in (style.color, style.highlight_color, style.outline_color, style.shadow_color)
        )
        self.box = ImageColor.getcolor(style.box_color, "RGBA") if style.box_color else None
        self.has_shadow = style.shadow_offset_ratio > 0 or style.shadow_blur_ratio > 0

    def _load_font(self, size: int) -> ImageFont.FreeTypeFont:
        try:
            return ImageFont.truetype(str(self._font_path), size)
        except OSError:
            raise ConfigError(f"cannot load caption font {self._font_path}", hint="give a .ttf or .otf file") from None

    def margins(self, size: int) -> tuple[int, int]:
        """How far box and shadow reach before (left, top) and after (right, bottom) the text."""
        style = self.style
        pad = round(style.box_padding_ratio * size) if self.box else 0
        if not self.has_shadow:
            return pad, pad
        offset, reach = self.shadow_offset(size), math.ceil(3 * style.shadow_blur_ratio * size)
        return max(pad, reach - offset, 0), max(pad, offset + reach)

    def shadow_offset(self, size: int) -> int:
        return round(self.style.shadow_offset_ratio * size)


@dataclass(frozen=True)
class _Layout:
    """A page fitted into the safe zone; coordinates are in the sprite."""

    font: ImageFont.FreeTypeFont
    size: int
    outline: int
    runs: tuple[tuple[int, str, bool, int, int], ...]  # word index, text, is emoji, x, baseline y
    text_box: tuple[int, int, int, int]  # the lines and their outlines: x0, y0, x1, y1
    width: int
    height: int
    x0: int  # where the sprite goes in the frame
    y0: int
    background: Image.Image | None = None  # see _background; set once the layout fits


class CaptionRenderer:
    def __init__(self, words: Sequence[Word], styles: CaptionStyles, preset: FormatPreset) -> None:
        self.frame_w, self.frame_h = preset.size
        safe = preset.safe
        self.safe_box = (
            int(safe.left * self.frame_w),
            int(safe.top * self.frame_h),
            int((1 - safe.right) * self.frame_w),
            int((1 - safe.bottom) * self.frame_h),
        )
        self._emoji = emoji_font(EMOJI_FONT_PATH)
        looks: dict[CaptionStyle, _Look] = {}
        self.pages: list[CaptionPage] = []
        self._looks: list[_Look] = []
        for style, group in _by_style(words, styles):
            if not style.enabled:
                continue
            if style not in looks:
                looks[style] = _Look(style, self.frame_w)
            look = looks[style]
            shown = [w for w in group if split_emoji(w.text, self._emoji)[0]]
            for page in paginate(shown, style.max_words):
                self.pages.append(page)
                self._looks.append(look)
        self._starts = np.array([p.start_s for p in self.pages])
        # States come in time order, so a few cached suffice; a sprite can take megabytes.
        self._layout = lru_cache(maxsize=8)(self._fit)
        self._sprite = lru_cache(maxsize=16)(self._draw)

    def state_at(self, t: float) -> tuple[int, int] | None:
        """(page index, highlighted word index) shown at time ``t``, or None."""
        index = int(np.searchsorted(self._starts, t, side="right")) - 1
        if index < 0 or t >= self.pages[index].end_s:
            return None
        page = self.pages[index]
        spoken = [i for i, w in enumerate(page.words) if w.start_s <= t]
        return index, (spoken[-1] if spoken else 0)

    def _fit(self, page_index: int) -> _Layout:
        """The page at the largest size up to the style's that fits the safe zone,
        wrapped onto up to ``max_lines`` lines. Made once per page, shared by its highlights."""
        page, look = self.pages[page_index], self._looks[page_index]
        words = [self._word_runs(w.text, look.style.uppercase) for w in page.words]
        left, top, right, bottom = self.safe_box
        size = look.size
        while True:
            layout = self._arrange(words, look, size)
            if (layout.width <= right - left and layout.height <= bottom - top) or size == 1:
                return replace(layout, background=self._background(layout, look))
            shrink = min((right - left) / layout.width, (bottom - top) / layout.height)
            size = max(1, min(size - 1, int(size * shrink)))

    def _word_runs(self, text: str, uppercase: bool) -> tuple[Run, ...]:
        runs = split_emoji(text, self._emoji)[0]
        return tuple((t, True) if emoji else (t.upper() if uppercase else t, False) for t, emoji in runs)

    def _arrange(self, words: list[tuple[Run, ...]], look: _Look, size: int) -> _Layout:
        font = look.font_at(size)
        outline = int(look.style.outline_ratio * size)
        pad = 2 * outline + 1  # strokes and glyph overhangs reach past the advance
        ascent, descent = font.getmetrics()
        if self._emoji and any(emoji for runs in words for _, emoji in runs):
            scale = size / EMOJI_FONT_PX
            ascent, descent = max(ascent, round(self._emoji.ascent * scale)), max(descent, round(self._emoji.descent * scale))
        line_h = int((ascent + descent) * LINE_SPACING)
        space = font.getlength(" ")
        widths = [sum(self._run_width(run, font, size) for run in runs) for runs in words]
        before, after = look.margins(size)
        lines = _wrap(widths, space, self.safe_box[2] - self.safe_box[0] - 2 * pad - before - after, look.style.max_lines)
        line_widths = [sum(widths[a:b]) + space * (b - a - 1) for a, b in lines]
        text_w = int(max(line_widths)) + 2 * pad
        text_h = line_h * (len(lines) - 1) + ascent + descent + 2 * pad
        width, height = text_w + before + after, text_h + before + after
        runs = []
        for row, (a, b) in enumerate(lines):
            x = before + pad + (text_w - 2 * pad - line_widths[row]) / 2
            baseline = before + pad + row * line_h + ascent
            for i in range(a, b):
                for text, emoji in words[i]:
                    runs.append((i, text, emoji, round(x), baseline))
                    x += self._run_width((text, emoji), font, size)
                x += space
        x0, y0 = self._place(look, width, height, before + text_w / 2, before + text_h / 2)
        return _Layout(font, size, outline, tuple(runs), (before, before, before + text_w, before + text_h), width, height, x0, y0)

    def _run_width(self, run: Run, font: ImageFont.FreeTypeFont, size: int) -> float:
        text, emoji = run
        return self._emoji.image(text, size).width if emoji else font.getlength(text)

    def _place(self, look: _Look, width: int, height: int, text_cx: float, text_cy: float) -> tuple[int, int]:
        """The sprite's top left in the frame: the text centred across the frame at the
        style's height, then moved into the safe zone."""
        left, top, right, bottom = self.safe_box
        margin = int(EDGE_MARGIN_RATIO * self.frame_h)
        position = look.style.position
        if position == "top":
            y0 = top + margin
        elif position == "bottom":
            y0 = bottom - margin - height
        else:
            center = (top + bottom) / 2 if position == "center" else look.style.center_y_ratio * self.frame_h
            y0 = int(center - text_cy)
        x0 = int(self.frame_w / 2 - text_cx)
        return min(max(x0, left), max(left, right - width)), min(max(y0, top), max(top, bottom - height))

    def _background(self, layout: _Layout, look: _Look) -> Image.Image:
        """All that the highlight leaves alone: box, shadow, outlines and emoji."""
        image = Image.new("RGBA", (layout.width, layout.height), (0, 0, 0, 0))
        if look.box:
            pad = round(look.style.box_padding_ratio * layout.size)
            x0, y0, x1, y1 = layout.text_box
            box_w, box_h = x1 - x0 + 2 * pad, y1 - y0 + 2 * pad
            coverage = _rounded_rect(box_w, box_h, look.style.box_radius_ratio * layout.size)
            box = np.empty((box_h, box_w, 4), np.uint8)
            box[..., :3] = look.box[:3]
            box[..., 3] = np.round(coverage * look.box[3])
            image.paste(Image.fromarray(box), (x0 - pad, y0 - pad))
        if look.has_shadow:
            mask = Image.new("L", image.size, 0)
            self._draw_shapes(mask, layout, 255, offset=look.shadow_offset(layout.size))
            blur = look.style.shadow_blur_ratio * layout.size
            if blur > 0:
                mask = mask.filter(ImageFilter.GaussianBlur(blur))
            shadow = Image.new("RGBA", image.size, look.shadow[:3] + (0,))
            shadow.putalpha(mask.point(lambda v: v * look.shadow[3] // 255))
            image.alpha_composite(shadow)
        self._draw_shapes(image, layout, look.outline)
        return image

    def _draw_shapes(self, image: Image.Image, layout: _Layout, ink: Ink, offset: int = 0) -> None:
        """Words with their outlines in ``ink`` and emoji: in colour on an RGBA image,
        as solid shapes on a mask. On the caption, the words' fills go on top."""
        draw = ImageDraw.Draw(image)
        for _, text, emoji, x, baseline in layout.runs:
            x, baseline = x + offset, baseline + offset
            if not emoji:
                # Without an outline only a mask needs the words: fills in ``ink`` under
                # the real fills would darken their antialiased edges.
                if layout.outline or image.mode == "L":
                    draw.text((x, baseline), text, font=layout.font, fill=ink, anchor="ls", stroke_width=layout.outline, stroke_fill=ink)
                continue
            sprite = self._emoji.image(text, layout.size)
            top = baseline - round(self._emoji.ascent * layout.size / EMOJI_FONT_PX)
            if image.mode == "L":
                image.paste(ink, (x, top, x + sprite.width, top + sprite.height), sprite.getchannel("A"))
            else:
                image.alpha_composite(sprite, (x, top))

    def _draw(self, page_index: int, highlight: int) -> Overlay:
        """The page as an RGBA overlay at its place in the frame."""
        layout, look = self._layout(page_index), self._looks[page_index]
        image = layout.background.copy()
        draw = ImageDraw.Draw(image)
        # Outlines are in the background already; a stroke costs twice the fill.
        for index, text, emoji, x, baseline in layout.runs:
            if not emoji:
                draw.text((x, baseline), text, font=layout.font, fill=look.accent if index == highlight else look.fill, anchor="ls")
        return Overlay(np.asarray(image), layout.x0, layout.y0)

    def sprite_box(self, page_index: int, highlight: int) -> tuple[int, int, int, int]:
        return self._sprite(page_index, highlight).rect

    def overlay_at(self, t: float) -> Overlay | None:
        """The caption shown at time ``t``; the same object for as long as it is unchanged."""
        state = self.state_at(t)
        return None if state is None else self._sprite(*state)


def _wrap(widths: list[float], space: float, max_width: float, max_lines: int) -> list[tuple[int, int]]:
    """Word ranges, one per line: one line if it fits, else the two-line split whose
    longer line is shortest (possibly still too wide: then the font shrinks)."""
    count = len(widths)

    def span(a: int, b: int) -> float:
        return sum(widths[a:b]) + space * (b - a - 1)

    if max_lines == 1 or count == 1 or span(0, count) <= max_width:
        return [(0, count)]
    split = min(range(1, count), key=lambda k: max(span(0, k), span(k, count)))
    return [(0, split), (split, count)]


def _rounded_rect(width: int, height: int, radius: float) -> np.ndarray:
    """Coverage (0..1) of a rounded rectangle filling width x height, its corners antialiased."""
    radius = min(max(radius, 0.5), width / 2, height / 2)
    dx = np.maximum(np.abs(np.arange(width) + 0.5 - width / 2) - (width / 2 - radius), 0)
    dy = np.maximum(np.abs(np.arange(height) + 0.5 - height / 2) - (height / 2 - radius), 0)
    return np.clip(radius + 0.5 - np.hypot(dx[None, :], dy[:, None]), 0, 1)
