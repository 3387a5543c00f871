"""What clients may ask of the service, and how a stored request becomes a RenderJob.

The pipeline's own models (Character, Script, VoiceProfile, ...) accept file paths in
many places: portraits, recordings, fonts, music files, Piper models. A client of a
shared service must never name a file on the server, so requests use the narrower
models below: text, choices and numbers only; pictures and recordings arrive as
uploads, which the API stores and references by storage key (``RenderJobRequest``).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ..errors import ConfigError, FormatError, InputError, TextError
from ..models import Card, CaptionStyle, Character, MusicSpec, Quality, RenderSpec, Scene, Script, VoiceProfile

# A ceiling on any one text field, far above settings.max_script_chars (checked by the
# API with a clear message): it only stops absurd bodies before they are processed.
MAX_TEXT_FIELD = 100_000
MAX_SCENES = 50
MAX_FORMATS = 6
DEFAULT_VOICE = "sofia"

_COLOUR = r"#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})"
# Engine voice ids and model names: no path separators and no dots in voices, so none can
# be read as a file on the server (Piper takes a .onnx path or a package name there).
_VOICE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_+-]{0,99}")
_MODEL_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.+-]{0,99}")
_SERVICE_ENGINES = ("piper", "espeak", "elevenlabs", "openai", "kokoro")
MusicBedName = Literal["calm", "upbeat", "lofi", "none"]
Hashtag = Annotated[str, Field(pattern=r"^#?\w+$", max_length=100)]


class ServiceModel(BaseModel):
    model_config = ConfigDict(extra="forbid")


def check_voice(value: str | VoiceProfile) -> str | VoiceProfile:
    """A built-in profile name, or an inline profile whose engine speaks from a name
    (never a file: no recorded voice, no Piper .onnx path)."""
    from ..stages.voice.profiles import BUILTIN_PROFILES

    if isinstance(value, str):
        if value not in BUILTIN_PROFILES:
            raise ValueError(f"unknown voice profile '{value}': choose one of {', '.join(BUILTIN_PROFILES)} or give a profile")
        return value
    if value.engine not in _SERVICE_ENGINES:
        raise ValueError(f"voice engine '{value.engine}' is not available here: choose one of {', '.join(_SERVICE_ENGINES)}")
    if value.voice is not None and not _VOICE_ID.fullmatch(value.voice):
        raise ValueError("voice must be a voice name or id (letters, digits, '_', '+', '-')")
    if value.engine == "piper" and value.voice is not None and not value.voice.replace("_", "-").endswith("piper-voice"):
        raise ValueError("a Piper voice must name an installed voice package (…-piper-voice)")
    if value.model is not None and not _MODEL_ID.fullmatch(value.model):
        raise ValueError("model must be a model name (letters, digits, '_', '.', '+', '-')")
    return value


def check_caption_style(value: CaptionStyle | None) -> CaptionStyle | None:
    if value is not None and value.font is not None:
        raise ValueError("font cannot be chosen here: captions use the bundled font")
    return value


def check_formats(value: list[str] | None) -> list[str] | None:
    from ..stages.compose.formats import get_preset

    if value is None:
        return None
    names = []
    for name in value:
        try:
            names.append(get_preset(name).name)
        except FormatError as exc:
            raise ValueError(str(exc)) from None
    return list(dict.fromkeys(names))


VoiceChoice = Annotated[str | VoiceProfile, Field(description="a built-in profile name (sofia, joe, sofia-espeak) or a profile")]
SafeCaptionStyle = Annotated[CaptionStyle, Field(description="caption style; font is not settable")]


class SceneRequest(ServiceModel):
    text: str = Field(min_length=1, max_length=MAX_TEXT_FIELD)
    image: int = Field(0, ge=0, le=19, description="which of the character's portraits this scene shows")
    caption_style: SafeCaptionStyle | None = None
    transition: Literal["cut", "crossfade", "zoom"] = "cut"
    framing: Literal["standard", "punch_in"] = "standard"
    background: str = Field("blur", pattern=f"^(?:blur|{_COLOUR})$", description="blur or #RRGGBB")

    _caption = field_validator("caption_style")(check_caption_style)


class CardRequest(ServiceModel):
    text: str = Field("", max_length=200)
    duration_s: float = Field(1.5, gt=0.0, le=10.0)
    background: str = Field("portrait", pattern=f"^(?:portrait|{_COLOUR})$", description="portrait or #RRGGBB")


class ScriptRequest(ServiceModel):
    """``text`` for one scene, or ``scenes``."""

    text: str | None = Field(None, max_length=MAX_TEXT_FIELD)
    scenes: list[SceneRequest] | None = Field(None, min_length=1, max_length=MAX_SCENES)
    title: str = Field("", max_length=200)
    caption: str = Field("", max_length=2200)
    hashtags: list[Hashtag] = Field([], max_length=30)
    caption_style: SafeCaptionStyle | None = None
    music: MusicBedName | None = Field(None, description="a generated bed, none, or (null) the character's")
    intro: CardRequest | None = None
    outro: CardRequest | None = None

    _caption = field_validator("caption_style")(check_caption_style)

    @model_validator(mode="after")
    def _one_source(self) -> ScriptRequest:
        if (self.text is None) == (self.scenes is None):
            raise ValueError("give either text or scenes")
        return self

    @property
    def char_count(self) -> int:
        return len(self.text or "") if self.scenes is None else sum(len(scene.text) for scene in self.scenes)


class RenderOptions(ServiceModel):
    """A render's settings, shared by JSON requests, multipart forms and batch rows."""

    formats: list[str] | None = Field(
        None, min_length=1, max_length=MAX_FORMATS, description="format presets; default: the character's, else tiktok"
    )
    voice: VoiceChoice | None = Field(None, description="default: the character's voice, else sofia")
    quality: Quality = "final"
    fps: int = Field(30, ge=12, le=60)
    seed: int | None = Field(None, ge=0, le=2**31 - 1)
    ai_label: str = Field("AI-generated", max_length=60, description='on-screen disclosure; "" for none')
    webhook_url: str | None = Field(None, max_length=2048, description="POSTed when the render finishes (http or https)")

    _formats = field_validator("formats")(check_formats)
    _voice = field_validator("voice")(lambda value: None if value is None else check_voice(value))

    @field_validator("webhook_url")
    @classmethod
    def _webhook(cls, value: str | None) -> str | None:
        from .webhooks import check_url_syntax

        return None if value is None else check_url_syntax(value)


