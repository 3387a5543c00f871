"""The job store's tables (SQLAlchemy 2.0 typed ORM) and its engine.

The same schema runs on SQLite (one machine, the default) and PostgreSQL (production).
Changes to these classes need a new migration in migrations/versions (a test compares
the migrated schema with this metadata).
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Date,
    DateTime,
    Dialect,
    Engine,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    create_engine,
    event,
    make_url,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import URL
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from .records import JobStatus

# Named constraints let later migrations drop or alter them on every database.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

JSONDocument = JSON().with_variant(JSONB(), "postgresql")


class UtcDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on both databases: SQLite keeps no offset, so values are
    normalised to UTC before storing and marked UTC when read back."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the job store; use an aware UTC datetime")
        return value.astimezone(timezone.utc)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UtcDateTime(), dict[str, Any]: JSONDocument, list[str]: JSONDocument}


class Tenant(Base):
    __tablename__ = "tenants"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime]
    webhook_url: Mapped[str | None] = mapped_column(String(2048))  # for renders that name none


class ApiKey(Base):
    __tablename__ = "api_keys"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    prefix: Mapped[str] = mapped_column(String(32), unique=True)
    digest: Mapped[str] = mapped_column(String(64))  # SHA-256 hex of the whole key
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]


class Character(Base):
    __tablename__ = "characters"
    __table_args__ = (UniqueConstraint("tenant_id", "name"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    image_keys: Mapped[list[str]]
    profile: Mapped[dict[str, Any]]
    created_at: Mapped[datetime]


class Batch(Base):
    __tablename__ = "batches"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    item_count: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime]


_STATUSES = ", ".join(f"'{status.value}'" for status in JobStatus)


class Render(Base):
    __tablename__ = "renders"
    __table_args__ = (
        # NULL keys never collide (both databases treat NULLs as distinct here).
        UniqueConstraint("tenant_id", "idempotency_key"),
        CheckConstraint(f"status IN ({_STATUSES})", name="status"),
        Index("ix_renders_tenant_created", "tenant_id", "created_at"),
        # claim_next and stale_jobs scan by status in age order.
        Index("ix_renders_status_enqueued", "status", "enqueued_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    batch_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("batches.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(16))
    request: Mapped[dict[str, Any]]
    # SHA-256 of the canonical request JSON: tells a replay from a conflicting reuse of a key.
    request_digest: Mapped[str] = mapped_column(String(64))
    idempotency_key: Mapped[str | None] = mapped_column(String(255))
    attempts: Mapped[int] = mapped_column(Integer)
    progress: Mapped[dict[str, Any]]
    error: Mapped[str | None] = mapped_column(Text)
    artefacts: Mapped[dict[str, Any]]
    cancel_requested: Mapped[bool]
    created_at: Mapped[datetime]
    enqueued_at: Mapped[datetime]
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    worker_id: Mapped[str | None] = mapped_column(String(200))
    heartbeat_at: Mapped[datetime | None]
    lease_expires_at: Mapped[datetime | None]


class UsageRow(Base):
    __tablename__ = "usage_items"
    __table_args__ = (
        CheckConstraint("kind IN ('compute', 'provider')", name="kind"),
        Index("ix_usage_items_tenant_day", "tenant_id", "day"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True)
    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    # No foreign key: usage outlives a purged render (its id stays, so the job is still
    # counted), and studio work that is no render (auditions, writing) has none.
    render_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    # The UTC day, stored rather than derived so that summaries group the same way on
    # every database whatever its session time zone.
    day: Mapped[date] = mapped_column(Date)
    kind: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(100))
    unit: Mapped[str] = mapped_column(String(32))
    provider: Mapped[str | None] = mapped_column(String(100))
    quantity: Mapped[float] = mapped_column(Float)
    # Millionths of a dollar as an integer: exact sums on both databases (SQLite has no
    # decimal type); None when the price is not known.
    cost_micro_usd: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime]


def database_url(url: str) -> URL:
    """``url`` with psycopg 3 as the PostgreSQL driver (SQLAlchemy would pick psycopg2,
    which the service extra does not install)."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def make_engine(url: str) -> Engine:
    """An engine for the job store; on SQLite every transaction takes the write lock
    at BEGIN so that concurrent writers queue instead of failing."""
    parsed = database_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(parsed, pool_pre_ping=True)
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(parsed, connect_args={"timeout": 30, "check_same_thread": False})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Hand transaction control to SQLAlchemy's "begin" event below: pysqlite's own
        # deferred BEGIN would let two readers both try to upgrade to writers and fail
        # with "database is locked" instead of waiting.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")  # readers do not block the writer
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine
