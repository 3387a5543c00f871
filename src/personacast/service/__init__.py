"""The production service's foundation (extra "service"): the job store and artefact storage.

    records.py     typed, immutable values the store returns (RenderRecord, Page, ...)
    db.py          SQLAlchemy ORM tables and engine creation (SQLite or PostgreSQL)
    store.py       JobStore: tenants, API keys, characters, renders, batches, usage
    apikeys.py     API key format and hashing
    usage.py       usage items from a RenderResult
    migrate.py     upgrade_database(settings): Alembic migrations shipped in migrations/
    storage/       Storage: local folder or S3 (open_storage(settings) picks by URL scheme)

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
