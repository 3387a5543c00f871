"""Typed data that flows between the stages. Units are in field names."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from .errors import ConfigError

Quality = Literal["preview", "final"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SpeechTextOptions(_Model):
    """How script text that is written to be read is said (see text/normalize.py)."""

    hashtags: Literal["speak", "words", "skip"] = "speak"
    handles: Literal["speak", "skip"] = "speak"
    urls: Literal["speak", "skip"] = "speak"
    date_order: Literal["mdy", "dmy"] = "mdy"
    acronyms: list[str] = []  # extra ALL-CAPS words spelled letter by letter
    default_pause_s: float = Field(0.5, ge=0.0, le=10.0, description="length of a bare [pause]")


class VoiceProfile(_Model):
    """How a character sounds. Effects keep the duration, so timelines stay valid."""

    name: str = "custom"
    engine: str = "piper"
    # The engine's voice: a Piper .onnx path or voice package, an espeak voice name,
    # an ElevenLabs voice id, an OpenAI voice, a Kokoro voice; None = engine default.
    voice: str | None = None
    model: str | None = None  # the engine's model where it has several (paid APIs)
    speaking_rate: float = Field(1.0, gt=0.3, le=3.0)
    # parselmouth "Change gender": formant ratio and new median pitch (None keeps it).
    formant_shift: float = Field(1.0, ge=0.5, le=1.5)
    pitch_median_hz: float | None = Field(None, ge=50, le=500)
    pitch_range: float = Field(1.0, ge=0.0, le=3.0)
    # Tone: low and high shelf gains (dB) around 250 Hz and 4 kHz.
    bass_db: float = Field(0.0, ge=-12.0, le=12.0)
    treble_db: float = Field(0.0, ge=-12.0, le=12.0)
    sentence_pause_s: float = Field(0.3, ge=0.0, le=3.0)
    paragraph_pause_s: float = Field(0.7, ge=0.0, le=5.0, description="after a blank line in the script")
    noise_scale: float | None = Field(None, ge=0.0, le=1.5)
    text: SpeechTextOptions = SpeechTextOptions()


class CaptionStyle(_Model):
    enabled: bool = True
    font: str | None = None  # path to a .ttf/.otf; None = bundled DejaVu Sans Bold
    size_ratio: float = Field(0.068, gt=0.01, lt=0.3, description="font size / frame width")
    color: str = "#FFFFFF"
    highlight_color: str = "#FFD21F"
    outline_color: str = "#000000"
    outline_ratio: float = Field(0.09, ge=0, le=0.5, description="outline / font size")
    center_y_ratio: float = Field(0.66, gt=0.05, lt=0.95, description="caption centre / height")
    max_words: int = Field(3, ge=1, le=12, description="words shown together")
    uppercase: bool = False


class Character(_Model):
    name: str
    images: list[Path] = Field(min_length=1)
    voice: VoiceProfile = VoiceProfile()
    caption_style: CaptionStyle = CaptionStyle()
    formats: list[str] = ["tiktok"]
    seed: int = 0
    motion_intensity: float = Field(1.0, ge=0.0, le=2.0)

    @classmethod
    def from_dir(cls, directory: Path) -> "Character":
        """Load ``character.yaml`` from a folder; image paths are relative to it."""
        path = directory / "character.yaml" if directory.is_dir() else directory
        data = _load_yaml(path)
        base = path.parent
        data["images"] = [_resolve(base, p) for p in data.get("images", [])]
        return _validated(cls, data, path)


class Scene(_Model):
    text: str
    image: Path | None = None
    # A recording of ``text`` (any audio format) used instead of the character's voice.
    audio: Path | None = None


class Script(_Model):
    title: str = ""
    scenes: list[Scene] = Field(min_length=1)

    @property
    def text(self) -> str:
        return " ".join(scene.text.strip() for scene in self.scenes)

    @classmethod
    def from_text(cls, text: str) -> "Script":
        return cls(scenes=[Scene(text=text)])

    @classmethod
    def from_file(cls, path: Path) -> "Script":
        """A YAML file with ``text:`` or ``scenes: [{text, image}]``."""
        data = _load_yaml(path)
        if "text" in data and "scenes" not in data:
            data = {"title": data.get("title", ""), "scenes": [{"text": data["text"]}]}
        for scene in data.get("scenes", []):
            if isinstance(scene, dict) and scene.get("image"):
                scene["image"] = _resolve(path.parent, scene["image"])
            if isinstance(scene, dict) and scene.get("audio"):
                scene["audio"] = path.parent / Path(scene["audio"]).expanduser()
        return _validated(cls, data, path)


class RenderSpec(_Model):
    format: str = "tiktok"
    fps: int = Field(30, ge=12, le=60)
    quality: Quality = "final"
    seed: int | None = None
    # On-screen disclosure; "" turns the label off (the file's metadata still says how it was made).
    ai_label: str = Field("AI-generated", max_length=60)


class Phone(_Model):
    symbol: str
    start_s: float
    end_s: float


class Word(_Model):
    text: str
    start_s: float
    end_s: float
    emphasis: bool = False  # *marked* in the script


class Timeline(_Model):
    """What is said when. Phones use the engine's alphabet (IPA for Piper)."""

    words: list[Word]
    phonemes: list[Phone]
    duration_s: float

    @field_validator("duration_s")
    @classmethod
    def _positive(cls, value: float) -> float:
        if value <= 0:
            raise ValueError("duration must be positive")
        return value

    def shifted(self, offset_s: float) -> "Timeline":
        return Timeline(
            words=[w.model_copy(update={"start_s": w.start_s + offset_s, "end_s": w.end_s + offset_s}) for w in self.words],
            phonemes=[p.model_copy(update={"start_s": p.start_s + offset_s, "end_s": p.end_s + offset_s}) for p in self.phonemes],
            duration_s=self.duration_s + offset_s,
        )


class VoiceTrack(_Model):
    audio_path: Path
    sample_rate_hz: int
    duration_s: float
    timeline: Timeline
    engine: str
    billed_characters: int = 0
    warnings: list[str] = []


class SceneSpan(_Model):
    """The part of the video that shows one scene's image."""

    image: Path
    start_s: float
    end_s: float


class OutputProperties(_Model):
    width: int
    height: int
    fps: float
    frame_count: int
    duration_s: float
    video_codec: str
    video_profile: str | None
    pix_fmt: str
    audio_codec: str | None
    audio_sample_rate_hz: int | None
    loudness_lufs: float | None
    true_peak_dbtp: float | None
    size_bytes: int
    faststart: bool


class RenderResult(_Model):
    video_path: Path
    json_path: Path
    subtitle_paths: list[Path] = []  # OUT.srt and OUT.vtt
    format: str
    duration_s: float
    timeline: Timeline
    stage_seconds: dict[str, float]
    cache_hits: list[str] = []
    output: OutputProperties
    warnings: list[str] = []
    voice_engine: str = ""
    # Characters a paid voice engine billed for this video (0 for offline engines and
    # when the speech came from the cache).
    billed_characters: int = 0


def _load_yaml(path: Path) -> dict:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"file not found: {path}", hint="check the path") from None
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path} is not valid YAML: {exc}".splitlines()[0]) from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path} must contain a YAML mapping at the top level")
    return data


def _resolve(base: Path, value: str | Path) -> Path:
    from .samples import resolve_image_ref

    return resolve_image_ref(value, base)


def _validated(cls, data: dict, path: Path):
    try:
        return cls.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(top level)"
        raise ConfigError(f"{path}: {where}: {first['msg']}") from None
