"""The API's request and response bodies (OpenAPI components). Request bodies for
renders and characters are the service models in service/jobspec.py."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from ..jobspec import CharacterProfile, RenderInput, ServiceModel

Status = Literal["queued", "running", "succeeded", "failed", "canceled"]


class Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ErrorBody(Out):
    code: str = Field(description="not_found, conflict, invalid_input, unauthorized, too_large, rate_limited, ...")
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


class UsageRowOut(Out):
    day: date
    kind: Literal["compute", "provider"]
    name: str
    unit: str
    provider: str | None
    quantity: float
    cost_usd: str = Field(description="decimal string; a lower bound when unpriced_items > 0")
    unpriced_items: int
    jobs: int


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
