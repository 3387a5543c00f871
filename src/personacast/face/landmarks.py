"""Face landmarks (MediaPipe face mesh, 478 points) found once per source image."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from ..errors import FaceError, MissingDependencyError

# Indices into the 478-point mesh that the animators use.
UPPER_LIP_OUTER = [61, 185, 40, 39, 37, 0, 267, 269, 270, 409, 291]
LOWER_LIP_OUTER = [61, 146, 91, 181, 84, 17, 314, 405, 321, 375, 291]
UPPER_LIP_INNER = [78, 191, 80, 81, 82, 13, 312, 311, 310, 415, 308]
LOWER_LIP_INNER = [78, 95, 88, 178, 87, 14, 317, 402, 318, 324, 308]
RIGHT_EYE_UPPER = [33, 246, 161, 160, 159, 158, 157, 173, 133]
RIGHT_EYE_LOWER = [33, 7, 163, 144, 145, 153, 154, 155, 133]
LEFT_EYE_UPPER = [263, 466, 388, 387, 386, 385, 384, 398, 362]
LEFT_EYE_LOWER = [263, 249, 390, 373, 374, 380, 381, 382, 362]
RIGHT_BROW = [70, 63, 105, 66, 107, 46, 53, 52, 65, 55]
LEFT_BROW = [300, 293, 334, 296, 336, 276, 283, 282, 295, 285]
LOWER_JAW = [172, 136, 150, 149, 176, 148, 152, 377, 400, 378, 379, 365, 397]
NOSE = [1, 2, 4, 5, 6, 98, 327, 195, 197, 168, 48, 278, 64, 294]
CHEEKS = [234, 454, 93, 323, 132, 361, 116, 345, 123, 352, 50, 280, 205, 425]
FACE_OVAL = [10, 338, 297, 332, 284, 251, 389, 356, 454, 323, 361, 288, 397, 365, 379, 378, 400, 377,
             152, 148, 176, 149, 150, 136, 172, 58, 132, 93, 234, 127, 162, 21, 54, 103, 67, 109]
CHIN = 152
UPPER_LIP_CENTER_INNER = 13
LOWER_LIP_CENTER_INNER = 14
MOUTH_CORNERS = (61, 291)
EYE_OUTER_CORNERS = (33, 263)


@dataclass(frozen=True)
class FaceLandmarks:
    points: np.ndarray  # (478, 2) float32, pixel coordinates (x, y)
    image_size: tuple[int, int]  # (width, height)
    faces_found: int

    @property
    def bbox(self) -> tuple[float, float, float, float]:
        xs, ys = self.points[:, 0], self.points[:, 1]
        return float(xs.min()), float(ys.min()), float(xs.max()), float(ys.max())

    @property
    def width_px(self) -> float:
        x0, _, x1, _ = self.bbox
        return x1 - x0

    @property
    def eye_distance_px(self) -> float:
        a, b = EYE_OUTER_CORNERS
        return float(np.linalg.norm(self.points[a] - self.points[b]))

    def transformed(self, matrix: np.ndarray, image_size: tuple[int, int]) -> "FaceLandmarks":
        """The same landmarks after a 2x3 affine transform of the image."""
        pts = self.points @ matrix[:, :2].T + matrix[:, 2]
        return FaceLandmarks(pts.astype(np.float32), image_size, self.faces_found)


def inner_lip_gap(points: np.ndarray) -> float:
    """Distance between the inner lips at the centre, in pixels."""
    return float(np.linalg.norm(points[LOWER_LIP_CENTER_INNER] - points[UPPER_LIP_CENTER_INNER]))


class FaceMeshDetector:
    """Wraps MediaPipe's face mesh; one instance may be reused for many images."""

    def __init__(self, max_faces: int = 4, min_confidence: float = 0.5) -> None:
        try:
            from mediapipe.python.solutions import face_mesh
        except ImportError as exc:
            raise MissingDependencyError("landmark_warp", "core", "mediapipe") from exc
        with _native_stderr_silenced():
            self._mesh = face_mesh.FaceMesh(
                static_image_mode=True,
                refine_landmarks=True,
                max_num_faces=max_faces,
                min_detection_confidence=min_confidence,
            )

    def close(self) -> None:
        self._mesh.close()

    def __enter__(self) -> "FaceMeshDetector":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _detect_window(self, rgb: np.ndarray, x0: int, y0: int) -> list[np.ndarray]:
        height, width = rgb.shape[:2]
        with _native_stderr_silenced():
            result = self._mesh.process(np.ascontiguousarray(rgb))
        return [
            np.array([(p.x * width + x0, p.y * height + y0) for p in face.landmark], dtype=np.float32)
            for face in (result.multi_face_landmarks or [])
        ]

    def detect_all(self, rgb: np.ndarray) -> list[np.ndarray]:
        """Every face found; small faces in wide or large images are searched in windows.

        The detector sees a downscaled copy of its input, so a face that is small
        relative to the whole picture is missed; square windows give it more pixels.
        """
        height, width = rgb.shape[:2]
        faces = self._detect_window(rgb, 0, 0)
        side = min(width, height)
        for window in (side, side // 2):
            if faces or window < 128:
                break
            for y0 in _starts(height, window):
                for x0 in _starts(width, window):
                    found = self._detect_window(rgb[y0 : y0 + window, x0 : x0 + window], x0, y0)
                    faces += [f for f in found if not any(_same_face(f, g) for g in faces)]
        return faces

    def detect(self, rgb: np.ndarray, *, min_face_width_px: int = 48, name: str = "image") -> FaceLandmarks:
        """The largest face; raises FaceError when there is none or it is too small."""
        faces = self.detect_all(rgb)
        if not faces:
            raise FaceError(
                f"no face found in {name}",
                hint="use a well-lit, front-facing portrait where the whole face is visible",
            )
        widths = [float(f[:, 0].max() - f[:, 0].min()) for f in faces]
        best = int(np.argmax(widths))
        if widths[best] < min_face_width_px:
            raise FaceError(
                f"the face in {name} is only {widths[best]:.0f} px wide",
                hint=f"use a closer or larger portrait (face at least {min_face_width_px} px wide)",
            )
        height, width = rgb.shape[:2]
        return FaceLandmarks(faces[best], (width, height), len(faces))


def _starts(length: int, window: int) -> list[int]:
    if length <= window:
        return [0]
    count = int(np.ceil((length - window) / (window / 2))) + 1
    return sorted({int(round(v)) for v in np.linspace(0, length - window, count)})


def _same_face(a: np.ndarray, b: np.ndarray) -> bool:
    """Overlapping windows find one face twice; the same face has nearby centres."""
    size = float(a[:, 0].max() - a[:, 0].min())
    return float(np.linalg.norm(a.mean(0) - b.mean(0))) < 0.3 * size


@contextlib.contextmanager
def _native_stderr_silenced() -> Iterator[None]:
    """MediaPipe's C++ side prints TFLite/absl start-up chatter straight to fd 2."""
    try:
        fd = sys.stderr.fileno()
    except (AttributeError, OSError, ValueError):  # stderr replaced (tests, notebooks)
        yield
        return
    sys.stderr.flush()
    saved = os.dup(fd)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), fd)
            yield
    finally:
        os.dup2(saved, fd)
        os.close(saved)
