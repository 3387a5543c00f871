"""JobStore: the service's one repository for tenants, API keys, characters, renders,
batches and usage.

Two kinds of callers:

- the API, always on behalf of a tenant: every such method takes ``tenant_id`` first,
  and another tenant's id behaves exactly like an id that does not exist
  (``NotFoundError``);
- workers and the reconciler, on job ids from the broker: their writes are guarded by
  the job's status and ``worker_id``, so a worker that lost its lease (the reconciler
  gave the job to another) can no longer change the job; those methods return False or
  ``LeaseState.LOST`` instead.

Status changes are conditional UPDATEs (``... WHERE status = 'queued'``) whose row
count says whether they happened, or reads with ``SELECT ... FOR UPDATE`` before the
write; both are atomic on PostgreSQL (row locks) and on SQLite (every transaction takes
the database's write lock at BEGIN, see db.make_engine), so two workers can never both
claim a job.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import uuid
from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any, TypeVar, cast

from sqlalchemy import ColumnElement, Engine, and_, case, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from ..errors import ConflictError, InputError, NotFoundError
from ..settings import Settings
from . import apikeys
from .db import ApiKey, Batch, Character, Render, Tenant, UsageRow, make_engine
from .records import (
    ApiKeyRecord,
    BatchRecord,
    CharacterRecord,
    CreatedRender,
    JobStatus,
    LeaseState,
    NewApiKey,
    Page,
    RenderRecord,
    StaleJobs,
    TenantRecord,
    UsageItem,
    UsageKind,
    UsageSummaryRow,
)

_MICRO = Decimal(1_000_000)
MAX_PAGE = 200

_Row = TypeVar("_Row", Render, Character, Batch)


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


class JobStore:
    """The job store on one database (see the module docstring for who calls what).

    ``clock`` gives the current time (aware, UTC); tests pass a fake one to move time.
    Leases and staleness compare times written by different machines, so workers need
    synchronised clocks (NTP), as any lease scheme does.
    """

    def __init__(self, engine: Engine, *, lease_s: float = 120.0, clock: Callable[[], datetime] = utc_now) -> None:
        self.engine = engine
        self.lease_s = lease_s
        self._clock = clock
        self._sessions = sessionmaker(engine, expire_on_commit=False)

    @classmethod
    def from_settings(cls, settings: Settings) -> JobStore:
        """The store at ``settings.database_url`` (migrate it first: ``upgrade_database``)."""
        return cls(make_engine(settings.resolved_database_url), lease_s=settings.job_lease_s)

    def close(self) -> None:
        self.engine.dispose()

    # -- tenants and API keys ---------------------------------------------------------

    def create_tenant(self, name: str) -> TenantRecord:
        row = Tenant(id=uuid.uuid4(), name=name, created_at=self._clock())
        try:
            with self._sessions.begin() as session:
                session.add(row)
        except IntegrityError:
            raise ConflictError(f"a tenant named '{name}' already exists") from None
        return _tenant(row)

    def get_tenant(self, tenant_id: uuid.UUID) -> TenantRecord:
        with self._sessions() as session:
            row = session.get(Tenant, tenant_id)
            if row is None:
                raise NotFoundError(f"tenant {tenant_id} not found")
            return _tenant(row)

    def find_tenant(self, name: str) -> TenantRecord | None:
        with self._sessions() as session:
            row = session.scalar(select(Tenant).where(Tenant.name == name))
            return None if row is None else _tenant(row)

    def set_tenant_webhook(self, tenant_id: uuid.UUID, url: str | None) -> TenantRecord:
        with self._sessions.begin() as session:
            row = self._tenant_row(session, tenant_id)
            row.webhook_url = url
            return _tenant(row)

    def create_api_key(self, tenant_id: uuid.UUID, name: str = "default") -> NewApiKey:
        """A new key for the tenant; its plaintext is in the result and nowhere else."""
        material = apikeys.generate_key()
        row = ApiKey(
            id=uuid.uuid4(), tenant_id=tenant_id, prefix=material.prefix, digest=material.digest,
            name=name, created_at=self._clock(), revoked_at=None,
        )
        with self._sessions.begin() as session:
            self._tenant_row(session, tenant_id)
            session.add(row)
        return NewApiKey(_api_key(row), material.plaintext)

    def list_api_keys(self, tenant_id: uuid.UUID) -> list[ApiKeyRecord]:
        with self._sessions() as session:
            rows = session.scalars(
                select(ApiKey).where(ApiKey.tenant_id == tenant_id).order_by(ApiKey.created_at, ApiKey.id)
            )
            return [_api_key(row) for row in rows]

    def revoke_api_key(self, tenant_id: uuid.UUID, key_id: uuid.UUID) -> ApiKeyRecord:
        with self._sessions.begin() as session:
            row = session.scalar(select(ApiKey).where(ApiKey.id == key_id, ApiKey.tenant_id == tenant_id))
            if row is None:
                raise NotFoundError(f"API key {key_id} not found")
            if row.revoked_at is None:
                row.revoked_at = self._clock()
            return _api_key(row)

    def resolve_api_key(self, plaintext: str) -> TenantRecord | None:
        """The tenant a key belongs to; None for a malformed, unknown or revoked key."""
        prefix = apikeys.key_prefix(plaintext)
        with self._sessions() as session:
            row = None if prefix is None else session.scalar(select(ApiKey).where(ApiKey.prefix == prefix))
            if not apikeys.digest_matches(plaintext, row.digest if row is not None else None):
                return None
            assert row is not None
            if row.revoked_at is not None:
                return None
            tenant = session.get(Tenant, row.tenant_id)
            return _tenant(tenant) if tenant is not None else None

    # -- characters -------------------------------------------------------------------

    def create_character(
        self, tenant_id: uuid.UUID, name: str, image_keys: Sequence[str], profile: Mapping[str, Any]
    ) -> CharacterRecord:
        row = Character(
            id=uuid.uuid4(), tenant_id=tenant_id, name=name, image_keys=list(image_keys),
            profile=_json_object(profile, "character profile"), created_at=self._clock(),
        )
        try:
            with self._sessions.begin() as session:
                self._tenant_row(session, tenant_id)
                session.add(row)
        except IntegrityError:
            raise ConflictError(f"a character named '{name}' already exists", hint="pick another name") from None
        return _character(row)

    def get_character(self, tenant_id: uuid.UUID, character_id: uuid.UUID) -> CharacterRecord:
        with self._sessions() as session:
            return _character(self._character_row(session, tenant_id, character_id))

    def list_characters(self, tenant_id: uuid.UUID, *, limit: int = 50, cursor: str | None = None) -> Page[CharacterRecord]:
        with self._sessions() as session:
            query = select(Character).where(Character.tenant_id == tenant_id)
            rows, next_cursor = _page(session, query, Character, limit, cursor)
            return Page([_character(row) for row in rows], next_cursor)

    def update_character(
        self, tenant_id: uuid.UUID, character_id: uuid.UUID, *, name: str | None = None,
        profile: Mapping[str, Any] | None = None,
    ) -> CharacterRecord:
        """Rename the character and/or replace its profile (None leaves a field as it is).
        Queued renders that use it see the change; running ones keep what they read."""
        try:
            with self._sessions.begin() as session:
                row = self._character_row(session, tenant_id, character_id)
                if name is not None:
                    row.name = name
                if profile is not None:
                    row.profile = _json_object(profile, "character profile")
                session.flush()  # a clash with another character's name surfaces here
                return _character(row)
        except IntegrityError:
            raise ConflictError(f"a character named '{name}' already exists", hint="pick another name") from None

    def delete_character(self, tenant_id: uuid.UUID, character_id: uuid.UUID) -> CharacterRecord:
        """Remove the character and return it (its image keys are the caller's to delete
        from storage)."""
        with self._sessions.begin() as session:
            row = self._character_row(session, tenant_id, character_id)
            session.delete(row)
            return _character(row)

    # -- renders and batches: the API's side --------------------------------------------

    def create_render(
        self, tenant_id: uuid.UUID, request: Mapping[str, Any], *, idempotency_key: str | None = None
    ) -> CreatedRender:
        """Queue a render. With an idempotency key already used by this tenant, the
        existing job comes back (``created`` False) if the request is the same, and a
        ``ConflictError`` is raised if it differs."""
        body = _json_object(request, "render request")
        digest = _digest(body)
        if idempotency_key is not None:
            existing = self._replay(tenant_id, idempotency_key, digest)
            if existing is not None:
                return CreatedRender(existing, created=False)
        row = self._new_render(tenant_id, body, digest, idempotency_key, batch_id=None)
        try:
            with self._sessions.begin() as session:
                self._tenant_row(session, tenant_id)
                session.add(row)
        except IntegrityError:
            # Another request with the same key won the race between our check and insert.
            existing = None if idempotency_key is None else self._replay(tenant_id, idempotency_key, digest)
            if existing is None:
                raise
            return CreatedRender(existing, created=False)
        return CreatedRender(_render(row), created=True)

    def create_batch(
        self, tenant_id: uuid.UUID, requests: Sequence[Mapping[str, Any]]
    ) -> tuple[BatchRecord, list[RenderRecord]]:
        """Queue several renders as one batch, all or none."""
        if not requests:
            raise InputError("a batch needs at least one render request")
        bodies = [_json_object(request, f"render request {index + 1}") for index, request in enumerate(requests)]
        now = self._clock()
        batch = Batch(id=uuid.uuid4(), tenant_id=tenant_id, item_count=len(bodies), created_at=now)
        rows = [self._new_render(tenant_id, body, _digest(body), None, batch_id=batch.id) for body in bodies]
        with self._sessions.begin() as session:
            self._tenant_row(session, tenant_id)
            session.add(batch)
            session.flush()  # the batch row must exist before renders reference it
            session.add_all(rows)
        counts = {status: 0 for status in JobStatus}
        counts[JobStatus.QUEUED] = len(rows)
        return _batch(batch, counts), [_render(row) for row in rows]

    def get_batch(self, tenant_id: uuid.UUID, batch_id: uuid.UUID) -> BatchRecord:
        with self._sessions() as session:
            batch = session.scalar(select(Batch).where(Batch.id == batch_id, Batch.tenant_id == tenant_id))
            if batch is None:
                raise NotFoundError(f"batch {batch_id} not found")
            return _batch(batch, _batch_counts(session, [batch_id])[batch_id])

    def list_batches(self, tenant_id: uuid.UUID, *, limit: int = 50, cursor: str | None = None) -> Page[BatchRecord]:
        """The tenant's batches, newest first, each with its renders per status."""
        with self._sessions() as session:
            rows, next_cursor = _page(session, select(Batch).where(Batch.tenant_id == tenant_id), Batch, limit, cursor)
            counts = _batch_counts(session, [row.id for row in rows])
            return Page([_batch(row, counts[row.id]) for row in rows], next_cursor)

    def get_render(self, tenant_id: uuid.UUID, render_id: uuid.UUID) -> RenderRecord:
        with self._sessions() as session:
            return _render(self._render_row(session, tenant_id, render_id))

    def list_renders(
        self,
        tenant_id: uuid.UUID,
        *,
        status: JobStatus | Collection[JobStatus] | None = None,
        batch_id: uuid.UUID | None = None,
        created_from: datetime | None = None,
        created_before: datetime | None = None,
        limit: int = 50,
        cursor: str | None = None,
    ) -> Page[RenderRecord]:
        """The tenant's renders, newest first; ``created_from`` is inclusive,
        ``created_before`` exclusive."""
        query = select(Render).where(Render.tenant_id == tenant_id)
        if status is not None:
            statuses = [status] if isinstance(status, JobStatus) else list(status)
            query = query.where(Render.status.in_([JobStatus(s).value for s in statuses]))
        if batch_id is not None:
            query = query.where(Render.batch_id == batch_id)
        if created_from is not None:
            query = query.where(Render.created_at >= created_from)
        if created_before is not None:
            query = query.where(Render.created_at < created_before)
        with self._sessions() as session:
            rows, next_cursor = _page(session, query, Render, limit, cursor)
            return Page([_render(row) for row in rows], next_cursor)

    def request_cancel(self, tenant_id: uuid.UUID, render_id: uuid.UUID) -> RenderRecord:
        """Cancel a render: a queued one at once; a running one is flagged and its worker
        stops at its next heartbeat. Cancelling a canceled render changes nothing; a
        succeeded or failed one raises ``ConflictError``."""
        now = self._clock()
        mine = and_(Render.id == render_id, Render.tenant_id == tenant_id)
        with self._sessions.begin() as session:
            canceled = _changed(
                session, mine, _is(JobStatus.QUEUED), status=JobStatus.CANCELED.value, finished_at=now, cancel_requested=True
            )
            if not canceled:
                _changed(session, mine, _is(JobStatus.RUNNING), cancel_requested=True)
            row = self._render_row(session, tenant_id, render_id)
            if JobStatus(row.status) in (JobStatus.SUCCEEDED, JobStatus.FAILED):
                raise ConflictError(f"render {render_id} has already {row.status}; it cannot be canceled")
            return _render(row)

    def delete_render(self, tenant_id: uuid.UUID, render_id: uuid.UUID) -> RenderRecord:
        """Remove a finished render's record and return it (its artefacts are the
        caller's to delete from storage first). Its usage rows stay: what was spent was
        spent. A queued or running render raises ``ConflictError``."""
        with self._sessions.begin() as session:
            row = session.scalar(
                select(Render).where(Render.id == render_id, Render.tenant_id == tenant_id).with_for_update()
            )
            if row is None:
                raise NotFoundError(f"render {render_id} not found")
            if not JobStatus(row.status).finished:
                raise ConflictError(f"render {render_id} is {row.status}; cancel it first",
                                    hint=f"DELETE /v1/renders/{render_id} without purge cancels it")
            session.delete(row)
            return _render(row)

    def status_counts(self) -> dict[JobStatus, int]:
        """How many renders (of all tenants) are in each status: the queue depth."""
        with self._sessions() as session:
            counts = {status: 0 for status in JobStatus}
            for status, count in session.execute(select(Render.status, func.count()).group_by(Render.status)):
                counts[JobStatus(status)] = int(count)
            return counts

    def mark_enqueued(self, render_id: uuid.UUID) -> None:
        """Note that the job was (re)sent to the broker now; ``stale_jobs`` counts a
        queued job's age from here."""
        with self._sessions.begin() as session:
            _changed(session, Render.id == render_id, _is(JobStatus.QUEUED), enqueued_at=self._clock())

    # -- renders: the workers' side -----------------------------------------------------

    def claim(self, render_id: uuid.UUID, worker_id: str) -> RenderRecord | None:
        """Start a queued job as ``worker_id``; None if it is not queued any more
        (another worker has it, it was canceled, or it does not exist)."""
        with self._sessions.begin() as session:
            return self._claim(session, render_id, worker_id)

    def claim_next(self, worker_id: str) -> RenderRecord | None:
        """Start the oldest queued job, for workers that poll instead of being sent ids."""
        with self._sessions.begin() as session:
            # PostgreSQL: rows another worker is claiming right now are skipped rather
            # than waited for. SQLite has no row locks: its BEGIN IMMEDIATE already
            # serialises claimers (db.make_engine).
            candidate = session.scalar(
                select(Render.id).where(_is(JobStatus.QUEUED)).order_by(Render.enqueued_at, Render.id)
                .limit(1).with_for_update(skip_locked=True)
            )
            return None if candidate is None else self._claim(session, candidate, worker_id)

    def heartbeat(self, render_id: uuid.UUID, worker_id: str) -> LeaseState:
        """Extend the worker's lease by ``lease_s`` and say whether to go on."""
        with self._sessions.begin() as session:
            return self._renew(session, render_id, worker_id)

    def record_progress(self, render_id: uuid.UUID, worker_id: str, stage: str, fraction: float) -> LeaseState:
        """Set one stage's progress (0..1); it also renews the lease like a heartbeat."""
        with self._sessions.begin() as session:
            state = self._renew(session, render_id, worker_id)
            if state is not LeaseState.LOST:
                row = session.scalar(select(Render).where(Render.id == render_id).with_for_update())
                assert row is not None
                row.progress = {**row.progress, stage: min(max(float(fraction), 0.0), 1.0)}
            return state

    def succeed(self, render_id: uuid.UUID, worker_id: str, artefacts: Mapping[str, str]) -> bool:
        """Finish the job with its artefacts' storage keys; False if the lease was lost."""
        return self._finish(render_id, worker_id, JobStatus.SUCCEEDED, artefacts=dict(artefacts), error=None)

    def fail(self, render_id: uuid.UUID, worker_id: str, error: str) -> bool:
        """Finish the job as failed for good; False if the lease was lost."""
        return self._finish(render_id, worker_id, JobStatus.FAILED, error=error)

    def mark_canceled(self, render_id: uuid.UUID, worker_id: str) -> bool:
        """Finish a job whose cancel was requested; False if the lease was lost."""
        return self._finish(render_id, worker_id, JobStatus.CANCELED)

    def release(self, render_id: uuid.UUID, worker_id: str, error: str | None = None) -> bool:
        """Give the job back to the queue to be retried (a transient failure); ``error``
        is kept for the record. The caller re-sends it to the broker."""
        with self._sessions.begin() as session:
            return _changed(
                session, self._held(render_id, worker_id), status=JobStatus.QUEUED.value, error=error,
                enqueued_at=self._clock(), **_NO_LEASE,
            )

    def record_usage(self, render_id: uuid.UUID, items: Sequence[UsageItem]) -> None:
        """Meter a job's compute seconds and provider costs, on today's (UTC) usage."""
        with self._sessions.begin() as session:
            tenant_id = session.scalar(select(Render.tenant_id).where(Render.id == render_id))
            if tenant_id is None:
                raise NotFoundError(f"render {render_id} not found")
            session.add_all(self._usage_rows(tenant_id, render_id, items))

    def record_tenant_usage(self, tenant_id: uuid.UUID, items: Sequence[UsageItem]) -> None:
        """Meter work that is no render (a voice audition, a written script): it counts
        in the tenant's usage but in no job."""
        with self._sessions.begin() as session:
            self._tenant_row(session, tenant_id)
            session.add_all(self._usage_rows(tenant_id, None, items))

    def _usage_rows(self, tenant_id: uuid.UUID, render_id: uuid.UUID | None, items: Sequence[UsageItem]) -> list[UsageRow]:
        now = self._clock()
        return [
            UsageRow(
                tenant_id=tenant_id, render_id=render_id, day=now.astimezone(timezone.utc).date(),
                kind=item.kind, name=item.name, unit=item.unit, provider=item.provider,
                quantity=float(item.quantity), created_at=now,
                cost_micro_usd=None if item.cost_usd is None else int((item.cost_usd * _MICRO).to_integral_value()),
            )
            for item in items
        ]

    # -- the reconciler -----------------------------------------------------------------

    def stale_jobs(self, *, queued_older_than: timedelta, limit: int = 100) -> StaleJobs:
        """Running jobs whose lease expired, and jobs queued (last sent to the broker)
        longer ago than ``queued_older_than``, oldest first."""
        now = self._clock()
        with self._sessions() as session:
            expired = session.scalars(
                select(Render).where(_is(JobStatus.RUNNING), Render.lease_expires_at < now)
                .order_by(Render.lease_expires_at, Render.id).limit(limit)
            )
            lost = session.scalars(
                select(Render).where(_is(JobStatus.QUEUED), Render.enqueued_at < now - queued_older_than)
                .order_by(Render.enqueued_at, Render.id).limit(limit)
            )
            return StaleJobs([_render(row) for row in expired], [_render(row) for row in lost])

    def recover_expired(self, render_id: uuid.UUID, *, max_attempts: int) -> RenderRecord | None:
        """Take a job back from a worker whose lease expired: requeue it, or fail it once
        it has had ``max_attempts`` attempts, or cancel it if that was requested. None
        when the lease is not expired after all (the worker came back)."""
        now = self._clock()
        with self._sessions.begin() as session:
            row = session.scalar(
                select(Render).where(Render.id == render_id, _is(JobStatus.RUNNING), Render.lease_expires_at < now)
                .with_for_update()
            )
            if row is None:
                return None
            lost = f"worker {row.worker_id} stopped responding (attempt {row.attempts})"
            if row.cancel_requested:
                row.status, row.finished_at = JobStatus.CANCELED.value, now
            elif row.attempts >= max_attempts:
                row.status, row.finished_at, row.error = JobStatus.FAILED.value, now, f"{lost}; giving up"
            else:
                row.status, row.enqueued_at, row.error = JobStatus.QUEUED.value, now, lost
            row.worker_id = row.heartbeat_at = row.lease_expires_at = None
            return _render(row)

    # -- usage ----------------------------------------------------------------------------

    def usage_summary(self, tenant_id: uuid.UUID, first_day: date, last_day: date) -> list[UsageSummaryRow]:
        """The tenant's usage per UTC day and meter, ``first_day`` to ``last_day`` inclusive."""
        unpriced = func.sum(case((UsageRow.cost_micro_usd.is_(None), 1), else_=0))
        keys = (UsageRow.day, UsageRow.kind, UsageRow.name, UsageRow.unit, UsageRow.provider)
        query = (
            select(*keys, func.sum(UsageRow.quantity), func.coalesce(func.sum(UsageRow.cost_micro_usd), 0), unpriced,
                   func.count(func.distinct(UsageRow.render_id)))
            .where(UsageRow.tenant_id == tenant_id, UsageRow.day >= first_day, UsageRow.day <= last_day)
            .group_by(*keys).order_by(*keys)
        )
        with self._sessions() as session:
            return [
                UsageSummaryRow(
                    day=day, kind=cast(UsageKind, kind), name=name, unit=unit, provider=provider, quantity=float(quantity),
                    cost_usd=Decimal(int(micro)) / _MICRO, unpriced_items=int(unpriced_count), jobs=int(jobs),
                )
                for day, kind, name, unit, provider, quantity, micro, unpriced_count, jobs in session.execute(query)
            ]

    def render_usage(self, tenant_id: uuid.UUID, render_id: uuid.UUID) -> list[UsageItem]:
        with self._sessions() as session:
            self._render_row(session, tenant_id, render_id)
            rows = session.scalars(select(UsageRow).where(UsageRow.render_id == render_id).order_by(UsageRow.id))
            return [
                UsageItem(
                    kind=cast(UsageKind, row.kind), name=row.name, quantity=row.quantity, unit=row.unit, provider=row.provider,
                    cost_usd=None if row.cost_micro_usd is None else Decimal(row.cost_micro_usd) / _MICRO,
                )
                for row in rows
            ]

    # -- helpers ------------------------------------------------------------------------

    def _new_render(
        self, tenant_id: uuid.UUID, body: dict[str, Any], digest: str, key: str | None, batch_id: uuid.UUID | None
    ) -> Render:
        now = self._clock()
        return Render(
            id=uuid.uuid4(), tenant_id=tenant_id, batch_id=batch_id, status=JobStatus.QUEUED.value, request=body,
            request_digest=digest, idempotency_key=key, attempts=0, progress={}, error=None, artefacts={},
            cancel_requested=False, created_at=now, enqueued_at=now, started_at=None, finished_at=None,
            worker_id=None, heartbeat_at=None, lease_expires_at=None,
        )

    def _replay(self, tenant_id: uuid.UUID, key: str, digest: str) -> RenderRecord | None:
        with self._sessions() as session:
            row = session.scalar(select(Render).where(Render.tenant_id == tenant_id, Render.idempotency_key == key))
            if row is None:
                return None
            if row.request_digest != digest:
                raise ConflictError(
                    f"idempotency key '{key}' was already used for a different request (render {row.id})",
                    hint="use a new key for a new request",
                )
            return _render(row)

    def _claim(self, session: Session, render_id: uuid.UUID, worker_id: str) -> RenderRecord | None:
        now = self._clock()
        claimed = _changed(
            session, Render.id == render_id, _is(JobStatus.QUEUED), Render.cancel_requested.is_(False),
            status=JobStatus.RUNNING.value, worker_id=worker_id, attempts=Render.attempts + 1, started_at=now,
            heartbeat_at=now, lease_expires_at=now + timedelta(seconds=self.lease_s),
        )
        return _render(session.get_one(Render, render_id, populate_existing=True)) if claimed else None

    def _renew(self, session: Session, render_id: uuid.UUID, worker_id: str) -> LeaseState:
        now = self._clock()
        if not _changed(session, self._held(render_id, worker_id), heartbeat_at=now,
                        lease_expires_at=now + timedelta(seconds=self.lease_s)):
            return LeaseState.LOST
        cancel = session.scalar(select(Render.cancel_requested).where(Render.id == render_id))
        return LeaseState.CANCEL_REQUESTED if cancel else LeaseState.HELD

    def _finish(self, render_id: uuid.UUID, worker_id: str, status: JobStatus, **values: Any) -> bool:
        with self._sessions.begin() as session:
            return _changed(
                session, self._held(render_id, worker_id), status=status.value, finished_at=self._clock(),
                **_NO_LEASE, **values,
            )

    @staticmethod
    def _held(render_id: uuid.UUID, worker_id: str) -> ColumnElement[bool]:
        return and_(Render.id == render_id, _is(JobStatus.RUNNING), Render.worker_id == worker_id)

    @staticmethod
    def _tenant_row(session: Session, tenant_id: uuid.UUID) -> Tenant:
        row = session.get(Tenant, tenant_id)
        if row is None:
            raise NotFoundError(f"tenant {tenant_id} not found")
        return row

    @staticmethod
    def _character_row(session: Session, tenant_id: uuid.UUID, character_id: uuid.UUID) -> Character:
        row = session.scalar(select(Character).where(Character.id == character_id, Character.tenant_id == tenant_id))
        if row is None:
            raise NotFoundError(f"character {character_id} not found")
        return row

    @staticmethod
    def _render_row(session: Session, tenant_id: uuid.UUID, render_id: uuid.UUID) -> Render:
        row = session.scalar(
            select(Render).where(Render.id == render_id, Render.tenant_id == tenant_id).execution_options(populate_existing=True)
        )
        if row is None:
            raise NotFoundError(f"render {render_id} not found")
        return row


