"""Face landmarks for the studio: where the face, eyes and mouth of a portrait are.

The API process keeps one MediaPipe face mesh, made on first use (it takes a moment
and the API may never need it) and used by one thread at a time: MediaPipe's graph is
not thread-safe. The app closes it on shutdown. Workers keep their own detectors.

Requests waiting for the detector hold threads of the server's shared pool, so only a
few may wait (the rest answer "busy" at once), and answers are remembered by the
picture's content: a character page asks again for the same portraits on every visit.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any

import numpy as np

from ..face.landmarks import LOWER_LIP_OUTER, UPPER_LIP_OUTER, FaceLandmarks, FaceMeshDetector
from ..media.image import load_rgb

# With refine_landmarks the mesh ends with each iris: its centre, then four rim points.
IRIS_CENTERS = (468, 473)
MOUTH_OUTER = list(dict.fromkeys(UPPER_LIP_OUTER + LOWER_LIP_OUTER))
_DECIMALS = 2  # a hundredth of a pixel is finer than any drawing needs
MAX_WAITING = 4  # requests in or waiting for the detector; about a tenth of the thread pool
REMEMBERED = 256  # answers kept (about 30 KB each)


class FacesBusy(Exception):
    """Too many face requests are already waiting for the detector."""


class FaceFinder:
    """The API process's one face detector (see the module docstring)."""

    def __init__(self, min_face_width_px: int) -> None:
        self._min_face_width_px = min_face_width_px
        self._detector: FaceMeshDetector | None = None
        self._lock = threading.Lock()
        self._slots = threading.BoundedSemaphore(MAX_WAITING)
        self._answers: OrderedDict[str, dict[str, Any]] = OrderedDict()

    def find(self, image: Path, name: str = "the image") -> dict[str, Any]:
        """The picture's size and its largest face, as the API answers them (schemas.
        FaceOut); ``FaceError`` when there is no face or it is too small, ``FacesBusy``
        when too many requests are waiting already."""
        digest = hashlib.sha256(image.read_bytes()).hexdigest()
        with self._lock:
            if digest in self._answers:
                self._answers.move_to_end(digest)
                return self._answers[digest]
        if not self._slots.acquire(blocking=False):
            raise FacesBusy()
        try:
            rgb = load_rgb(image)  # EXIF rotation applied, as browsers show the picture
            with self._lock:
                if self._detector is None:
                    self._detector = FaceMeshDetector()
                face = self._detector.detect(rgb, min_face_width_px=self._min_face_width_px, name=name)
                answer = {"width": rgb.shape[1], "height": rgb.shape[0], "face": _face(face)}
                self._answers[digest] = answer
                if len(self._answers) > REMEMBERED:
                    self._answers.popitem(last=False)
        finally:
            self._slots.release()
        return answer

    def close(self) -> None:
        with self._lock:
            if self._detector is not None:
                self._detector.close()
                self._detector = None


def is_no_face(message: str) -> bool:
    """FaceMeshDetector.detect says "no face found in ..." when there is none and names
    the width when the face is too small: the API answers the two with different codes."""
    return message.startswith("no face")


def _face(face: FaceLandmarks) -> dict[str, Any]:
    points = face.points.astype(np.float64)
    return {
        "box": [round(value, _DECIMALS) for value in face.bbox],
        "landmarks": [_point(p) for p in points],
        "face_width_px": round(face.width_px, _DECIMALS),
        "eyes": sorted((_point(points[index]) for index in IRIS_CENTERS), key=lambda xy: xy[0]),
        "mouth": _point(points[MOUTH_OUTER].mean(axis=0)),
        "faces_found": face.faces_found,
    }


def _point(xy: np.ndarray) -> list[float]:
    return [round(float(xy[0]), _DECIMALS), round(float(xy[1]), _DECIMALS)]
