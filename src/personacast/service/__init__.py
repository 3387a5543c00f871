"""The production service (extra "service"): job store, storage, job runner, HTTP API and workers.

    records.py     typed, immutable values the store returns (RenderRecord, Page, ...)
    db.py          SQLAlchemy ORM tables and engine creation (SQLite or PostgreSQL)
    store.py       JobStore: tenants, API keys, characters, renders, batches, usage
    apikeys.py     API key format and hashing
    usage.py       usage items from a RenderResult
    migrate.py     upgrade_database(settings): Alembic migrations shipped in migrations/
    storage/       Storage: local folder or S3 (open_storage(settings) picks by URL scheme)
    jobspec.py     what clients may ask for (no server paths) and how it becomes a RenderJob
    runner.py      execute(store, storage, settings, render_id, worker_id): runs one job anywhere
    dispatch.py    Dispatcher: how the API hands a queued job to workers
    embedded.py    worker threads and reconciler inside the API process (serve --embedded)
    webhooks.py    signed webhooks, refused for private/link-local/metadata addresses
    metrics.py     Prometheus metrics      ratelimit.py  per-key token buckets
    uploads.py     checks on uploaded pictures and recordings
    api/           the HTTP API (FastAPI): create_app(settings, embedded=...)
    worker/        Celery workers, dispatcher and reconciler

``import personacast`` never imports this package; importing it without the extra
fails with one line naming the extra.
"""

from __future__ import annotations

from ..errors import MissingDependencyError

try:
    import alembic  # noqa: F401
    import sqlalchemy  # noqa: F401
except ImportError as exc:
    raise MissingDependencyError("service", "service", exc.name or "sqlalchemy") from None
