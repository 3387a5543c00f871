"""Follow one face through a moving clip: landmarks on every frame, steady over time.

The detector runs on each frame on its own (MediaPipe's still-image mode), so its
answers jitter by about half a pixel even on a still face, and it misses now and
then. The track fills misses from the neighbouring frames and smooths the rest with
a One-Euro filter run forwards and backwards: at low speed the cut-off is low (a
still face stays still), at high speed it rises (a moving face is not dragged
behind), and averaging the two directions cancels the lag a one-way filter has.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from ...errors import FaceError
from ...face import landmarks as lm
from ...face.landmarks import FaceLandmarks, FaceMeshDetector

# A clip where the face is missing from more frames than this is refused: filling
# gaps that long would invent motion rather than smooth it.
MIN_FOUND_SHARE = 0.5
# Points that move with the skull, not with the mouth or eyelids: what a per-frame
# head transform is fitted to.
RIGID_POINTS = [33, 133, 362, 263, 168, 6, 197, 195, 5, 4, 1, 234, 454, 127, 356, 10]


@dataclass(frozen=True)
class OneEuro:
    """Cut-offs in Hz; speed in eye distances per second.

    Jitter of a still face falls under ``min_cutoff``; a head turning at one eye
    distance a second raises the cut-off by ``beta`` Hz, so motion passes unsmoothed.
    """

    min_cutoff: float = 1.5
    beta: float = 2.0
    speed_cutoff: float = 1.0


@dataclass(frozen=True)
class FaceTrack:
    """The face in every frame of a clip, in the clip's pixel coordinates."""

    points: np.ndarray  # (N, 478, 2) float32, smoothed and gap-filled
    found: np.ndarray  # (N,) bool: the detector saw the face in this frame
    frame_size: tuple[int, int]  # (width, height)
    faces_found: int  # most faces seen in one frame

    def landmarks(self, index: int) -> FaceLandmarks:
        return FaceLandmarks(self.points[index], self.frame_size, self.faces_found)

    def transformed(self, matrix: np.ndarray, frame_size: tuple[int, int]) -> "FaceTrack":
        """The same track after one 2x3 affine transform of every frame."""
        points = (self.points @ matrix[:, :2].T + matrix[:, 2]).astype(np.float32)
        return FaceTrack(points, self.found, frame_size, self.faces_found)

    def head_transforms(self, reference: np.ndarray) -> np.ndarray:
        """(N, 2, 3) similarity transforms taking ``reference`` landmarks (478, 2) onto
        each frame's face, fitted to the rigid points only."""
        return np.stack([similarity(reference[RIGID_POINTS], frame[RIGID_POINTS]) for frame in self.points])


def track_face(
    frames: Iterable[np.ndarray],
    fps: float,
    *,
    name: str = "clip",
    min_face_width_px: int = 48,
    smoothing: OneEuro = OneEuro(),
    detector: FaceMeshDetector | None = None,
) -> FaceTrack:
    """Detect, pick, fill and smooth the face through ``frames`` (uint8 RGB, one size).

    The face followed is the largest in the first frame that has one, then in each
    frame the face nearest to where it was last seen (another face walking past does
    not steal the track). Raises FaceError when it is missing from most frames.
    """
    own_detector = detector is None
    detector = detector or FaceMeshDetector()
    raw: list[np.ndarray | None] = []
    frame_size = (0, 0)
    faces_found = 0
    last: np.ndarray | None = None
    try:
        for frame in frames:
            frame_size = (frame.shape[1], frame.shape[0])
            faces = detector.detect_all(frame)
            faces_found = max(faces_found, len(faces))
            if not faces:
                raw.append(None)
                continue
            if last is None:
                chosen = max(faces, key=_width)
            else:
                chosen = min(faces, key=lambda f: float(np.linalg.norm(f.mean(0) - last.mean(0))))
            raw.append(chosen)
            last = chosen
    finally:
        if own_detector:
            detector.close()
    found = np.array([p is not None for p in raw], bool)
    if not found.any():
        raise FaceError(f"no face found in {name}", hint="use a clip where a front-facing face is visible throughout")
    if found.mean() < MIN_FOUND_SHARE:
        raise FaceError(
            f"the face in {name} is lost in {int((~found).sum())} of its {len(found)} frames",
            hint="use a clip where the face stays visible, lit and turned towards the camera",
        )
    width = float(np.median([_width(p) for p in raw if p is not None]))
    if width < min_face_width_px:
        raise FaceError(
            f"the face in {name} is only {width:.0f} px wide",
            hint=f"use a closer or larger clip (face at least {min_face_width_px} px wide)",
        )
    points = smooth(fill_gaps(raw), fps, smoothing)
    return FaceTrack(points, found, frame_size, faces_found)


