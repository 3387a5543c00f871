"""Editing on the animator's frame stream: transitions between scenes, B-roll, title cards.

The animator gives one frame per video frame for the speaking scenes; this module
inserts intro and outro cards around them, blends the first frames of a scene into the
last frame of the one before (crossfade) or eases them in from a closer framing (zoom),
and shows B-roll pictures or clips, with slow pan/zoom, over chosen stretches of a scene
while the voice goes on. Plain frames pass through untouched, so a video without these
costs nothing extra; a transition or B-roll frame is a whole new frame (a few ms).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from ...errors import MediaError
from ...media.canvas import FramePatch
from ...media.image import cover_fit, load_rgb
from ...models import BRoll, Card, CaptionStyle, SceneSpan, Script
from .formats import FormatPreset

TRANSITION_S = 0.3
ZOOM_TRANSITION_SCALE = 1.12  # the incoming scene starts this much closer and eases out
KEN_BURNS_SCALE = 1.15  # B-roll moves across this much extra picture
VIDEO_SUFFIXES = frozenset({".mp4", ".mov", ".m4v", ".webm", ".mkv", ".avi"})


@dataclass(frozen=True)
class BRollWindow:
    broll: BRoll
    start_frame: int
    end_frame: int  # exclusive


@dataclass(frozen=True)
class EditPlan:
    """What to do to which frames, in output frame numbers."""

    frame_count: int
    intro: Card | None = None
    intro_frames: int = 0
    outro: Card | None = None
    outro_frames: int = 0
    transitions: tuple[tuple[int, str], ...] = ()  # (first frame of a scene, kind)
    broll: tuple[BRollWindow, ...] = ()

    @property
    def is_plain(self) -> bool:
        return not (self.intro_frames or self.outro_frames or self.broll or any(k != "cut" for _, k in self.transitions))


def check_broll(broll: BRoll) -> None:
    """Fail before rendering if a B-roll file cannot be used."""
    if broll.path.suffix.lower() in VIDEO_SUFFIXES:
        _ClipReader(broll.path, (16, 16), 30).close()
    else:
        load_rgb(broll.path)


def edit_frames(
    frames: Iterator[FramePatch], plan: EditPlan, preset: FormatPreset, fps: int, title_style: CaptionStyle,
    portrait_still: np.ndarray | None = None,
) -> Iterator[FramePatch]:
    """The finished picture sequence: ``plan.frame_count`` frames."""
    if plan.is_plain:
        yield from frames
        return
    if plan.intro is not None:
        yield from _hold(render_card(plan.intro, preset, title_style, portrait_still), plan.intro_frames)
    transitions = dict(plan.transitions)
    span = max(1, round(TRANSITION_S * fps))
    held: np.ndarray | None = None  # the last frame before a crossfade
    started: tuple[int, str] | None = None
    readers: dict[BRollWindow, _BRollSource] = {}
    last_output: FramePatch | None = None
    index = plan.intro_frames
    for frame in frames:
        kind = transitions.get(index)
        if kind and kind != "cut":
            started = (index, kind)
            held = last_output.full() if last_output is not None and kind == "crossfade" else None
        window = next((w for w in plan.broll if w.start_frame <= index < w.end_frame), None)
        if window is not None:
            source = readers.setdefault(window, _BRollSource(window, preset.size, fps))
            out = _whole(source.frame(index))
        elif started and index - started[0] < span:
            progress = (index - started[0] + 1) / (span + 1)
            out = _whole(_transition(frame, started[1], progress, held))
        else:
            out = frame
        for finished in [w for w in readers if index + 1 >= w.end_frame]:
            readers.pop(finished).close()
        last_output = out
        yield out
        index += 1
    for reader in readers.values():
        reader.close()
    if plan.outro is not None:
        yield from _hold(render_card(plan.outro, preset, title_style, portrait_still), plan.outro_frames)


def render_card(card: Card, preset: FormatPreset, style: CaptionStyle, portrait_still: np.ndarray | None) -> np.ndarray:
    """A title card: the card's background (colour or picture; default the first
    portrait, blurred and darkened) with its text set like the cover's title."""
    from .cover import title_overlay

    width, height = preset.size
    if card.background.startswith("#"):
        from PIL import ImageColor

        rgb = np.empty((height, width, 3), np.uint8)
        rgb[:] = ImageColor.getrgb(card.background)[:3]
    else:
        picture = load_rgb(Path(card.background)) if card.background != "portrait" else portrait_still
        if picture is None:
            picture = np.full((height, width, 3), 16, np.uint8)
        rgb = cover_fit(picture, (width, height))
        if card.background == "portrait":
            rgb = (cv2.GaussianBlur(rgb, (0, 0), max(width, height) / 60) * 0.55).astype(np.uint8)
    if card.text.strip():
        title_overlay(card.text, preset, style).blend_into(rgb)
    return rgb


def _hold(rgb: np.ndarray, count: int) -> Iterator[FramePatch]:
    still = FramePatch(rgb, rgb[:2, :2], 0, 0)  # the same background: nothing to redraw
    for _ in range(count):
        yield still


def _whole(rgb: np.ndarray) -> FramePatch:
    return FramePatch(rgb, rgb[:2, :2], 0, 0)


def _ease(t: float) -> float:
    return t * t * (3 - 2 * t)


