"""Frames as changes to a still background, turned into I420 one changed rectangle at a time.

A talking-head frame differs from its scene's still portrait only around the head, and
the caption changes a few times a second. Converting and blending only those
rectangles, instead of the whole 1080x1920 frame, is most of what keeps the frame
producer cheaper than the encoder it feeds.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

Rect = tuple[int, int, int, int]  # x0, y0, x1, y1, end exclusive


@dataclass(frozen=True)
class FrameChanges:
    """Where a frame differs from the frame whose token is ``after`` (the one its
    animator made just before it): ``rects``, in frame coordinates."""

    after: object
    rects: tuple[Rect, ...]


@dataclass(frozen=True)
class FramePatch:
    """One video frame: ``background`` with ``patch`` pasted at (x0, y0).

    Every frame of a scene shares the same ``background`` array, which is how a
    consumer knows that nothing outside the patch changed. An animator may draw into
    the same few patch buffers again: a frame stays valid until the one after next
    is drawn, so a consumer that keeps frames longer copies them.

    An animator that knows what it redrew gives each frame a ``token`` and, where it
    can, the ``changes`` since its previous frame: a consumer that showed that frame
    last updates only those rectangles.
    """

    background: np.ndarray
    patch: np.ndarray
    x0: int
    y0: int
    token: object | None = None
    changes: FrameChanges | None = None

    @property
    def rect(self) -> Rect:
        h, w = self.patch.shape[:2]
        return self.x0, self.y0, self.x0 + w, self.y0 + h

    def full(self) -> np.ndarray:
        """The whole RGB frame, for tests and previews."""
        frame = self.background.copy()
        x0, y0, x1, y1 = self.rect
        frame[y0:y1, x0:x1] = self.patch
        return frame


class Overlay:
    """An RGBA image to alpha-blend at (x0, y0); premultiplied once, blended many times."""

    def __init__(self, rgba: np.ndarray, x0: int, y0: int) -> None:
        self.rgba = rgba
        self.x0, self.y0 = x0, y0
        alpha = cv2.merge([rgba[..., 3]] * 3)
        # Rounded to nearest, the same as (rgb * alpha + 127) // 255 (255 is odd, so no ties).
        self._premultiplied = cv2.multiply(np.ascontiguousarray(rgba[..., :3]), alpha, scale=1 / 255)
        self._keep = np.subtract(255, alpha, dtype=np.uint8)

    @property
    def rect(self) -> Rect:
        h, w = self.rgba.shape[:2]
        return self.x0, self.y0, self.x0 + w, self.y0 + h

    def blend_into(self, frame: np.ndarray) -> None:
        x0, y0, x1, y1 = _clip(self.rect, frame.shape)
        if x1 <= x0 or y1 <= y0:
            return
        region = frame[y0:y1, x0:x1]
        sx, sy = x0 - self.x0, y0 - self.y0
        h, w = region.shape[:2]
        cv2.multiply(region, self._keep[sy : sy + h, sx : sx + w], dst=region, scale=1 / 255)
        cv2.add(region, self._premultiplied[sy : sy + h, sx : sx + w], dst=region)


class I420Canvas:
    """Keeps the last frame in RGB and I420 and updates only what changed.

    ``render`` returns a (height * 3 / 2, width) I420 view of an internal buffer that
    the next call overwrites: copy it before then. A copy made after render number
    ``version`` is brought up to date by copying only ``changed_since(version)``.
    """

    # Renders whose changed rectangles are remembered: more than the frames a producer
    # keeps in flight ahead of its encoder.
    HISTORY = 16

    def __init__(self, size: tuple[int, int]) -> None:
        width, height = size
        if width % 2 or height % 2:
            raise ValueError(f"I420 needs an even frame size, got {width}x{height}")
        self.size = size
        self._rgb = np.zeros((height, width, 3), np.uint8)
        self._i420 = np.zeros(width * height * 3 // 2, np.uint8)
        self._y, self._u, self._v = i420_planes(self._i420, width, height)
        self._background: np.ndarray | None = None
        self._last_patch: Rect | None = None
        self._last_overlays: list[Overlay] = []
        self._last_token: object | None = None
        self.version = 0  # renders so far
        self._changed: deque[tuple[Rect, ...]] = deque(maxlen=self.HISTORY)

    def changed_since(self, version: int) -> list[Rect] | None:
        """The rectangles (even edges) the renders after render ``version`` rewrote, or
        None when that is further back than the canvas remembers."""
        back = self.version - version
        if not 0 <= back <= len(self._changed):
            return None
        recent = list(self._changed)[len(self._changed) - back :]
        return list(dict.fromkeys(rect for rects in recent for rect in rects))

    def render(self, frame: FramePatch, overlays: Sequence[Overlay] = ()) -> np.ndarray:
        """The frame with ``overlays`` blended on top, in order, as I420."""
        background = frame.background
        if background.shape != self._rgb.shape:
            raise ValueError(f"frame is {background.shape[1]}x{background.shape[0]}, canvas is {self.size[0]}x{self.size[1]}")
        overlays = [o for o in overlays if o is not None]
        patch_rect = _clip(frame.rect, self._rgb.shape)
        dirty: list[Rect] = []
        if background is not self._background:
            self._background = background
            self._last_patch, self._last_overlays, self._last_token = None, [], None
            dirty.append((0, 0, *self.size))
        changes = frame.changes
        if changes is not None and changes.after is not None and changes.after is self._last_token and self._last_patch == patch_rect:
            dirty += [_clip(rect, self._rgb.shape) for rect in changes.rects]
        else:
            dirty.append(patch_rect)
        if self._last_patch and self._last_patch != patch_rect:
            dirty.append(self._last_patch)
        dirty += [o.rect for o in self._last_overlays if not any(o is n for n in overlays)]
        dirty += [o.rect for o in overlays if not any(o is p for p in self._last_overlays)]
        # An overlay touching a dirty area is restored and blended again whole (blending
        # twice over the same pixels would darken its edges), which can dirty others.
        redraw = [False] * len(overlays)
        changed = True
        while changed:
            changed = False
            for i, overlay in enumerate(overlays):
                if not redraw[i] and any(overlaps(overlay.rect, r) for r in dirty):
                    redraw[i], changed = True, True
                    dirty.append(overlay.rect)
        dirty = list(dict.fromkeys(dirty))
        for rect in dirty:
            x0, y0, x1, y1 = _clip(rect, self._rgb.shape)
            # Inside the patch the patch overwrites every pixel: restoring the background
            # first would copy the largest area of the frame twice.
            if not contains(patch_rect, (x0, y0, x1, y1)):
                self._rgb[y0:y1, x0:x1] = background[y0:y1, x0:x1]
            self._paste(frame, (max(x0, patch_rect[0]), max(y0, patch_rect[1]), min(x1, patch_rect[2]), min(y1, patch_rect[3])))
        for overlay, again in zip(overlays, redraw):
            if again:
                overlay.blend_into(self._rgb)
        converted = [self._convert(rect) for rect in dirty]
        self._changed.append(tuple(rect for rect in converted if rect is not None))
        self.version += 1
        self._last_patch, self._last_overlays, self._last_token = patch_rect, overlays, frame.token
        return self._i420.reshape(-1, self.size[0])

    def _paste(self, frame: FramePatch, rect: Rect) -> None:
        """The part of the frame's patch inside ``rect`` (frame coordinates)."""
        x0, y0, x1, y1 = rect
        if x1 > x0 and y1 > y0:
            self._rgb[y0:y1, x0:x1] = frame.patch[y0 - frame.y0 : y1 - frame.y0, x0 - frame.x0 : x1 - frame.x0]

    def _convert(self, rect: Rect) -> Rect | None:
        """Converts ``rect`` and returns the rectangle of I420 it rewrote, if any.

        Chroma is subsampled 2x2, so the rectangle snaps outwards to even edges; that
        makes the result identical to converting the whole frame.
        """
        x0, y0, x1, y1 = _clip(rect, self._rgb.shape)
        x0, y0 = x0 & ~1, y0 & ~1
        x1, y1 = min(self.size[0], x1 + (x1 & 1)), min(self.size[1], y1 + (y1 & 1))
        if x1 <= x0 or y1 <= y0:
            return None
        y, u, v = i420_planes(cv2.cvtColor(self._rgb[y0:y1, x0:x1], cv2.COLOR_RGB2YUV_I420), x1 - x0, y1 - y0)
        self._y[y0:y1, x0:x1] = y
        self._u[y0 // 2 : y1 // 2, x0 // 2 : x1 // 2] = u
        self._v[y0 // 2 : y1 // 2, x0 // 2 : x1 // 2] = v
        return x0, y0, x1, y1


def i420_planes(i420: np.ndarray, width: int, height: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Views of the Y, U and V planes of a packed I420 buffer (any shape) of that size."""
    flat = i420.reshape(-1)
    luma, chroma = width * height, width * height // 4
    return (
        flat[:luma].reshape(height, width),
        flat[luma : luma + chroma].reshape(height // 2, width // 2),
        flat[luma + chroma : luma + 2 * chroma].reshape(height // 2, width // 2),
    )


def _clip(rect: Rect, shape: tuple[int, ...]) -> Rect:
    x0, y0, x1, y1 = rect
    height, width = shape[:2]
    return max(0, x0), max(0, y0), min(width, x1), min(height, y1)


def contains(outer: Rect, inner: Rect) -> bool:
    return outer[0] <= inner[0] and outer[1] <= inner[1] and inner[2] <= outer[2] and inner[3] <= outer[3]


def overlaps(a: Rect, b: Rect) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]