def fill_gaps(raw: list[np.ndarray | None]) -> np.ndarray:
    """(N, P, 2): missing frames interpolated linearly between the nearest found ones,
    held at the first or last found one before or after them."""
    found = np.array([p is not None for p in raw])
    known = np.flatnonzero(found)
    stacked = np.stack([raw[i] for i in known]).astype(np.float64)
    if len(known) == len(raw):
        return stacked
    times = np.arange(len(raw))
    flat = stacked.reshape(len(known), -1)
    filled = np.empty((len(raw), flat.shape[1]))
    for column in range(flat.shape[1]):
        filled[:, column] = np.interp(times, known, flat[:, column])
    return filled.reshape(len(raw), *stacked.shape[1:])


def smooth(points: np.ndarray, fps: float, params: OneEuro = OneEuro()) -> np.ndarray:
    """Zero-lag One-Euro smoothing of (N, P, 2) landmarks: the mean of a forward and a
    backward pass. All points of a frame share one cut-off (from the face's overall
    speed), so the face is smoothed as a whole and keeps its shape."""
    points = np.asarray(points, np.float64)
    if len(points) < 3:
        return points.astype(np.float32)
    scale = float(np.median(np.linalg.norm(points[:, lm.EYE_OUTER_CORNERS[0]] - points[:, lm.EYE_OUTER_CORNERS[1]], axis=1)))
    normalised = points / max(scale, 1.0)
    # Each pass starts cold at its first frame; continuing the motion past both ends
    # (point reflection) lets them settle first, so the ends get no lag either.
    pad = min(len(points) - 1, max(1, int(round(fps / 2))))
    head = 2 * normalised[0] - normalised[pad:0:-1]
    tail = 2 * normalised[-1] - normalised[-2 : -pad - 2 : -1]
    extended = np.concatenate([head, normalised, tail])
    forward = _one_euro(extended, fps, params)
    backward = _one_euro(extended[::-1], fps, params)[::-1]
    return ((forward + backward)[pad : pad + len(points)] / 2 * max(scale, 1.0)).astype(np.float32)


def _one_euro(x: np.ndarray, fps: float, params: OneEuro) -> np.ndarray:
    out = np.empty_like(x)
    out[0] = x[0]
    speed = 0.0
    speed_alpha = _alpha(params.speed_cutoff, fps)
    for i in range(1, len(x)):
        raw_speed = float(np.sqrt(np.mean(np.sum((x[i] - out[i - 1]) ** 2, axis=-1)))) * fps
        speed += speed_alpha * (raw_speed - speed)
        alpha = _alpha(params.min_cutoff + params.beta * speed, fps)
        out[i] = out[i - 1] + alpha * (x[i] - out[i - 1])
    return out


def _alpha(cutoff_hz: float, fps: float) -> float:
    tau = 1.0 / (2 * math.pi * cutoff_hz)
    return 1.0 / (1.0 + tau * fps)


def similarity(source: np.ndarray, target: np.ndarray) -> np.ndarray:
    """The least-squares rotation + uniform scale + shift taking ``source`` points
    (K, 2) onto ``target`` points, as a 2x3 matrix (Umeyama without reflection)."""
    src = np.asarray(source, np.float64)
    dst = np.asarray(target, np.float64)
    src_mean, dst_mean = src.mean(0), dst.mean(0)
    s, d = src - src_mean, dst - dst_mean
    # As complex numbers the best similarity is one complex factor: sum(conj(s) d) / sum(|s|^2).
    sc, dc = s[:, 0] + 1j * s[:, 1], d[:, 0] + 1j * d[:, 1]
    factor = np.sum(np.conj(sc) * dc) / max(float(np.sum(np.abs(sc) ** 2)), 1e-12)
    a, b = factor.real, factor.imag
    linear = np.array([[a, -b], [b, a]])
    shift = dst_mean - linear @ src_mean
    return np.hstack([linear, shift[:, None]])


def _width(points: np.ndarray) -> float:
    return float(points[:, 0].max() - points[:, 0].min())
