"""The shipped Alembic migrations build exactly the schema that db.py describes."""

from __future__ import annotations

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from personacast.service.db import Base, make_engine
from personacast.service.migrate import alembic_config, upgrade_database
from personacast.settings import Settings


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database(request: pytest.FixtureRequest, tmp_path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'fresh.db'}"
    return request.getfixturevalue("postgres").create_database()


def _differences(url: str) -> list:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True, "compare_server_default": True})
            return compare_metadata(context, Base.metadata)
    finally:
        engine.dispose()


def test_migrated_schema_matches_the_models(empty_database):
    upgrade_database(Settings(database_url=empty_database))
    assert _differences(empty_database) == []

    # The comparison does notice a difference.
    engine = make_engine(empty_database)
    with engine.begin() as connection:
        connection.exec_driver_sql("DROP INDEX ix_renders_tenant_created")
    engine.dispose()
    assert [diff[0] for diff in _differences(empty_database)] == ["add_index"]


def test_upgrade_is_repeatable_and_downgrade_removes_everything(empty_database):
    settings = Settings(database_url=empty_database)
    upgrade_database(settings)
    upgrade_database(settings)  # already at head: nothing to do
    command.downgrade(alembic_config(empty_database), "base")
    engine = make_engine(empty_database)
    assert set(inspect(engine).get_table_names()) == {"alembic_version"}
    engine.dispose()
    upgrade_database(settings)
    engine = make_engine(empty_database)
    assert set(Base.metadata.tables) <= set(inspect(engine).get_table_names())
    engine.dispose()


def test_default_database_is_sqlite_in_the_data_dir(tmp_path):
    settings = Settings(data_dir=tmp_path / "data")
    upgrade_database(settings)
    assert (tmp_path / "data" / "personacast.db").is_file()
    assert _differences(settings.resolved_database_url) == []


def test_migrations_are_found_inside_the_package():
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    assert script.get_heads() == ["0003"]


def test_0003_keeps_usage_of_deleted_renders_and_its_downgrade_drops_it(empty_database):
    import uuid
    from datetime import date, datetime, timezone

    from sqlalchemy import func, insert, select

    from personacast.service.db import Render, Tenant, UsageRow
    from personacast.service.store import JobStore

    settings = Settings(database_url=empty_database)
    upgrade_database(settings, "0002")
    tenant, render, now = uuid.uuid4(), uuid.uuid4(), datetime(2026, 3, 1, tzinfo=timezone.utc)
    engine = make_engine(empty_database)
    with engine.begin() as connection:  # the columns these rows use are the same in 0002
        connection.execute(insert(Tenant).values(id=tenant, name="acme", created_at=now))
        connection.execute(insert(Render).values(
            id=render, tenant_id=tenant, status="succeeded", request={}, request_digest="d", attempts=1, progress={},
            artefacts={}, cancel_requested=False, created_at=now, enqueued_at=now,
        ))
        connection.execute(insert(UsageRow).values(
            tenant_id=tenant, render_id=render, day=date(2026, 3, 1), kind="compute", name="render", unit="s",
            quantity=2.5, created_at=now,
        ))
    engine.dispose()

    upgrade_database(settings)
    store = JobStore.from_settings(settings)
    try:
        store.delete_render(tenant, render)
        (row,) = store.usage_summary(tenant, date(2026, 3, 1), date(2026, 3, 1))
        assert (row.quantity, row.jobs) == (2.5, 1)  # the purged render's usage is still counted
    finally:
        store.close()

    command.downgrade(alembic_config(empty_database), "0002")  # its foreign key cannot hold that row
    engine = make_engine(empty_database)
    with engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(UsageRow)).scalar() == 0
    engine.dispose()
