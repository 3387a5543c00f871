"""The API's request and response bodies (OpenAPI components). Request bodies for
renders and characters are the service models in service/jobspec.py."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ..jobspec import MAX_TEXT_FIELD, CharacterProfile, RenderInput, ServiceModel, VoiceChoice, check_voice

Status = Literal["queued", "running", "succeeded", "failed", "canceled"]


class Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ErrorBody(Out):
    code: str = Field(description="not_found, conflict, invalid_input, unauthorized, too_large, rate_limited, "
                                  "no_face, face_too_small, busy, ...")
    message: str
    hint: str | None = None


class ErrorOut(Out):
    error: ErrorBody


# The error answers every authenticated route documents.
ERRORS: dict[int | str, dict[str, Any]] = {code: {"model": ErrorOut} for code in (400, 401, 403, 404, 409, 413, 415, 422, 429)}


class RenderCreated(Out):
    id: UUID
    status: Status


class RenderOut(Out):
    id: UUID
    status: Status
    batch_id: UUID | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    attempts: int
    progress: dict[str, float] = Field(description="stage -> fraction done (0..1): face, voice, performance, render ...")
    error: str | None
    cancel_requested: bool
    artefacts: dict[str, str] = Field(description="file name -> URL (MP4, JSON, SRT, VTT, JPG cover, TXT post text)")


class RenderPage(Out):
    items: list[RenderOut]
    next_cursor: str | None


class CharacterOut(Out):
    id: UUID
    name: str
    image_count: int
    profile: dict[str, Any]
    created_at: datetime


class CharacterPage(Out):
    items: list[CharacterOut]
    next_cursor: str | None


class BatchRequest(ServiceModel):
    renders: list[RenderInput] = Field(min_length=1, max_length=500)


class BatchOut(Out):
    id: UUID
    item_count: int
    created_at: datetime
    status_counts: dict[Status, int]


class BatchCreated(Out):
    id: UUID
    item_count: int
    render_ids: list[UUID]


class BatchPage(Out):
    items: list[BatchOut]
    next_cursor: str | None


class CharacterPatch(ServiceModel):
    """What to change; a field left out (or null) stays as it is."""

    name: str | None = Field(None, min_length=1, max_length=200, pattern=r"^[^\x00-\x1f\x7f]+$")
    profile: CharacterProfile | None = Field(None, description="replaces the whole profile (fields left out: defaults)")

    @model_validator(mode="after")
    def _something(self) -> CharacterPatch:
        if self.name is None and self.profile is None:
            raise ValueError("give a name, a profile or both")
        return self


# -- the studio's helpers: voices, formats, scripts, faces --------------------------------------


class VoiceOut(Out):
    name: str
    engine: str
    description: str
    available: bool = Field(description="whether it can speak on this server")
    reason: str | None = Field(description="why it cannot (null when available)")
    profile: dict[str, Any] = Field(description="the whole profile, to send back changed as a render's or character's voice")


class VoiceList(Out):
    items: list[VoiceOut]


class AuditionRequest(ServiceModel):
    voice: VoiceChoice
    text: str = Field(min_length=1, max_length=400, description="what the voice says")

    _voice = field_validator("voice")(check_voice)


class SafeZoneOut(Out):
    """Margins, as fractions of the frame, that the platform's buttons and text may cover."""

    top: float
    bottom: float
    left: float
    right: float


class FormatOut(Out):
    name: str
    title: str
    width: int
    height: int
    aspect: str = Field(description="e.g. 9:16")
    max_duration_s: float = Field(description="the platform's longest video")
    fps_allowed: list[int]
    caption_max_chars: int = Field(description="the longest post caption the platform takes")
    safe_zone: SafeZoneOut


class FormatList(Out):
    items: list[FormatOut]


class EstimateRequest(ServiceModel):
    text: str = Field(max_length=MAX_TEXT_FIELD)
    voice: VoiceChoice | None = Field(None, description="its pace decides the estimate; default: sofia")

    _voice = field_validator("voice")(lambda value: None if value is None else check_voice(value))


class EstimateOut(Out):
    characters: int
    words: int
    estimated_s: float = Field(description="how long the text takes spoken with the voice, its pauses included")
    max_chars: int = Field(description="the longest script a render takes")
    over_limit: bool


class WriteRequest(ServiceModel):
    topic: str = Field(min_length=1, max_length=500, pattern=r"\S", description="what the video is about")
    character_id: UUID | None = Field(None, description="write as this character (its name, voice pace, format, seed)")
    duration_s: float = Field(30.0, ge=5.0, le=180.0, description="how long the spoken script should run")
    writer: str | None = Field(None, max_length=100, description="template (default, offline), openai, anthropic or "
                                                                 "openai_compatible, where the server is set up for it")


class WrittenOut(Out):
    text: str = Field(description="the spoken script; its parts (hook, beats, call to action) are paragraphs")
    title: str
    caption: str
    hashtags: list[str] = Field(description="words, without '#'")
    writer: str
    estimated_s: float = Field(description="as POST /v1/scripts/estimate gives for the text and the voice written for")
    warnings: list[str]


Point = Annotated[list[float], Field(min_length=2, max_length=2, description="x, y in pixels")]


class FaceFound(Out):
    box: list[float] = Field(min_length=4, max_length=4, description="x0, y0, x1, y1 around the landmarks, in pixels")
    landmarks: list[Point] = Field(description="MediaPipe's 478-point face mesh (iris points last)")
    face_width_px: float
    eyes: list[Point] = Field(min_length=2, max_length=2, description="iris centres, left to right in the picture")
    mouth: Point = Field(description="the centre of the lips")
    faces_found: int = Field(description="faces in the picture; this one is the largest")


class FaceOut(Out):
    width: int = Field(description="of the picture as shown (EXIF rotation applied)")
    height: int
    face: FaceFound


class UsageRowOut(Out):
    day: date
    kind: Literal["compute", "provider"]
    name: str
    unit: str
    provider: str | None
    quantity: float
    cost_usd: str = Field(description="decimal string; a lower bound when unpriced_items > 0")
    unpriced_items: int
    jobs: int = Field(description="renders that used it (voice auditions and written scripts count in none)")


class UsageOut(Out):
    from_day: date = Field(alias="from")
    to_day: date = Field(alias="to")
    rows: list[UsageRowOut]

    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class WebhookSettings(ServiceModel):
    url: str | None = Field(None, max_length=2048, description="http(s) URL for renders that name no webhook_url; null: none")


class WebhookOut(Out):
    url: str | None
    signing_secret: str = Field(description="HMAC-SHA256 key of X-Personacast-Signature (over '<timestamp>.<body>')")


class StudioSession(Out):
    tenant: str


class Health(Out):
    status: Literal["ok", "ready", "not ready"]
    checks: dict[str, str] = {}


__all__ = [
    "BatchCreated", "BatchOut", "BatchRequest", "CharacterOut", "CharacterPage", "CharacterProfile", "ErrorOut", "Health",
    "RenderCreated", "RenderInput", "RenderOut", "RenderPage", "StudioSession", "UsageOut", "UsageRowOut", "WebhookOut", "WebhookSettings",
]
