"""One protocol per stage. Backends implement one of these; the pipeline only sees these."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

import numpy as np

from ..models import OutputProperties, RenderSpec, SceneSpan, Timeline, VoiceProfile, VoiceTrack
from .compose.formats import FormatPreset
from .perform.performance import Performance


class VoiceEngine(Protocol):
    """Text -> audio file + word/phone timeline."""

    name: str

    def synthesize(self, text: str, profile: VoiceProfile, out_wav: Path) -> VoiceTrack: ...

    def cache_identity(self, profile: VoiceProfile) -> str:
        """What besides the text and profile decides the audio (model file, version)."""
        ...


class Performer(Protocol):
    """Timeline -> per-frame face controls (mouth, blinks, head)."""

    def perform(self, timeline: Timeline, fps: int, frame_count: int, seed: int, intensity: float) -> Performance: ...


class Animator(Protocol):
    """Portrait + performance -> RGB frames of the output size, one at a time."""

    def frames(
        self, scenes: list[SceneSpan], performance: Performance, size: tuple[int, int]
    ) -> Iterator[np.ndarray]: ...


class Composer(Protocol):
    """Frames + voice -> the finished, encoded video file."""

    def compose(
        self,
        frames: Iterator[np.ndarray],
        frame_count: int,
        voice: VoiceTrack,
        preset: FormatPreset,
        spec: RenderSpec,
        out_path: Path,
        on_frame=None,
    ) -> OutputProperties: ...