class RenderInput(RenderOptions):
    """A JSON render request: a stored character and a script."""

    character_id: UUID
    script: ScriptRequest


class RenderJobRequest(RenderOptions):
    """What the store keeps for a render (``JobStore.create_render``'s ``request``).
    ``image_key`` and ``audio_key`` are set by the API from uploads, never by clients."""

    character_id: UUID | None = None
    image_key: str | None = None  # the uploaded portrait, when there is no character
    audio_key: str | None = None  # an uploaded recording of a one-scene script
    script: ScriptRequest

    @model_validator(mode="after")
    def _one_face(self) -> RenderJobRequest:
        if (self.character_id is None) == (self.image_key is None):
            raise ValueError("give either a character or a portrait image")
        if self.audio_key is not None and self.script.scenes is not None and len(self.script.scenes) > 1:
            raise ValueError("a recording needs a one-scene script")
        return self


class CharacterProfile(ServiceModel):
    """A character's settings; its portraits are uploaded beside them."""

    voice: VoiceChoice = DEFAULT_VOICE
    caption_style: SafeCaptionStyle = CaptionStyle()
    formats: list[str] = Field(["tiktok"], min_length=1, max_length=MAX_FORMATS)
    seed: int = Field(0, ge=0, le=2**31 - 1)
    motion_intensity: float = Field(1.0, ge=0.0, le=2.0)
    hashtags: list[Hashtag] = Field([], max_length=30)
    music: MusicBedName | None = None

    _formats = field_validator("formats")(check_formats)
    _voice = field_validator("voice")(check_voice)
    _caption = field_validator("caption_style")(check_caption_style)


def parse_job_request(body: dict[str, Any]) -> RenderJobRequest:
    """A stored request read back; ``ConfigError`` if it no longer validates (a request
    stored by another version)."""
    try:
        return RenderJobRequest.model_validate(body)
    except ValueError as exc:
        raise ConfigError(f"the stored render request is invalid: {str(exc).splitlines()[0]}") from None


def voice_profile(choice: str | VoiceProfile) -> VoiceProfile:
    from ..stages.voice.profiles import BUILTIN_PROFILES

    return BUILTIN_PROFILES[choice] if isinstance(choice, str) else choice


def build_character(name: str, profile: CharacterProfile, portraits: list[Path], voice: str | VoiceProfile | None) -> Character:
    return Character(
        name=name, images=portraits, voice=voice_profile(voice if voice is not None else profile.voice),
        caption_style=profile.caption_style, formats=profile.formats, seed=profile.seed,
        motion_intensity=profile.motion_intensity, hashtags=profile.hashtags,
        music=None if profile.music in (None, "none") else MusicSpec(source=profile.music),
    )


def check_script(request: ScriptRequest, max_chars: int, portraits: int) -> None:
    """What the pipeline would refuse, found before queueing: no words, too much text,
    a scene showing a portrait the character does not have."""
    texts = [request.text or ""] if request.scenes is None else [scene.text for scene in request.scenes]
    for number, text in enumerate(texts, start=1):
        if not text.strip():
            raise TextError("the script is empty" if request.scenes is None else f"scene {number} has no words",
                            hint="give the text to speak")
    if request.char_count > max_chars:
        raise TextError(f"the script has {request.char_count} characters; the limit is {max_chars}",
                        hint="split it into several videos")
    for number, scene in enumerate(request.scenes or [], start=1):
        if scene.image >= portraits:
            raise InputError(f"scene {number} shows portrait {scene.image}, but the character has {portraits}",
                             hint="number portraits from 0")


def build_script(request: ScriptRequest, portraits: list[Path], recording: Path | None) -> Script:
    """The pipeline's Script; scene images are indices into ``portraits``."""
    if request.scenes is None:
        scenes = [Scene(text=request.text or "", image=portraits[0])]
    else:
        scenes = [
            Scene(text=s.text, image=portraits[s.image], caption_style=s.caption_style, transition=s.transition,
                  framing=s.framing, background=s.background)
            for s in request.scenes
        ]
    if recording is not None:
        scenes = [scenes[0].model_copy(update={"audio": recording})]
    music: MusicSpec | Literal["none"] | None = (
        None if request.music is None else "none" if request.music == "none" else MusicSpec(source=request.music)
    )
    return Script(
        title=request.title, scenes=scenes, caption=request.caption, hashtags=request.hashtags,
        caption_style=request.caption_style, music=music,
        intro=None if request.intro is None else Card(**request.intro.model_dump()),
        outro=None if request.outro is None else Card(**request.outro.model_dump()),
    )


def build_spec(request: RenderOptions, formats: list[str]) -> RenderSpec:
    return RenderSpec(format=formats[0], fps=request.fps, quality=request.quality, seed=request.seed, ai_label=request.ai_label)
