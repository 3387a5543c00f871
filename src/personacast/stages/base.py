"""One protocol per stage. Backends implement one of these; the pipeline only sees these."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

from ..media.canvas import FramePatch
from ..models import Logo, MusicReport, MusicSpec, RenderSpec, Timeline, VoiceProfile, VoiceTrack
from .compose.captions import CaptionStyles
from .compose.formats import FormatPreset
from .perform.performance import Performance
from .voice.utterance import SpeechRequest, Utterance
from .write.written import WriteResult, WritingBrief


class VoiceEngine(Protocol):
    """Spoken text -> audio (+ timings when the engine knows them). One file per engine
    in stages/voice/; ``narrate.py`` turns utterances into a track and timeline.

    Engines are built with the ``Settings``; ``max_chunk_chars`` is how much text (whole
    sentences) the narrator puts into one request.
    """

    name: str
    max_chunk_chars: int

    def speak(self, request: SpeechRequest, profile: VoiceProfile) -> Utterance: ...

    def cache_identity(self, profile: VoiceProfile) -> str:
        """What besides the text and profile decides the audio (model file, version)."""
        ...


class Performer(Protocol):
    """Timeline -> per-frame face controls (mouth, blinks, head)."""

    def perform(self, timeline: Timeline, fps: int, frame_count: int, seed: int, intensity: float) -> Performance: ...


class Animator(Protocol):
    """Portrait + performance -> frames of the output size, one at a time, each a patch
    over its scene's still background (see media.canvas).

    An animator that needs the speech itself (a lip-sync model) also has
    ``use_voice(voice: VoiceTrack)``, which the pipeline calls once the voice is made,
    before ``frames``; frame i is the moment i/fps of that audio."""

    def prepare(self, image_path: Path, frame_size: tuple[int, int], zoom: float = 1.0, background: str = "blur"):
        """Load the portrait and find the face; raises on bad input before slow work starts.
        ``zoom`` > 1 frames the face closer; ``background`` fills around a narrow portrait."""
        ...

    def frames(self, scenes: list, performance: Performance) -> Iterator[FramePatch]:
        """Frames for each (prepared portrait, start_frame, end_frame) plan, in order."""
        ...


class Composer(Protocol):
    """Frames + voice -> the finished, encoded video file."""

    def compose(
        self,
        frames: Iterator[FramePatch],
        frame_count: int,
        voice: VoiceTrack,
        captions: CaptionStyles,
        preset: FormatPreset,
        spec: RenderSpec,
        out_path: Path,
        on_frame=None,
        character_name: str = "unnamed",
        music: MusicSpec | None = None,
        logo: Logo | None = None,
    ) -> MusicReport | None:
        """Writes the video; returns what was measured on the music mixed under the voice."""
        ...


class ScriptWriter(Protocol):
    """A topic and a persona -> a script fitted to the brief's duration that passed the
    content rules (ContentError otherwise). One file per backend in stages/write/; built
    with the ``Settings`` and an optional model name."""

    name: str

    def write(self, brief: WritingBrief) -> WriteResult: ...
