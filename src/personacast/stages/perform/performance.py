"""Per-frame face controls: the contract between the performer and the animators."""

from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path

import numpy as np


@dataclass
class Performance:
    """One value per output frame for each control (all float32 arrays of equal length).

    jaw_open 0..1 (rest..widest vowel), lip_width -1..1 (rounded..spread),
    lip_close 0..1 (1 = lips pressed together), blink 0..1 (1 = lids shut),
    head_* in degrees / fractions of the face width, brow_raise 0..1.
    """

    fps: int
    jaw_open: np.ndarray
    lip_width: np.ndarray
    lip_close: np.ndarray
    blink: np.ndarray
    head_pitch_deg: np.ndarray
    head_yaw_deg: np.ndarray
    head_roll_deg: np.ndarray
    head_dx: np.ndarray
    head_dy: np.ndarray
    brow_raise: np.ndarray

    @property
    def frame_count(self) -> int:
        return int(self.jaw_open.size)

    @classmethod
    def at_rest(cls, fps: int, frame_count: int, **curves) -> "Performance":
        """``frame_count`` frames with every control at rest (0) but the ``curves`` given,
        each ``frame_count`` values long: poses chosen by hand, for stills and tests."""
        names = [f.name for f in fields(cls) if f.name != "fps"]
        unknown = sorted(set(curves) - set(names))
        if unknown:
            raise TypeError(f"unknown controls {unknown}; a Performance has {names}")
        values = {name: np.asarray(curves.get(name, np.zeros(frame_count)), np.float32) for name in names}
        wrong = sorted(name for name, value in values.items() if value.shape != (frame_count,))
        if wrong:
            raise ValueError(f"{wrong} must have {frame_count} values each")
        return cls(fps=fps, **values)

    def _curves(self) -> dict[str, np.ndarray]:
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name != "fps"}

    def save(self, path: Path) -> None:
        with path.open("wb") as handle:
            np.savez(handle, fps=np.array(self.fps), **self._curves())

    @classmethod
    def load(cls, path: Path) -> "Performance":
        with np.load(path) as data:
            return cls(fps=int(data["fps"]), **{f.name: data[f.name] for f in fields(cls) if f.name != "fps"})
