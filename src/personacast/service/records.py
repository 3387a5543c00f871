"""What the job store returns: immutable values, detached from any database session.

The API and the workers only ever see these, never ORM objects, so nothing lazy-loads
after a session has closed and nothing changes by accident.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any, Generic, Literal, TypeVar
from uuid import UUID

T = TypeVar("T")


class JobStatus(str, Enum):
    """A render's life: queued -> running -> succeeded | failed | canceled.

    A running job may also go back to queued (its worker gave it up, or its lease expired).
    """

    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELED = "canceled"

    @property
    def finished(self) -> bool:
        return self in (JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELED)


class LeaseState(str, Enum):
    """What a worker learns from a heartbeat."""

    HELD = "held"  # carry on
    CANCEL_REQUESTED = "cancel_requested"  # stop, clean up, then call JobStore.mark_canceled
    LOST = "lost"  # the job is no longer this worker's: stop and record nothing


@dataclass(frozen=True)
class TenantRecord:
    id: UUID
    name: str
    created_at: datetime
    webhook_url: str | None = None  # where webhooks go for renders that name no URL


@dataclass(frozen=True)
class ApiKeyRecord:
    id: UUID
    tenant_id: UUID
    prefix: str  # the public part of the key, shown in listings to tell keys apart
    name: str
    created_at: datetime
    revoked_at: datetime | None


@dataclass(frozen=True)
class NewApiKey:
    """A key just made: ``plaintext`` exists only here, never in the database."""

    record: ApiKeyRecord
    plaintext: str = field(repr=False)


@dataclass(frozen=True)
class CharacterRecord:
    id: UUID
    tenant_id: UUID
    name: str
    image_keys: list[str]  # storage keys of the portraits
    profile: dict[str, Any]  # the character.yaml fields other than images
    created_at: datetime


@dataclass(frozen=True)
class BatchRecord:
    id: UUID
    tenant_id: UUID
    item_count: int
    created_at: datetime
    status_counts: dict[JobStatus, int]  # every status, zero included


@dataclass(frozen=True)
class RenderRecord:
    id: UUID
    tenant_id: UUID
    batch_id: UUID | None
    status: JobStatus
    request: dict[str, Any]
    idempotency_key: str | None
    attempts: int  # claims so far, the running one included
    progress: dict[str, float]  # stage name -> fraction done (0..1)
    error: str | None
    artefacts: dict[str, str]  # file name -> storage key
    cancel_requested: bool
    created_at: datetime
    enqueued_at: datetime  # last (re)sent to the broker
    started_at: datetime | None  # of the current or last attempt
    finished_at: datetime | None
    worker_id: str | None
    heartbeat_at: datetime | None
    lease_expires_at: datetime | None


@dataclass(frozen=True)
class CreatedRender:
    """``created`` is False when an idempotency key returned an existing job."""

    record: RenderRecord
    created: bool


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a listing; pass ``next_cursor`` back for the next (None: last page)."""

    items: list[T]
    next_cursor: str | None


@dataclass(frozen=True)
class StaleJobs:
    """What the reconciler should look at."""

    expired_leases: list[RenderRecord]  # running, but the worker stopped heart-beating
    lost_queued: list[RenderRecord]  # queued for long: the broker may have lost the message


UsageKind = Literal["compute", "provider"]


@dataclass(frozen=True)
class UsageItem:
    """One metered amount of a job: compute seconds of a stage, or a provider's bill item
    (TTS characters, LLM tokens). ``cost_usd`` is None when the price is not known."""

    kind: UsageKind
    name: str  # stage name ("voice") or what was billed ("tts_characters", "llm_tokens")
    quantity: float
    unit: str  # "s", "characters", "tokens", ...
    provider: str | None = None  # "elevenlabs", "openai", ... for provider items
    cost_usd: Decimal | None = None


@dataclass(frozen=True)
class UsageSummaryRow:
    """A tenant's usage of one meter on one UTC day."""

    day: date
    kind: UsageKind
    name: str
    unit: str
    provider: str | None
    quantity: float
    cost_usd: Decimal  # of the priced items only
    unpriced_items: int  # items with no known cost (so cost_usd is a lower bound when > 0)
    jobs: int
