"""Alembic environment: runs the migrations in versions/ against the job store.

upgrade_database() passes an open connection in ``config.attributes["connection"]``;
otherwise the URL in ``sqlalchemy.url`` is used (``alembic_config(url)``).
"""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from personacast.service.db import Base, make_engine


def _run(connection: Connection) -> None:
    # Batch mode rebuilds tables where SQLite cannot ALTER them; PostgreSQL alters in place.
    context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True, compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


def _run_offline() -> None:
    context.configure(url=context.config.get_main_option("sqlalchemy.url"), target_metadata=Base.metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    _run_offline()
elif (given := context.config.attributes.get("connection")) is not None:
    _run(given)
else:
    engine = make_engine(context.config.get_main_option("sqlalchemy.url") or "")
    try:
        with engine.begin() as connection:
            _run(connection)
    finally:
        engine.dispose()
