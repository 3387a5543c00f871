"""Typed data that flows between the stages. Units are in field names."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Literal, cast, get_args

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from .errors import ConfigError

Quality = Literal["preview", "final"]
MusicBed = Literal["calm", "upbeat", "lofi"]
_BED_PREFIX = "bed:"


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


_HEX_COLOR = re.compile(r"#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6}|[0-9a-fA-F]{8})")


class CaptionStyle(_Model):
    enabled: bool = True
    font: str | None = None  # path to a .ttf/.otf; None = bundled DejaVu Sans Bold
    size_ratio: float = Field(0.068, gt=0.01, lt=0.3, description="font size / frame width")
    color: str = "#FFFFFF"
    highlight_color: str = "#FFD21F"
    outline_color: str = "#000000"
    outline_ratio: float = Field(0.09, ge=0, le=0.5, description="outline / font size")
    center_y_ratio: float = Field(0.66, gt=0.05, lt=0.95, description="caption centre / height")
    # Inside the format's safe zone: at its top or bottom edge or its centre; None
    # places the caption's centre at center_y_ratio (clamped into the safe zone).
    position: Literal["top", "center", "bottom"] | None = None
    max_words: int = Field(3, ge=1, le=12, description="words shown together")
    max_lines: int = Field(2, ge=1, le=2, description="lines a group may wrap onto before the font shrinks")
    uppercase: bool = False
    shadow_color: str = "#000000A0"
    shadow_offset_ratio: float = Field(0.0, ge=0, le=0.5, description="drop shadow offset / font size; 0 = none")
    shadow_blur_ratio: float = Field(0.0, ge=0, le=0.5, description="drop shadow blur / font size")
    box_color: str | None = None  # background box behind the words, e.g. "#000000A0"; None = no box
    box_padding_ratio: float = Field(0.3, ge=0, le=2, description="box padding / font size")
    box_radius_ratio: float = Field(0.3, ge=0, le=2, description="box corner radius / font size")

    @field_validator("color", "highlight_color", "outline_color", "shadow_color", "box_color")
    @classmethod
    def _hex_color(cls, value: str | None) -> str | None:
        if value is not None and not _HEX_COLOR.fullmatch(value):
            raise ValueError(f"{value!r} is not a colour: write #RGB, #RRGGBB or #RRGGBBAA (AA = opacity), e.g. '#FFD21F'")
        return value

    def overridden_by(self, override: CaptionStyle | None) -> CaptionStyle:
        """This style with the fields that ``override`` sets (a script's or scene's)."""
        return self if override is None else self.model_copy(update=override.model_dump(exclude_unset=True))


class MusicSpec(_Model):
    """Background music under the speech (mixed by stages/compose/music.py)."""

    source: str = Field(min_length=1, description="calm, upbeat or lofi (generated beds, also as bed:NAME) or an audio file")
    volume_db: float = Field(-20.0, ge=-60.0, le=0.0, description="music loudness relative to the speech's, in pauses")
    duck_db: float = Field(-10.0, ge=-40.0, le=0.0, description="extra gain on the music while someone speaks")
    fade_in_s: float = Field(1.0, ge=0.0, le=30.0)
    fade_out_s: float = Field(2.0, ge=0.0, le=30.0)
    start_s: float = Field(0.0, ge=0.0, description="where in the file (or bed) the music starts")

    @field_validator("source")
    @classmethod
    def _known_bed(cls, value: str) -> str:
        if value in get_args(MusicBed):
            return _BED_PREFIX + value
        if value.startswith(_BED_PREFIX) and value.removeprefix(_BED_PREFIX) not in get_args(MusicBed):
            raise ValueError(f"unknown music bed '{value}': choose calm, upbeat or lofi")
        return value

    @property
    def bed(self) -> MusicBed | None:
        return cast(MusicBed, self.source.removeprefix(_BED_PREFIX)) if self.source.startswith(_BED_PREFIX) else None

    @property
    def path(self) -> Path | None:
        return None if self.bed else Path(self.source).expanduser()


def music_shorthand(value: object) -> object:
    """A bed name or file path alone for ``{source: ...}``, "none" or "off" for "none";
    anything else is left to validation."""
    if not isinstance(value, (str, Path)):
        return value
    word = str(value).strip()
    return "none" if word.lower() in ("none", "off") else {"source": word}


class Logo(_Model):
    """A watermark kept inside the safe zone."""

    path: Path
    position: Literal["top_left", "top_right", "bottom_left", "bottom_right"] = "top_right"
    width_ratio: float = Field(0.14, gt=0.02, le=0.4, description="logo width / frame width")
    opacity: float = Field(0.85, gt=0.0, le=1.0)


Hashtag = Annotated[str, Field(pattern=r"^#?\w+$")]


class Persona(_Model):
    """Who the character is when it writes. Every writer gets it (the language models in
    their prompt); the bans are checked on every written script (stages/write/safety.py)."""

    personality: str = ""  # e.g. "warm, curious, a little nerdy"
    # Free words; the template writer picks its wording from energetic, calm, expert,
    # playful or (default) friendly by the words it finds here and in the personality.
    tone: str = "friendly"
    topics: list[str] = []  # recurring topics: `plan` uses them when no topics file is given
    banned_topics: list[str] = []
    banned_words: list[str] = []
    brand_rules: list[str] = []  # free-form rules for the language models
    language: str = "English"


class Appearance(_Model):
    """How the character looks, for generating new pictures of it (``personacast images
    generate``, GPU): one prompt per pose x outfit x scenario, the LoRA that carries the
    face, and optional IP-Adapter reference pictures for identity."""

    description: str = ""  # e.g. "a woman in her twenties with long auburn hair and green eyes"
    base_model: Literal["sd15", "sdxl"] = "sd15"
    lora: Path | None = None  # .safetensors trained on the character
    lora_scale: float = Field(0.8, ge=0.0, le=2.0)
    trigger: str = ""  # the LoRA's trigger word, put first in every prompt
    reference_images: list[Path] = []  # IP-Adapter identity; empty: no IP-Adapter
    ip_adapter_scale: float = Field(0.6, ge=0.0, le=1.0)
    style: str = "photo, natural light, sharp focus, 50mm"
    poses: list[str] = ["looking at the camera, head and shoulders"]
    outfits: list[str] = []
    scenarios: list[str] = []
    negative: str = "blurry, deformed, extra fingers, watermark, text, lowres"
    steps: int = Field(30, ge=1, le=150)
    guidance: float = Field(6.5, ge=0.0, le=30.0)


class Character(_Model):
    name: str
    images: list[Path] = Field(min_length=1)
    voice: VoiceProfile = VoiceProfile()
    caption_style: CaptionStyle = CaptionStyle()
    formats: list[str] = ["tiktok"]
    seed: int = 0
    motion_intensity: float = Field(1.0, ge=0.0, le=2.0)
    # Added to every post's text (OUT.txt) after the script's own; with or without "#".
    hashtags: list[Hashtag] = []
    music: MusicSpec | None = None  # background music for this character's videos
    logo: Logo | None = None  # watermark on every video
    persona: Persona = Persona()
    appearance: Appearance = Appearance()

    @field_validator("music", mode="before")
    @classmethod
    def _music(cls, value: object) -> object:
        value = music_shorthand(value)
        return None if value == "none" else value

    @classmethod
    def from_dir(cls, directory: Path) -> "Character":
        """Load ``character.yaml`` from a folder; image paths are relative to it."""
        path = directory / "character.yaml" if directory.is_dir() else directory
        data = _load_yaml(path)
        base = path.parent
        data["images"] = [_resolve(base, p) for p in data.get("images", [])]
        if "music" in data:
            data["music"] = _music_in_file(data["music"], base)
        if isinstance(data.get("logo"), dict) and data["logo"].get("path"):
            data["logo"]["path"] = _relative(base, data["logo"]["path"])
        appearance = data.get("appearance")
        if isinstance(appearance, dict):
            if appearance.get("lora"):
                appearance["lora"] = _relative(base, appearance["lora"])
            appearance["reference_images"] = [_resolve(base, p) for p in appearance.get("reference_images", [])]
        return _validated(cls, data, path)


class BRoll(_Model):
    """A picture or video clip shown full-frame over part of a scene; the voice goes on."""

    path: Path
    start_s: float = Field(0.0, ge=0.0, description="from the start of the scene's speech")
    duration_s: float | None = Field(None, gt=0.0, description="None: to the end of the scene")
    motion: Literal["zoom_in", "zoom_out", "pan_left", "pan_right", "none"] = "zoom_in"  # pictures only


class Card(_Model):
    """A silent title card before or after the speech (music, if any, plays on)."""

    text: str = ""
    duration_s: float = Field(1.5, gt=0.0, le=10.0)
    # "#RRGGBB", a picture path, or "portrait": the first portrait blurred and darkened.
    background: str = "portrait"


class Scene(_Model):
    text: str
    image: Path | None = None
    # A recording of ``text`` (any audio format) used instead of the character's voice.
    audio: Path | None = None
    caption_style: CaptionStyle | None = None  # overrides the script's for this scene's words
    # How this scene starts (the first scene ignores it): a cut, a crossfade from the
    # previous scene's last frame, or a zoom easing out from a closer framing.
    transition: Literal["cut", "crossfade", "zoom"] = "cut"
    framing: Literal["standard", "punch_in"] = "standard"  # punch_in: a tighter shot of the face
    # What fills the frame around a portrait too narrow to cover it: "blur" (the portrait
    # blurred), "#RRGGBB" or a picture path.
    background: str = "blur"
    broll: list[BRoll] = []


class Script(_Model):
    title: str = ""
    scenes: list[Scene] = Field(min_length=1)
    # The post's text in OUT.txt (default: the first sentences) and its hashtags, before
    # the character's; both are written by `personacast write`.
    caption: str = ""
    hashtags: list[Hashtag] = []
    caption_style: CaptionStyle | None = None  # overrides the character's fields that it sets
    # Overrides the character's music; "none" turns music off, None keeps the character's.
    music: MusicSpec | Literal["none"] | None = None
    intro: Card | None = None
    outro: Card | None = None

    @field_validator("music", mode="before")
    @classmethod
    def _music(cls, value: object) -> object:
        return music_shorthand(value)

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
            kept = {key: data[key] for key in ("title", "caption", "hashtags", "caption_style", "music", "intro", "outro") if key in data}
            data = {**kept, "scenes": [{"text": data["text"]}]}
        if "music" in data:
            data["music"] = _music_in_file(data["music"], path.parent)
        for scene in data.get("scenes", []):
            if isinstance(scene, dict) and scene.get("image"):
                scene["image"] = _resolve(path.parent, scene["image"])
            if isinstance(scene, dict) and scene.get("audio"):
                scene["audio"] = _relative(path.parent, scene["audio"])
            if isinstance(scene, dict):
                if _is_picture_ref(scene.get("background")):
                    scene["background"] = str(_resolve(path.parent, scene["background"]))
                for broll in scene.get("broll") or []:
                    if isinstance(broll, dict) and broll.get("path"):
                        broll["path"] = _resolve(path.parent, broll["path"])
        for card in (data.get("intro"), data.get("outro")):
            if isinstance(card, dict) and _is_picture_ref(card.get("background")):
                card["background"] = str(_resolve(path.parent, card["background"]))
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


class MusicReport(_Model):
    """Measured on the music as mixed, before the speech was added to it. Levels are
    loudness relative to the speech's (LU); None where there was too little to measure."""

    source: str
    speech_level_lu: float | None  # while words are spoken
    pause_level_lu: float | None  # where nobody speaks and the music is not fading
    duck_depth_db: float | None  # pause level minus speech level