# A job that is not running has no worker and no lease.
_NO_LEASE: dict[str, Any] = {"worker_id": None, "heartbeat_at": None, "lease_expires_at": None}


def _is(status: JobStatus) -> ColumnElement[bool]:
    return Render.status == status.value


def _changed(session: Session, *where: ColumnElement[bool], **values: Any) -> bool:
    """One conditional UPDATE of renders; True if it matched a row."""
    result = session.execute(
        update(Render).where(*where).values(**values).execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def _json_object(value: Mapping[str, Any], what: str) -> dict[str, Any]:
    """A JSON round-trip copy: what is stored is exactly what will be read back."""
    try:
        copy: dict[str, Any] = json.loads(json.dumps(dict(value), allow_nan=False))
    except (TypeError, ValueError) as exc:
        raise InputError(f"the {what} is not plain JSON: {exc}") from None
    return copy


def _digest(body: Mapping[str, Any]) -> str:
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _page(session: Session, query: Any, model: type[_Row], limit: int, cursor: str | None) -> tuple[list[_Row], str | None]:
    """Keyset pagination, newest first: stable while rows are added, unlike OFFSET."""
    if not 1 <= limit <= MAX_PAGE:
        raise InputError(f"limit must be between 1 and {MAX_PAGE}, not {limit}")
    if cursor is not None:
        created, row_id = _decode_cursor(cursor)
        query = query.where(or_(model.created_at < created, and_(model.created_at == created, model.id < row_id)))
    rows = list(session.scalars(query.order_by(model.created_at.desc(), model.id.desc()).limit(limit + 1)))
    if len(rows) <= limit:
        return rows, None
    last = rows[limit - 1]
    return rows[:limit], _encode_cursor(last.created_at, last.id)


def _batch_counts(session: Session, batch_ids: Collection[uuid.UUID]) -> dict[uuid.UUID, dict[JobStatus, int]]:
    """Each batch's renders per status, every status included (zero when none)."""
    counts = {batch_id: {status: 0 for status in JobStatus} for batch_id in batch_ids}
    if batch_ids:
        grouped = session.execute(
            select(Render.batch_id, Render.status, func.count())
            .where(Render.batch_id.in_(list(batch_ids))).group_by(Render.batch_id, Render.status)
        )
        for batch_id, status, count in grouped:
            counts[batch_id][JobStatus(status)] = int(count)
    return counts


def _encode_cursor(created: datetime, row_id: uuid.UUID) -> str:
    return base64.urlsafe_b64encode(f"{created.isoformat()}|{row_id}".encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    try:
        created, row_id = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode().split("|")
        moment = datetime.fromisoformat(created)
        if moment.tzinfo is None:
            raise ValueError("naive")
        return moment, uuid.UUID(row_id)
    except (ValueError, UnicodeDecodeError, binascii.Error):
        raise InputError("invalid page cursor", hint="pass back next_cursor from the previous page unchanged") from None


def _tenant(row: Tenant) -> TenantRecord:
    return TenantRecord(id=row.id, name=row.name, created_at=row.created_at, webhook_url=row.webhook_url)


def _api_key(row: ApiKey) -> ApiKeyRecord:
    return ApiKeyRecord(
        id=row.id, tenant_id=row.tenant_id, prefix=row.prefix, name=row.name,
        created_at=row.created_at, revoked_at=row.revoked_at,
    )


def _character(row: Character) -> CharacterRecord:
    return CharacterRecord(
        id=row.id, tenant_id=row.tenant_id, name=row.name, image_keys=list(row.image_keys),
        profile=dict(row.profile), created_at=row.created_at,
    )


def _batch(row: Batch, counts: dict[JobStatus, int]) -> BatchRecord:
    return BatchRecord(
        id=row.id, tenant_id=row.tenant_id, item_count=row.item_count, created_at=row.created_at, status_counts=counts
    )


def _render(row: Render) -> RenderRecord:
    return RenderRecord(
        id=row.id, tenant_id=row.tenant_id, batch_id=row.batch_id, status=JobStatus(row.status),
        request=dict(row.request), idempotency_key=row.idempotency_key, attempts=row.attempts,
        progress={stage: float(value) for stage, value in row.progress.items()}, error=row.error,
        artefacts=dict(row.artefacts), cancel_requested=row.cancel_requested, created_at=row.created_at,
        enqueued_at=row.enqueued_at, started_at=row.started_at, finished_at=row.finished_at,
        worker_id=row.worker_id, heartbeat_at=row.heartbeat_at, lease_expires_at=row.lease_expires_at,
    )