def _transition(frame: FramePatch, kind: str, progress: float, held: np.ndarray | None) -> np.ndarray:
    current = frame.full()
    if kind == "crossfade":
        if held is None:
            return current
        return cv2.addWeighted(held, 1.0 - _ease(progress), current, _ease(progress), 0.0)
    scale = ZOOM_TRANSITION_SCALE - (ZOOM_TRANSITION_SCALE - 1.0) * _ease(progress)
    height, width = current.shape[:2]
    # Zoom about the upper-middle, where the framing puts the face.
    matrix = cv2.getRotationMatrix2D((width / 2, 0.4 * height), 0.0, scale)
    return cv2.warpAffine(current, matrix, (width, height), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)


class _BRollSource:
    """Frames of one B-roll window: a picture with slow pan/zoom, or a clip."""

    def __init__(self, window: BRollWindow, size: tuple[int, int], fps: int) -> None:
        self.window, self.size = window, size
        broll = window.broll
        self._clip = _ClipReader(broll.path, size, fps) if broll.path.suffix.lower() in VIDEO_SUFFIXES else None
        if self._clip is None:
            width, height = size
            big = (round(width * KEN_BURNS_SCALE), round(height * KEN_BURNS_SCALE))
            self._picture = cover_fit(load_rgb(broll.path), big)

    def frame(self, index: int) -> np.ndarray:
        if self._clip is not None:
            return self._clip.next_frame()
        length = max(1, self.window.end_frame - self.window.start_frame - 1)
        t = _ease(min(1.0, (index - self.window.start_frame) / length))
        return _ken_burns(self._picture, self.size, self.window.broll.motion, t)

    def close(self) -> None:
        if self._clip is not None:
            self._clip.close()


def _ken_burns(picture: np.ndarray, size: tuple[int, int], motion: str, t: float) -> np.ndarray:
    width, height = size
    big_h, big_w = picture.shape[:2]
    if motion in ("zoom_in", "zoom_out"):
        zoom = t if motion == "zoom_in" else 1.0 - t
        crop_w = big_w - (big_w - width) * zoom
        crop_h = big_h - (big_h - height) * zoom
        x0, y0 = (big_w - crop_w) / 2, (big_h - crop_h) / 2
    else:
        crop_w, crop_h = width, height
        travel = big_w - width
        x0 = travel * (1.0 - t) if motion == "pan_left" else travel * t if motion == "pan_right" else travel / 2
        y0 = (big_h - height) / 2
    matrix = np.array([[crop_w / width, 0, x0], [0, crop_h / height, y0]], dtype=np.float64)
    return cv2.warpAffine(picture, matrix, (width, height), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                          borderMode=cv2.BORDER_REFLECT)


class _ClipReader:
    """A video clip's frames at the output rate, cover-fitted; the last frame holds if
    the clip is shorter than its window."""

    def __init__(self, path: Path, size: tuple[int, int], fps: int) -> None:
        import av

        self.size, self.fps = size, fps
        self._shown = 0
        self._last: np.ndarray | None = None
        try:
            self._container = av.open(str(path))
            if not self._container.streams.video:
                raise MediaError(f"B-roll {path} has no video stream", hint="give a picture or a video clip")
            self._frames = self._container.decode(video=0)
            self._pending = self._decode_next()
        except MediaError:
            raise
        except (av.error.FFmpegError, ValueError, FileNotFoundError) as exc:
            raise MediaError(f"cannot read B-roll clip {path}: {exc}".splitlines()[0]) from None
        if self._pending is None:
            raise MediaError(f"B-roll clip {path} has no frames")

    def _decode_next(self):
        try:
            return next(self._frames)
        except StopIteration:
            return None

    def next_frame(self) -> np.ndarray:
        """The clip frame on screen at the next output frame's time."""
        t = self._shown / self.fps
        self._shown += 1
        while self._pending is not None and (self._pending.time or 0.0) <= t + 1e-6:
            self._last = cover_fit(self._pending.to_ndarray(format="rgb24"), self.size)
            self._pending = self._decode_next()
        if self._last is None:
            self._last = np.zeros((self.size[1], self.size[0], 3), np.uint8)
        return self._last

    def close(self) -> None:
        self._container.close()


def plan_edit(script: Script, spans: list[SceneSpan], fps: int, frame_count: int) -> EditPlan:
    """Frame numbers for the script's cards, transitions and B-roll. ``spans`` are the
    scenes' times in the finished video (cards included), one per scene."""

    def frame(t: float) -> int:
        return min(frame_count, max(0, int(round(t * fps))))

    intro_frames = frame(script.intro.duration_s) if script.intro else 0
    outro_frames = frame_count - frame(spans[-1].end_s) if script.outro else 0
    transitions = tuple(
        (frame(span.start_s), scene.transition) for scene, span in zip(script.scenes[1:], spans[1:])
    )
    windows = []
    for scene, span in zip(script.scenes, spans):
        for broll in scene.broll:
            start = span.start_s + broll.start_s
            end = span.end_s if broll.duration_s is None else min(span.end_s, start + broll.duration_s)
            if frame(end) > frame(start):
                windows.append(BRollWindow(broll, frame(start), frame(end)))
    return EditPlan(frame_count, script.intro, intro_frames, script.outro, outro_frames, transitions, tuple(windows))