class AudioReport(_Model):
    """The delivered mix; loudness and peak are measured on the file's decoded AAC."""

    loudness_lufs: float | None
    true_peak_dbtp: float | None
    music: MusicReport | None = None


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
    # OUT.jpg, a still of the frame at cover_time_s (None when it could not be made:
    # see warnings), and OUT.txt, the post's caption, hashtags and disclosure.
    cover_path: Path | None = None
    cover_time_s: float | None = None
    post_text_path: Path | None = None
    content_credentials: bool = False  # a signed C2PA manifest is embedded in the video
    audio: AudioReport | None = None  # the delivered mix and its music


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


def _music_in_file(value: object, base: Path) -> object:
    """In YAML, null and false (``off``) also mean no music, and a file path is relative
    to the YAML file."""
    if value is None or value is False:
        return "none"
    value = music_shorthand(value)
    source = value.get("source") if isinstance(value, dict) else None
    if isinstance(source, str) and source not in get_args(MusicBed) and not source.startswith(_BED_PREFIX):
        value = {**value, "source": str(base / Path(source).expanduser())}
    return value


def _relative(base: Path, value: str | Path) -> Path:
    return base / Path(value).expanduser()


def _is_picture_ref(value: object) -> bool:
    """A background given as a file, not as a colour or a keyword."""
    return isinstance(value, str) and not value.startswith("#") and value not in ("blur", "portrait")


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
