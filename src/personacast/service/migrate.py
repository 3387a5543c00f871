"""Schema migrations: Alembic, with its scripts shipped inside the package (migrations/).

There is no alembic.ini: the configuration is built here, so an installed wheel can
migrate its database with ``upgrade_database(settings)``.
"""

from __future__ import annotations

from alembic import command
from alembic.config import Config

from ..settings import Settings
from .db import make_engine

SCRIPT_LOCATION = "personacast.service:migrations"


def alembic_config(url: str) -> Config:
    """Alembic's configuration for the job store at ``url`` (for commands such as
    ``alembic.command.revision(config, autogenerate=True)`` when changing the schema)."""
    config = Config()
    config.set_main_option("script_location", SCRIPT_LOCATION)
    # "%" is interpolation syntax in Alembic's config parser; URLs may contain it.
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade_database(settings: Settings, revision: str = "head") -> None:
    """Create or bring the job store's schema up to ``revision``, in one transaction."""
    url = settings.resolved_database_url
    config = alembic_config(url)
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
    finally:
        engine.dispose()
